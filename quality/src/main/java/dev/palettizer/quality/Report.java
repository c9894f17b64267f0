package dev.palettizer.quality;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** Writes the quality table as markdown (for the README) and JSON (for tools), each atomically. */
final class Report {
    private Report() {}

    static String markdown(String header, List<Row> rows, long fp32Bytes) {
        StringBuilder md = new StringBuilder(header).append("\n\n");
        md.append("| model | bits | granularity | mode | bits/weight | size MB | of fp32 | mean cos | min cos | NN kept"
                + " | calibrate s | palettize s | note |\n");
        md.append("|---|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|\n");
        for (Row r : rows) {
            Agreement a = r.agreement();
            md.append(String.format(Locale.ROOT, "| %s | %s | %s | %s | %s | %.2f | %.1f %% | %s | %s | %s | %s | %s | %s |%n",
                    r.model(), r.bits(), r.granularity(), r.mode(), figure("%.2f", r.bitsPerWeight()), r.bytes() / 1e6,
                    100.0 * r.bytes() / fp32Bytes,
                    a == null ? "-" : String.format(Locale.ROOT, "%.5f", a.meanCosine()),
                    a == null ? "-" : String.format(Locale.ROOT, "%.4f", a.minCosine()),
                    a == null ? "-" : String.format(Locale.ROOT, "%.1f %%", 100 * a.neighboursKept()),
                    figure("%.1f", r.calibrationSeconds()), figure("%.1f", r.seconds()), r.note()));
        }
        return md.toString();
    }

    private static String figure(String format, double value) {
        return Double.isNaN(value) ? "-" : String.format(Locale.ROOT, format, value);
    }

    private static Double orNull(double value) {
        return Double.isNaN(value) ? null : value;
    }

    static void write(Path dir, String name, String header, Map<String, Object> context, List<Row> rows,
                      long fp32Bytes) throws IOException {
        Files.createDirectories(dir);
        atomically(dir.resolve(name + ".md"), markdown(header, rows, fp32Bytes));
        Map<String, Object> doc = new LinkedHashMap<>(context);
        doc.put("rows", rows.stream().map(Report::json).toList());
        atomically(dir.resolve(name + ".json"),
                new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(doc));
    }

    /** JSON has no NaN: absent figures are null. */
    private static Map<String, Object> json(Row r) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("model", r.model());
        m.put("bits", r.bits());
        m.put("granularity", r.granularity());
        m.put("mode", r.mode());
        m.put("bytes", r.bytes());
        m.put("bits_per_weight", orNull(r.bitsPerWeight()));
        m.put("palettize_seconds", orNull(r.seconds()));
        m.put("calibration_seconds", orNull(r.calibrationSeconds()));
        Agreement a = r.agreement();
        m.put("mean_cosine", a == null ? null : a.meanCosine());
        m.put("min_cosine", a == null ? null : a.minCosine());
        m.put("nearest_neighbour_kept", a == null ? null : a.neighboursKept());
        m.put("max_abs_difference", a == null ? null : a.maxAbsDifference());
        m.put("note", r.note());
        return m;
    }

    private static void atomically(Path file, String text) throws IOException {
        Path tmp = Files.createTempFile(file.toAbsolutePath().getParent(), "." + file.getFileName(), ".tmp");
        Files.writeString(tmp, text);
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }
}
