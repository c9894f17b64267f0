package dev.palettizer.config;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * A place in a config document, below {@code kmeans_palettization_config}: dot-separated keys, with
 * keys that are not plain words quoted, e.g. {@code module_name_configs."layer.*".op_state_spec.weight}.
 * Error messages and the reasons of decisions name places this way.
 */
record ConfigPath(List<String> keys) {
    static final ConfigPath ROOT = new ConfigPath(List.of());
    private static final Pattern PLAIN = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");

    ConfigPath {
        keys = List.copyOf(keys);
    }

    static ConfigPath of(String... keys) {
        return new ConfigPath(List.of(keys));
    }

    ConfigPath resolve(String key) {
        List<String> next = new ArrayList<>(keys);
        next.add(key);
        return new ConfigPath(next);
    }

    boolean isRoot() {
        return keys.isEmpty();
    }

    /** {@code "path: detail"}, or the bare detail at the root. */
    String describe(String detail) {
        return isRoot() ? detail : this + ": " + detail;
    }

    /**
     * A message that already starts with a path relative to this place (as the config records' own
     * validation messages do), made absolute.
     */
    String prefix(String relativeMessage) {
        return isRoot() ? relativeMessage : this + "." + relativeMessage;
    }

    static String key(String key) {
        return PLAIN.matcher(key).matches() ? key
                : '"' + key.replace("\\", "\\\\").replace("\"", "\\\"") + '"';
    }

    @Override
    public String toString() {
        return keys.stream().map(ConfigPath::key).collect(Collectors.joining("."));
    }
}
