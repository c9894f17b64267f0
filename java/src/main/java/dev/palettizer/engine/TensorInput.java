package dev.palettizer.engine;

import dev.palettizer.model.DType;
import dev.palettizer.model.FloatArraySource;
import dev.palettizer.model.FloatSource;
import dev.palettizer.model.Shapes;
import java.util.Arrays;

/** One tensor to palettize: its values and optional per-element sensitivities (same shape). */
public record TensorInput(String name, DType dtype, long[] shape, FloatSource values, FloatSource sensitivities) {
    public TensorInput {
        long n = Shapes.elementCount(shape);
        if (values.size() != n) {
            throw new IllegalArgumentException("tensor '" + name + "': shape " + Arrays.toString(shape) + " needs "
                    + n + " values, got " + values.size());
        }
        if (sensitivities != null && sensitivities.size() != n) {
            throw new TensorDataException("tensor '" + name + "': sensitivities hold " + sensitivities.size()
                    + " elements but the weight has shape " + Arrays.toString(shape) + " (" + n + " elements)");
        }
    }

    public static TensorInput of(String name, float[] values, long... shape) {
        return new TensorInput(name, DType.F32, shape, new FloatArraySource(values), null);
    }

    public TensorInput withSensitivities(FloatSource s) {
        return new TensorInput(name, dtype, shape, values, s);
    }

    /** Row-major coordinates of a flat element index, for error messages. */
    public String coordinates(long flat) {
        long[] idx = new long[shape.length];
        for (int i = shape.length - 1; i >= 0; i--) {
            idx[i] = flat % shape[i];
            flat /= shape[i];
        }
        return Arrays.toString(idx);
    }
}
