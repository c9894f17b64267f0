package dev.palettizer.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.palettizer.api.ProgressOutput;
import java.io.IOException;
import org.junit.jupiter.api.Test;

/** Issue 3, must-show 4: sensitivity-weighted 2-bit palettization loses less accuracy than unweighted. */
class TrainingExampleTest {
    @Test
    void weightedTwoBitBeatsUnweightedOnTheFixedSeed() throws IOException {
        TrainingExample.Result r = TrainingExample.run(7, ProgressOutput.NONE);
        System.out.println("training example, seed 7: " + r);
        assertTrue(r.fp32Accuracy() >= 0.93, "fp32 accuracy " + r.fp32Accuracy());
        assertTrue(r.weightedAccuracy() > r.unweightedAccuracy(),
                "weighted " + r.weightedAccuracy() + " vs unweighted " + r.unweightedAccuracy());
        assertTrue(r.weightedLoss() < r.unweightedLoss(), "weighted loss " + r.weightedLoss() + " vs " + r.unweightedLoss());
        assertEquals(6272, r.weightCount());
        assertEquals(TrainingExample.CALIBRATION, r.calibrationSteps());
    }
}
