package dev.palettizer.cli;

import static dev.palettizer.cli.CliSpecs.option;

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
import picocli.CommandLine.ParameterException;

/** The palettization flags shared by {@code palettize} and {@code demo}; defaults are the spec's. */
final class SpecOptions {
    /** The flags that choose a spec or clustering mode, which a config or preset decides instead. */
    static final List<String> SPEC_FLAGS = List.of("--bits", "--granularity", "--group-size", "--axis",
            "--cluster-dim", "--per-channel-scale", "--lut-dtype", "--lut-qscheme", "--no-fast", "--rounding-precision",
            "--ragged-last-group", "--outlier-fraction");

    int bits;
    String granularity;

    int groupSize;
    boolean raggedLastGroup;

    int axis;
    int clusterDim;

    boolean perChannelScale;
    double outlierFraction;

    String lutDtype;
    String lutQscheme;

    boolean noFast;
    int roundingPrecision;

    String algorithm;
    int maxIterations;

    long seed;
    long weightThreshold;

    boolean include1d;

    /** The command these flags belong to: usage errors name it, and it tells which flags were given. */
    private CommandSpec command;

    /** Adds these flags to {@code command}, bound to this object's fields. */
    void addTo(CommandSpec command) {
        this.command = command;
        command.addOption(option(int.class, v -> bits = v, "--bits").paramLabel("<bits>").defaultValue("4")
                .description("Index bits: 1, 2, 3, 4, 6 or 8 (default: ${DEFAULT-VALUE}).").build());
        command.addOption(option(String.class, v -> granularity = v, "--granularity").paramLabel("<granularity>")
                .defaultValue("per-tensor")
                .description("per-tensor, per-grouped-channel or per-channel (= group size 1) (default:"
                + " ${DEFAULT-VALUE}).").build());
        command.addOption(option(int.class, v -> groupSize = v, "--group-size").paramLabel("<groupSize>")
                .defaultValue("32")
                .description("Channels per LUT with per-grouped-channel; 1 = per channel (default:"
                + " ${DEFAULT-VALUE}).").build());
        command.addOption(option(boolean.class, v -> raggedLastGroup = v, "--ragged-last-group")
                .description("With per-grouped-channel on axis 0: when --group-size does not divide the"
                + " rows, make the last group smaller instead of leaving the tensor dense.").build());
        command.addOption(option(int.class, v -> axis = v, "--axis").paramLabel("<axis>").defaultValue("0")
                .description("Channel axis of the groups: 0 (output) or 1 (input) (default:"
                + " ${DEFAULT-VALUE}).").build());
        command.addOption(option(int.class, v -> clusterDim = v, "--cluster-dim").paramLabel("<clusterDim>")
                .defaultValue("1")
                .description("Values per centroid, along the output channels; > 1 clusters exact values"
                + " (default: ${DEFAULT-VALUE}).").build());
        command.addOption(option(boolean.class, v -> perChannelScale = v, "--per-channel-scale")
                .description("Normalise each output channel by its max |w| first.").build());
        command.addOption(option(double.class, v -> outlierFraction = v, "--outlier-fraction").paramLabel("F")
                .description("Share of each tensor's elements kept out of the clustering and stored"
                + " exactly (dense-and-sparse), in (0, 0.1), e.g. 0.005 for 0.5 %% (default:"
                + " none).").build());
        command.addOption(option(String.class, v -> lutDtype = v, "--lut-dtype").paramLabel("<lutDtype>")
                .description("Quantize the LUT: int8, uint8, fp8_e4m3, fp8_e5m2 (default: float LUT).").build());
        command.addOption(option(String.class, v -> lutQscheme = v, "--lut-qscheme").paramLabel("<lutQscheme>")
                .defaultValue("symmetric")
                .description("symmetric or asymmetric (default: ${DEFAULT-VALUE}).").build());
        command.addOption(option(boolean.class, v -> noFast = v, "--no-fast")
                .description("Cluster exact values instead of fp16 values rounded to --rounding-precision"
                + " decimals.").build());
        command.addOption(option(int.class, v -> roundingPrecision = v, "--rounding-precision")
                .paramLabel("<roundingPrecision>").defaultValue("4")
                .description("Decimals kept in fast mode (default: ${DEFAULT-VALUE}).").build());
        command.addOption(option(String.class, v -> algorithm = v, "--algorithm").paramLabel("<algorithm>")
                .defaultValue("auto")
                .description("auto, optimal or kmeans++ (default: ${DEFAULT-VALUE}).").build());
        command.addOption(option(int.class, v -> maxIterations = v, "--max-iter").paramLabel("<maxIterations>")
                .defaultValue("20")
                .description("Lloyd iterations at most for kmeans++ (default: ${DEFAULT-VALUE}).").build());
        command.addOption(option(long.class, v -> seed = v, "--seed").paramLabel("<seed>").defaultValue("0")
                .description("Seed of k-means++ (default: ${DEFAULT-VALUE}).").build());
        command.addOption(option(long.class, v -> weightThreshold = v, "--weight-threshold")
                .paramLabel("<weightThreshold>").defaultValue("2048")
                .description("Palettize only tensors with more elements than this; copy the others"
                + " (default: ${DEFAULT-VALUE}).").build());
        command.addOption(option(boolean.class, v -> include1d = v, "--include-1d")
                .description("Palettize 1-D tensors (biases, norms) too.").build());
    }

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
            return new PalettizationSpec(bits, lut, g, clusterDim, perChannelScale, outlierFraction());
        } catch (SpecException e) {
            throw usage(e.getMessage());
        }
    }

    /** The flag's share, which must be a real one when given (0 means none only in configs and the API). */
    private double outlierFraction() {
        if (!given("--outlier-fraction")) {
            return 0;
        }
        if (!(outlierFraction > 0 && outlierFraction < PalettizationSpec.MAX_OUTLIER_FRACTION)) {
            throw usage("--outlier-fraction must be in (0, 0.1), a share of each tensor's elements (e.g. 0.005 for"
                    + " 0.5 %), got " + outlierFraction);
        }
        return outlierFraction;
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
