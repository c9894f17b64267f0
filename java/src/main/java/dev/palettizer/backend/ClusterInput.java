package dev.palettizer.backend;

import dev.palettizer.model.FloatSource;
import dev.palettizer.model.GroupLayout;
import java.util.Objects;

/**
 * One tensor's clustering inputs. Backends cluster {@code value / channelScales[row]} and weight
 * each element by {@code sensitivity * channelScales[row]^2}, so that the objective is the squared
 * error of the reconstruction in the tensor's own units.
 *
 * @param sensitivities per-element weights, same element count, or null for unit weights
 * @param channelScales per-output-channel scales (length = rows), or null
 */
public record ClusterInput(FloatSource values, FloatSource sensitivities, GroupLayout layout, float[] channelScales) {
    public ClusterInput {
        Objects.requireNonNull(values, "values");
        Objects.requireNonNull(layout, "layout");
        if (layout.ragged()) {
            // Backends assume groups of one size; the engine splits ragged layouts (GroupLayout#prefix, #tail).
            throw new IllegalArgumentException("a ragged layout (" + layout.rows() + " rows in groups of "
                    + layout.groupSize() + ") cannot be clustered as one; cluster its prefix() and tail() apart");
        }
        if (values.size() != layout.elementCount()) {
            throw new IllegalArgumentException("values hold " + values.size() + " elements, layout needs "
                    + layout.elementCount());
        }
        if (sensitivities != null && sensitivities.size() != values.size()) {
            throw new IllegalArgumentException("sensitivities hold " + sensitivities.size()
                    + " elements, values " + values.size());
        }
        if (channelScales != null && channelScales.length != layout.rows()) {
            throw new IllegalArgumentException("channel scales: " + channelScales.length + " for " + layout.rows()
                    + " rows");
        }
    }
}
