package dev.palettizer.cli;

import dev.palettizer.engine.Algorithm;
import dev.palettizer.engine.EngineOptions;
import dev.palettizer.engine.FileJobOptions;
import dev.palettizer.spec.Granularity;
import dev.palettizer.spec.LutDType;
import dev.palettizer.spec.LutQuantSpec;
import dev.palettizer.spec.PalettizationSpec;
import dev.palettizer.spec.QScheme;
import dev.palettizer.spec.SpecException;
import dev.palettizer.spec.SpecResolver;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** The palettization flags shared by {@code palettize} and {@code demo}; defaults are the spec's. */
final class SpecOptions {
    /** The flags that choose a spec or clustering mode, which a config or preset decides instead. */
    static final List<String> SPEC_FLAGS = List.of("--bits", "--granularity", "--group-size", "--axis",
            "--cluster-dim", "--per-channel-scale", "--lut-dtype", "--lut-qscheme", "--no-fast", "--rounding-precision",
            "--ragged-last-group");

    @Option(names = "--bits", description = "Index bits: 1, 2, 3, 4, 6 or 8 (default: ${DEFAULT-VALUE}).", defaultValue = "4")
    int bits;

    @Option(names = "--granularity", description = "per-tensor, per-grouped-channel or per-channel (= group size 1) (default: ${DEFAULT-VALUE}).",
            defaultValue = "per-tensor")
    String granularity;

    @Option(names = "--group-size", description = "Channels per LUT with per-grouped-channel; 1 = per channel (default: ${DEFAULT-VALUE}).",
            defaultValue = "32")
    int groupSize;

    @Option(names = "--ragged-last-group",
            description = "With per-grouped-channel on axis 0: when --group-size does not divide the rows, make the last group smaller instead of leaving the tensor dense.")
    boolean raggedLastGroup;

    @Option(names = "--axis", description = "Channel axis of the groups: 0 (output) or 1 (input) (default: ${DEFAULT-VALUE}).",
            defaultValue = "0")
    int axis;

    @Option(names = "--cluster-dim", description = "Values per centroid, along the output channels; > 1 clusters exact values (default: ${DEFAULT-VALUE}).",
            defaultValue = "1")
    int clusterDim;

    @Option(names = "--per-channel-scale", description = "Normalise each output channel by its max |w| first.")
    boolean perChannelScale;

    @Option(names = "--lut-dtype", description = "Quantize the LUT: int8, uint8, fp8_e4m3, fp8_e5m2 (default: float LUT).")
    String lutDtype;

    @Option(names = "--lut-qscheme", description = "symmetric or asymmetric (default: ${DEFAULT-VALUE}).", defaultValue = "symmetric")
    String lutQscheme;

    @Option(names = "--no-fast", negatable = false,
            description = "Cluster exact values instead of fp16 values rounded to --rounding-precision decimals.")
    boolean noFast;

    @Option(names = "--rounding-precision", description = "Decimals kept in fast mode (default: ${DEFAULT-VALUE}).", defaultValue = "4")
    int roundingPrecision;

    @Option(names = "--algorithm", description = "auto, optimal or kmeans++ (default: ${DEFAULT-VALUE}).", defaultValue = "auto")
    String algorithm;

    @Option(names = "--max-iter", description = "Lloyd iterations at most for kmeans++ (default: ${DEFAULT-VALUE}).", defaultValue = "20")
    int maxIterations;

    @Option(names = "--seed", description = "Seed of k-means++ (default: ${DEFAULT-VALUE}).", defaultValue = "0")
    long seed;

    @Option(names = "--weight-threshold",
            description = "Palettize only tensors with more elements than this; copy the others (default: ${DEFAULT-VALUE}).",
            defaultValue = "2048")
    long weightThreshold;

    @Option(names = "--include-1d", description = "Palettize 1-D tensors (biases, norms) too.")
    boolean include1d;

    @Spec(Spec.Target.MIXEE)
    CommandSpec command;

    /** The spec from the flags; a bad value or a flag that does not apply is a usage error (exit 2). */
    PalettizationSpec spec() {
        boolean perTensor = granularity.equals("per-tensor") || granularity.equals("per_tensor");
        List<String> grouping = Stream.of("--axis", "--group-size").filter(this::given).toList();
        if (perTensor && !grouping.isEmpty()) {
            throw usage(String.join(" and ", grouping) + " only apply to --granularity per-grouped-channel or"
                    + " per-channel; per-tensor granularity has one LUT for the whole tensor");
        }
        boolean perChannel = granularity.equals("per-channel") || granularity.equals("per_channel");
        if (perChannel && given("--group-size")) {
            throw usage("--group-size does not apply to --granularity per-channel (one LUT per channel, group size 1);"
                    + " use --granularity per-grouped-channel --group-size " + groupSize + " for groups");
        }
        boolean grouped = granularity.equals("per-grouped-channel") || granularity.equals("per_grouped_channel");
        if (raggedLastGroup && !grouped) {
            throw usage("--ragged-last-group applies to --granularity per-grouped-channel only (a group size that may"
                    + " not divide the rows); drop it or add --granularity per-grouped-channel --group-size N");
        }
        if (given("--rounding-precision") && !fast()) {
            throw usage("--rounding-precision applies to fast mode only, which "
                    + (noFast ? "--no-fast turns off" : "clusters scalars only (--cluster-dim " + clusterDim + " clusters"
                    + " exact values)") + "; drop --rounding-precision");
        }
        if (given("--lut-qscheme") && lutDtype == null) {
            throw usage("--lut-qscheme applies to a quantized LUT only; add --lut-dtype int8 (or uint8, fp8_e4m3,"
                    + " fp8_e5m2) or drop --lut-qscheme");
        }
        try {
            Granularity g = switch (granularity) {
                case "per-tensor", "per_tensor" -> Granularity.perTensor();
                case "per-grouped-channel", "per_grouped_channel" -> new Granularity.PerGroupedChannel(axis, groupSize, raggedLastGroup);
                case "per-channel", "per_channel" -> Granularity.perChannel(axis);
                default -> throw new SpecException("--granularity must be per-tensor, per-grouped-channel or"
                        + " per-channel, got '" + granularity + "'");
            };
            LutQuantSpec lut = lutDtype == null ? null : new LutQuantSpec(LutDType.parse(lutDtype), QScheme.parse(lutQscheme));
            return new PalettizationSpec(bits, lut, g, clusterDim, perChannelScale);
        } catch (SpecException e) {
            throw usage(e.getMessage());
        }
    }

    /**
     * Fast mode is the default but clusters scalars only: on the command line a vector spec
     * ({@code --cluster-dim} > 1) implies exact values, said once on stderr, rather than failing.
     */
    private boolean fast() {
        return !noFast && clusterDim == 1;
    }

    /** Says on stderr when a vector spec turned fast mode off. */
    void noteImpliedModes(PrintStream err) {
        if (!noFast && clusterDim > 1) {
            err.println("palettizer: note: --cluster-dim " + clusterDim + " clusters exact values (fast mode is for"
                    + " scalars only), as --no-fast would");
        }
    }

    private boolean given(String option) {
        return command.commandLine().getParseResult().hasMatchedOption(option);
    }

    private ParameterException usage(String message) {
        return new ParameterException(command.commandLine(), message);
    }

    EngineOptions engineOptions() {
        Algorithm a = switch (algorithm) {
            case "auto" -> Algorithm.AUTO;
            case "optimal" -> Algorithm.OPTIMAL;
            case "kmeans++", "kmeans-plus-plus" -> Algorithm.KMEANS_PLUS_PLUS;
            default -> throw usage("--algorithm must be auto, optimal or kmeans++, got '" + algorithm + "'");
        };
        try {
            return new EngineOptions(fast(), roundingPrecision, seed, a, maxIterations, EngineOptions.defaults().tolerance());
        } catch (SpecException e) {
            throw usage(e.getMessage());
        }
    }

    /** One spec and clustering mode for every tensor, from the flags. */
    SpecResolver uniformResolver() {
        PalettizationSpec s = spec();
        try {
            return SpecResolver.uniform(s, fast(), roundingPrecision);
        } catch (SpecException e) {
            throw usage(e.getMessage());
        }
    }

    FileJobOptions job(SpecResolver resolver, Path sensitivities) {
        try {
            return new FileJobOptions(resolver, weightThreshold, include1d, sensitivities);
        } catch (SpecException e) {
            throw usage(e.getMessage());
        }
    }
}
