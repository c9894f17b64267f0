package dev.palettizer.examples.djl;

import ai.djl.engine.Engine;
import dev.palettizer.api.Calibration;
import dev.palettizer.api.KMeansPalettizer;
import dev.palettizer.api.ModelWeights;
import dev.palettizer.api.PrepareOptions;
import dev.palettizer.api.PreparedModel;
import dev.palettizer.api.ProgressOutput;
import dev.palettizer.examples.Dataset;
import dev.palettizer.spec.PalettizationSpec;
import dev.palettizer.spec.SpecResolver;
import dev.palettizer.spec.WeightDecision;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;

/**
 * The accuracy table for an MLP trained in DJL (PyTorch engine, CPU, offline) on the generated task
 * of {@link Dataset.Task#standard()} (features scaled over a 100x range): fp32; post-training 2-bit
 * palettization of the fp32 weights by the {@link KMeansPalettizer}, unweighted and weighted by the
 * squared per-sample gradients of a held-out calibration set (SqueezeLLM-style sensitivities, computed
 * by DJL's autograd); and one row per training-time {@link WeightTransform} in {@link #trainedRows}.
 *
 * <p>Every weight matrix is palettized (the smallest has 640 values, below the 2048 default
 * threshold, so the resolver asks for it explicitly), one LUT per tensor, as DKM's; biases stay fp32.
 */
public final class DjlTrainingExample {
    /** 24 inputs, two hidden layers of 64, 10 classes: 6,272 weights. */
    static final int[] SIZES = {24, 64, 64, 10};
    static final float LEARNING_RATE = 2e-3f;

    /** Sample counts and epochs; {@link #STANDARD} for the table, smaller ones for tests. */
    public record Config(int train, int test, int calibration, int epochs, int batch) {
        public Config {
            if (train < batch || test < 1 || calibration < 1 || epochs < 1 || batch < 1) {
                throw new IllegalArgumentException("config " + this + ": need train >= batch >= 1 and test, calibration, epochs >= 1");
            }
        }
    }

    public static final Config STANDARD = new Config(12_000, 4_000, 2_000, 10, 32);

    /**
     * A row trained with a weight transform: its label, and the transform for the model's weight
     * matrices given their shapes by name ([out, in], in layer order).
     */
    public record TrainedRow(String label, Function<Map<String, long[]>, WeightTransform> transform) {}

    /** Half of {@link #STANDARD}'s 3,750 steps (12,000 samples / 32 per batch x 10 epochs): DKM's milestone. */
    static final int HALF_WAY = 1875;

    /**
     * The rows trained through the {@link WeightHook}: the fp32 model that the post-training rows start
     * from, then DKM at 2 and 3 bits. Every row trains from the same initial weights for {@link #STANDARD}'s
     * 3,750 steps; the DKM rows train fp32 until their milestone, half-way, then with DKM.
     */
    static List<TrainedRow> trainedRows(long seed) {
        return List.of(new TrainedRow("fp32", shapes -> WeightTransform.identity()),
                new TrainedRow("DKM 2-bit", shapes -> new DkmTransform(shapes, 2, HALF_WAY, seed)),
                new TrainedRow("DKM 3-bit", shapes -> new DkmTransform(shapes, 3, HALF_WAY, seed)));
    }

    /** One table row: test accuracy and loss. */
    public record Row(String label, double accuracy, double loss) {}

    private DjlTrainingExample() {}

    private static void close(AutoCloseable c) {
        try {
            c.close();
        } catch (Exception e) {
            throw new IllegalStateException("closing a weight transform", e);
        }
    }

    /** Post-training 2-bit palettization: every weight matrix, one LUT per tensor, the seed's fast mode. */
    static final PalettizationSpec SPEC_2_BIT = PalettizationSpec.defaults().withBits(2);
    static final SpecResolver WEIGHTS_2_BIT = site -> site.stateName().equals("weight")
            ? WeightDecision.palettize(SPEC_2_BIT, true, 4, "weights: 2-bit per tensor")
            : WeightDecision.leave("biases stay fp32");

    /** The table for one seed: the fp32 row, the two post-training rows, then the other trained rows. */
    public static List<Row> run(long seed, Config config, List<TrainedRow> trained) throws IOException {
        Dataset.Task task = Dataset.Task.standard();
        Dataset train = task.sample(config.train(), seed + 1);
        Dataset test = task.sample(config.test(), seed + 2);
        Dataset calibration = task.sample(config.calibration(), seed + 3);
        List<Row> rows = new ArrayList<>();
        for (int r = 0; r < trained.size(); r++) {
            TrainedRow row = trained.get(r);
            try (DjlMlp mlp = new DjlMlp(Math.toIntExact(seed), DjlMlp.adam(LEARNING_RATE), SIZES)) {
                Map<String, long[]> shapes = new LinkedHashMap<>();
                mlp.weights().keySet().forEach(name -> shapes.put(name, mlp.shape(name)));
                WeightTransform transform = row.transform().apply(shapes);
                try {
                    WeightHook hook = new WeightHook(transform, mlp.weights());
                    mlp.train(train, config.epochs(), config.batch(), hook);
                    DjlMlp.Evaluation e = mlp.evaluate(test, hook.exported());
                    rows.add(new Row(row.label(), e.accuracy(), e.loss()));
                } finally {
                    if (transform instanceof AutoCloseable c) {
                        close(c);
                    }
                }
                if (r == 0) {
                    rows.addAll(postTraining(mlp, test, calibration));
                }
            }
        }
        return rows;
    }

    /** The 2-bit unweighted and sensitivity-weighted rows for the trained fp32 {@code mlp}. */
    static List<Row> postTraining(DjlMlp mlp, Dataset test, Dataset calibration) throws IOException {
        ModelWeights.Builder weights = ModelWeights.builder();
        mlp.values().forEach((name, values) -> weights.add(name, values, mlp.shape(name)));
        try (KMeansPalettizer palettizer = new KMeansPalettizer(weights.build(), WEIGHTS_2_BIT)) {
            PreparedModel unweighted = palettizer.prepare(PrepareOptions.defaults().withWorkers(2).withProgress(ProgressOutput.NONE));
            try (Calibration c = palettizer.calibrate()) {
                // One step per sample: squared per-sample gradients sum to the diagonal Fisher information.
                for (int i = 0; i < calibration.size(); i++) {
                    c.addGradients(mlp.sampleGradients(calibration, i));
                }
            }
            DjlMlp.Evaluation u = mlp.evaluate(test, unweighted.denseWeights());
            DjlMlp.Evaluation w = mlp.evaluate(test, palettizer.prepared().denseWeights());
            return List.of(new Row("PTQ 2-bit unweighted", u.accuracy(), u.loss()),
                    new Row("PTQ 2-bit sensitivity-weighted", w.accuracy(), w.loss()));
        }
    }

    /**
     * Arguments: seeds (default 1 2 3). Prints each seed's rows as they finish, then the table as
     * Markdown: test accuracy per seed and the mean. Run from the repository root:
     *
     * <pre>
     * mvn -B -q -pl examples/djl -am compile dependency:build-classpath -Dmdep.outputFile=target/djl.cp
     * java --enable-native-access=ALL-UNNAMED --add-modules jdk.incubator.vector \
     *     -cp examples/djl/target/classes:$(cat examples/djl/target/djl.cp) dev.palettizer.examples.djl.DjlTrainingExample 1 2 3
     * </pre>
     */
    public static void main(String[] args) throws IOException {
        long[] seeds = args.length > 0 ? Arrays.stream(args).mapToLong(Long::parseLong).toArray() : new long[] {1, 2, 3};
        System.out.printf(Locale.ROOT, "MLP %s in DJL %s (PyTorch %s, CPU, offline), %d epochs of %d samples, test %d, calibration %d%n",
                Arrays.toString(SIZES), Engine.getDjlVersion(), OfflinePyTorch.engine().getVersion(),
                STANDARD.epochs(), STANDARD.train(), STANDARD.test(), STANDARD.calibration());
        Map<String, double[]> accuracies = new LinkedHashMap<>();
        for (int s = 0; s < seeds.length; s++) {
            for (Row r : run(seeds[s], STANDARD, trainedRows(seeds[s]))) {
                System.out.printf(Locale.ROOT, "seed %d  %-32s accuracy %.4f  loss %.4f%n", seeds[s], r.label(), r.accuracy(), r.loss());
                accuracies.computeIfAbsent(r.label(), k -> new double[seeds.length])[s] = r.accuracy();
            }
        }
        StringBuilder header = new StringBuilder("| DJL MLP, test accuracy |");
        StringBuilder rule = new StringBuilder("| --- |");
        for (long seed : seeds) {
            header.append(" seed ").append(seed).append(" |");
            rule.append(" ---: |");
        }
        System.out.println(header.append(" mean |"));
        System.out.println(rule.append(" ---: |"));
        accuracies.forEach((label, a) -> {
            StringBuilder line = new StringBuilder("| ").append(label).append(" |");
            for (double v : a) {
                line.append(String.format(Locale.ROOT, " %.4f |", v));
            }
            System.out.println(line.append(String.format(Locale.ROOT, " %.4f |", Arrays.stream(a).average().orElseThrow())));
        });
    }
}
