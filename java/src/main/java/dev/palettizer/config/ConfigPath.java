package dev.palettizer.config;

import java.util.regex.Pattern;

/**
 * A place in a config document, below its root key: dot-separated keys, with keys that are not plain
 * words quoted, and list positions in brackets, e.g. {@code module_name_configs."layer.*".op_state_spec.weight}
 * or {@code module_type_configs.Conv2d[1].n_bits}. Error messages and the reasons of decisions name
 * places this way. Immutable.
 */
public final class ConfigPath {
    public static final ConfigPath ROOT = new ConfigPath("");
    private static final Pattern PLAIN = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");

    private final String text;

    private ConfigPath(String text) {
        this.text = text;
    }

    public static ConfigPath of(String... keys) {
        ConfigPath at = ROOT;
        for (String key : keys) {
            at = at.resolve(key);
        }
        return at;
    }

    /** The place of {@code key} in the mapping at this place. */
    public ConfigPath resolve(String key) {
        return new ConfigPath(isRoot() ? key(key) : text + "." + key(key));
    }

    /** The place of the {@code i}-th item (from 0) of the list at this place. */
    public ConfigPath index(int i) {
        return new ConfigPath(text + "[" + i + "]");
    }

    public boolean isRoot() {
        return text.isEmpty();
    }

    /** {@code "path: detail"}, or the bare detail at the root. */
    public String describe(String detail) {
        return isRoot() ? detail : this + ": " + detail;
    }

    /**
     * A message that already starts with a path relative to this place (as the config records' own
     * validation messages do), made absolute.
     */
    public String prefix(String relativeMessage) {
        return isRoot() ? relativeMessage : this + "." + relativeMessage;
    }

    /** A key as a path shows it: bare when it is a plain word, else quoted with {@code \} and {@code "} escaped. */
    public static String key(String key) {
        return PLAIN.matcher(key).matches() ? key
                : '"' + key.replace("\\", "\\\\").replace("\"", "\\\"") + '"';
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ConfigPath p && text.equals(p.text);
    }

    @Override
    public int hashCode() {
        return text.hashCode();
    }

    @Override
    public String toString() {
        return text;
    }
}
