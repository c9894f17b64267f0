package dev.palettizer.examples;

import dev.palettizer.api.DKMPalettizer;
import dev.palettizer.api.DkmOptions;
import dev.palettizer.api.ExportFormat;
import dev.palettizer.api.ModelWeights;
import dev.palettizer.api.Palettizer;
import dev.palettizer.config.dkm.DKMPalettizerConfig;
import dev.palettizer.config.dkm.ModuleDKMPalettizerConfig;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * Training-time palettization of the {@link TrainingExample} MLP with the {@link DKMPalettizer}: start
 * from the trained fp32 model, fine-tune with DKM (the loss is computed at the soft-palettized weights,
 * its gradient mapped back to the fp32 weights by DKM's backward), then finalize to hard LUTs and
 * indices (one LUT per output channel, as the post-training rows of {@link TrainingExample}) and measure
 * the test accuracy of the model decoded from the compressed file.
 */
public final class DkmTrainingExample {
    static final int EPOCHS = 4;
    static final double LEARNING_RATE = 1e-3;

    private DkmTrainingExample() {}

    /** Test accuracy and loss of the finalized (hard) model, and the fp32 start's. */
    public record Result(int bits, double fp32Accuracy, double accuracy, double fp32Loss, double loss) {}

    /** DKM per output channel at {@code bits}, every weight matrix (biases stay fp32). */
    static DKMPalettizerConfig config(int bits) {
        return DKMPalettizerConfig.of(ModuleDKMPalettizerConfig.builder().nBits(bits).partitionSize(1)
                .weightThreshold(0).palettTau(TAU).build());
    }

    /** Softmax temperature for these weights (std ~0.1-0.3): soft enough that assignments can move. */
    static final double TAU = 1e-3;

    /** Trains the fp32 MLP as {@link TrainingExample} does, fine-tunes it with DKM at {@code bits}, finalizes it. */
    public static Result run(long seed, int bits) throws IOException {
        Dataset.Task task = Dataset.Task.standard();
        Dataset train = task.sample(TrainingExample.TRAIN, seed + 1);
        Dataset test = task.sample(TrainingExample.TEST, seed + 2);
        Mlp mlp = Mlp.initialized(seed, TrainingExample.SIZES);
        mlp.train(train, TrainingExample.EPOCHS, TrainingExample.BATCH, TrainingExample.LEARNING_RATE, seed + 4);
        double fp32Accuracy = mlp.accuracy(test);
        double fp32Loss = mlp.loss(test);

        ModelWeights.Builder weights = ModelWeights.builder();
        mlp.parameters().forEach((name, values) -> weights.add(name, values, mlp.shape(name)));
        Path dir = Files.createTempDirectory("dkm-example");
        try (ModelWeights model = weights.build();
             DKMPalettizer dkm = new DKMPalettizer(model, config(bits), DkmOptions.defaults().withWorkers(1).withSeed(seed))) {
            dkm.prepare();
            // The layers compute with the palettized weights: a shadow model holds them.
            Mlp shadow = mlp.withParameters(Map.of());
            Map<String, float[]> master = mlp.parameters();
            Map<String, float[]> palettized = shadow.parameters();
            mlp.train(train, EPOCHS, TrainingExample.BATCH, LEARNING_RATE, seed + 5, (data, from, to) -> {
                master.forEach((name, w) -> dkm.forward(name, w, palettized.get(name)));
                Map<String, float[]> g = shadow.gradients(data, from, to);
                Map<String, float[]> mapped = new LinkedHashMap<>();
                g.forEach((name, gradient) -> {
                    float[] out = new float[gradient.length];
                    dkm.backward(name, gradient, out);
                    mapped.put(name, out);
                });
                dkm.step();
                return mapped;
            });
            Path compressed = dir.resolve("mlp.pal.safetensors");
            Path dense = dir.resolve("mlp.dense.safetensors");
            dkm.finalize(ExportFormat.COMPRESSED_SAFETENSORS, compressed).close();
            try (Palettizer p = Palettizer.builder().workers(1).backend("java").build()) {
                p.decompressFile(compressed, dense);
            }
            Map<String, float[]> hard = new LinkedHashMap<>();
            try (ModelWeights m = ModelWeights.open(dense)) {
                m.weights().forEach(w -> hard.put(w.name(), w.toFloatArray()));
            }
            Mlp finalized = mlp.withParameters(hard);
            return new Result(bits, fp32Accuracy, finalized.accuracy(test), fp32Loss, finalized.loss(test));
        } finally {
            try (var files = Files.list(dir)) {
                files.forEach(f -> {
                    try {
                        Files.delete(f);
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                });
            }
            Files.delete(dir);
        }
    }

    /** Arguments: [seed (7)] [bits (2)]. */
    public static void main(String[] args) throws IOException {
        long seed = args.length > 0 ? Long.parseLong(args[0]) : 7;
        int bits = args.length > 1 ? Integer.parseInt(args[1]) : 2;
        Result r = run(seed, bits);
        System.out.printf(Locale.ROOT, "seed %d, DKM %d-bit per channel: fp32 %.4f (loss %.4f) -> finalized %.4f (loss %.4f)%n",
                seed, bits, r.fp32Accuracy(), r.fp32Loss(), r.accuracy(), r.loss());
    }
}
