package dev.palettizer.calibrate;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtLoggingLevel;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import dev.palettizer.api.Palettizer;
import dev.palettizer.engine.EngineOptions;
import dev.palettizer.engine.Sensitivities;
import dev.palettizer.engine.TensorInput;
import dev.palettizer.io.OnnxInitializer;
import dev.palettizer.io.OnnxModel;
import dev.palettizer.model.DType;
import dev.palettizer.model.FloatArraySource;
import dev.palettizer.model.Floats;
import dev.palettizer.model.PalettizedTensor;
import dev.palettizer.spec.PalettizationSpec;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Measured cross-layer importance. For each weight W with sensitivities, W alone is replaced by a probe
 * palettization W' (through {@link OrtSession.SessionOptions#addInitializer}, so the model file is never
 * rewritten), the first samples of the calibration data are run, and the model outputs' distortion D_W is
 * measured against the unmodified model's. The importance is lambda_W = D_W / E_W, E_W being the probe's
 * weighted SSE sum_i s_i (w_i - w'_i)^2 on the raw sensitivities: the units a budget prices every candidate
 * in, so lambda_W times a candidate's weighted SSE predicts its output distortion, and (to first order, for
 * independent errors) the distortions of different tensors add.
 *
 * <p>D_W is the relative squared error of all float outputs, sum ||y' - y||^2 / sum ||y||^2 over every output
 * and sample: it needs nothing model-specific (no row axis, no pooling), and squared errors are what add
 * across tensors, unlike 1 - cosine of a chosen axis. Samples run one at a time as calibration does; the
 * reference outputs of the probe samples are kept in memory (a few MB for a text encoder), the model is
 * loaded by ONNX Runtime from its path (never held in Java as well), and one probe tensor lives at a time.
 */
final class Importance {
    /**
     * Samples probed when the command does not say: a fixed prefix, so the probe costs (weights + 1) x 64 runs;
     * on MiniLM the predicted distortion matched the achieved one on the other 203 texts within 2 % (README).
     */
    static final int DEFAULT_SAMPLES = 64;
    /** The probe's spec: 4 bits per tensor, a mid-rate point of every curve; 2 and 1 bits when 4 are exact. */
    static final PalettizationSpec PROBE = PalettizationSpec.defaults();
    private static final int[] PROBE_BITS = {4, 2, 1};

    static final String PROBE_LABEL = "4-bit per-tensor LUT (2, then 1 bit when 4 bits are exact), fast mode, Java"
            + " backend, weighted by the sensitivities in this file";
    static final String DISTORTION_LABEL = "relative squared error of the model's float outputs, sum ||y' - y||^2 /"
            + " sum ||y||^2 over all outputs and samples";

    /** One weight's probe: the bits used, its weighted SSE E_W and the output distortion D_W it caused. */
    record Probe(String name, int bits, double weightError, double distortion) {
        double importance() {
            return distortion / weightError;
        }
    }

    /** The probes, the weights left without an importance (and why), and the samples run per probe. */
    record Result(List<Probe> probes, List<String> unmeasured, int samples) {
        Result {
            probes = List.copyOf(probes);
            unmeasured = List.copyOf(unmeasured);
        }
    }

    private Importance() {}

    /**
     * Probes every weight of {@code sensitivities} (raw, stored shapes) on the first {@code samples} samples of
     * {@code data}.
     *
     * @param progress told each weight's name as its probe is done
     */
    static Result measure(Path model, CalibrationData data, int samples, Map<String, Calibrator.Tensor> sensitivities,
                          Consumer<String> progress) throws IOException {
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        int runs = Math.min(samples, data.samples());
        List<Probe> probes = new ArrayList<>();
        List<String> unmeasured = new ArrayList<>();
        try (OnnxModel onnx = OnnxModel.open(model);
             Palettizer palettizer = Palettizer.builder().backend("java").options(EngineOptions.defaults()).build()) {
            Reference reference = reference(env, model, data, runs);
            for (Map.Entry<String, Calibrator.Tensor> e : sensitivities.entrySet()) {
                String name = e.getKey();
                OnnxInitializer init = onnx.initializer(name).orElseThrow(() -> new CalibrationException(model
                        + ": initializer '" + name + "' has sensitivities but is not in the model"));
                float[] w = new float[Math.toIntExact(init.elementCount())];
                init.floats().read(0, w, 0, w.length);
                float[] s = e.getValue().values();
                Probe probe = null;
                for (int bits : PROBE_BITS) {
                    float[] q = probe(palettizer, name, init.shape(), w, s, bits);
                    double error = weightedSse(w, q, s);
                    if (error > 0) {
                        probe = new Probe(name, bits, error, distortion(env, model, data, reference, init, q));
                        break;
                    }
                }
                if (probe == null) {
                    unmeasured.add(name + ": a 1-bit probe is exact (at most 2 distinct values)");
                } else if (!(probe.distortion() > 0)) {
                    unmeasured.add(name + ": replacing it did not change the outputs on the calibration samples");
                } else {
                    probes.add(probe);
                }
                progress.accept(name);
            }
        }
        return new Result(probes, unmeasured, runs);
    }

    /** The probe palettization of one weight at {@code bits}, reconstructed in stored order. */
    static float[] probe(Palettizer palettizer, String name, long[] shape, float[] w, float[] s, int bits) {
        TensorInput input = new TensorInput(name, DType.F32, shape, new FloatArraySource(w),
                new FloatArraySource(Sensitivities.normalize(s)));
        PalettizedTensor t = palettizer.palettize(input, PROBE.withBits(bits));
        return palettizer.reconstruct(t);
    }

    /** sum_i s_i (w_i - q_i)^2, in double, in element order. */
    static double weightedSse(float[] w, float[] q, float[] s) {
        double sum = 0;
        for (int i = 0; i < w.length; i++) {
            double d = (double) w[i] - q[i];
            sum += s[i] * d * d;
        }
        return sum;
    }

    /** The unmodified model's float outputs of the probe samples, and their energy. */
    private record Reference(Set<String> outputs, List<float[][]> values, double energy) {}

    private static Reference reference(OrtEnvironment env, Path model, CalibrationData data, int runs) {
        try (OrtSession.SessionOptions options = options(); OrtSession session = env.createSession(model.toString(), options)) {
            Set<String> outputs = new LinkedHashSet<>();
            for (Map.Entry<String, NodeInfo> o : session.getOutputInfo().entrySet()) {
                if (o.getValue().getInfo() instanceof TensorInfo t && isFloat(t.type)) {
                    outputs.add(o.getKey());
                }
            }
            if (outputs.isEmpty()) {
                throw new CalibrationException(model + ": no float outputs (" + String.join(", ",
                        session.getOutputNames()) + "); output distortion, and so importance, cannot be measured");
            }
            List<float[][]> values = new ArrayList<>();
            double energy = 0;
            for (int i = 0; i < runs; i++) {
                float[][] y = run(session, data, outputs, i);
                for (float[] v : y) {
                    for (float x : v) {
                        energy += (double) x * x;
                    }
                }
                values.add(y);
            }
            if (!(energy > 0)) {
                throw new CalibrationException(data.describe() + ": the model's outputs are all zero on the first "
                        + runs + " samples; output distortion cannot be measured relative to them");
            }
            return new Reference(outputs, values, energy);
        } catch (OrtException e) {
            throw new CalibrationException(model + ": ONNX Runtime cannot load the model: " + e.getMessage(), e);
        }
    }

    /** D_W: the relative squared output error with {@code init} replaced by {@code q}. */
    private static double distortion(OrtEnvironment env, Path model, CalibrationData data, Reference reference,
                                     OnnxInitializer init, float[] q) {
        OnnxJavaType type = javaType(init);
        try (OnnxTensor replaced = OnnxTensor.createTensor(env, bytes(type, q), init.shape(), type);
             OrtSession.SessionOptions options = options()) {
            options.addInitializer(init.name(), replaced);
            try (OrtSession session = env.createSession(model.toString(), options)) {
                double sum = 0;
                for (int i = 0; i < reference.values().size(); i++) {
                    float[][] y = run(session, data, reference.outputs(), i);
                    float[][] r = reference.values().get(i);
                    for (int o = 0; o < y.length; o++) {
                        for (int j = 0; j < y[o].length; j++) {
                            double d = (double) y[o][j] - r[o][j];
                            sum += d * d;
                        }
                    }
                }
                return sum / reference.energy();
            }
        } catch (OrtException e) {
            throw new CalibrationException(model + ": ONNX Runtime failed with initializer '" + init.name()
                    + "' replaced by its probe: " + e.getMessage(), e);
        }
    }

    private static OrtSession.SessionOptions options() throws OrtException {
        OrtSession.SessionOptions options = new OrtSession.SessionOptions();
        options.setSessionLogLevel(OrtLoggingLevel.ORT_LOGGING_LEVEL_FATAL);
        return options;
    }

    private static float[][] run(OrtSession session, CalibrationData data, Set<String> outputs, int sample)
            throws OrtException {
        Map<String, OnnxTensor> feed = data.sample(OrtEnvironment.getEnvironment(), sample);
        try (OrtSession.Result result = session.run(feed, outputs)) {
            float[][] y = new float[outputs.size()][];
            int o = 0;
            for (String name : outputs) {
                y[o++] = floats((OnnxTensor) result.get(name).orElseThrow());
            }
            return y;
        } catch (OrtException e) {
            throw new CalibrationException(data.describe() + ": sample " + sample + ": ONNX Runtime failed: "
                    + e.getMessage(), e);
        } finally {
            feed.values().forEach(OnnxTensor::close);
        }
    }

    private static boolean isFloat(OnnxJavaType t) {
        return t == OnnxJavaType.FLOAT || t == OnnxJavaType.FLOAT16 || t == OnnxJavaType.BFLOAT16
                || t == OnnxJavaType.DOUBLE;
    }

    private static float[] floats(OnnxTensor t) {
        if (t.getInfo().type == OnnxJavaType.DOUBLE) {
            java.nio.DoubleBuffer b = t.getDoubleBuffer();
            float[] v = new float[b.remaining()];
            for (int i = 0; i < v.length; i++) {
                v[i] = (float) b.get(i);
            }
            return v;
        }
        java.nio.FloatBuffer b = t.getFloatBuffer();
        float[] v = new float[b.remaining()];
        b.get(v);
        return v;
    }

    /** {@code q} as {@code type} (one {@link #javaType} gives), little-endian in a direct buffer, as ONNX Runtime takes it. */
    private static ByteBuffer bytes(OnnxJavaType type, float[] q) {
        ByteBuffer b = ByteBuffer.allocateDirect(q.length * (type == OnnxJavaType.FLOAT ? 4 : 2))
                .order(ByteOrder.nativeOrder());
        for (float v : q) {
            switch (type) {
                case FLOAT -> b.putFloat(v);
                case FLOAT16 -> b.putShort(Float.floatToFloat16(v));
                default -> b.putShort(Floats.toBf16(v));
            }
        }
        return b.flip();
    }

    /** The ONNX Runtime type a probe of {@code init} is built in: its own element type, a float one. */
    private static OnnxJavaType javaType(OnnxInitializer init) {
        return switch (init.type().dtype()) {
            case F32 -> OnnxJavaType.FLOAT;
            case F16 -> OnnxJavaType.FLOAT16;
            case BF16 -> OnnxJavaType.BFLOAT16;
            default -> throw new CalibrationException("initializer '" + init.name() + "' has data_type " + init.type()
                    + "; importance probes FLOAT, FLOAT16 and BFLOAT16 weights only");
        };
    }
}
