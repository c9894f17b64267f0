package dev.palettizer.io;

import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import java.nio.ByteBuffer;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

/** Runs a model in ONNX Runtime (test scope only) and returns every output's raw bytes. */
public final class Ort {
    private Ort() {}

    /** Feeds {@link TinyOnnx#mixed}'s inputs (X, ids, img) from {@code seed}. */
    public static Map<String, ByteBuffer> runMixed(Path model, long seed) throws OrtException {
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        SplittableRandom r = new SplittableRandom(seed);
        float[] x = new float[2 * 64];
        float[] img = new float[4 * 36];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) r.nextGaussian();
        }
        for (int i = 0; i < img.length; i++) {
            img[i] = (float) r.nextGaussian();
        }
        long[] ids = {r.nextInt(50), r.nextInt(50), r.nextInt(50)};
        try (var xs = ai.onnxruntime.OnnxTensor.createTensor(env, FloatBuffer.wrap(x), new long[] {2, 64});
             var is = ai.onnxruntime.OnnxTensor.createTensor(env, LongBuffer.wrap(ids), new long[] {3});
             var ims = ai.onnxruntime.OnnxTensor.createTensor(env, FloatBuffer.wrap(img), new long[] {1, 4, 6, 6})) {
            return run(model, Map.of("X", xs, "ids", is, "img", ims));
        }
    }

    public static Map<String, ByteBuffer> run(Path model, Map<String, ai.onnxruntime.OnnxTensor> inputs)
            throws OrtException {
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
            options.setIntraOpNumThreads(1);
            try (OrtSession session = env.createSession(model.toString(), options);
                 OrtSession.Result result = session.run(inputs)) {
                Map<String, ByteBuffer> out = new LinkedHashMap<>();
                for (Map.Entry<String, OnnxValue> e : result) {
                    out.put(e.getKey(), ((ai.onnxruntime.OnnxTensor) e.getValue()).getByteBuffer());
                }
                return out;
            }
        }
    }

    /** The float32 values of a raw output. */
    public static float[] floats(ByteBuffer raw) {
        FloatBuffer f = raw.duplicate().order(java.nio.ByteOrder.nativeOrder()).asFloatBuffer();
        float[] out = new float[f.remaining()];
        f.get(out);
        return out;
    }
}
