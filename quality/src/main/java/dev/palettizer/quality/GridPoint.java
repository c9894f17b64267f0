package dev.palettizer.quality;

import dev.palettizer.spec.Granularity;
import dev.palettizer.spec.PalettizationSpec;
import java.util.ArrayList;
import java.util.List;

/** One palettization setting of the grid: bits, granularity (on the output channels) and clustering mode. */
record GridPoint(int bits, Layout layout, boolean fast) {

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
        return PalettizationSpec.defaults().withBits(bits).withGranularity(layout.granularity);
    }

    String mode() {
        return fast ? "fast" : "exact";
    }

    String label() {
        return bits + "-bit " + layout.label() + " " + mode();
    }

    String fileName() {
        return "minilm-" + bits + "bit-" + layout.name().toLowerCase().replace('_', '-') + "-" + mode() + ".onnx";
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

    /** A few fast points to try the harness in a minute. */
    static List<GridPoint> quick() {
        return List.of(new GridPoint(8, Layout.PER_TENSOR, true), new GridPoint(6, Layout.PER_TENSOR, true),
                new GridPoint(4, Layout.PER_TENSOR, true), new GridPoint(4, Layout.GROUPED_32, true));
    }
}
