package dev.palettizer.calibrate;

import ai.onnx.proto.OnnxMl;
import dev.palettizer.io.SafetensorsWriter;
import dev.palettizer.model.DType;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

/**
 * A hand-made ONNX model with every covered kind of use: e = Gather(E, ids); h = x + e; m = MatMul(h, W1);
 * y = Gemm(m, W2, C, transB = 1); plus z = Mul(h, S), a weight calibration does not cover. Inputs x [B, 4]
 * FLOAT and ids [B] INT64; B is dynamic.
 */
final class TinyModel {
    static final int VOCAB = 10;
    static final int DIM = 4;
    static final int HIDDEN = 3;
    static final int OUT = 5;

    final float[] e = values(VOCAB * DIM, 1);
    final float[] w1 = values(DIM * HIDDEN, 2);
    final float[] w2 = values(OUT * HIDDEN, 3);
    final float[] c = values(OUT, 4);
    final float[] s = values(DIM, 5);

    /** Writes the model to {@code file}. */
    void write(Path file) throws IOException {
        OnnxMl.GraphProto graph = OnnxMl.GraphProto.newBuilder().setName("tiny")
                .addInput(input("x", OnnxMl.TensorProto.DataType.FLOAT_VALUE, -1, DIM))
                .addInput(input("ids", OnnxMl.TensorProto.DataType.INT64_VALUE, -1))
                .addInitializer(floats("E", e, VOCAB, DIM))
                .addInitializer(floats("W1", w1, DIM, HIDDEN))
                .addInitializer(floats("W2", w2, OUT, HIDDEN))
                .addInitializer(floats("C", c, OUT))
                .addInitializer(floats("S", s, 1, DIM))
                .addNode(node("Gather", "gather", "e", "E", "ids"))
                .addNode(node("Add", "add", "h", "x", "e"))
                .addNode(node("MatMul", "matmul", "m", "h", "W1"))
                .addNode(node("Gemm", "gemm", "y", "m", "W2", "C").toBuilder()
                        .addAttribute(OnnxMl.AttributeProto.newBuilder().setName("transB").setI(1)
                                .setType(OnnxMl.AttributeProto.AttributeType.INT)))
                .addNode(node("Mul", "mul", "z", "h", "S"))
                .addOutput(OnnxMl.ValueInfoProto.newBuilder().setName("y"))
                .addOutput(OnnxMl.ValueInfoProto.newBuilder().setName("z"))
                .build();
        OnnxMl.ModelProto model = OnnxMl.ModelProto.newBuilder().setIrVersion(7)
                .addOpsetImport(OnnxMl.OperatorSetIdProto.newBuilder().setDomain("").setVersion(13))
                .setGraph(graph).build();
        Files.write(file, model.toByteArray());
    }

    /** Writes {@code samples} samples of batch {@code batch} (x [S, B, 4] F32, ids [S, B] I64) and returns them. */
    static Data data(Path file, int samples, int batch, long seed) throws IOException {
        Random r = new Random(seed);
        float[] x = new float[samples * batch * DIM];
        long[] ids = new long[samples * batch];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) r.nextGaussian() * (1 + i % DIM);
        }
        for (int i = 0; i < ids.length; i++) {
            ids[i] = r.nextInt(VOCAB / 2); // rows 5..9 never looked up: their frequency is the smoothing floor
        }
        ByteBuffer idBytes = ByteBuffer.allocate(ids.length * 8).order(ByteOrder.LITTLE_ENDIAN);
        idBytes.asLongBuffer().put(ids);
        new SafetensorsWriter()
                .add(new SafetensorsWriter.Tensor("x", DType.F32, new long[] {samples, batch, DIM},
                        SafetensorsWriter.Payload.ofFloats(x)))
                .add(new SafetensorsWriter.Tensor("ids", DType.I64, new long[] {samples, batch},
                        SafetensorsWriter.Payload.of(idBytes.array())))
                .write(file);
        return new Data(x, ids);
    }

    record Data(float[] x, long[] ids) {}

    private static float[] values(int n, long seed) {
        Random r = new Random(seed);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) r.nextGaussian();
        }
        return v;
    }

    private static OnnxMl.ValueInfoProto input(String name, int type, long... dims) {
        OnnxMl.TensorShapeProto.Builder shape = OnnxMl.TensorShapeProto.newBuilder();
        for (long d : dims) {
            shape.addDim(d < 0 ? OnnxMl.TensorShapeProto.Dimension.newBuilder().setDimParam("batch")
                    : OnnxMl.TensorShapeProto.Dimension.newBuilder().setDimValue(d));
        }
        return OnnxMl.ValueInfoProto.newBuilder().setName(name).setType(OnnxMl.TypeProto.newBuilder()
                .setTensorType(OnnxMl.TypeProto.Tensor.newBuilder().setElemType(type).setShape(shape))).build();
    }

    private static OnnxMl.TensorProto floats(String name, float[] values, long... dims) {
        OnnxMl.TensorProto.Builder t = OnnxMl.TensorProto.newBuilder().setName(name)
                .setDataType(OnnxMl.TensorProto.DataType.FLOAT_VALUE);
        for (long d : dims) {
            t.addDims(d);
        }
        for (float v : values) {
            t.addFloatData(v);
        }
        return t.build();
    }

    private static OnnxMl.NodeProto node(String op, String name, String output, String... inputs) {
        OnnxMl.NodeProto.Builder n = OnnxMl.NodeProto.newBuilder().setOpType(op).setName(name).addOutput(output);
        for (String in : inputs) {
            n.addInput(in);
        }
        return n.build();
    }
}
