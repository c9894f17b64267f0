package dev.palettizer.cli;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;

/** The rows of {@code inspect}, printed in file order with columns as wide as their longest cell. */
final class InspectTable {
    private static final String[] HEADER = {"tensor", "shape", "spec", "bits", "bytes", "SNR dB"};
    /** Text columns are left-aligned, numbers right-aligned. */
    private static final boolean[] LEFT = {true, true, true, false, false, false};

    private record Row(long position, String[] cells) {}

    private final List<Row> rows = new ArrayList<>();

    /** {@code position}: where the tensor comes in the file, so that rows print in file order. */
    void add(long position, String name, String shape, String spec, String bits, long bytes, String snr) {
        rows.add(new Row(position, new String[] {name, shape, spec, bits, Long.toString(bytes), snr}));
    }

    void print(PrintStream out) {
        rows.sort(Comparator.comparingLong(Row::position));
        int[] width = new int[HEADER.length];
        for (int c = 0; c < HEADER.length; c++) {
            width[c] = HEADER[c].length();
            for (Row r : rows) {
                width[c] = Math.max(width[c], r.cells()[c].length());
            }
        }
        line(out, HEADER, width);
        rows.forEach(r -> line(out, r.cells(), width));
    }

    private static void line(PrintStream out, String[] cells, int[] width) {
        StringBuilder b = new StringBuilder();
        for (int c = 0; c < cells.length; c++) {
            String format = "%" + (LEFT[c] ? "-" : "") + width[c] + "s";
            b.append(c == 0 ? "" : "  ").append(String.format(Locale.ROOT, format, cells[c]));
        }
        out.println(b.toString().stripTrailing());
    }
}
