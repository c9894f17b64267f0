package dev.palettizer.calibrate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import dev.palettizer.api.Palettizer;
import dev.palettizer.budget.Importances;
import dev.palettizer.engine.EngineOptions;
import dev.palettizer.io.SafetensorsFile;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** calibrate --importance: each importance checked against a model file rewritten by hand; determinism; usage. */
class ImportanceTest extends CommandTest {
    private static final int SAMPLES = 7;
    private static final int BATCH = 3;
    private static final int PROBED = 5;

    /**
     * For each weight: the probe (same engine call), written into a copy of the model in place of that weight
     * alone, run in a fresh session on the first {@link #PROBED} samples; the relative squared error of both
     * outputs over the unmodified model's, divided by the probe's weighted SSE (computed here), is what
     * calibrate stored. A probe that is not applied (no distortion: no importance written) or applied to
     * another weight fails here.
     */
    @Test
    void eachImportanceIsItsProbesOutputDistortionPerUnitOfWeightedError() throws Exception {
        TinyModel model = new TinyModel();
        model.write(dir.resolve("tiny.onnx"));
        TinyModel.Data data = TinyModel.data(dir.resolve("data.safetensors"), SAMPLES, BATCH, 5);
        Output run = cli("tiny.onnx", "--out", "s.safetensors", "--inputs", "data.safetensors", "--importance",
                "--importance-samples", Integer.toString(PROBED));
        assertEquals(0, run.code(), run.err());
        assertTrue(run.err().contains("importances of 3 weights, each probed on " + PROBED + " samples"), run.err());

        float[] reference = outputs(dir.resolve("tiny.onnx"), data);
        double energy = 0;
        for (float v : reference) {
            energy += (double) v * v;
        }
        Map<String, long[]> shapes = Map.of("E", new long[] {TinyModel.VOCAB, TinyModel.DIM},
                "W1", new long[] {TinyModel.DIM, TinyModel.HIDDEN}, "W2", new long[] {TinyModel.OUT, TinyModel.HIDDEN});
        try (SafetensorsFile stats = SafetensorsFile.open(dir.resolve("s.safetensors"));
             Palettizer p = Palettizer.builder().backend("java").options(EngineOptions.defaults()).build()) {
            Map<String, String> meta = stats.metadata();
            assertEquals(PROBED + " (the first of the data)", meta.get(Importances.SAMPLES_KEY));
            assertNotNull(meta.get(Importances.PROBE_KEY));
            assertNotNull(meta.get(Importances.DISTORTION_KEY));
            assertFalse(meta.containsKey(Importances.key("S")), "S has no sensitivities, so no importance");
            for (String name : List.of("E", "W1", "W2")) {
                float[] w = weights(model, name).clone();
                float[] s = new float[w.length];
                stats.tensor(name).orElseThrow().floats().read(0, s, 0, s.length);
                float[] q = null;
                double error = 0;
                for (int bits : new int[] {4, 2, 1}) { // W1 (12 values) and W2 (15) are exact at 4 bits
                    q = Importance.probe(p, name, shapes.get(name), w, s, bits);
                    error = 0;
                    for (int i = 0; i < w.length; i++) {
                        error += s[i] * Math.pow((double) w[i] - q[i], 2);
                    }
                    if (error > 0) {
                        break;
                    }
                }
                TinyModel replaced = new TinyModel();
                System.arraycopy(q, 0, weights(replaced, name), 0, q.length);
                Path file = dir.resolve("probe-" + name + ".onnx");
                replaced.write(file);
                float[] y = outputs(file, data);
                double distortion = 0;
                for (int i = 0; i < y.length; i++) {
                    distortion += Math.pow((double) y[i] - reference[i], 2);
                }
                distortion /= energy;
                assertTrue(distortion > 0, name);
                double stored = Double.parseDouble(meta.get(Importances.key(name)));
                assertEquals(distortion / error, stored, 1e-5 * stored, name);
            }
        }
    }

    /** The same data gives the same importances, bit for bit (the whole file compared). */
    @Test
    void importancesAreDeterministic() throws Exception {
        new TinyModel().write(dir.resolve("tiny.onnx"));
        TinyModel.data(dir.resolve("data.safetensors"), SAMPLES, BATCH, 9);
        for (String out : List.of("a.safetensors", "b.safetensors")) {
            Output run = cli("tiny.onnx", "--out", out, "--inputs", "data.safetensors", "--importance");
            assertEquals(0, run.code(), run.err());
        }
        assertEquals(-1, Files.mismatch(dir.resolve("a.safetensors"), dir.resolve("b.safetensors")));
        try (SafetensorsFile a = SafetensorsFile.open(dir.resolve("a.safetensors"))) {
            assertEquals(SAMPLES + " (the first of the data)", a.metadata().get(Importances.SAMPLES_KEY),
                    "fewer samples than the default: all of them");
            assertEquals(3, Importances.read(dir.resolve("a.safetensors")).values().size());
        }
    }

    @Test
    void importanceSamplesNeedImportanceAndAPositiveCount() throws Exception {
        new TinyModel().write(dir.resolve("tiny.onnx"));
        TinyModel.data(dir.resolve("data.safetensors"), SAMPLES, BATCH, 9);
        Output alone = cli("tiny.onnx", "--out", "a.safetensors", "--inputs", "data.safetensors",
                "--importance-samples", "3");
        assertEquals(2, alone.code());
        assertTrue(alone.err().contains("--importance-samples goes with --importance"), alone.err());
        Output zero = cli("tiny.onnx", "--out", "a.safetensors", "--inputs", "data.safetensors", "--importance",
                "--importance-samples", "0");
        assertEquals(2, zero.code());
        assertTrue(zero.err().contains("--importance-samples must be at least 1"), zero.err());
        assertFalse(Files.exists(dir.resolve("a.safetensors")));
    }

    private static float[] weights(TinyModel m, String name) {
        return switch (name) {
            case "E" -> m.e;
            case "W1" -> m.w1;
            case "W2" -> m.w2;
            default -> throw new IllegalArgumentException(name);
        };
    }

    /** Outputs y and z of the first {@link #PROBED} samples, concatenated in sample order. */
    private static float[] outputs(Path model, TinyModel.Data data) throws Exception {
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        float[] all = new float[0];
        try (OrtSession session = env.createSession(model.toString(), new OrtSession.SessionOptions())) {
            for (int i = 0; i < PROBED; i++) {
                float[] x = Arrays.copyOfRange(data.x(), i * BATCH * TinyModel.DIM, (i + 1) * BATCH * TinyModel.DIM);
                long[] ids = Arrays.copyOfRange(data.ids(), i * BATCH, (i + 1) * BATCH);
                try (OnnxTensor tx = OnnxTensor.createTensor(env, FloatBuffer.wrap(x), new long[] {BATCH, TinyModel.DIM});
                     OnnxTensor ti = OnnxTensor.createTensor(env, LongBuffer.wrap(ids), new long[] {BATCH});
                     OrtSession.Result r = session.run(Map.of("x", tx, "ids", ti))) {
                    for (String out : List.of("y", "z")) {
                        FloatBuffer b = ((OnnxTensor) r.get(out).orElseThrow()).getFloatBuffer();
                        float[] more = new float[b.remaining()];
                        b.get(more);
                        float[] joined = Arrays.copyOf(all, all.length + more.length);
                        System.arraycopy(more, 0, joined, all.length, more.length);
                        all = joined;
                    }
                }
            }
        }
        return all;
    }
}
