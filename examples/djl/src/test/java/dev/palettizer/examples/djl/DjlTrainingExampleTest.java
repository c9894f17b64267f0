package dev.palettizer.examples.djl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The DJL accuracy table of the main on seed 1, without the 3-bit row: fp32 learns the task, weighting
 * helps 2-bit post-training palettization, and DKM at 2 bits (from half-way, through the hook) beats both
 * (issue 11, must-show 5).
 */
class DjlTrainingExampleTest {
    @Test
    void tableOnTheFixedSeed() throws IOException {
        List<DjlTrainingExample.TrainedRow> trained = DjlTrainingExample.trainedRows(1).subList(0, 2);
        List<DjlTrainingExample.Row> rows = DjlTrainingExample.run(1, DjlTrainingExample.STANDARD, trained);
        System.out.println("DJL table, seed 1, standard run: " + rows);
        assertEquals(List.of("fp32", "PTQ 2-bit unweighted", "PTQ 2-bit sensitivity-weighted", "DKM 2-bit"),
                rows.stream().map(DjlTrainingExample.Row::label).toList());
        DjlTrainingExample.Row fp32 = rows.get(0);
        DjlTrainingExample.Row unweighted = rows.get(1);
        DjlTrainingExample.Row weighted = rows.get(2);
        DjlTrainingExample.Row dkm = rows.get(3);
        assertTrue(fp32.accuracy() >= 0.93, "fp32 accuracy " + fp32.accuracy());
        assertTrue(unweighted.accuracy() < fp32.accuracy(), "2-bit per tensor loses accuracy: " + unweighted);
        assertTrue(weighted.accuracy() > unweighted.accuracy(), "weighted " + weighted + " vs unweighted " + unweighted);
        assertTrue(weighted.loss() < unweighted.loss(), "weighted " + weighted + " vs unweighted " + unweighted);
        assertTrue(dkm.accuracy() > weighted.accuracy(), "DKM " + dkm + " vs post-training " + weighted);
        assertTrue(dkm.loss() < weighted.loss(), "DKM " + dkm + " vs post-training " + weighted);
    }
}
