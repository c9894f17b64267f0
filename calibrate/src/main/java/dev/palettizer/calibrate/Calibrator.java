package dev.palettizer.calibrate;

import ai.onnx.proto.OnnxMl;
import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtLoggingLevel;
import ai.onnxruntime.OrtSession;
import dev.palettizer.budget.Importances;
import dev.palettizer.io.SafetensorsWriter;
import dev.palettizer.model.DType;
import java.io.IOException;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.nio.LongBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.IntConsumer;

/**
 * Runs an ONNX model in ONNX Runtime on calibration data and turns the activations that feed each weight into
 * per-element sensitivities (see {@link ActivationStatistics}). The activations are made extra graph outputs
 * (a {@code ValueInfoProto} with only a name, which ONNX Runtime accepts and types itself), so the model runs
 * as it is, one sample per run, and the statistics are added up in sample order.
 */
public final class Calibrator {

    /** The sensitivities of the covered weights (stored shapes) and the weights calibration could not cover. */
    public record Result(Map<String, Tensor> sensitivities, List<Uncovered> uncovered, int samples, String data) {
        public Result {
            sensitivities = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(sensitivities));
            uncovered = List.copyOf(uncovered);
        }
    }

    /** One weight's sensitivities, row-major in the initializer's stored shape. */
    public record Tensor(long[] shape, float[] values) {}

    /** A float initializer without sensitivities, and why. */
    public record Uncovered(String name, long[] shape, String reason) {}

    private Calibrator() {}

    /**
     * Calibrates {@code model} on at most {@code maxSamples} samples of {@code data} (all when null).
     *
     * @param progress called with the number of samples done after each run
     * @throws CalibrationException on data that does not fit the model or a run that fails, naming what
     */
    static Result run(Path model, CalibrationData data, Integer maxSamples, IntConsumer progress) throws IOException {
        OnnxMl.ModelProto proto = parse(model);
        List<GraphWeights.Weight> weights = GraphWeights.of(proto.getGraph());
        List<GraphWeights.Covered> covered = weights.stream().filter(w -> w instanceof GraphWeights.Covered)
                .map(w -> (GraphWeights.Covered) w).toList();
        ActivationStatistics stats = new ActivationStatistics(covered);
        List<String> activations = GraphWeights.activations(weights);

        Set<String> graphInputs = new HashSet<>();
        proto.getGraph().getInputList().forEach(v -> graphInputs.add(v.getName()));
        Set<String> outputs = new HashSet<>();
        proto.getGraph().getOutputList().forEach(v -> outputs.add(v.getName()));
        OnnxMl.GraphProto.Builder graph = proto.getGraph().toBuilder();
        Set<String> fetched = new LinkedHashSet<>();
        for (String a : activations) {
            if (graphInputs.contains(a)) {
                continue;
            }
            if (!outputs.contains(a)) {
                graph.addOutput(OnnxMl.ValueInfoProto.newBuilder().setName(a));
            }
            fetched.add(a);
        }
        byte[] bytes = proto.toBuilder().setGraph(graph).build().toByteArray();
        proto = null; // the parsed copy of the weights is not needed any more

        OrtEnvironment env = OrtEnvironment.getEnvironment();
        int runs;
        try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
            Path folder = model.toAbsolutePath().getParent();
            // The model is handed over as bytes: external data files are found beside the original.
            options.addConfigEntry("session.model_external_initializers_file_folder_path", folder.toString());
            // A failed run's message comes back in the exception; ONNX Runtime's own log line would repeat it.
            options.setSessionLogLevel(OrtLoggingLevel.ORT_LOGGING_LEVEL_FATAL);
            try (OrtSession session = env.createSession(bytes, options)) {
                bytes = null;
                data.check(session.getInputInfo());
                runs = maxSamples == null ? data.samples() : Math.min(maxSamples, data.samples());
                for (int i = 0; i < runs; i++) {
                    Map<String, OnnxTensor> feed = data.sample(env, i);
                    try (OrtSession.Result result = session.run(feed, fetched)) {
                        for (String a : activations) {
                            OnnxValue v = graphInputs.contains(a) ? feed.get(a) : result.get(a).orElseThrow();
                            accumulate(stats, a, (OnnxTensor) v);
                        }
                    } catch (OrtException e) {
                        throw new CalibrationException(data.describe() + ": sample " + i + ": ONNX Runtime failed: "
                                + e.getMessage(), e);
                    } finally {
                        feed.values().forEach(OnnxTensor::close);
                    }
                    progress.accept(i + 1);
                }
            }
        } catch (OrtException e) {
            throw new CalibrationException(model + ": ONNX Runtime cannot load the model with its activations as"
                    + " outputs: " + e.getMessage(), e);
        }

        Map<String, Tensor> sensitivities = new LinkedHashMap<>();
        List<Uncovered> uncovered = new ArrayList<>();
        for (GraphWeights.Weight w : weights) {
            switch (w) {
                case GraphWeights.Covered c -> sensitivities.put(c.name(), new Tensor(c.shape(), stats.sensitivities(c)));
                case GraphWeights.Uncovered u -> uncovered.add(new Uncovered(u.name(), u.shape(), u.reason()));
            }
        }
        return new Result(sensitivities, uncovered, runs, data.describe());
    }

    private static void accumulate(ActivationStatistics stats, String name, OnnxTensor t) {
        long[] dims = t.getInfo().getShape();
        OnnxJavaType type = t.getInfo().type;
        if (stats.readsIndices(name)) {
            long[] indices;
            if (type == OnnxJavaType.INT64) {
                LongBuffer b = t.getLongBuffer();
                indices = new long[b.remaining()];
                b.get(indices);
            } else if (type == OnnxJavaType.INT32) {
                IntBuffer b = t.getIntBuffer();
                indices = new long[b.remaining()];
                for (int i = 0; i < indices.length; i++) {
                    indices[i] = b.get(i);
                }
            } else {
                throw new CalibrationException("indices '" + name + "' have element type " + type + ", not INT64 or INT32");
            }
            stats.addIndices(name, indices);
        }
        if (stats.readsValues(name)) {
            if (type != OnnxJavaType.FLOAT && type != OnnxJavaType.FLOAT16 && type != OnnxJavaType.BFLOAT16
                    && type != OnnxJavaType.DOUBLE) {
                throw new CalibrationException("activation '" + name + "' has element type " + type + ", not a float type");
            }
            float[] values;
            if (type == OnnxJavaType.DOUBLE) {
                double[] d = new double[(int) t.getInfo().getNumElements()];
                t.getDoubleBuffer().get(d);
                values = new float[d.length];
                for (int i = 0; i < d.length; i++) {
                    values[i] = (float) d[i];
                }
            } else {
                FloatBuffer b = t.getFloatBuffer();
                values = new float[b.remaining()];
                b.get(values);
            }
            stats.addValues(name, dims, values);
        }
    }

    private static OnnxMl.ModelProto parse(Path model) throws IOException {
        try (FileChannel channel = FileChannel.open(model, StandardOpenOption.READ)) {
            if (channel.size() > Integer.MAX_VALUE) {
                throw new CalibrationException(model + ": " + channel.size() + " bytes, more than a protobuf can hold;"
                        + " store the weights as external data");
            }
            return OnnxMl.ModelProto.parseFrom(channel.map(FileChannel.MapMode.READ_ONLY, 0, channel.size()));
        } catch (com.google.protobuf.InvalidProtocolBufferException e) {
            throw new CalibrationException(model + ": not an ONNX model (protobuf: " + e.getMessage() + ")", e);
        }
    }

    /**
     * Writes the sensitivities as F32 tensors under the initializers' names, atomically (temporary file
     * renamed into place: a failure leaves no output), with the method and sample count in the metadata.
     */
    static void write(Result result, Path out, Path... inputs) throws IOException {
        write(result, null, out, inputs);
    }

    /** As {@link #write(Result, Path, Path...)}, with measured importances (or null) in the metadata too. */
    static void write(Result result, Importance.Result importance, Path out, Path... inputs) throws IOException {
        SafetensorsWriter writer = new SafetensorsWriter();
        for (Path in : inputs) {
            writer.forbidOverwriting(in);
        }
        result.sensitivities().forEach((name, t) -> writer.add(new SafetensorsWriter.Tensor(name, DType.F32, t.shape(),
                SafetensorsWriter.Payload.ofFloats(t.values()))));
        writer.putMetadata("palettizer.calibration.method", "linear and conv weights: E[x_j^2] of the input channel j"
                + " over all positions; Gather tables: (row look-ups + 1) / (look-ups + rows)");
        writer.putMetadata("palettizer.calibration.samples", Integer.toString(result.samples()));
        writer.putMetadata("palettizer.calibration.data", result.data());
        if (importance != null) {
            writer.putMetadata(Importances.PROBE_KEY, Importance.PROBE_LABEL);
            writer.putMetadata(Importances.DISTORTION_KEY, Importance.DISTORTION_LABEL);
            writer.putMetadata(Importances.SAMPLES_KEY, importance.samples() + " (the first of the data)");
            for (Importance.Probe p : importance.probes()) {
                writer.putMetadata(Importances.key(p.name()), Double.toString(p.importance()));
            }
        }
        writer.write(out);
    }
}
