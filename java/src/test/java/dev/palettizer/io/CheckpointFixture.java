package dev.palettizer.io;

import dev.palettizer.engine.SyntheticModel;
import dev.palettizer.model.DType;
import dev.palettizer.model.Floats;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SequencedMap;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * A small Llama-shaped Hugging Face checkpoint folder for tests, written shard by shard with
 * {@link SafetensorsWriter} and an index by hand: BF16 projections, an F16 MLP, F32 norms, a token
 * embedding and lm_head, spread over three shards, plus config, tokenizer and a file in a sub-folder.
 */
public final class CheckpointFixture {
    /** The model's dimensions; {@link #SMALL} is the default. */
    public record Dims(int hidden, int ffn, int vocab, int layers) {}

    public static final Dims SMALL = new Dims(64, 128, 96, 2);

    /** A tensor: its dtype, shape and shard (0, 1 or 2). */
    public record Planned(String name, DType dtype, long[] shape, int shard) {}

    private CheckpointFixture() {}

    public static List<Planned> tensors() {
        return tensors(SMALL);
    }

    public static List<Planned> tensors(Dims d) {
        int hidden = d.hidden();
        int ffn = d.ffn();
        int vocab = d.vocab();
        List<Planned> t = new ArrayList<>();
        t.add(new Planned("model.embed_tokens.weight", DType.BF16, new long[] {vocab, hidden}, 0));
        for (int l = 0; l < d.layers(); l++) {
            String p = "model.layers." + l + ".";
            int shard = l % 2;
            for (String proj : List.of("q_proj", "k_proj", "v_proj", "o_proj")) {
                t.add(new Planned(p + "self_attn." + proj + ".weight", DType.BF16, new long[] {hidden, hidden}, shard));
            }
            t.add(new Planned(p + "mlp.gate_proj.weight", DType.F16, new long[] {ffn, hidden}, shard));
            t.add(new Planned(p + "mlp.up_proj.weight", DType.F16, new long[] {ffn, hidden}, shard));
            t.add(new Planned(p + "mlp.down_proj.weight", DType.F16, new long[] {hidden, ffn}, shard + 1));
            t.add(new Planned(p + "input_layernorm.weight", DType.F32, new long[] {hidden}, shard + 1));
        }
        t.add(new Planned("model.norm.weight", DType.F32, new long[] {hidden}, 2));
        t.add(new Planned("lm_head.weight", DType.BF16, new long[] {vocab, hidden}, 2));
        return t;
    }

    public static String shardName(int shard) {
        return "model-0000" + (shard + 1) + "-of-00003.safetensors";
    }

    /** Writes the {@link #SMALL} folder; returns it. */
    public static Path write(Path dir, long seed) throws IOException {
        return write(dir, seed, SMALL);
    }

    public static Path write(Path dir, long seed, Dims dims) throws IOException {
        Files.createDirectories(dir);
        Map<Integer, SafetensorsWriter> shards = new TreeMap<>();
        SequencedMap<String, String> weightMap = new LinkedHashMap<>();
        long total = 0;
        int salt = 0;
        for (Planned p : tensors(dims)) {
            byte[] bytes = values(p, seed, salt++);
            shards.computeIfAbsent(p.shard(), s -> new SafetensorsWriter().putMetadata("format", "pt"))
                    .add(new SafetensorsWriter.Tensor(p.name(), p.dtype(), p.shape(), SafetensorsWriter.Payload.of(bytes)));
            weightMap.put(p.name(), shardName(p.shard()));
            total += bytes.length;
        }
        for (Map.Entry<Integer, SafetensorsWriter> s : shards.entrySet()) {
            s.getValue().write(dir.resolve(shardName(s.getKey())));
        }
        Files.write(dir.resolve(ShardIndex.FILE_NAME), new ShardIndex(weightMap, total, null).toJson());
        Files.writeString(dir.resolve("config.json"), "{\"architectures\": [\"LlamaForCausalLM\"], \"hidden_size\": "
                + dims.hidden() + ", \"tie_word_embeddings\": false}\n");
        Files.write(dir.resolve("tokenizer.model"), new byte[] {0, 1, 2, (byte) 0xff, 10, 13});
        Files.createDirectories(dir.resolve("original"));
        Files.writeString(dir.resolve("original/params.json"), "{\"dim\": " + dims.hidden() + "}", StandardCharsets.UTF_8);
        return dir;
    }

    private static byte[] values(Planned p, long seed, int salt) {
        long n = 1;
        for (long d : p.shape()) {
            n *= d;
        }
        SplittableRandom random = new SplittableRandom(seed * 31 + salt);
        ByteBuffer out = ByteBuffer.allocate((int) (n * p.dtype().byteSize())).order(ByteOrder.LITTLE_ENDIAN);
        for (long i = 0; i < n; i++) {
            float v = p.shape().length == 1 ? 1f + (float) SyntheticModel.laplace(random, 0.1)
                    : (float) SyntheticModel.laplace(random, 0.02);
            switch (p.dtype()) {
                case F32 -> out.putFloat(v);
                case F16 -> out.putShort(Float.floatToFloat16(v));
                case BF16 -> out.putShort(Floats.toBf16(v));
                default -> throw new IllegalArgumentException(p.dtype().toString());
            }
        }
        return out.array();
    }

    /** Every regular file under {@code dir}, relative, with its bytes, for byte-identity checks. */
    public static Map<String, byte[]> snapshot(Path dir) throws IOException {
        Map<String, byte[]> files = new TreeMap<>();
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.filter(Files::isRegularFile).toList()) {
                files.put(dir.relativize(p).toString(), Files.readAllBytes(p));
            }
        }
        return files;
    }
}
