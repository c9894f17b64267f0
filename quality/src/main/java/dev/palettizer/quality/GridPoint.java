package dev.palettizer.quality;

import dev.palettizer.spec.Granularity;
import dev.palettizer.spec.PalettizationSpec;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * One palettization setting of the grid: bits, granularity (on the output channels), clustering mode
 * and the share of each tensor kept exactly as outliers (0 for none).
 */
record GridPoint(int bits, Layout layout, boolean fast, double outlierFraction) {

    GridPoint(int bits, Layout layout, boolean fast) {
        this(bits, layout, fast, 0);
    }

    enum Layout {
        PER_TENSOR("per-tensor", Granularity.perTensor()),
        PER_CHANNEL("per-channel", Granularity.perChannel(0)),
        GROUPED_32("per-grouped-channel 32", Granularity.grouped(0, 32)),
        /** Groups of 32 whose last one may be smaller: the 30522-row word embedding is palettized too. */
        GROUPED_32_RAGGED("per-grouped-channel 32, ragged last group", Granularity.groupedRagged(32));

        private final String label;
        private final Granularity granularity;

        Layout(String label, Granularity granularity) {
            this.label = label;
            this.granularity = granularity;
        }

        String label() {
            return label;
        }
    }

    PalettizationSpec spec() {
        return PalettizationSpec.defaults().withBits(bits).withGranularity(layout.granularity)
                .withOutlierFraction(outlierFraction);
    }

    String mode() {
        String mode = fast ? "fast" : "exact";
        return outlierFraction == 0 ? mode
                : mode + String.format(Locale.ROOT, ", %s %% outliers", BigDecimal.valueOf(100 * outlierFraction)
                        .stripTrailingZeros().toPlainString());
    }

    String label() {
        return bits + "-bit " + layout.label() + " " + mode();
    }

    String fileName() {
        return "minilm-" + bits + "bit-" + layout.name().toLowerCase().replace('_', '-') + "-" + (fast ? "fast" : "exact")
                + (outlierFraction == 0 ? "" : "-outliers" + outlierFraction) + ".onnx";
    }

    /** The grid: bits {8, 6, 4, 3, 2} x three granularities x {fast, exact}. */
    static List<GridPoint> full() {
        List<GridPoint> out = new ArrayList<>();
        for (int bits : new int[] {8, 6, 4, 3, 2}) {
            for (Layout layout : List.of(Layout.PER_TENSOR, Layout.PER_CHANNEL, Layout.GROUPED_32)) {
                out.add(new GridPoint(bits, layout, true));
                out.add(new GridPoint(bits, layout, false));
            }
        }
        return out;
    }

    /** 4-bit per-tensor and per-channel, fast and exact: the points the calibrated grid runs with and without sensitivities. */
    static List<GridPoint> calibrated() {
        List<GridPoint> out = new ArrayList<>();
        for (Layout layout : List.of(Layout.PER_TENSOR, Layout.PER_CHANNEL)) {
            out.add(new GridPoint(4, layout, true));
            out.add(new GridPoint(4, layout, false));
        }
        return out;
    }

    /** The average bit budgets for mixed bits (`--grid budget`), everything stored counted. */
    static List<Double> budgets() {
        return List.of(3.5, 4.0, 4.5, 5.0, 5.5);
    }

    /** 4-bit groups of 32, fast and exact, with the ragged last group: run without and with sensitivities. */
    static List<GridPoint> ragged() {
        return List.of(new GridPoint(4, Layout.GROUPED_32_RAGGED, true), new GridPoint(4, Layout.GROUPED_32_RAGGED, false));
    }

    /**
     * Dense-and-sparse, fast mode: 4- and 3-bit per-tensor, then 4-bit per-channel, each with 0.1 % and 0.5 %
     * outliers (run without and with sensitivities).
     */
    static List<GridPoint> outliers() {
        List<GridPoint> out = new ArrayList<>();
        for (GridPoint base : List.of(new GridPoint(4, Layout.PER_TENSOR, true), new GridPoint(3, Layout.PER_TENSOR, true),
                new GridPoint(4, Layout.PER_CHANNEL, true))) {
            for (double fraction : new double[] {0.001, 0.005}) {
                out.add(new GridPoint(base.bits(), base.layout(), true, fraction));
            }
        }
        return out;
    }

    /** A few fast points to try the harness in a minute. */
    static List<GridPoint> quick() {
        return List.of(new GridPoint(8, Layout.PER_TENSOR, true), new GridPoint(6, Layout.PER_TENSOR, true),
                new GridPoint(4, Layout.PER_TENSOR, true), new GridPoint(4, Layout.GROUPED_32, true));
    }
}
