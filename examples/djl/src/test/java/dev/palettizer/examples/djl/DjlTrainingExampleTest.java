package dev.palettizer.examples.djl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The DJL accuracy table of the main on seed 1 (about 10 s): fp32 learns the task, weighting helps
 * 2-bit post-training palettization, and palettization-aware training through the hook (a
 * straight-through stand-in for DKM, palettizing from half-way) beats both.
 */
class DjlTrainingExampleTest {
    /** Half of the standard run's 3,750 steps (12,000 samples / 32 per batch * 10 epochs). */
    private static final int HALF_WAY = 1875;

    @Test
    void tableOnTheFixedSeed() throws IOException {
        List<DjlTrainingExample.TrainedRow> trained = List.of(DjlTrainingExample.trainedRows().getFirst(),
                new DjlTrainingExample.TrainedRow("straight-through 2-bit", shapes -> new StraightThroughPalettizer(2, HALF_WAY)));
        List<DjlTrainingExample.Row> rows = DjlTrainingExample.run(1, DjlTrainingExample.STANDARD, trained);
        System.out.println("DJL table, seed 1, standard run: " + rows);
        assertEquals(List.of("fp32", "PTQ 2-bit unweighted", "PTQ 2-bit sensitivity-weighted", "straight-through 2-bit"),
                rows.stream().map(DjlTrainingExample.Row::label).toList());
        DjlTrainingExample.Row fp32 = rows.get(0);
        DjlTrainingExample.Row unweighted = rows.get(1);
        DjlTrainingExample.Row weighted = rows.get(2);
        DjlTrainingExample.Row trainedTwoBit = rows.get(3);
        assertTrue(fp32.accuracy() >= 0.93, "fp32 accuracy " + fp32.accuracy());
        assertTrue(unweighted.accuracy() < fp32.accuracy(), "2-bit per tensor loses accuracy: " + unweighted);
        assertTrue(weighted.accuracy() > unweighted.accuracy(), "weighted " + weighted + " vs unweighted " + unweighted);
        assertTrue(weighted.loss() < unweighted.loss(), "weighted " + weighted + " vs unweighted " + unweighted);
        assertTrue(trainedTwoBit.accuracy() > weighted.accuracy() + 0.05, "trained " + trainedTwoBit + " vs post-training " + weighted);
    }
}
