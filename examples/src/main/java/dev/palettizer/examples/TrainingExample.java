package dev.palettizer.examples;

import dev.palettizer.api.Calibration;
import dev.palettizer.api.KMeansPalettizer;
import dev.palettizer.api.ModelWeights;
import dev.palettizer.api.PrepareOptions;
import dev.palettizer.api.PreparedModel;
import dev.palettizer.api.ProgressOutput;
import dev.palettizer.engine.TensorReport;
import dev.palettizer.spec.Granularity;
import dev.palettizer.spec.PalettizationSpec;
import dev.palettizer.spec.SpecResolver;
import dev.palettizer.spec.WeightDecision;
import java.io.IOException;
import java.util.Arrays;
import java.util.Locale;

/**
 * Sensitivity-weighted palettization for a JVM trainer, end to end: train an MLP by hand-written
 * backprop on a generated task, palettize its weights to 2 bits per channel with the
 * {@link KMeansPalettizer}, calibrate with the loss gradients of a held-out calibration set (the
 * seed's calibration_mode), and compare test accuracy: fp32, unweighted and weighted.
 *
 * <p>The task's 24 features span a 100x range of scales (log-uniform in [0.1, 10]), as activations
 * with outlier channels do: the weights reading the large features are small but matter most, which
 * unweighted k-means misses and the squared gradients reveal.
 */
public final class TrainingExample {
    /** 24 inputs, two hidden layers of 64, 10 classes: 6,272 weights and 138 biases. */
    static final int[] SIZES = {24, 64, 64, 10};
    static final int TRAIN = 12_000;
    static final int TEST = 4_000;
    static final int CALIBRATION = 2_000;
    static final int EPOCHS = 10;
    static final int BATCH = 32;
    static final double LEARNING_RATE = 2e-3;
    /** 2 bits, one LUT per output channel, fast mode (the seed's default clustering); biases stay fp32. */
    static final PalettizationSpec SPEC = PalettizationSpec.defaults().withBits(2).withGranularity(Granularity.grouped(0, 1));
    static final SpecResolver WEIGHTS_2_BIT = site -> site.stateName().equals("weight")
            ? WeightDecision.palettize(SPEC, true, 4, "weights: 2-bit per channel")
            : WeightDecision.leave("biases stay fp32");

    private TrainingExample() {}

    /** Test-set accuracies and losses, and the palettized weights' size. */
    public record Result(double fp32Accuracy, double unweightedAccuracy, double weightedAccuracy,
                         double fp32Loss, double unweightedLoss, double weightedLoss,
                         long weightCount, long weightBytesBefore, long weightBytesAfter, long calibrationSteps) {}

    /** The whole example on the standard task; same seed, same numbers. */
    public static Result run(long seed, ProgressOutput progress) throws IOException {
        return run(seed, Dataset.Task.standard(), progress);
    }

    /** The whole example on {@code task}. */
    public static Result run(long seed, Dataset.Task task, ProgressOutput progress) throws IOException {
        Dataset train = task.sample(TRAIN, seed + 1);
        Dataset test = task.sample(TEST, seed + 2);
        Dataset calibration = task.sample(CALIBRATION, seed + 3);
        Mlp mlp = Mlp.initialized(seed, SIZES);
        mlp.train(train, EPOCHS, BATCH, LEARNING_RATE, seed + 4);

        ModelWeights.Builder weights = ModelWeights.builder();
        mlp.parameters().forEach((name, values) -> weights.add(name, values, mlp.shape(name)));
        try (KMeansPalettizer palettizer = new KMeansPalettizer(weights.build(), WEIGHTS_2_BIT)) {
            PreparedModel unweighted = palettizer.prepare(PrepareOptions.defaults().withWorkers(2).withProgress(progress));
            long steps;
            try (Calibration c = palettizer.calibrate()) {
                // One step per calibration sample: the squared per-sample gradients sum to the
                // diagonal Fisher information that SqueezeLLM weights k-means with.
                for (int i = 0; i < calibration.size(); i++) {
                    c.addGradients(mlp.gradients(calibration, i, i + 1));
                }
                steps = c.steps();
            }
            PreparedModel weighted = palettizer.prepared();
            Mlp u = mlp.withParameters(unweighted.denseWeights());
            Mlp w = mlp.withParameters(weighted.denseWeights());
            long count = 0;
            long before = 0;
            long after = 0;
            for (TensorReport r : weighted.report()) {
                if (r.palettized()) {
                    count += r.elements();
                    before += r.bytesBefore();
                    after += r.bytesAfter();
                }
            }
            return new Result(mlp.accuracy(test), u.accuracy(test), w.accuracy(test),
                    mlp.loss(test), u.loss(test), w.loss(test), count, before, after, steps);
        }
    }

    /** Arguments: [seed (7)] [feature scale range (10; 1 puts every feature on one scale)]. */
    public static void main(String[] args) throws IOException {
        long seed = args.length > 0 ? Long.parseLong(args[0]) : 7;
        Dataset.Task standard = Dataset.Task.standard();
        double scaleRange = args.length > 1 ? Double.parseDouble(args[1]) : standard.scaleRange();
        Dataset.Task task = new Dataset.Task(standard.dims(), standard.classes(), standard.blobsPerClass(),
                standard.centreSpread(), standard.noise(), scaleRange, standard.seed());
        Result r = run(seed, task, ProgressOutput.CONSOLE);
        System.out.printf(Locale.ROOT, "task: features scaled by up to %sx either way%n", scaleRange);
        System.out.printf(Locale.ROOT, "MLP %s, seed %d: %d weights palettized, %d -> %d bytes (LUTs included)%n",
                Arrays.toString(SIZES), seed, r.weightCount(), r.weightBytesBefore(), r.weightBytesAfter());
        System.out.printf(Locale.ROOT, "calibration: %d steps (one per held-out sample)%n", r.calibrationSteps());
        System.out.printf(Locale.ROOT, "%-32s %9s %9s%n", "test set (" + TEST + " samples)", "accuracy", "loss");
        System.out.printf(Locale.ROOT, "%-32s %9.4f %9.4f%n", "fp32", r.fp32Accuracy(), r.fp32Loss());
        System.out.printf(Locale.ROOT, "%-32s %9.4f %9.4f%n", "2-bit per channel, unweighted", r.unweightedAccuracy(), r.unweightedLoss());
        System.out.printf(Locale.ROOT, "%-32s %9.4f %9.4f%n", "2-bit per channel, weighted", r.weightedAccuracy(), r.weightedLoss());
    }
}
