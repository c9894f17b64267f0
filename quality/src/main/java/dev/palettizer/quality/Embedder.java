package dev.palettizer.quality;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.langchain4j.data.embedding.Embedding;
import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.model.embedding.onnx.AbstractInProcessEmbeddingModel;
import dev.langchain4j.model.embedding.onnx.OnnxBertBiEncoder;
import dev.langchain4j.model.embedding.onnx.PoolingMode;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Embeds texts exactly as LangChain4j's {@code OnnxEmbeddingModel} does (its BERT encoder: tokenizer,
 * ONNX Runtime session, mean pooling, L2 normalisation), but over a session this class owns and
 * closes, so a grid of models does not pile up native memory. Texts are embedded one after the
 * other on the calling thread; ONNX Runtime parallelises inside each run.
 */
final class Embedder extends AbstractInProcessEmbeddingModel implements AutoCloseable {
    private final OrtSession session;
    private final OnnxBertBiEncoder encoder;

    private Embedder(OrtEnvironment env, OrtSession session, InputStream tokenizer) {
        super(Runnable::run);
        this.session = session;
        this.encoder = new OnnxBertBiEncoder(env, session, tokenizer, PoolingMode.MEAN);
    }

    /** One normalised embedding per text, in order. */
    static float[][] embed(Path model, Path tokenizer, List<String> texts) throws OrtException, IOException {
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession.SessionOptions options = new OrtSession.SessionOptions();
             InputStream tok = Files.newInputStream(tokenizer)) {
            try (Embedder e = new Embedder(env, env.createSession(model.toString(), options), tok)) {
                List<Embedding> out = e.embedAll(texts.stream().map(TextSegment::from).toList()).content();
                return out.stream().map(Embedding::vector).toArray(float[][]::new);
            }
        }
    }

    @Override
    protected OnnxBertBiEncoder model() {
        return encoder;
    }

    @Override
    public void close() throws OrtException {
        session.close();
    }
}
