package dev.palettizer.engine;

import dev.palettizer.spec.Granularity;
import dev.palettizer.spec.PalettizationSpec;
import java.util.Arrays;
import java.util.Locale;

/**
 * The Java heap ran out while palettizing one tensor: names the tensor, its spec and clustering
 * mode, the step (from where the allocation failed) and the heap's limit, so that the command line
 * can say what to change instead of printing a stack trace.
 */
public final class TensorMemoryError extends OutOfMemoryError {
    private TensorMemoryError(String message) {
        super(message);
    }

    static TensorMemoryError of(TensorInput t, PalettizationSpec spec, ClusterMode mode, OutOfMemoryError e) {
        // A ragged tensor's part already named its step: keep that step, name the whole tensor.
        Throwable origin = e instanceof TensorMemoryError && e.getCause() != null ? e.getCause() : e;
        TensorMemoryError error = new TensorMemoryError(String.format(Locale.ROOT,
                "tensor '%s' %s %s (%d-bit %s, %s) needed more than the %s Java heap in %s",
                t.name(), Arrays.toString(t.shape()).replace(" ", ""), t.dtype(), spec.nBits(), granularity(spec),
                mode.fast() ? "fast mode" : "exact values", heap(),
                step(origin)));
        error.initCause(e);
        return error;
    }

    /** The heap's limit, in the unit -Xmx is usually given in. */
    public static String heap() {
        long max = Runtime.getRuntime().maxMemory();
        return max >= 1L << 30 ? String.format(Locale.ROOT, "%.1f GiB", max / (double) (1L << 30))
                : String.format(Locale.ROOT, "%d MiB", max >> 20);
    }

    private static String granularity(PalettizationSpec spec) {
        return switch (spec.granularity()) {
            case Granularity.PerTensor p -> "per-tensor";
            case Granularity.PerGroupedChannel(int axis, int size, boolean ragged) -> "group size " + size + " on axis " + axis
                    + (ragged ? " (ragged last group)" : "");
        };
    }

    /** The step whose allocation failed, from the innermost palettizer frame. */
    private static String step(Throwable e) {
        for (StackTraceElement f : e.getStackTrace()) {
            String c = f.getClassName();
            if (!c.startsWith("dev.palettizer.")) {
                continue;
            }
            String simple = c.substring(c.lastIndexOf('.') + 1);
            return switch (simple) {
                case "OptimalKMeans1D" -> "the optimal 1-D k-means (its dynamic program grows with distinct values x LUT"
                        + " entries)";
                case "DistinctValuesBuilder", "WeightedValues" -> "the value histogram";
                case "InputScan" -> "the input scan";
                case "GroupScan", "KMeansPlusPlus" -> "k-means++ seeding";
                case "PackedIndices" -> "index packing";
                default -> simple + "." + f.getMethodName();
            };
        }
        return "an unknown step";
    }
}
