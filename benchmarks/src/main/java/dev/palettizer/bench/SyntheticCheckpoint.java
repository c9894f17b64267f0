package dev.palettizer.bench;

import dev.palettizer.engine.SyntheticModel;
import dev.palettizer.io.SafetensorsFile;
import dev.palettizer.io.SafetensorsWriter;
import dev.palettizer.io.ShardedOutput;
import dev.palettizer.model.DType;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Writes a synthetic Hugging Face checkpoint folder, bf16, with TinyLlama-1.1B's dimensions (22
 * layers, hidden 2048, MLP 5632, vocabulary 32000) in {@link SyntheticModel}'s layout (full-width
 * k/v projections, no separate lm_head: 1.2 billion parameters, 2.4 GB), sharded like the Hub's
 * ({@code model-0000i-of-0000N.safetensors} + {@code model.safetensors.index.json}) with a
 * config.json, generation_config.json and tokenizer_config.json beside them. The model is written as
 * one file next to the folder, split into shards, then deleted. Not a JMH benchmark: the input of the
 * folder-to-folder run in the README's "Checkpoint folders".
 *
 * <p>Usage: {@code java -cp benchmarks.jar dev.palettizer.bench.SyntheticCheckpoint OUT_DIR [layers (22)]
 * [shard bytes (1000000000)]}.
 */
public final class SyntheticCheckpoint {
    private SyntheticCheckpoint() {}

    public static void main(String[] args) throws IOException {
        if (args.length < 1 || args.length > 3) {
            System.err.println("usage: SyntheticCheckpoint OUT_DIR [layers (default 22)] [shard bytes (default 1000000000)]");
            System.exit(2);
        }
        int layers = args.length >= 2 ? Integer.parseInt(args[1]) : 22;
        long shardBytes = args.length == 3 ? Long.parseLong(args[2]) : 1_000_000_000L;
        Path out = Path.of(args[0]).toAbsolutePath();
        SyntheticModel.Shape shape = new SyntheticModel.Shape(layers, 2048, 5632, 32000, DType.BF16);
        long start = System.nanoTime();
        write(out, shape, shardBytes, 7);
        System.out.printf("wrote %s (%d layers, shards of at most %d bytes) in %.1f s%n", out, layers, shardBytes,
                (System.nanoTime() - start) / 1e9);
    }

    /** The folder {@code out}: the model of {@code shape}, shards of at most {@code shardBytes}, and its small files. */
    public static void write(Path out, SyntheticModel.Shape shape, long shardBytes, long seed) throws IOException {
        Path single = out.resolveSibling("." + out.getFileName() + ".single.safetensors");
        Path files = out.resolveSibling("." + out.getFileName() + ".files");
        try {
            SyntheticModel.write(single, shape, seed);
            Files.createDirectories(files);
            Files.writeString(files.resolve("config.json"), config(shape));
            Files.writeString(files.resolve("generation_config.json"),
                    "{\"bos_token_id\": 1, \"eos_token_id\": 2, \"max_length\": 2048}\n");
            Files.writeString(files.resolve("tokenizer_config.json"),
                    "{\"model_max_length\": 2048, \"tokenizer_class\": \"LlamaTokenizer\"}\n");
            try (SafetensorsFile model = SafetensorsFile.open(single);
                 ShardedOutput folder = ShardedOutput.create(out, shardBytes, List.of(files))) {
                folder.putSharedMetadata(Map.of("format", "pt"));
                for (SafetensorsFile.Entry e : model.tensors()) {
                    folder.add(List.of(SafetensorsWriter.Tensor.copyOf(e)), Map.of(), false);
                }
                for (String name : List.of("config.json", "generation_config.json", "tokenizer_config.json")) {
                    folder.copyFile(files.resolve(name), Path.of(name));
                }
                folder.commit(null);
            }
        } finally {
            Files.deleteIfExists(single);
            for (String name : List.of("config.json", "generation_config.json", "tokenizer_config.json")) {
                Files.deleteIfExists(files.resolve(name));
            }
            Files.deleteIfExists(files);
        }
    }

    private static String config(SyntheticModel.Shape s) {
        return "{\n  \"architectures\": [\"LlamaForCausalLM\"],\n  \"hidden_size\": " + s.hidden()
                + ",\n  \"intermediate_size\": " + s.ffn() + ",\n  \"num_hidden_layers\": " + s.layers()
                + ",\n  \"vocab_size\": " + s.vocab() + ",\n  \"torch_dtype\": \"bfloat16\",\n"
                + "  \"tie_word_embeddings\": true\n}\n";
    }
}
