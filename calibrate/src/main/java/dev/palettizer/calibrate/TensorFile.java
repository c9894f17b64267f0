package dev.palettizer.calibrate;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.TensorInfo;
import dev.palettizer.io.SafetensorsFile;
import dev.palettizer.model.DType;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Calibration inputs from a safetensors file: one tensor per model input, under the input's name, shaped
 * [samples, input shape...] (the model input's own shape with a leading axis that numbers the runs; dynamic
 * dimensions may take any size, the same for every sample) in the input's element type. Run i feeds slice i
 * of every tensor.
 */
final class TensorFile implements CalibrationData {
    private static final Map<OnnxJavaType, DType> TYPES = Map.ofEntries(
            Map.entry(OnnxJavaType.FLOAT, DType.F32), Map.entry(OnnxJavaType.DOUBLE, DType.F64),
            Map.entry(OnnxJavaType.FLOAT16, DType.F16), Map.entry(OnnxJavaType.BFLOAT16, DType.BF16),
            Map.entry(OnnxJavaType.INT8, DType.I8), Map.entry(OnnxJavaType.UINT8, DType.U8),
            Map.entry(OnnxJavaType.INT16, DType.I16), Map.entry(OnnxJavaType.INT32, DType.I32),
            Map.entry(OnnxJavaType.INT64, DType.I64), Map.entry(OnnxJavaType.BOOL, DType.BOOL));

    private record Input(SafetensorsFile.Entry entry, OnnxJavaType type, long[] sampleShape, long sampleBytes) {}

    private final SafetensorsFile file;
    private final Map<String, Input> inputs = new LinkedHashMap<>();
    private int samples;

    private TensorFile(SafetensorsFile file) {
        this.file = file;
    }

    static TensorFile open(Path path) throws IOException {
        return new TensorFile(SafetensorsFile.open(path));
    }

    @Override
    public void check(Map<String, NodeInfo> modelInputs) {
        Path path = file.path();
        List<SafetensorsFile.Entry> tensors = file.tensors();
        if (tensors.isEmpty()) {
            throw new CalibrationException(path + ": holds no tensors; expected one per model input ("
                    + String.join(", ", modelInputs.keySet()) + "), shaped [samples, input shape...]");
        }
        for (SafetensorsFile.Entry t : tensors) {
            if (!modelInputs.containsKey(t.name())) {
                throw CalibrationException.of(path, t.name(), "is not an input of the model (its inputs: "
                        + String.join(", ", modelInputs.keySet()) + "); rename it or remove it");
            }
        }
        long count = -1;
        String first = null;
        for (Map.Entry<String, NodeInfo> e : modelInputs.entrySet()) {
            String name = e.getKey();
            if (!(e.getValue().getInfo() instanceof TensorInfo info)) {
                throw new CalibrationException("model input '" + name + "' is " + e.getValue().getInfo()
                        + ", not a tensor: calibration feeds tensors only");
            }
            SafetensorsFile.Entry t = file.tensor(name).orElseThrow(() -> new CalibrationException(path + ": no tensor '"
                    + name + "' for model input '" + name + "' (" + info.type + " " + shape(info.getShape())
                    + "); add one shaped [samples, " + shape(info.getShape()).substring(1)));
            DType expected = TYPES.get(info.type);
            if (expected == null) {
                throw new CalibrationException("model input '" + name + "' has element type " + info.type
                        + ", which calibration cannot feed from a safetensors file");
            }
            if (t.dtype() != expected) {
                throw CalibrationException.of(path, name, "field dtype: " + t.dtype() + " but model input '" + name
                        + "' takes " + info.type + " (safetensors " + expected + ")");
            }
            long[] model = info.getShape();
            long[] dims = t.shape();
            if (dims.length != model.length + 1) {
                throw CalibrationException.of(path, name, "field shape: " + shape(dims) + " has " + dims.length
                        + " dimensions but model input '" + name + "' is " + shape(model) + ": expected [samples, "
                        + shape(model).substring(1));
            }
            for (int d = 0; d < model.length; d++) {
                if (model[d] > 0 && dims[d + 1] != model[d]) {
                    throw CalibrationException.of(path, name, "field shape: " + shape(dims) + " but model input '"
                            + name + "' is " + shape(model) + " (dimension " + d + " must be " + model[d]
                            + "); expected [samples, " + shape(model).substring(1));
                }
            }
            if (count >= 0 && dims[0] != count) {
                throw CalibrationException.of(path, name, "field shape: " + shape(dims) + " holds " + dims[0]
                        + " samples but tensor '" + first + "' holds " + count + "; every input needs the same count");
            }
            count = dims[0];
            first = name;
            long[] sampleShape = Arrays.copyOfRange(dims, 1, dims.length);
            inputs.put(name, new Input(t, info.type, sampleShape, t.data().byteSize() / Math.max(1, dims[0])));
        }
        if (count == 0) {
            throw CalibrationException.of(path, first, "field shape: holds 0 samples; calibration needs at least one");
        }
        samples = Math.toIntExact(count);
    }

    @Override
    public int samples() {
        return samples;
    }

    @Override
    public Map<String, OnnxTensor> sample(OrtEnvironment env, int index) throws OrtException {
        Map<String, OnnxTensor> feed = new LinkedHashMap<>();
        try {
            for (Map.Entry<String, Input> e : inputs.entrySet()) {
                Input in = e.getValue();
                MemorySegment slice = in.entry().data().asSlice(index * in.sampleBytes(), in.sampleBytes());
                ByteBuffer bytes = ByteBuffer.allocateDirect((int) in.sampleBytes()).order(ByteOrder.LITTLE_ENDIAN);
                MemorySegment.ofBuffer(bytes).copyFrom(slice);
                feed.put(e.getKey(), OnnxTensor.createTensor(env, bytes, in.sampleShape(), in.type()));
            }
            return feed;
        } catch (OrtException | RuntimeException e) {
            feed.values().forEach(OnnxTensor::close);
            throw e;
        }
    }

    @Override
    public String describe() {
        return "tensors from " + file.path().getFileName();
    }

    @Override
    public void close() {
        file.close();
    }

    static String shape(long[] dims) {
        return Arrays.stream(dims).mapToObj(d -> d < 0 ? "?" : Long.toString(d))
                .collect(java.util.stream.Collectors.joining(", ", "[", "]"));
    }
}
