package dev.palettizer.io;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.OperatorSetIdProto;
import ai.onnx.proto.OnnxMl.StringStringEntryProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.TensorShapeProto;
import ai.onnx.proto.OnnxMl.TypeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import com.google.protobuf.ByteString;
import dev.palettizer.model.Floats;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/** Builds small ONNX models with the protobuf builders, for tests. */
public final class TinyOnnx {
    public static final int FLOAT = 1;
    public static final int INT64 = 7;
    public static final int FLOAT16 = 10;
    public static final int BFLOAT16 = 16;

    private final GraphProto.Builder graph = GraphProto.newBuilder().setName("tiny");
    private final long opset;
    private final long ir;

    private TinyOnnx(long opset, long ir) {
        this.opset = opset;
        this.ir = ir;
    }

    public static TinyOnnx of(long opset, long ir) {
        return new TinyOnnx(opset, ir);
    }

    public TinyOnnx input(String name, int type, long... dims) {
        graph.addInput(value(name, type, dims));
        return this;
    }

    public TinyOnnx output(String name, int type) {
        graph.addOutput(value(name, type, null));
        return this;
    }

    public TinyOnnx node(String op, String name, List<String> inputs, String output, AttributeProto... attributes) {
        graph.addNode(NodeProto.newBuilder().setOpType(op).setName(name).addAllInput(inputs).addOutput(output)
                .addAllAttribute(List.of(attributes)));
        return this;
    }

    public TinyOnnx initializer(TensorProto t) {
        graph.addInitializer(t);
        return this;
    }

    public ModelProto build() {
        return ModelProto.newBuilder().setIrVersion(ir).setProducerName("tiny")
                .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(opset))
                .setGraph(graph).build();
    }

    public Path write(Path file) throws IOException {
        Files.write(file, build().toByteArray());
        return file;
    }

    /** Writes every raw initializer's data to {@code dataName} beside the model, at 8-byte aligned offsets. */
    public Path writeExternal(Path file, String dataName) throws IOException {
        ModelProto m = build();
        GraphProto.Builder g = m.getGraph().toBuilder().clearInitializer();
        java.io.ByteArrayOutputStream data = new java.io.ByteArrayOutputStream();
        for (TensorProto t : m.getGraph().getInitializerList()) {
            if (!t.hasRawData()) {
                g.addInitializer(t);
                continue;
            }
            while (data.size() % 8 != 0) {
                data.write(0);
            }
            long offset = data.size();
            t.getRawData().writeTo(data);
            g.addInitializer(t.toBuilder().clearRawData().setDataLocation(TensorProto.DataLocation.EXTERNAL)
                    .addExternalData(kv("location", dataName)).addExternalData(kv("offset", Long.toString(offset)))
                    .addExternalData(kv("length", Long.toString(t.getRawData().size()))));
        }
        Files.write(file.resolveSibling(dataName), data.toByteArray());
        Files.write(file, m.toBuilder().setGraph(g).build().toByteArray());
        return file;
    }

    private static StringStringEntryProto kv(String k, String v) {
        return StringStringEntryProto.newBuilder().setKey(k).setValue(v).build();
    }

    private static ValueInfoProto value(String name, int type, long[] dims) {
        TypeProto.Tensor.Builder t = TypeProto.Tensor.newBuilder().setElemType(type);
        if (dims != null) {
            TensorShapeProto.Builder shape = TensorShapeProto.newBuilder();
            Arrays.stream(dims).forEach(d -> shape.addDim(TensorShapeProto.Dimension.newBuilder().setDimValue(d)));
            t.setShape(shape);
        }
        return ValueInfoProto.newBuilder().setName(name).setType(TypeProto.newBuilder().setTensorType(t)).build();
    }

    /**
     * A model with one weight per kind of consumer: an exported Linear (MatMul on a transposed
     * {@code onnx::MatMul_1} [64, 96] plus an Add of {@code encoder.layer.0.dense.bias}), a Gemm with
     * transB ({@code dec.weight} [32, 96]), an Embedding (Gather of {@code emb.weight} [50, 64]), a Conv
     * ({@code conv.weight} [16, 4, 3, 3]) and a FLOAT16 weight cast before its MatMul
     * ({@code half.weight} [64, 64]). Inputs X [2, 64], ids [3], img [1, 4, 6, 6]; outputs Y, Y2, E, C, H and
     * every weight through Identity (w_*), so tests can compare the weights the graph sees.
     */
    public static TinyOnnx mixed(long opset, long ir) {
        TinyOnnx m = of(opset, ir)
                .input("X", FLOAT, 2, 64).input("ids", INT64, 3).input("img", FLOAT, 1, 4, 6, 6)
                .initializer(floats("onnx::MatMul_1", laplace(64 * 96, 0.05, 1), 64, 96))
                .initializer(floats("encoder.layer.0.dense.bias", laplace(96, 0.05, 2), 96))
                .initializer(floats("dec.weight", laplace(32 * 96, 0.05, 3), 32, 96))
                .initializer(floats("emb.weight", laplace(50 * 64, 0.05, 4), 50, 64))
                .initializer(floats("conv.weight", laplace(16 * 36, 0.05, 5), 16, 4, 3, 3))
                .initializer(halves("half.weight", FLOAT16, laplace(64 * 64, 0.05, 6), 64, 64))
                .node("MatMul", "/encoder/layer.0/dense/MatMul", List.of("X", "onnx::MatMul_1"), "h0")
                .node("Add", "/encoder/layer.0/dense/Add", List.of("h0", "encoder.layer.0.dense.bias"), "Y")
                .node("Gemm", "/dec/Gemm", List.of("Y", "dec.weight"), "Y2", intAttr("transB", 1))
                .node("Gather", "/emb/Gather", List.of("emb.weight", "ids"), "E")
                .node("Conv", "/conv/Conv", List.of("img", "conv.weight"), "C")
                .node("Cast", "/half/Cast", List.of("half.weight"), "half_f", intAttr("to", FLOAT))
                .node("MatMul", "/half/MatMul", List.of("X", "half_f"), "H");
        for (String w : List.of("onnx::MatMul_1", "dec.weight", "emb.weight", "conv.weight", "half.weight")) {
            m.node("Identity", "/identity/" + w, List.of(w), "w_" + w);
        }
        for (String o : List.of("Y", "Y2", "E", "C", "H", "w_onnx::MatMul_1", "w_dec.weight", "w_emb.weight",
                "w_conv.weight")) {
            m.output(o, FLOAT);
        }
        return m.output("w_half.weight", FLOAT16);
    }

    // ---------------------------------------------------------------- tensors

    /** FLOAT in raw_data. */
    public static TensorProto floats(String name, float[] values, long... dims) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            b.putFloat(v);
        }
        return raw(name, FLOAT, b.array(), dims);
    }

    /** FLOAT in float_data. */
    public static TensorProto floatData(String name, float[] values, long... dims) {
        TensorProto.Builder t = header(name, FLOAT, dims);
        for (float v : values) {
            t.addFloatData(v);
        }
        return t.build();
    }

    /** FLOAT16 (raw_data) or BFLOAT16 (raw_data) of the values, rounded. */
    public static TensorProto halves(String name, int type, float[] values, long... dims) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 2).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            b.putShort(type == FLOAT16 ? Float.floatToFloat16(v) : Floats.toBf16(v));
        }
        return raw(name, type, b.array(), dims);
    }

    /** FLOAT16 in int32_data, one pattern per int, as the ONNX spec allows. */
    public static TensorProto halvesInInt32(String name, float[] values, long... dims) {
        TensorProto.Builder t = header(name, FLOAT16, dims);
        for (float v : values) {
            t.addInt32Data(Float.floatToFloat16(v) & 0xFFFF);
        }
        return t.build();
    }

    public static TensorProto raw(String name, int type, byte[] bytes, long... dims) {
        return header(name, type, dims).setRawData(ByteString.copyFrom(bytes)).build();
    }

    private static TensorProto.Builder header(String name, int type, long... dims) {
        TensorProto.Builder t = TensorProto.newBuilder().setName(name).setDataType(type);
        Arrays.stream(dims).forEach(t::addDims);
        return t;
    }

    /** Laplace(0, scale) values, a stand-in for trained weights. */
    public static float[] laplace(int n, double scale, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            double u = r.nextDouble() - 0.5;
            v[i] = (float) (-scale * Math.signum(u) * Math.log(1 - 2 * Math.abs(u)));
        }
        return v;
    }

    public static AttributeProto intAttr(String name, long value) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INT).setI(value).build();
    }

    public static AttributeProto intsAttr(String name, long... values) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INTS)
                .addAllInts(Arrays.stream(values).boxed().toList()).build();
    }
}
