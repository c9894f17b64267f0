package dev.palettizer.examples.djl;

import dev.palettizer.api.DKMPalettizer;
import dev.palettizer.api.DkmOptions;
import dev.palettizer.api.ModelWeights;
import dev.palettizer.config.dkm.DKMPalettizerConfig;
import dev.palettizer.config.dkm.ModuleDKMPalettizerConfig;
import java.util.Map;

/**
 * The {@link DKMPalettizer} as a {@link WeightTransform}: DJL's layers compute with DKM's soft-palettized
 * weights, DJL's gradients go through DKM's backward, and the model is evaluated with the hard LUT values
 * that finalize would store. One LUT per weight matrix (seed 004's default partition), every matrix
 * palettized (weight_threshold 0: the smallest has 640 values), biases fp32.
 */
final class DkmTransform implements WeightTransform, AutoCloseable {
    /** Softmax temperature for these weights (std ~0.1-0.3): soft enough that assignments can move. */
    static final double TAU = 1e-3;

    private final DKMPalettizer dkm;

    /**
     * @param shapes    the weight matrices by name
     * @param milestone the step from which DKM palettizes (fp32 training before)
     */
    DkmTransform(Map<String, long[]> shapes, int bits, int milestone, long seed) {
        ModelWeights.Builder model = ModelWeights.builder();
        shapes.forEach((name, shape) -> model.add(name, new float[Math.toIntExact(shape[0] * shape[1])], shape));
        DKMPalettizerConfig config = DKMPalettizerConfig.of(ModuleDKMPalettizerConfig.builder().nBits(bits)
                .weightThreshold(0).milestone(milestone).palettTau(TAU).build());
        dkm = new DKMPalettizer(model.build(), config, DkmOptions.defaults().withWorkers(1).withSeed(seed));
        dkm.prepare();
    }

    @Override
    public void step() {
        dkm.step();
    }

    @Override
    public void forward(String name, float[] w, float[] out) {
        dkm.forward(name, w, out);
    }

    @Override
    public void backward(String name, float[] gradOut, float[] gradIn) {
        dkm.backward(name, gradOut, gradIn);
    }

    @Override
    public void export(String name, float[] w, float[] out) {
        dkm.harden(name, w, out);
    }

    @Override
    public void close() {
        dkm.close();
    }
}
