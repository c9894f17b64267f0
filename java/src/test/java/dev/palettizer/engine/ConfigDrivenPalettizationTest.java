package dev.palettizer.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.palettizer.api.Palettizer;
import dev.palettizer.backend.JavaBackend;
import dev.palettizer.config.ConfigFiles;
import dev.palettizer.config.KMeansPalettizerConfig;
import dev.palettizer.io.CompressedModel;
import dev.palettizer.io.SafetensorsFile;
import dev.palettizer.io.SafetensorsWriter;
import dev.palettizer.model.DType;
import dev.palettizer.model.PalettizedTensor;
import dev.palettizer.spec.Granularity;
import dev.palettizer.spec.LutDType;
import dev.palettizer.spec.LutQuantSpec;
import dev.palettizer.spec.PalettizationSpec;
import dev.palettizer.spec.QScheme;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeSet;
import java.util.concurrent.ForkJoinPool;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 3, must-show 3 for safetensors: a YAML config mixing name-regex, type and global rules
 * palettizes exactly the tensors its precedence says, each with the spec it says.
 */
class ConfigDrivenPalettizationTest {
    @TempDir
    Path dir;

    /** A small transformer-like model: every module kind the safetensors mapping knows, two layers. */
    private static final Map<String, long[]> MODEL = shapes(
            "embed_tokens.weight", 128, 64,
            "layers.0.attn.q_proj.weight", 64, 64,
            "layers.0.attn.q_proj.bias", 64,
            "layers.0.attn.k_proj.weight", 64, 64,
            "layers.0.mlp.up_proj.weight", 128, 64,
            "layers.0.norm.weight", 64,
            "layers.1.attn.q_proj.weight", 64, 64,
            "layers.1.attn.k_proj.weight", 64, 64,
            "layers.1.mlp.up_proj.weight", 128, 64,
            "layers.1.norm.weight", 64,
            "conv.weight", 32, 16, 3, 3,
            "fc.weight", 64, 64,
            "fc.bias", 64,
            "small.weight", 4, 4,
            "lm_head.weight", 128, 64);

    /** Document order matters: layer 1 is switched off before the attention rule could match it. */
    private static final String CONFIG = """
            kmeans_palettization_config:
              global_config:                 # anything no other rule names: 4-bit per tensor
                op_state_spec:
                  weight: {palettization_spec: {n_bits: 4}}
              module_type_configs:
                Embedding:                   # embeddings: 8-bit
                  op_state_spec:
                    weight: {palettization_spec: {n_bits: 8}}
                Conv2d: null                 # convolutions: left alone
              module_name_configs:
                "layers\\\\.1\\\\..*": null
                "layers\\\\.[0-9]+\\\\.attn\\\\..*":
                  op_state_spec:
                    weight:
                      palettization_spec:
                        n_bits: 2
                        granularity: {type: per_grouped_channel, axis: 0, group_size: 16}
                        lut_qspec: {dtype: int8, qscheme: symmetric}
                  op_name_config:
                    ".*k_proj": null
                "layers\\\\.[0-9]+\\\\.mlp\\\\..*":
                  op_type_config:
                    linear:
                      op_state_spec:
                        weight: {palettization_spec: {n_bits: 3, granularity: {type: per_channel}}}
                layers.0.norm:
                  module_state_spec:
                    "*": {palettization_spec: {n_bits: 1}}
                lm_head: null
            """;

    private static Map<String, long[]> shapes(Object... nameThenDims) {
        Map<String, long[]> m = new LinkedHashMap<>();
        String name = null;
        List<Long> dims = new java.util.ArrayList<>();
        for (Object o : nameThenDims) {
            if (o instanceof String s) {
                if (name != null) {
                    m.put(name, dims.stream().mapToLong(Long::longValue).toArray());
                }
                name = s;
                dims.clear();
            } else {
                dims.add(((Integer) o).longValue());
            }
        }
        m.put(name, dims.stream().mapToLong(Long::longValue).toArray());
        return m;
    }

    private Path writeModel() throws IOException {
        Path p = dir.resolve("model.safetensors");
        SafetensorsWriter w = new SafetensorsWriter();
        int salt = 0;
        for (var e : MODEL.entrySet()) {
            int n = (int) Arrays.stream(e.getValue()).reduce(1, (a, b) -> a * b);
            w.add(new SafetensorsWriter.Tensor(e.getKey(), DType.F32, e.getValue(),
                    SafetensorsWriter.Payload.ofFloats(laplace(n, salt++))));
        }
        w.write(p);
        return p;
    }

    @Test
    void aConfigMixingNameTypeAndGlobalRulesPalettizesExactlyWhatItsPrecedenceSays() throws IOException {
        Path in = writeModel();
        Path out = dir.resolve("model.pal.safetensors");
        Path yaml = dir.resolve("mixed.yaml");
        Files.writeString(yaml, CONFIG);
        KMeansPalettizerConfig config = ConfigFiles.load(yaml);
        List<TensorReport> reports;
        try (Palettizer p = Palettizer.builder().workers(2).build()) {
            // threshold 32: 1-D norms (64 elements) may be palettized; small.weight (16) may not
            reports = p.palettizeFile(in, out, new FileJobOptions(config, 32, true, null), Progress.NONE);
        }

        PalettizationSpec d = PalettizationSpec.defaults();
        Map<String, PalettizationSpec> expected = new LinkedHashMap<>();
        expected.put("embed_tokens.weight", d.withBits(8));                                      // module type
        expected.put("layers.0.attn.q_proj.weight", d.withBits(2).withGranularity(Granularity.grouped(0, 16))
                .withLutQuant(new LutQuantSpec(LutDType.INT8, QScheme.SYMMETRIC)));               // name regex
        expected.put("layers.0.mlp.up_proj.weight", d.withBits(3).withGranularity(Granularity.perChannel(0))); // op type
        expected.put("layers.0.norm.weight", d.withBits(1));                                     // module state "*"
        expected.put("fc.weight", d);                                                             // global

        CompressedModel compressed = Palettizer.inspect(out);
        Map<String, PalettizationSpec> actual = compressed.palettized().stream()
                .collect(Collectors.toMap(PalettizedTensor::name, PalettizedTensor::spec));
        assertEquals(expected, actual);
        assertEquals(new TreeSet<>(MODEL.keySet().stream().filter(n -> !expected.containsKey(n)).toList()),
                new TreeSet<>(compressed.plainTensors()), "every other tensor is stored as it is");

        try (SafetensorsFile f = SafetensorsFile.open(out); SafetensorsFile original = SafetensorsFile.open(in)) {
            for (String name : compressed.plainTensors()) {
                assertEquals(original.tensor(name).orElseThrow().data().asByteBuffer(),
                        f.tensor(name).orElseThrow().data().asByteBuffer(), name + " copied bit for bit");
            }
            for (PalettizedTensor t : compressed.palettized()) {
                assertEquals((t.indexCount() * t.spec().nBits() + 7) / 8, t.packedIndices().length,
                        t.name() + " stores n_bits per index");
                assertTrue(f.tensor(t.name() + ".lut").isPresent());
            }
        }

        Map<String, String> reasons = reports.stream().collect(Collectors.toMap(TensorReport::name, TensorReport::reason));
        Function<String, String> reason = reasons::get;
        assertEquals("module_type_configs.Embedding.op_state_spec.weight", reason.apply("embed_tokens.weight"));
        assertEquals("module_name_configs.\"layers\\\\.[0-9]+\\\\.attn\\\\..*\".op_state_spec.weight",
                reason.apply("layers.0.attn.q_proj.weight"));
        assertEquals("module_name_configs.\"layers\\\\.[0-9]+\\\\.attn\\\\..*\".op_state_spec: no entry for 'bias' and"
                + " no \"*\"", reason.apply("layers.0.attn.q_proj.bias"));
        assertEquals("module_name_configs.\"layers\\\\.[0-9]+\\\\.attn\\\\..*\".op_name_config.\".*k_proj\": null",
                reason.apply("layers.0.attn.k_proj.weight"));
        assertEquals("module_name_configs.\"layers\\\\.[0-9]+\\\\.mlp\\\\..*\".op_type_config.linear.op_state_spec.weight",
                reason.apply("layers.0.mlp.up_proj.weight"));
        assertEquals("module_name_configs.\"layers.0.norm\".module_state_spec.\"*\"", reason.apply("layers.0.norm.weight"));
        for (String layer1 : List.of("layers.1.attn.q_proj.weight", "layers.1.attn.k_proj.weight",
                "layers.1.mlp.up_proj.weight", "layers.1.norm.weight")) {
            assertEquals("module_name_configs.\"layers\\\\.1\\\\..*\": null", reason.apply(layer1), layer1);
        }
        assertEquals("module_type_configs.Conv2d: null", reason.apply("conv.weight"));
        assertEquals("global_config.op_state_spec.weight", reason.apply("fc.weight"));
        assertEquals("global_config.op_state_spec: no entry for 'bias' and no \"*\"", reason.apply("fc.bias"));
        assertEquals("16 elements, not more than the weight threshold 32", reason.apply("small.weight"));
        assertEquals("module_name_configs.lm_head: null", reason.apply("lm_head.weight"));
    }

    @Test
    void theWeightThresholdPalettizesOnlyTensorsWithMoreElements() throws IOException {
        Path in = dir.resolve("t.safetensors");
        new SafetensorsWriter()
                .add(new SafetensorsWriter.Tensor("at.weight", DType.F32, new long[] {32, 64},
                        SafetensorsWriter.Payload.ofFloats(laplace(2048, 1))))
                .add(new SafetensorsWriter.Tensor("above.weight", DType.F32, new long[] {3, 683},
                        SafetensorsWriter.Payload.ofFloats(laplace(2049, 2))))
                .write(in);
        Path out = dir.resolve("t.pal.safetensors");
        try (Palettizer p = Palettizer.builder().workers(1).build()) {
            p.palettizeFile(in, out, FileJobOptions.of(PalettizationSpec.defaults()), Progress.NONE);
        }
        CompressedModel m = Palettizer.inspect(out);
        assertEquals(List.of("above.weight"), m.palettized().stream().map(PalettizedTensor::name).toList(),
                "seed: a weight is palettized only if its element count exceeds weight_threshold (2048)");
        assertEquals(List.of("at.weight"), m.plainTensors());
    }

    @Test
    void eachTensorIsClusteredInTheModeItsDecisionChose() {
        float[] w = laplace(64 * 64, 3);
        TensorInput t = TensorInput.of("w", w, 64, 64);
        PalettizationSpec spec = PalettizationSpec.defaults();
        try (ForkJoinPool pool = new ForkJoinPool(1); JavaBackend backend = new JavaBackend(pool)) {
            TensorPalettizer fastByDefault = new TensorPalettizer(backend, EngineOptions.defaults(), pool);
            TensorPalettizer exactByDefault = new TensorPalettizer(backend, EngineOptions.defaults().withFastMode(false), pool);
            float[] exact = lut(exactByDefault.palettize(t, spec));
            assertArrayEquals(exact, lut(fastByDefault.palettize(t, spec, new ClusterMode(false, 4))),
                    "a per-call mode replaces the engine default");
            // Two decimals still leave more keys than LUT entries here (one decimal would fall back to exact keys).
            float[] twoDecimals = lut(exactByDefault.palettize(t, spec, new ClusterMode(true, 2)));
            assertNotEquals(Arrays.toString(exact), Arrays.toString(twoDecimals), "rounding to 2 decimals changes the LUT");
            assertArrayEquals(lut(fastByDefault.palettize(t, spec)), lut(exactByDefault.palettize(t, spec,
                    new ClusterMode(true, 4))));
        }
    }

    private static float[] lut(Outcome o) {
        return ((Outcome.Palettized) o).tensor().lut();
    }

    private static float[] laplace(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) SyntheticModel.laplace(r, 0.02);
        }
        return v;
    }
}
