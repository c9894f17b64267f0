package dev.palettizer.config.dkm;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import dev.palettizer.config.ConfigPath;
import dev.palettizer.config.DocumentReader;
import dev.palettizer.config.dkm.ModuleDKMPalettizerConfig.Builder;
import dev.palettizer.spec.ClusterDType;
import dev.palettizer.spec.DkmMode;
import dev.palettizer.spec.KMeansInit;
import java.util.Arrays;
import java.util.List;
import java.util.function.BiConsumer;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * The parameters of a {@link ModuleDKMPalettizerConfig} as a document holds them, in the seed's order:
 * each parameter's key, how it is read and written, and which record field it is. Reader and writer
 * both walk this one table, so a document always holds every parameter and reads back equal.
 */
final class DkmFields {
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    @FunctionalInterface
    interface Read<T> {
        T read(DocumentReader doc, JsonNode node, ConfigPath at);
    }

    /** How a parameter's value is read from, and written to, a document node; types only, ranges are the record's. */
    record Codec<T>(Read<T> read, Function<T, JsonNode> write) {}

    /** One parameter: its key, the record's accessor, the builder's setter and its codec. */
    record Field<T>(String name, Function<ModuleDKMPalettizerConfig, T> get, BiConsumer<Builder, T> set, Codec<T> codec) {
        void read(DocumentReader doc, JsonNode node, ConfigPath at, Builder into) {
            set.accept(into, codec.read().read(doc, node, at));
        }

        JsonNode write(ModuleDKMPalettizerConfig config) {
            return codec.write().apply(get.apply(config));
        }
    }

    private static final Codec<Integer> INT = codec(DocumentReader::integer, NODES::numberNode);
    private static final Codec<Long> LONG = codec(DocumentReader::longInteger, NODES::numberNode);
    private static final Codec<Double> DOUBLE = codec(DocumentReader::number, NODES::numberNode);
    private static final Codec<Boolean> BOOL = codec(DocumentReader::bool, NODES::booleanNode);
    private static final Codec<String> TEXT = codec(DocumentReader::text, NODES::textNode);
    /** The seed's Optional[int] n_bits: null stays null (the per-type default). */
    private static final Codec<Integer> INT_OR_NULL = codec(
            (doc, node, at) -> node.isNull() ? null : doc.integer(node, at),
            v -> v == null ? NODES.nullNode() : NODES.numberNode(v));
    /** The seed's Optional[int] cluster_dim: null is its default, 1. */
    private static final Codec<Integer> CLUSTER_DIM = codec(
            (doc, node, at) -> node.isNull() ? ModuleDKMPalettizerConfig.defaults().clusterDim() : doc.integer(node, at),
            NODES::numberNode);
    private static final Codec<List<Integer>> INTS_OR_NULL = codec(
            (doc, node, at) -> node.isNull() ? null : doc.integers(node, at),
            v -> {
                if (v == null) {
                    return NODES.nullNode();
                }
                ArrayNode list = NODES.arrayNode(v.size());
                v.forEach(list::add);
                return list;
            });

    static final List<Field<?>> ALL = List.of(
            new Field<>("n_bits", ModuleDKMPalettizerConfig::nBits, Builder::nBits, INT_OR_NULL),
            new Field<>("weight_threshold", ModuleDKMPalettizerConfig::weightThreshold, Builder::weightThreshold, LONG),
            new Field<>("milestone", ModuleDKMPalettizerConfig::milestone, Builder::milestone, INT),
            new Field<>("cluster_dim", ModuleDKMPalettizerConfig::clusterDim, Builder::clusterDim, CLUSTER_DIM),
            new Field<>("quant_min", ModuleDKMPalettizerConfig::quantMin, Builder::quantMin, INT),
            new Field<>("quant_max", ModuleDKMPalettizerConfig::quantMax, Builder::quantMax, INT),
            new Field<>("dtype", ModuleDKMPalettizerConfig::dtype, Builder::dtype, TEXT),
            new Field<>("cluster_dtype", ModuleDKMPalettizerConfig::clusterDType, Builder::clusterDType,
                    named(ClusterDType.values(), ClusterDType::configName, ClusterDType::parse)),
            new Field<>("quantize_activations", ModuleDKMPalettizerConfig::quantizeActivations,
                    Builder::quantizeActivations, BOOL),
            new Field<>("partition_size", ModuleDKMPalettizerConfig::partitionSize, Builder::partitionSize, LONG),
            new Field<>("cluster_permute", ModuleDKMPalettizerConfig::clusterPermute, Builder::clusterPermute, INTS_OR_NULL),
            new Field<>("palett_max_mem", ModuleDKMPalettizerConfig::palettMaxMem, Builder::palettMaxMem, DOUBLE),
            new Field<>("kmeans_max_iter", ModuleDKMPalettizerConfig::kmeansMaxIter, Builder::kmeansMaxIter, INT),
            new Field<>("prune_threshold", ModuleDKMPalettizerConfig::pruneThreshold, Builder::pruneThreshold, DOUBLE),
            new Field<>("kmeans_init", ModuleDKMPalettizerConfig::kmeansInit, Builder::kmeansInit,
                    named(KMeansInit.values(), KMeansInit::configName, KMeansInit::parse)),
            new Field<>("kmeans_opt1d_threshold", ModuleDKMPalettizerConfig::kmeansOpt1dThreshold,
                    Builder::kmeansOpt1dThreshold, INT),
            new Field<>("enforce_zero", ModuleDKMPalettizerConfig::enforceZero, Builder::enforceZero, BOOL),
            new Field<>("palett_mode", ModuleDKMPalettizerConfig::palettMode, Builder::palettMode,
                    named(DkmMode.values(), DkmMode::configName, DkmMode::parse)),
            new Field<>("palett_tau", ModuleDKMPalettizerConfig::palettTau, Builder::palettTau, DOUBLE),
            new Field<>("palett_epsilon", ModuleDKMPalettizerConfig::palettEpsilon, Builder::palettEpsilon, DOUBLE),
            new Field<>("palett_lambda", ModuleDKMPalettizerConfig::palettLambda, Builder::palettLambda, DOUBLE),
            new Field<>("add_extra_centroid", ModuleDKMPalettizerConfig::addExtraCentroid, Builder::addExtraCentroid, BOOL),
            new Field<>("palett_cluster_tol", ModuleDKMPalettizerConfig::palettClusterTol, Builder::palettClusterTol,
                    DOUBLE));

    /** The keys of a module config, in the seed's order. */
    static final List<String> NAMES = ALL.stream().map(Field::name).toList();

    private DkmFields() {}

    /**
     * A validation message that starts with a parameter's name ({@code "palett_tau must be > 0"}, as
     * DkmSpec words them) in the config's form, the name as a path: {@code "palett_tau: must be > 0"}.
     */
    static String keyed(String message) {
        int space = message.indexOf(' ');
        return space > 0 && NAMES.contains(message.substring(0, space))
                ? message.substring(0, space) + ":" + message.substring(space) : message;
    }

    private static <T> Codec<T> codec(Read<T> read, Function<T, JsonNode> write) {
        return new Codec<>(read, write);
    }

    /** A closed set of names, read with the enum's own parser; failures quote the allowed names. */
    private static <E extends Enum<E>> Codec<E> named(E[] values, Function<E, String> name, Function<String, E> parse) {
        String allowed = Arrays.stream(values).map(name).collect(Collectors.joining(", ", "{", "}"));
        return codec((doc, node, at) -> {
            if (!node.isTextual()) {
                throw doc.fail(at, DocumentReader.describe(node) + " is not one of " + allowed);
            }
            return doc.oneOf(at, node.textValue(), allowed, () -> parse.apply(node.textValue()));
        }, v -> NODES.textNode(name.apply(v)));
    }
}
