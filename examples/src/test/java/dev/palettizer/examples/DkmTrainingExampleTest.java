package dev.palettizer.examples;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.palettizer.api.ProgressOutput;
import java.io.IOException;
import org.junit.jupiter.api.Test;

/** Issue 11, must-show 5: DKM fine-tuning at 2 bits beats post-training palettization at 2 bits, weighted or not. */
class DkmTrainingExampleTest {
    @Test
    void dkmTwoBitBeatsPostTrainingTwoBitOnTheFixedSeed() throws IOException {
        TrainingExample.Result ptq = TrainingExample.run(7, ProgressOutput.NONE);
        DkmTrainingExample.Result dkm = DkmTrainingExample.run(7, 2);
        System.out.println("DKM example, seed 7: " + dkm + " against " + ptq);
        assertTrue(dkm.accuracy() > ptq.weightedAccuracy(), "DKM 2-bit " + dkm.accuracy() + " vs weighted post-training "
                + ptq.weightedAccuracy());
        assertTrue(dkm.loss() < ptq.weightedLoss(), "DKM 2-bit loss " + dkm.loss() + " vs " + ptq.weightedLoss());
        assertTrue(dkm.fp32Accuracy() == ptq.fp32Accuracy(), "both start from the same trained fp32 model");
    }
}
