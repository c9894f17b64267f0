package dev.palettizer.io;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.palettizer.model.DType;
import dev.palettizer.model.ErrorStats;
import dev.palettizer.model.PalettizedTensor;
import dev.palettizer.model.Shapes;
import dev.palettizer.spec.Granularity;
import dev.palettizer.spec.LutDType;
import dev.palettizer.spec.LutQuantSpec;
import dev.palettizer.spec.PalettizationSpec;
import dev.palettizer.spec.QScheme;
import dev.palettizer.spec.SpecException;
import java.io.UncheckedIOException;
import java.util.Arrays;
import java.util.List;
import java.util.function.Function;

/**
 * What the compressed format keeps about a palettized tensor besides its arrays, stored as compact
 * JSON in the {@code palettizer.tensor.<name>} metadata entry.
 */
record TensorMetadata(PalettizationSpec spec, DType dtype, long[] shape, int groups, long indexCount, ErrorStats error) {
    private static final List<String> FIELDS = List.of("n_bits", "granularity", "cluster_dim", "per_channel_scale",
            "lut_qspec", "dtype", "shape", "groups", "index_count", "sse", "weighted_sse", "signal_energy", "count");
    private static final String PER_TENSOR = "per_tensor";
    private static final String PER_GROUPED_CHANNEL = "per_grouped_channel";
    /** Granularity field: the last group along axis 0 may be smaller (absent = false). */
    private static final String RAGGED_LAST_GROUP = "ragged_last_group";

    static TensorMetadata of(PalettizedTensor t) {
        return new TensorMetadata(t.spec(), t.originalDType(), t.shape(), t.groups(), t.indexCount(), t.error());
    }

    /**
     * Checks the rules that tie the fields together, so the writer never produces what the reader
     * rejects; {@code error} turns a detail into the caller's exception.
     */
    void validate(Function<String, RuntimeException> fail) {
        if (!dtype.isPalettizable()) {
            throw fail.apply("dtype " + dtype + " cannot have been palettized (only F32, F16 and BF16 can)");
        }
        if (Arrays.stream(shape).anyMatch(d -> d < 0)) {
            throw fail.apply("shape " + Arrays.toString(shape) + " has a negative dimension");
        }
        long elements;
        try {
            elements = Shapes.elementCount(shape);
        } catch (ArithmeticException e) {
            throw fail.apply("shape " + Arrays.toString(shape) + " has too many elements");
        }
        if (elements % spec.clusterDim() != 0 || indexCount != elements / spec.clusterDim()) {
            throw fail.apply("index_count " + indexCount + " is not the " + elements + " elements of shape "
                    + Arrays.toString(shape) + " divided by cluster_dim " + spec.clusterDim());
        }
        if (spec.granularity() instanceof Granularity.PerGroupedChannel g && g.axis() >= shape.length) {
            throw fail.apply("granularity axis " + g.axis() + " does not exist in shape " + Arrays.toString(shape));
        }
        long expectedGroups = switch (spec.granularity()) {
            case Granularity.PerTensor _ -> 1;
            case Granularity.PerGroupedChannel g -> (shape[g.axis()] + g.groupSize() - 1) / g.groupSize();
        };
        if (groups != expectedGroups) {
            throw fail.apply("groups " + groups + " but granularity " + granularityJson(spec.granularity())
                    + " over shape " + Arrays.toString(shape) + " makes " + expectedGroups);
        }
        if (!Double.isFinite(error.sse()) || !Double.isFinite(error.weightedSse())
                || !Double.isFinite(error.signalEnergy()) || error.count() < 0) {
            throw fail.apply("error statistics must be finite with a non-negative count, got " + error);
        }
    }

    String toJson() {
        ObjectNode json = JsonFields.objectNode();
        json.put("n_bits", spec.nBits());
        json.set("granularity", granularityJson(spec.granularity()));
        json.put("cluster_dim", spec.clusterDim());
        json.put("per_channel_scale", spec.perChannelScale());
        LutQuantSpec q = spec.lutQuant();
        if (q == null) {
            json.putNull("lut_qspec");
        } else {
            json.putObject("lut_qspec").put("dtype", q.dtype().cliName()).put("qscheme", q.scheme().cliName());
        }
        json.put("dtype", dtype.name());
        Arrays.stream(shape).forEach(json.putArray("shape")::add);
        json.put("groups", groups);
        json.put("index_count", indexCount);
        json.put("sse", error.sse());
        json.put("weighted_sse", error.weightedSse());
        json.put("signal_energy", error.signalEnergy());
        json.put("count", error.count());
        try {
            return JsonFields.string(json);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException("cannot serialise palettization metadata", e);
        }
    }

    private static ObjectNode granularityJson(Granularity granularity) {
        ObjectNode json = JsonFields.objectNode();
        switch (granularity) {
            case Granularity.PerTensor _ -> json.put("type", PER_TENSOR);
            case Granularity.PerGroupedChannel g -> {
                json.put("type", PER_GROUPED_CHANNEL).put("axis", g.axis()).put("group_size", g.groupSize());
                // Written only when set, so files without a ragged group stay as they were.
                if (g.raggedLast()) {
                    json.put(RAGGED_LAST_GROUP, true);
                }
            }
        }
        return json;
    }

    /** Parses and validates one metadata value; {@code what} names it in messages. */
    static TensorMetadata parse(String text, String what, Function<String, ModelFormatException> error) {
        JsonFields json = JsonFields.parseObject(text, what, error);
        json.allowOnly(FIELDS);
        PalettizationSpec spec;
        try {
            spec = new PalettizationSpec(json.nonNegativeInt("n_bits"), lutQuant(json, error),
                    granularity(json.object("granularity")), json.nonNegativeInt("cluster_dim"),
                    json.bool("per_channel_scale"));
        } catch (SpecException e) {
            throw error.apply(e.getMessage());
        }
        String dtypeName = json.text("dtype");
        DType dtype = DType.fromSafetensors(dtypeName)
                .orElseThrow(() -> error.apply("dtype '" + dtypeName + "' is unknown"));
        ErrorStats stats = new ErrorStats(json.number("sse"), json.number("weighted_sse"),
                json.number("signal_energy"), json.nonNegativeLong("count"));
        TensorMetadata metadata = new TensorMetadata(spec, dtype, json.nonNegativeLongs("shape"),
                json.nonNegativeInt("groups"), json.nonNegativeLong("index_count"), stats);
        metadata.validate(error::apply);
        return metadata;
    }

    private static Granularity granularity(JsonFields json) {
        String type = json.text("type");
        return switch (type) {
            case PER_TENSOR -> {
                json.allowOnly(List.of("type"));
                yield Granularity.perTensor();
            }
            case PER_GROUPED_CHANNEL -> {
                json.allowOnly(List.of("type", "axis", "group_size", RAGGED_LAST_GROUP));
                boolean ragged = json.get(RAGGED_LAST_GROUP) != null && json.bool(RAGGED_LAST_GROUP);
                yield new Granularity.PerGroupedChannel(json.nonNegativeInt("axis"), json.nonNegativeInt("group_size"),
                        ragged);
            }
            default -> throw new SpecException("granularity.type must be " + PER_TENSOR + " or "
                    + PER_GROUPED_CHANNEL + ", got '" + type + "'");
        };
    }

    private static LutQuantSpec lutQuant(JsonFields json, Function<String, ModelFormatException> error) {
        JsonNode node = json.require("lut_qspec");
        if (node.isNull()) {
            return null;
        }
        JsonFields q = JsonFields.of(node, "lut_qspec", error);
        q.allowOnly(List.of("dtype", "qscheme"));
        return new LutQuantSpec(LutDType.parse(q.text("dtype")), QScheme.parse(q.text("qscheme")));
    }
}
