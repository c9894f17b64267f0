package dev.palettizer.budget;

import dev.palettizer.spec.SpecException;
import java.util.Locale;

/**
 * What a budget minimises, summed over the tensors.
 *
 * <ul>
 *   <li>{@link #OUTPUT}: each tensor's weighted SSE in the raw sensitivities' units (with calibration's
 *       E[x_j^2], its expected contribution to its own layer's output error), else its plain SSE;</li>
 *   <li>{@link #RELATIVE}: that error divided by the same weighting of the tensor's own values (sum s w^2,
 *       else sum w^2): each layer's output noise-to-signal ratio. Layers whose outputs are small in absolute
 *       terms (an embedding table before a LayerNorm) are not starved for being small. The default: on
 *       MiniLM with calibrated sensitivities, {@link #OUTPUT} left the word embedding (half the weights) at 1 bit
 *       and reached mean cosine 0.885 and 0.891 at 3.5 and 4 bits, this 0.937 and 0.970.</li>
 *   <li>{@link #MEASURED}: the weighted SSE in the raw sensitivities' units times the tensor's measured
 *       importance ({@link Importances}, from {@code calibrate --importance}): the model's predicted output
 *       distortion, so layers are weighted by what a probe of each did to the model's outputs, not all alike
 *       ({@link #RELATIVE}) nor by their own output's scale ({@link #OUTPUT}). Needs a sensitivities file with an
 *       importance for every tensor the budget palettizes.</li>
 * </ul>
 */
public enum ErrorMeasure {
    OUTPUT,
    RELATIVE,
    MEASURED;

    /**
     * The measure a budget minimises when none is named: {@link #MEASURED} when the sensitivities file holds
     * importances (on MiniLM it beat {@link #RELATIVE} at every budget: README, Mixed bits), else {@link #RELATIVE}.
     */
    public static ErrorMeasure defaultFor(java.nio.file.Path sensitivities) throws java.io.IOException {
        return sensitivities != null && Importances.present(sensitivities) ? MEASURED : RELATIVE;
    }

    public static ErrorMeasure parse(String name) {
        try {
            return valueOf(name.strip().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new SpecException("budget error measure must be output, relative or measured, got '" + name + "'");
        }
    }

    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }
}
