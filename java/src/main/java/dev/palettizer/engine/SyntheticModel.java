package dev.palettizer.engine;

import dev.palettizer.io.SafetensorsWriter;
import dev.palettizer.model.DType;
import dev.palettizer.model.Shapes;
import java.io.IOException;
import java.nio.channels.WritableByteChannel;
import java.nio.file.Path;
import java.util.SplittableRandom;

/**
 * A deterministic, transformer-shaped model for demos, tests and benchmarks: token embedding,
 * per layer q/k/v/o projections, a gated MLP, norms and biases. Weights are Laplace(0, 0.02)
 * with a per-row spread (some channels 4x wider, as real layers have outlier channels).
 */
public final class SyntheticModel {
    private SyntheticModel() {}

    /** Shape of the model; {@link #small()} is the demo default (~20 M parameters, ~80 MB in F32). */
    public record Shape(int layers, int hidden, int ffn, int vocab, DType dtype) {
        public static Shape small() {
            return new Shape(4, 512, 1536, 8192, DType.F32);
        }
    }

    public static void write(Path out, Shape s, long seed) throws IOException {
        SafetensorsWriter w = new SafetensorsWriter();
        w.putMetadata("generator", "palettizer synthetic transformer, seed " + seed);
        int[] salt = {0};
        w.add(tensor("embed_tokens.weight", s.dtype(), seed, salt[0]++, s.vocab(), s.hidden()));
        for (int l = 0; l < s.layers(); l++) {
            String p = "layers." + l + ".";
            for (String proj : new String[] {"q_proj", "k_proj", "v_proj", "o_proj"}) {
                w.add(tensor(p + "self_attn." + proj + ".weight", s.dtype(), seed, salt[0]++, s.hidden(), s.hidden()));
            }
            w.add(tensor(p + "self_attn.q_proj.bias", s.dtype(), seed, salt[0]++, s.hidden()));
            w.add(tensor(p + "mlp.gate_proj.weight", s.dtype(), seed, salt[0]++, s.ffn(), s.hidden()));
            w.add(tensor(p + "mlp.up_proj.weight", s.dtype(), seed, salt[0]++, s.ffn(), s.hidden()));
            w.add(tensor(p + "mlp.down_proj.weight", s.dtype(), seed, salt[0]++, s.hidden(), s.ffn()));
            w.add(tensor(p + "input_layernorm.weight", s.dtype(), seed, salt[0]++, s.hidden()));
        }
        w.add(tensor("norm.weight", s.dtype(), seed, salt[0]++, s.hidden()));
        w.write(out);
    }

    private static SafetensorsWriter.Tensor tensor(String name, DType dtype, long seed, int salt, long... shape) {
        long n = Shapes.elementCount(shape);
        long count = n;
        long rowLength = shape.length > 1 ? shape[1] : n;
        SafetensorsWriter.Payload payload = new SafetensorsWriter.Payload() {
            @Override
            public long byteSize() {
                return count * dtype.byteSize();
            }

            @Override
            public void writeTo(WritableByteChannel channel) throws IOException {
                SplittableRandom random = new SplittableRandom(seed * 1_000_003L + salt);
                FloatChannelWriter out = new FloatChannelWriter(channel, dtype);
                float spread = 1f;
                for (long i = 0; i < count; i++) {
                    if (i % rowLength == 0) {
                        spread = random.nextInt(16) == 0 ? 4f : 1f;
                    }
                    out.put((float) (spread * laplace(random, 0.02)));
                }
                out.flush();
            }
        };
        return new SafetensorsWriter.Tensor(name, dtype, shape, payload);
    }

    /** Laplace(0, b) by inverse CDF. */
    public static double laplace(SplittableRandom random, double b) {
        double u = random.nextDouble() - 0.5;
        return -b * Math.signum(u) * Math.log(1 - 2 * Math.abs(u));
    }
}
