package dev.palettizer.calibrate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.palettizer.api.Palettizer;
import dev.palettizer.engine.FileJobOptions;
import dev.palettizer.engine.OnnxOutput;
import dev.palettizer.engine.Progress;
import dev.palettizer.engine.TensorReport;
import dev.palettizer.io.SafetensorsFile;
import dev.palettizer.spec.PalettizationSpec;
import dev.palettizer.spec.SpecResolver;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class CalibratorTest extends CommandTest {
    private static final int SAMPLES = 7;
    private static final int BATCH = 3;

    /** E[x^2] computed naively from the data, against what calibration wrote for each kind of use. */
    @Test
    void sensitivitiesAreTheActivationStatisticsOfEachUse() throws Exception {
        TinyModel model = new TinyModel();
        model.write(dir.resolve("tiny.onnx"));
        TinyModel.Data data = TinyModel.data(dir.resolve("data.safetensors"), SAMPLES, BATCH, 42);
        Output run = cli("tiny.onnx", "--out", "s.safetensors", "--inputs", "data.safetensors");
        assertEquals(0, run.code(), run.err());

        int rows = SAMPLES * BATCH;
        double[] h2 = new double[TinyModel.DIM];
        double[] m2 = new double[TinyModel.HIDDEN];
        long[] counts = new long[TinyModel.VOCAB];
        for (int r = 0; r < rows; r++) {
            int id = (int) data.ids()[r];
            counts[id]++;
            float[] h = new float[TinyModel.DIM];
            for (int j = 0; j < TinyModel.DIM; j++) {
                h[j] = data.x()[r * TinyModel.DIM + j] + model.e[id * TinyModel.DIM + j];
                h2[j] += (double) h[j] * h[j];
            }
            for (int k = 0; k < TinyModel.HIDDEN; k++) {
                double m = 0;
                for (int j = 0; j < TinyModel.DIM; j++) {
                    m += h[j] * model.w1[j * TinyModel.HIDDEN + k];
                }
                m2[k] += m * m;
            }
        }
        try (SafetensorsFile out = SafetensorsFile.open(dir.resolve("s.safetensors"))) {
            assertEquals(List.of("E", "W1", "W2"), out.tensors().stream().map(SafetensorsFile.Entry::name).toList());
            float[] w1 = read(out, "W1", TinyModel.DIM, TinyModel.HIDDEN);
            for (int j = 0; j < TinyModel.DIM; j++) {
                for (int k = 0; k < TinyModel.HIDDEN; k++) {
                    assertEquals(h2[j] / rows, w1[j * TinyModel.HIDDEN + k], 1e-6 * h2[j] / rows, "W1[" + j + "][" + k + "]");
                }
            }
            float[] w2 = read(out, "W2", TinyModel.OUT, TinyModel.HIDDEN); // transB: [out, in], input channel on axis 1
            for (int n = 0; n < TinyModel.OUT; n++) {
                for (int k = 0; k < TinyModel.HIDDEN; k++) {
                    assertEquals(m2[k] / rows, w2[n * TinyModel.HIDDEN + k], 1e-5 * m2[k] / rows, "W2[" + n + "][" + k + "]");
                }
            }
            float[] e = read(out, "E", TinyModel.VOCAB, TinyModel.DIM);
            for (int v = 0; v < TinyModel.VOCAB; v++) {
                float expected = (float) ((counts[v] + 1) / (double) (rows + TinyModel.VOCAB));
                for (int j = 0; j < TinyModel.DIM; j++) {
                    assertEquals(expected, e[v * TinyModel.DIM + j], "E[" + v + "][" + j + "]");
                }
            }
            assertEquals(Integer.toString(SAMPLES), out.metadata().get("palettizer.calibration.samples"));
        }
        assertTrue(run.err().contains("not covered: S [1, 4]: consumed by Mul 'mul'"), run.err());
        assertTrue(run.err().contains("1 initializers of fewer than 2 dimensions") && run.err().contains(": C"), run.err());
    }

    /** Must-show 3: the same data gives the same file, byte for byte; --max-samples takes a prefix. */
    @Test
    void calibrationIsDeterministic() throws Exception {
        new TinyModel().write(dir.resolve("tiny.onnx"));
        TinyModel.data(dir.resolve("data.safetensors"), SAMPLES, BATCH, 7);
        assertEquals(0, cli("tiny.onnx", "--out", "a.safetensors", "--inputs", "data.safetensors").code());
        assertEquals(0, cli("tiny.onnx", "--out", "b.safetensors", "--inputs", "data.safetensors").code());
        assertEquals(-1, Files.mismatch(dir.resolve("a.safetensors"), dir.resolve("b.safetensors")));

        assertEquals(0, cli("tiny.onnx", "--out", "c.safetensors", "--inputs", "data.safetensors", "--max-samples", "2").code());
        assertTrue(Files.mismatch(dir.resolve("a.safetensors"), dir.resolve("c.safetensors")) >= 0);
    }

    /** The file is what palettize --sensitivities takes: names and stored shapes match, the weighted error is used. */
    @Test
    void palettizeAcceptsTheSensitivities() throws Exception {
        new TinyModel().write(dir.resolve("tiny.onnx"));
        TinyModel.data(dir.resolve("data.safetensors"), SAMPLES, BATCH, 3);
        assertEquals(0, cli("tiny.onnx", "--out", "s.safetensors", "--inputs", "data.safetensors").code());
        SpecResolver resolver = SpecResolver.uniform(PalettizationSpec.defaults().withBits(2), true, 4);
        try (Palettizer p = Palettizer.builder().workers(1).build()) {
            List<TensorReport> reports = p.palettizeOnnx(dir.resolve("tiny.onnx"), dir.resolve("out.onnx"),
                    new FileJobOptions(resolver, 0, false, dir.resolve("s.safetensors")), OnnxOutput.COMPRESSED,
                    Progress.NONE);
            Map<String, TensorReport> byName = reports.stream().collect(
                    java.util.stream.Collectors.toMap(TensorReport::name, r -> r));
            for (String w : List.of("E", "W1", "W2")) {
                assertTrue(byName.get(w).palettized(), w + ": " + byName.get(w).reason());
                assertTrue(!byName.get(w).reason().contains("no sensitivities"), w + ": " + byName.get(w).reason());
            }
            assertTrue(byName.get("S").reason().contains("no sensitivities"), byName.get("S").reason());
        }
    }

    private static float[] read(SafetensorsFile file, String name, long... shape) {
        SafetensorsFile.Entry t = file.tensor(name).orElseThrow();
        assertArrayEquals(shape, t.shape(), name);
        float[] v = new float[(int) t.elementCount()];
        t.floats().read(0, v, 0, v.length);
        return v;
    }
}
