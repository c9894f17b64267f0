package dev.palettizer.cli;

import dev.palettizer.engine.TensorReport;
import java.io.PrintStream;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * After a run, says on stderr where it did less than asked: nothing palettized, tensors the spec
 * chose but could not fit (left dense), and tensors whose fast mode fell back; each with the
 * reason and the flag that helps. The exit code stays 0: the output is valid, only smaller gains.
 */
final class RunWarnings {
    /** The engine's words for a spec that does not fit a shape, as GroupLayout words its skip reasons. */
    private static final String DOES_NOT_DIVIDE = "does not divide";
    /** ModelPalettizer and OnnxPalettizer add this to a spec-chosen tensor they had to copy. */
    private static final String SPEC_FROM = " (spec from ";

    private RunWarnings() {}

    static void print(List<TensorReport> reports, PrintStream err) {
        for (TensorReport r : reports) {
            if (r.warning() != null) {
                err.println("palettizer: warning: tensor '" + r.name() + "': " + r.warning());
            }
        }
        List<TensorReport> unfit = reports.stream()
                .filter(r -> !r.palettized() && r.reason() != null && r.reason().contains(SPEC_FROM)).toList();
        if (!unfit.isEmpty()) {
            long total = reports.stream().mapToLong(TensorReport::bytesBefore).sum();
            long dense = unfit.stream().mapToLong(TensorReport::bytesBefore).sum();
            TensorReport first = unfit.getFirst();
            err.printf(Locale.ROOT, "palettizer: warning: %d tensor%s the spec chose %s copied dense because the spec"
                            + " does not fit %s (%d bytes, %.1f %% of the model), e.g. '%s': %s; %s%n",
                    unfit.size(), unfit.size() == 1 ? "" : "s", unfit.size() == 1 ? "was" : "were",
                    unfit.size() == 1 ? "its shape" : "their shapes", dense, total == 0 ? 0 : 100.0 * dense / total,
                    first.name(), first.reason().substring(0, first.reason().indexOf(SPEC_FROM)), fix(first.reason()));
        }
        if (!reports.isEmpty() && reports.stream().noneMatch(TensorReport::palettized)) {
            Map<String, Long> why = reports.stream().collect(Collectors.groupingBy(RunWarnings::kind, TreeMap::new,
                    Collectors.counting()));
            err.println("palettizer: warning: no tensor was palettized; all " + reports.size() + " were copied: "
                    + why.entrySet().stream().map(e -> e.getValue() + " " + e.getKey()).collect(Collectors.joining(", ")));
        }
    }

    private static String fix(String reason) {
        return reason.contains(DOES_NOT_DIVIDE)
                ? "a --group-size (or --cluster-dim) that divides the channels, --ragged-last-group (groups along"
                        + " axis 0), --granularity per-tensor, or a config rule for those tensors, palettizes them"
                : "see the report's note for each";
    }

    /** Why a tensor was copied, in a few words with the flag that changes it. */
    private static String kind(TensorReport r) {
        String reason = r.reason() == null ? "" : r.reason();
        if (reason.contains(DOES_NOT_DIVIDE)) {
            return "because the spec does not fit the shape (--group-size, --cluster-dim)";
        }
        if (reason.contains("weight threshold")) {
            return "at or below the weight threshold (--weight-threshold)";
        }
        if (reason.contains("-D tensor")) {
            return "1-D (--include-1d)";
        }
        if (reason.contains("not a float type")) {
            return "not float";
        }
        return "left alone by " + reason;
    }
}
