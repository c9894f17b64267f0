package dev.palettizer.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.palettizer.api.Palettizer;
import dev.palettizer.config.ConfigFiles;
import dev.palettizer.config.KMeansPalettizerConfig;
import dev.palettizer.io.OnnxCompressedFormat;
import dev.palettizer.io.OnnxCompressedModel;
import dev.palettizer.io.OnnxModel;
import dev.palettizer.io.Ort;
import dev.palettizer.io.TinyOnnx;
import dev.palettizer.spec.Granularity;
import dev.palettizer.spec.LutDType;
import dev.palettizer.spec.LutQuantSpec;
import dev.palettizer.spec.PalettizationSpec;
import dev.palettizer.spec.QScheme;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 3, must-show 3 for ONNX: a YAML config mixing name-regex, type and global rules palettizes
 * exactly the initializers of {@link TinyOnnx#mixed} its precedence says, each with the spec it says,
 * through the sites the ONNX reader derives (module names from node scopes, ONNX op types and names).
 */
class ConfigDrivenOnnxTest {
    @TempDir
    Path dir;

    private static final String CONFIG = """
            kmeans_palettization_config:
              global_config:                 # anything no other rule names: 4-bit per tensor
                op_state_spec:
                  weight: {palettization_spec: {n_bits: 4}}
              module_type_configs:
                Embedding:                   # Gather on axis 0: 8-bit
                  op_state_spec:
                    weight: {palettization_spec: {n_bits: 8}}
                Conv2d: null                 # convolutions: left alone
              module_name_configs:
                'encoder\\..*':              # the exported Linear: its MatMul weight per channel
                  op_type_config:
                    MatMul:
                      op_state_spec:
                        weight: {palettization_spec: {n_bits: 3, granularity: {type: per_channel}}}
                dec:
                  op_name_config:
                    '/dec/.*':
                      op_state_spec:
                        weight:
                          palettization_spec:
                            n_bits: 2
                            granularity: {type: per_grouped_channel, axis: 0, group_size: 16}
                            lut_qspec: {dtype: int8, qscheme: symmetric}
            """;

    @Test
    void aConfigMixingNameTypeAndGlobalRulesPalettizesExactlyWhatItsPrecedenceSays() throws Exception {
        Path in = TinyOnnx.mixed(13, 8).write(dir.resolve("mixed.onnx"));
        Path out = dir.resolve("mixed.pal.onnx");
        Path yaml = dir.resolve("mixed.yaml");
        Files.writeString(yaml, CONFIG);
        KMeansPalettizerConfig config = ConfigFiles.load(yaml);
        List<TensorReport> reports;
        try (Palettizer p = Palettizer.builder().workers(2).build()) {
            reports = p.palettizeOnnx(in, out, new FileJobOptions(config, 256, true, null), OnnxOutput.COMPRESSED,
                    Progress.NONE);
        }

        PalettizationSpec d = PalettizationSpec.defaults();
        Map<String, PalettizationSpec> expected = new LinkedHashMap<>();
        expected.put("onnx::MatMul_1", d.withBits(3).withGranularity(Granularity.perChannel(0)));  // name regex + op type
        expected.put("dec.weight", d.withBits(2).withGranularity(Granularity.grouped(0, 16))
                .withLutQuant(new LutQuantSpec(LutDType.INT8, QScheme.SYMMETRIC)));                // name + op name regex
        expected.put("emb.weight", d.withBits(8));                                                 // module type
        expected.put("half.weight", d);                                                            // global
        try (OnnxModel m = OnnxModel.open(out)) {
            OnnxCompressedModel compressed = OnnxCompressedFormat.read(m);
            assertEquals(expected, compressed.palettized().stream()
                    .collect(Collectors.toMap(w -> w.tensor().name(), w -> w.tensor().spec())));
            assertEquals(new TreeSet<>(List.of("conv.weight", "encoder.layer.0.dense.bias")),
                    new TreeSet<>(compressed.plainTensors()), "every other initializer is stored as it is");
        }
        Map<String, String> reasons = reports.stream().collect(Collectors.toMap(TensorReport::name, TensorReport::reason));
        assertEquals("module_name_configs.\"encoder\\\\..*\".op_type_config.MatMul.op_state_spec.weight",
                reasons.get("onnx::MatMul_1"));
        assertEquals("module_name_configs.dec.op_name_config.\"/dec/.*\".op_state_spec.weight", reasons.get("dec.weight"));
        assertEquals("module_type_configs.Embedding.op_state_spec.weight", reasons.get("emb.weight"));
        assertEquals("module_type_configs.Conv2d: null", reasons.get("conv.weight"));
        assertEquals("global_config.op_state_spec.weight", reasons.get("half.weight"));
        Ort.runMixed(out, 1);   // and the result runs
    }
}
