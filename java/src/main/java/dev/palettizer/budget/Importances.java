package dev.palettizer.budget;

import dev.palettizer.io.ModelFormatException;
import dev.palettizer.io.SafetensorsFile;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * Measured per-tensor importances lambda_W, as {@code palettizer calibrate --importance} stores them in a
 * sensitivities file's {@code __metadata__} (strings, so that {@code palettize --sensitivities}, which checks
 * every tensor against the model, sees no extra tensors): lambda_W times a candidate's weighted SSE on the
 * file's raw sensitivities predicts the model's output distortion (relative squared error) that the
 * candidate causes. See {@link ErrorMeasure#MEASURED}.
 *
 * @param file the sensitivities file, for messages
 * @param values per tensor, a finite importance > 0
 */
public record Importances(Path file, Map<String, Double> values) {
    /** Prefix of each tensor's key; the tensor's name follows it as it is. */
    public static final String PREFIX = "palettizer.importance:";
    public static final String PROBE_KEY = "palettizer.importance.probe";
    public static final String DISTORTION_KEY = "palettizer.importance.distortion";
    public static final String SAMPLES_KEY = "palettizer.importance.samples";

    public Importances {
        values = Collections.unmodifiableMap(new LinkedHashMap<>(values));
        for (Map.Entry<String, Double> e : values.entrySet()) {
            double v = e.getValue();
            if (!(v > 0) || Double.isInfinite(v)) {
                throw new ModelFormatException(file, e.getKey(), "metadata " + key(e.getKey()) + ": importance must be"
                        + " a finite number > 0, got " + v + "; run palettizer calibrate --importance again");
            }
        }
    }

    /** The metadata key of {@code tensor}'s importance. */
    public static String key(String tensor) {
        return PREFIX + tensor;
    }

    /** Whether {@code file}'s metadata holds any importance (then the budget's default measure is measured). */
    public static boolean present(Path file) throws IOException {
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            return f.metadata().keySet().stream().anyMatch(k -> k.startsWith(PREFIX));
        }
    }

    /**
     * The importances in {@code file}'s metadata, checked: each must parse as a finite number > 0 and name a
     * tensor the file has sensitivities for.
     *
     * @throws ModelFormatException when the file has none, or one is malformed, naming the key and the fix
     */
    public static Importances read(Path file) throws IOException {
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            Set<String> tensors = new java.util.HashSet<>();
            f.tensors().forEach(t -> tensors.add(t.name()));
            Map<String, Double> values = new LinkedHashMap<>();
            for (Map.Entry<String, String> e : f.metadata().entrySet()) {
                if (!e.getKey().startsWith(PREFIX)) {
                    continue;
                }
                String tensor = e.getKey().substring(PREFIX.length());
                if (!tensors.contains(tensor)) {
                    throw new ModelFormatException(file, tensor, "metadata " + e.getKey() + ": an importance for a"
                            + " tensor the file has no sensitivities for; run palettizer calibrate --importance again");
                }
                double v;
                try {
                    v = Double.parseDouble(e.getValue().strip());
                } catch (NumberFormatException x) {
                    throw new ModelFormatException(file, tensor, "metadata " + e.getKey() + ": importance '"
                            + e.getValue() + "' is not a number; run palettizer calibrate --importance again");
                }
                values.put(tensor, v);
            }
            if (values.isEmpty()) {
                throw new ModelFormatException(file, "no measured importances (metadata " + PREFIX + "<tensor>), which"
                        + " the measured budget error needs; run palettizer calibrate --importance, or use"
                        + " --budget-error relative");
            }
            return new Importances(file, values);
        }
    }

    /**
     * {@code tensor}'s importance.
     *
     * @throws ModelFormatException when the file has none for it
     */
    public double of(String tensor) {
        Double v = values.get(tensor);
        if (v == null) {
            throw new ModelFormatException(file, tensor, "no measured importance (metadata " + key(tensor) + ") for a"
                    + " tensor the budget palettizes; run palettizer calibrate --importance on the same model, or leave"
                    + " the tensor out in a config");
        }
        return v;
    }
}
