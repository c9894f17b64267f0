package dev.palettizer.config;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.SequencedMap;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * How keys of the config's maps are matched, in the seed's order of specificity, and the immutable,
 * order-keeping copies those maps are stored as (values may be null: null disables).
 */
public final class Rules {
    /** The key that applies to every state of a module or op. */
    public static final String ALL_STATES = "*";

    private Rules() {}

    /** The key equal to the name, else the first key, in document order, whose regex matches the whole name. */
    public static Optional<String> byName(Map<String, ?> rules, String name) {
        if (rules.containsKey(name)) {
            return Optional.of(name);
        }
        return rules.keySet().stream().filter(k -> Pattern.compile(k).matcher(name).matches()).findFirst();
    }

    /**
     * The key equal to the type, else the first key naming it qualified: its last dot-separated part,
     * after dropping a trailing {@code .default}, is the type ({@code torch.nn.modules.linear.Linear}
     * names {@code Linear}, {@code aten.linear.default} names {@code linear}). An empty type matches nothing.
     */
    public static Optional<String> byType(Map<String, ?> rules, String type) {
        if (type.isEmpty()) {
            return Optional.empty();
        }
        if (rules.containsKey(type)) {
            return Optional.of(type);
        }
        return rules.keySet().stream().filter(k -> {
            String bare = k.endsWith(".default") ? k.substring(0, k.length() - ".default".length()) : k;
            return bare.endsWith("." + type);
        }).findFirst();
    }

    /** The state's own key, else {@code "*"}. */
    public static Optional<String> byState(Map<String, ?> specs, String state) {
        if (specs.containsKey(state)) {
            return Optional.of(state);
        }
        return specs.containsKey(ALL_STATES) ? Optional.of(ALL_STATES) : Optional.empty();
    }

    /** Why a key is not a usable regular expression, or empty when it is. */
    public static Optional<String> patternProblem(String regex) {
        try {
            Pattern.compile(regex);
            return Optional.empty();
        } catch (PatternSyntaxException e) {
            return Optional.of("not a valid regular expression: " + e.getDescription() + " near index " + e.getIndex());
        }
    }

    /** An unmodifiable copy keeping the order and null values; a null map is empty. */
    public static <V> SequencedMap<String, V> copy(Map<String, V> map) {
        LinkedHashMap<String, V> copy = new LinkedHashMap<>();
        if (map != null) {
            map.forEach((k, v) -> copy.put(Objects.requireNonNull(k, "config keys cannot be null"), v));
        }
        return Collections.unmodifiableSequencedMap(copy);
    }

    /** Map equality that also compares the order of the entries, which decides among matching regexes. */
    public static boolean sameInOrder(Map<String, ?> a, Map<String, ?> b) {
        return a.equals(b) && a.keySet().stream().toList().equals(b.keySet().stream().toList());
    }
}
