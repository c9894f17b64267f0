package dev.palettizer.engine;

import dev.palettizer.io.ModelFormatException;
import dev.palettizer.io.SafetensorsFile;
import dev.palettizer.model.FloatArraySource;
import dev.palettizer.model.FloatSource;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.stream.Collectors;

/**
 * The seed's sensitivity normalisation, for accumulated squared gradients: scale by 100, divide
 * by the maximum (an all-zero tensor becomes all ones), replace zeros by the smallest non-zero
 * value, and clip below {@link #CLIP}. Weighted k-means is scale-invariant, so this changes no
 * result beyond making zero-sensitivity elements count a little instead of not at all.
 */
public final class Sensitivities {
    /** Floor that keeps k-means from diverging on vanishing weights. */
    public static final float CLIP = 1e-12f;
    private static final int CHUNK = 8192;

    private Sensitivities() {}

    /** How a sensitivity file's names cover the tensors to palettize, in the model's order. */
    public record Match(List<String> matched, List<String> missing) {
        public Match {
            matched = List.copyOf(matched);
            missing = List.copyOf(missing);
        }
    }

    /**
     * Checks a sensitivity file against the tensors to palettize before any work: at least one must
     * have sensitivities (else names such as a {@code module.} prefix went wrong, and an error says how
     * the names differ), and every value of those that do must be a finite non-negative number (the
     * error names the file, the tensor and the element). The caller warns about the missing ones.
     */
    public static Match match(SafetensorsFile file, Collection<String> palettized) {
        List<String> matched = new ArrayList<>();
        List<String> missing = new ArrayList<>();
        for (String name : palettized) {
            (file.tensor(name).isPresent() ? matched : missing).add(name);
        }
        if (matched.isEmpty() && !palettized.isEmpty()) {
            throw new ModelFormatException(file.path(), "no sensitivity tensor matches any of the " + palettized.size()
                    + " tensors to palettize (names must be equal): the file has " + examples(file.tensors().stream()
                    .map(SafetensorsFile.Entry::name).toList()) + ", the model " + examples(List.copyOf(palettized))
                    + hint(file, palettized));
        }
        for (String name : matched) {
            SafetensorsFile.Entry e = file.tensor(name).orElseThrow();
            try {
                range(e.floats());
            } catch (TensorDataException bad) {
                throw new ModelFormatException(file.path(), name, bad.getMessage());
            }
        }
        return new Match(matched, missing);
    }

    /** Up to three names, quoted. */
    public static String examples(List<String> names) {
        String shown = names.stream().limit(3).map(n -> "'" + n + "'").collect(Collectors.joining(", "));
        return names.size() > 3 ? shown + " ... (" + names.size() + " in all)" : shown;
    }

    /** The usual mismatch: a wrapper's prefix such as {@code module.} on one side only. */
    private static String hint(SafetensorsFile file, Collection<String> palettized) {
        for (SafetensorsFile.Entry e : file.tensors()) {
            for (String name : palettized) {
                if (e.name().endsWith("." + name)) {
                    return "; strip the prefix '" + e.name().substring(0, e.name().length() - name.length())
                            + "' from the sensitivity names";
                }
                if (name.endsWith("." + e.name())) {
                    return "; add the prefix '" + name.substring(0, name.length() - e.name().length())
                            + "' to the sensitivity names";
                }
            }
        }
        return "";
    }

    /** Normalised copy of accumulated squared gradients (input not modified). */
    public static float[] normalize(float[] sumSquaredGradients) {
        float[] out = sumSquaredGradients.clone();
        Range r = range(new FloatArraySource(out));
        if (r.isIdentity()) {
            return out;
        }
        for (int i = 0; i < out.length; i++) {
            out[i] = r.apply(out[i]);
        }
        return out;
    }

    /** A view of {@code raw} normalised element by element as {@link #normalize} does, without a copy. */
    public static FloatSource normalized(FloatSource raw) {
        Range r = range(raw);
        if (r.isIdentity()) {
            return raw;
        }
        return new FloatSource() {
            @Override
            public long size() {
                return raw.size();
            }

            @Override
            public void read(long offset, float[] dst, int dstOff, int len) {
                raw.read(offset, dst, dstOff, len);
                for (int i = dstOff; i < dstOff + len; i++) {
                    dst[i] = r.apply(dst[i]);
                }
            }

            @Override
            public void release() {
                raw.release();
            }
        };
    }

    /**
     * Largest scaled value and the smallest non-zero one relative to it, which define the mapping, and
     * whether there are zeros to replace.
     */
    private record Range(float max, float minNonZero, boolean zeros) {
        /**
         * Values normalised already (largest exactly 1, none zero or below the clip), such as a saved
         * sensitivity file, map to themselves; skipping the arithmetic keeps them bit for bit, as the
         * seed uses a loaded file as it is.
         */
        boolean isIdentity() {
            return max == 100f && !zeros && minNonZero >= CLIP;
        }

        float apply(float raw) {
            if (max == 0) {
                return 1f;
            }
            float v = (100f * raw) / max;
            if (v == 0) {
                v = minNonZero;
            }
            return v < CLIP ? CLIP : v;
        }
    }

    private static Range range(FloatSource raw) {
        float[] buf = new float[CHUNK];
        float max = 0;
        float min = Float.POSITIVE_INFINITY;
        boolean zeros = false;
        for (long off = 0; off < raw.size(); off += CHUNK) {
            int len = (int) Math.min(CHUNK, raw.size() - off);
            raw.read(off, buf, 0, len);
            for (int i = 0; i < len; i++) {
                float v = 100f * buf[i];
                if (!(v >= 0) || Float.isInfinite(v)) {
                    throw new TensorDataException("sensitivity " + buf[i] + " at element " + (off + i)
                            + " is not a finite non-negative number (expected accumulated squared gradients)");
                }
                max = Math.max(max, v);
                if (v > 0) {
                    min = Math.min(min, v);
                } else {
                    zeros = true;
                }
            }
        }
        return new Range(max, max == 0 ? 1f : min / max, zeros);
    }
}
