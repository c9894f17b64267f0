package dev.palettizer.api;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.palettizer.config.ConfigFiles;
import dev.palettizer.engine.FileJobOptions;
import dev.palettizer.engine.Progress;
import dev.palettizer.engine.TensorReport;
import dev.palettizer.io.CheckpointFixture;
import dev.palettizer.io.CheckpointFolder;
import dev.palettizer.io.CompressedModel;
import dev.palettizer.io.ModelFormatException;
import dev.palettizer.io.SafetensorsFile;
import dev.palettizer.io.ShardIndex;
import dev.palettizer.model.DType;
import dev.palettizer.model.Floats;
import dev.palettizer.model.PalettizedTensor;
import dev.palettizer.spec.Granularity;
import dev.palettizer.spec.PalettizationSpec;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 15: checkpoint folders in and out. Must-show 2 (round trip: folder, palettized folder,
 * decompressed folder, dtypes and shapes equal, values within the recorded error, other files
 * byte-identical) and must-show 5 (bad folders fail naming the file and field, leaving no output).
 */
class CheckpointFolderJobTest {
    private static final PalettizationSpec SPEC = PalettizationSpec.defaults().withGranularity(Granularity.grouped(0, 16));
    private static Palettizer palettizer;

    @TempDir
    Path dir;

    @BeforeAll
    static void start() {
        palettizer = Palettizer.builder().workers(2).backend("java").build();
    }

    @AfterAll
    static void stop() {
        palettizer.close();
    }

    @Test
    void roundTripKeepsDtypesShapesFilesAndTheRecordedError() throws Exception {
        Path in = CheckpointFixture.write(dir.resolve("in"), 3);
        Map<String, byte[]> inputBefore = CheckpointFixture.snapshot(in);
        Path out = dir.resolve("pal");
        long cap = 12_000;
        List<TensorReport> reports = palettizer.palettizeFolder(in, out, FileJobOptions.of(SPEC), cap, Progress.NONE);
        assertEquals(CheckpointFixture.tensors().size(), reports.size());
        assertEquals(inputBefore.keySet(), CheckpointFixture.snapshot(in).keySet());
        CheckpointFixture.snapshot(in).forEach((k, v) -> assertArrayEquals(inputBefore.get(k), v, "input " + k));

        // Shards under the cap (a group of one palettized tensor may be alone above it), an index of every stored tensor.
        ShardIndex index = ShardIndex.read(out.resolve(ShardIndex.FILE_NAME));
        assertEquals("1", index.format());
        List<String> shards = index.shards();
        assertTrue(shards.size() > 1, "several shards: " + shards);
        long stored = 0;
        try (CheckpointFolder written = CheckpointFolder.open(out)) {
            assertEquals(new TreeSet<>(index.weightMap().keySet()),
                    written.tensors().stream().map(SafetensorsFile.Entry::name).collect(Collectors.toCollection(TreeSet::new)));
            for (SafetensorsFile shard : written.shards()) {
                long bytes = shard.tensors().stream().mapToLong(e -> e.data().byteSize()).sum();
                stored += bytes;
                assertTrue(bytes <= cap || shard.metadata().keySet().stream().filter(k -> k.startsWith("palettizer.tensor.")).count() == 1,
                        shard.path() + " holds " + bytes + " bytes");
                assertTrue(shard.path().getFileName().toString().matches("model-0000\\d-of-0000" + shards.size() + "\\.safetensors"));
            }
            assertEquals(Set.of("config.json", "tokenizer.model", "original/params.json"),
                    written.otherFiles().stream().map(Path::toString).collect(Collectors.toSet()));
        }
        assertEquals(stored, index.totalSize());
        assertOtherFilesIdentical(inputBefore, out);
        assertNoSiblings(out);

        Map<String, PalettizedTensor> palettized = new HashMap<>();
        for (CompressedModel m : Palettizer.inspectFolder(out).values()) {
            m.palettized().forEach(t -> palettized.put(t.name(), t));
        }
        assertEquals(CheckpointFixture.tensors().stream().filter(t -> t.shape().length == 2).count(), palettized.size());

        Path dense = dir.resolve("dense");
        palettizer.decompressFolder(out, dense, 40_000);
        assertOtherFilesIdentical(inputBefore, dense);
        try (CheckpointFolder original = CheckpointFolder.open(in); CheckpointFolder back = CheckpointFolder.open(dense)) {
            assertTrue(back.shards().size() > 1);
            assertEquals(original.tensors().size(), back.tensors().size());
            for (SafetensorsFile.Entry o : original.tensors()) {
                SafetensorsFile.Entry b = back.tensor(o.name()).orElseThrow();
                assertEquals(o.dtype(), b.dtype(), o.name());
                assertArrayEquals(o.shape(), b.shape(), o.name());
                PalettizedTensor t = palettized.get(o.name());
                if (t == null) {
                    assertArrayEquals(o.data().toArray(java.lang.foreign.ValueLayout.JAVA_BYTE),
                            b.data().toArray(java.lang.foreign.ValueLayout.JAVA_BYTE), o.name() + " copied");
                    continue;
                }
                float[] rebuilt = palettizer.reconstruct(t);
                float[] orig = floats(o);
                float[] got = floats(b);
                double sse = 0;
                double energy = 0;
                for (int i = 0; i < orig.length; i++) {
                    assertEquals(roundTo(o.dtype(), rebuilt[i]), got[i], 0f, o.name() + "[" + i + "] in its dtype");
                    sse += (double) (rebuilt[i] - orig[i]) * (rebuilt[i] - orig[i]);
                    energy += (double) orig[i] * orig[i];
                }
                assertEquals(t.error().sse(), sse, 1e-6 * energy, o.name() + ": error as recorded");
                assertTrue(10 * Math.log10(energy / sse) > 15, o.name() + " SNR " + 10 * Math.log10(energy / sse));
            }
        }
    }

    @Test
    void configRulesSeeAllShardsAndAnExistingOutputIsReplacedWhole() throws Exception {
        Path in = CheckpointFixture.write(dir.resolve("in"), 5);
        Path out = dir.resolve("pal");
        Files.createDirectories(out);
        Files.writeString(out.resolve(ShardIndex.FILE_NAME), "{}");
        Files.writeString(out.resolve("stale.txt"), "from a previous run");
        var config = ConfigFiles.parse("""
                kmeans_palettization_config:
                  global_config:
                    op_state_spec: {weight: {palettization_spec: {n_bits: 4}}}
                  module_type_configs:
                    Embedding:
                      op_state_spec: {weight: {palettization_spec: {n_bits: 8}}}
                  module_name_configs:
                    lm_head: null
                """, ConfigFiles.Format.YAML, "test");
        palettizer.palettizeFolder(in, out, FileJobOptions.of(config), 1_000_000, Progress.NONE);
        assertFalse(Files.exists(out.resolve("stale.txt")), "the previous output is replaced as a whole");
        Map<String, PalettizedTensor> palettized = new HashMap<>();
        Palettizer.inspectFolder(out).values().forEach(m -> m.palettized().forEach(t -> palettized.put(t.name(), t)));
        assertEquals(8, palettized.get("model.embed_tokens.weight").spec().nBits(), "type rule (shard 1)");
        assertEquals(4, palettized.get("model.layers.1.mlp.down_proj.weight").spec().nBits(), "global rule (shard 3)");
        assertFalse(palettized.containsKey("lm_head.weight"), "name rule (shard 3)");
        assertNoSiblings(out);
    }

    @Test
    void sensitivitiesComeFromAFileBesideTheOutputOrFromAFolder() throws Exception {
        Path in = CheckpointFixture.write(dir.resolve("in"), 2);
        String name = "model.layers.0.mlp.up_proj.weight";
        float[] s = new float[CheckpointFixture.SMALL.ffn() * CheckpointFixture.SMALL.hidden()];
        java.util.SplittableRandom random = new java.util.SplittableRandom(9);
        for (int i = 0; i < s.length; i++) {
            s[i] = (float) Math.pow(random.nextDouble(), 8);
        }
        Path sensFile = dir.resolve("sens.safetensors");
        new dev.palettizer.io.SafetensorsWriter().add(new dev.palettizer.io.SafetensorsWriter.Tensor(name, DType.F32,
                new long[] {CheckpointFixture.SMALL.ffn(), CheckpointFixture.SMALL.hidden()},
                dev.palettizer.io.SafetensorsWriter.Payload.ofFloats(s))).write(sensFile);
        Path sensDir = Files.createDirectories(dir.resolve("sens"));
        Files.copy(sensFile, sensDir.resolve("model.safetensors"));
        FileJobOptions plain = FileJobOptions.of(SPEC);
        palettizer.palettizeFolder(in, dir.resolve("plain"), plain, 1_000_000, Progress.NONE);
        for (Path sens : List.of(sensFile, sensDir)) {
            Path out = dir.resolve("weighted-" + sens.getFileName());
            palettizer.palettizeFolder(in, out, new FileJobOptions(plain.resolver(), plain.weightThreshold(), false, sens),
                    1_000_000, Progress.NONE);
            PalettizedTensor weighted = palettized(out).get(name);
            PalettizedTensor unweighted = palettized(dir.resolve("plain")).get(name);
            assertFalse(java.util.Arrays.equals(weighted.lut(), unweighted.lut()),
                    "the sensitivities of " + sens + " weigh the clustering");
            assertArrayEquals(palettized(dir.resolve("plain")).get("model.layers.0.mlp.gate_proj.weight").lut(),
                    palettized(out).get("model.layers.0.mlp.gate_proj.weight").lut(), "no sensitivities: unweighted");
        }
        assertArrayEquals(palettized(dir.resolve("weighted-sens.safetensors")).get(name).lut(),
                palettized(dir.resolve("weighted-sens")).get(name).lut(), "a file or a folder of it: the same");
    }

    @Test
    void theFacadeOpensAFolderAsOneModel() throws Exception {
        Path in = CheckpointFixture.write(dir.resolve("in"), 6);
        Map<String, PalettizedTensor> viaFolderJob;
        palettizer.palettizeFolder(in, dir.resolve("pal"), FileJobOptions.of(SPEC), 1_000_000, Progress.NONE);
        viaFolderJob = palettized(dir.resolve("pal"));
        try (ModelWeights model = ModelWeights.open(in.resolve(ShardIndex.FILE_NAME));
             KMeansPalettizer k = new KMeansPalettizer(model, FileJobOptions.of(SPEC).resolver())) {
            assertEquals(CheckpointFixture.tensors().size(), model.weights().size());
            assertEquals(Map.of("format", "pt"), model.metadata());
            assertEquals("Embedding", model.weight("model.embed_tokens.weight").orElseThrow().site().moduleType());
            PreparedModel prepared = k.prepare(PrepareOptions.defaults().withWorkers(2).withBackend("java")
                    .withProgress(new ProgressOutput.Listener(Progress.NONE)));
            // The facade follows the seed (no 1-D or size rule of its own), so it palettizes the norms too.
            assertTrue(prepared.palettized().keySet().containsAll(viaFolderJob.keySet()), prepared.palettized().keySet().toString());
            for (PalettizedTensor t : viaFolderJob.values()) {
                assertArrayEquals(t.packedIndices(), prepared.palettized(t.name()).orElseThrow().packedIndices(), t.name());
            }
            Path file = dir.resolve("model.pal.safetensors");
            k.finalize(ExportFormat.COMPRESSED_SAFETENSORS, file).close();
            assertEquals(prepared.palettized().size(), Palettizer.inspect(file).palettized().size());
            assertThrows(IllegalArgumentException.class, () -> k.finalize(ExportFormat.COMPRESSED_SAFETENSORS,
                    in.resolve(CheckpointFixture.shardName(0))), "a shard is an input");
        }
    }

    private static Map<String, PalettizedTensor> palettized(Path folder) throws IOException {
        Map<String, PalettizedTensor> all = new HashMap<>();
        Palettizer.inspectFolder(folder).values().forEach(m -> m.palettized().forEach(t -> all.put(t.name(), t)));
        return all;
    }

    @Test
    void indexNamingAMissingShardFails() throws Exception {
        Path in = CheckpointFixture.write(dir.resolve("in"), 1);
        Files.delete(in.resolve(CheckpointFixture.shardName(1)));
        assertFails(in, ShardIndex.FILE_NAME, "weight_map 'model.layers.0.mlp.down_proj.weight' names shard '"
                + CheckpointFixture.shardName(1) + "', which does not exist");
    }

    @Test
    void tensorInTwoShardsFails() throws Exception {
        Path in = CheckpointFixture.write(dir.resolve("in"), 1);
        // Shard 3 rewritten with one more tensor that shard 1 already holds.
        try (SafetensorsFile first = SafetensorsFile.open(in.resolve(CheckpointFixture.shardName(0)));
             SafetensorsFile third = SafetensorsFile.open(in.resolve(CheckpointFixture.shardName(2)))) {
            var writer = new dev.palettizer.io.SafetensorsWriter();
            third.tensors().forEach(e -> writer.add(copy(e)));
            writer.add(copy(first.tensor("model.embed_tokens.weight").orElseThrow()));
            writer.write(dir.resolve("third.safetensors"));
        }
        Files.move(dir.resolve("third.safetensors"), in.resolve(CheckpointFixture.shardName(2)),
                java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        assertFails(in, CheckpointFixture.shardName(2), "tensor 'model.embed_tokens.weight': is also stored in shard "
                + CheckpointFixture.shardName(0));
    }

    @Test
    void indexMappingANameTwiceFails() throws Exception {
        Path in = CheckpointFixture.write(dir.resolve("in"), 1);
        Path index = in.resolve(ShardIndex.FILE_NAME);
        String text = Files.readString(index).replace("\"weight_map\" : {", "\"weight_map\" : {\n    \"lm_head.weight\" : \""
                + CheckpointFixture.shardName(0) + "\",");
        Files.writeString(index, text);
        assertFails(in, ShardIndex.FILE_NAME, "Duplicate field 'lm_head.weight'");
    }

    @Test
    void shardNotInTheIndexFails() throws Exception {
        Path in = CheckpointFixture.write(dir.resolve("in"), 1);
        Files.copy(in.resolve(CheckpointFixture.shardName(2)), in.resolve("model-extra.safetensors"));
        assertFails(in, "model-extra.safetensors", "is not in the index " + ShardIndex.FILE_NAME);
    }

    @Test
    void shardWithABadHeaderFails() throws Exception {
        Path in = CheckpointFixture.write(dir.resolve("in"), 1);
        Path shard = in.resolve(CheckpointFixture.shardName(1));
        byte[] bytes = Files.readAllBytes(shard);
        byte[] broken = "{\"model.layers.0.self_attn.q_proj.weight\": {\"dtype\": \"BF16\", \"shape\": [64, 64], \"data_offsets\": [0, 9]}}"
                .getBytes(StandardCharsets.UTF_8);
        ByteBuffer header = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, broken.length);
        Files.write(shard, concat(header.array(), broken, new byte[bytes.length]));
        assertFails(in, CheckpointFixture.shardName(1), "tensor 'model.layers.0.self_attn.q_proj.weight': data_offsets [0, 9] hold 9 bytes");
    }

    @Test
    void outputInsideTheInputIsRefused() throws Exception {
        Path in = CheckpointFixture.write(dir.resolve("in"), 1);
        Map<String, byte[]> before = CheckpointFixture.snapshot(in);
        ModelFormatException e = assertThrows(ModelFormatException.class, () ->
                palettizer.palettizeFolder(in, in.resolve("out"), FileJobOptions.of(SPEC), 1_000_000, Progress.NONE));
        assertTrue(e.getMessage().contains("overlaps the input folder"), e.getMessage());
        assertEquals(before.keySet(), CheckpointFixture.snapshot(in).keySet());
    }

    private void assertFails(Path in, String file, String detail) throws IOException {
        Map<String, byte[]> before = CheckpointFixture.snapshot(in);
        Path out = dir.resolve("out");
        ModelFormatException e = assertThrows(ModelFormatException.class, () ->
                palettizer.palettizeFolder(in, out, FileJobOptions.of(SPEC), 1_000_000, Progress.NONE));
        assertTrue(e.getMessage().contains(file) && e.getMessage().contains(detail), e.getMessage());
        assertFalse(Files.exists(out), "no output folder");
        assertNoSiblings(out);
        Map<String, byte[]> after = CheckpointFixture.snapshot(in);
        assertEquals(before.keySet(), after.keySet());
        before.forEach((k, v) -> assertArrayEquals(v, after.get(k), "input " + k));
    }

    /** No temporary or set-aside folder is left beside the output. */
    private static void assertNoSiblings(Path out) throws IOException {
        try (Stream<Path> list = Files.list(out.toAbsolutePath().getParent())) {
            List<String> hidden = list.map(p -> p.getFileName().toString())
                    .filter(n -> n.startsWith("." + out.getFileName())).toList();
            assertEquals(List.of(), hidden);
        }
    }

    private static void assertOtherFilesIdentical(Map<String, byte[]> input, Path out) throws IOException {
        Map<String, byte[]> written = CheckpointFixture.snapshot(out);
        for (String name : List.of("config.json", "tokenizer.model", "original/params.json")) {
            assertArrayEquals(input.get(name), written.get(name), name);
        }
    }

    private static dev.palettizer.io.SafetensorsWriter.Tensor copy(SafetensorsFile.Entry e) {
        return new dev.palettizer.io.SafetensorsWriter.Tensor(e.name(), e.dtype(), e.shape(),
                dev.palettizer.io.SafetensorsWriter.Payload.of(e.data().toArray(java.lang.foreign.ValueLayout.JAVA_BYTE)));
    }

    private static byte[] concat(byte[]... parts) {
        int n = 0;
        for (byte[] p : parts) {
            n += p.length;
        }
        ByteBuffer b = ByteBuffer.allocate(n);
        for (byte[] p : parts) {
            b.put(p);
        }
        return b.array();
    }

    private static float[] floats(SafetensorsFile.Entry e) {
        float[] out = new float[(int) e.elementCount()];
        e.floats().read(0, out, 0, out.length);
        return out;
    }

    private static float roundTo(DType dtype, float v) {
        return switch (dtype) {
            case F32 -> v;
            case F16 -> Float.float16ToFloat(Float.floatToFloat16(v));
            case BF16 -> Floats.fromBf16(Floats.toBf16(v));
            default -> throw new IllegalArgumentException(dtype.toString());
        };
    }
}
