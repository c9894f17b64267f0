package dev.palettizer.calibrate;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.TensorInfo;
import java.io.IOException;
import java.nio.IntBuffer;
import java.nio.LongBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Calibration texts for a text encoder: one text per run (batch of one, so no padding enters the statistics),
 * tokenized as LangChain4j's embedding models do (the DJL Hugging Face tokenizer from the model's
 * {@code tokenizer.json}, no padding, truncation as the tokenizer file says). Feeds the BERT-style inputs
 * {@code input_ids}, {@code attention_mask} and {@code token_type_ids}, whichever the model has.
 */
final class TokenizedTexts implements CalibrationData {
    static final Set<String> INPUTS = Set.of("input_ids", "attention_mask", "token_type_ids");

    private final String source;
    private final Path tokenizerPath;
    private final List<String> texts;
    private final HuggingFaceTokenizer tokenizer;
    private final Map<String, OnnxJavaType> types = new LinkedHashMap<>();
    private int truncated;

    private TokenizedTexts(String source, Path tokenizerPath, List<String> texts, HuggingFaceTokenizer tokenizer) {
        this.source = source;
        this.tokenizerPath = tokenizerPath;
        this.texts = texts;
        this.tokenizer = tokenizer;
    }

    /**
     * The non-blank lines of {@code texts} (named {@code source} in messages), tokenized with the tokenizer file.
     *
     * @throws CalibrationException if there is no text, or the tokenizer file is missing or unreadable
     */
    static TokenizedTexts of(String source, List<String> texts, Path tokenizer) {
        List<String> lines = texts.stream().map(String::strip).filter(s -> !s.isEmpty()).toList();
        if (lines.isEmpty()) {
            throw new CalibrationException(source + ": holds no text (one text per line expected)");
        }
        if (!Files.isRegularFile(tokenizer)) {
            throw new CalibrationException(tokenizer + ": no such tokenizer file; pass the model's tokenizer.json"
                    + " with --tokenizer");
        }
        try {
            return new TokenizedTexts(source, tokenizer, lines,
                    HuggingFaceTokenizer.newInstance(tokenizer, Map.of("padding", "false")));
        } catch (IOException | RuntimeException e) {
            throw new CalibrationException(tokenizer + ": not a Hugging Face tokenizer file: " + e.getMessage(), e);
        }
    }

    /** Reads {@code file}'s lines (UTF-8) as calibration texts. */
    static TokenizedTexts read(Path file, Path tokenizer) throws IOException {
        return of(file.toString(), Files.readAllLines(file), tokenizer);
    }

    @Override
    public void check(Map<String, NodeInfo> modelInputs) {
        if (!modelInputs.containsKey("input_ids")) {
            throw new CalibrationException("the model has no input 'input_ids' (its inputs: "
                    + String.join(", ", modelInputs.keySet()) + "): texts feed text encoders only; use --inputs");
        }
        for (Map.Entry<String, NodeInfo> e : modelInputs.entrySet()) {
            String name = e.getKey();
            if (!INPUTS.contains(name)) {
                throw new CalibrationException("model input '" + name + "' is not one a tokenizer fills (input_ids,"
                        + " attention_mask, token_type_ids): calibrate this model with --inputs");
            }
            if (!(e.getValue().getInfo() instanceof TensorInfo info) || info.getShape().length != 2
                    || (info.type != OnnxJavaType.INT64 && info.type != OnnxJavaType.INT32)) {
                throw new CalibrationException("model input '" + name + "' is " + e.getValue().getInfo()
                        + "; texts feed [batch, sequence] INT64 or INT32 tensors: calibrate this model with --inputs");
            }
            types.put(name, info.type);
        }
    }

    @Override
    public int samples() {
        return texts.size();
    }

    @Override
    public Map<String, OnnxTensor> sample(OrtEnvironment env, int index) throws OrtException {
        Encoding encoding = tokenizer.encode(texts.get(index));
        if (encoding.exceedMaxLength()) {
            truncated++;
        }
        Map<String, OnnxTensor> feed = new LinkedHashMap<>();
        try {
            for (Map.Entry<String, OnnxJavaType> e : types.entrySet()) {
                long[] values = switch (e.getKey()) {
                    case "input_ids" -> encoding.getIds();
                    case "attention_mask" -> encoding.getAttentionMask();
                    default -> encoding.getTypeIds();
                };
                long[] shape = {1, values.length};
                feed.put(e.getKey(), e.getValue() == OnnxJavaType.INT64
                        ? OnnxTensor.createTensor(env, LongBuffer.wrap(values), shape)
                        : OnnxTensor.createTensor(env, IntBuffer.wrap(toInts(values)), shape));
            }
            return feed;
        } catch (OrtException | RuntimeException e) {
            feed.values().forEach(OnnxTensor::close);
            throw e;
        }
    }

    private static int[] toInts(long[] values) {
        int[] out = new int[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = Math.toIntExact(values[i]);
        }
        return out;
    }

    /** How many texts so far were longer than the tokenizer's maximum length and were cut. */
    int truncated() {
        return truncated;
    }

    @Override
    public String describe() {
        return "texts from " + Path.of(source).getFileName() + " through " + tokenizerPath.getFileName();
    }

    @Override
    public void close() {
        tokenizer.close();
    }
}
