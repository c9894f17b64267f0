package dev.palettizer.examples.djl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The DJL accuracy table on a standard run: fp32 learns the task, and weighting helps 2-bit palettization. */
class DjlTrainingExampleTest {
    /** Half the standard epochs to keep the test within seconds on two cores. */
    static final DjlTrainingExample.Config SMALL = new DjlTrainingExample.Config(12_000, 2_000, 2_000, 5, 32);

    @Test
    void fp32AndPostTrainingRowsOnTheFixedSeed() throws IOException {
        List<DjlTrainingExample.Row> rows = DjlTrainingExample.run(1, DjlTrainingExample.STANDARD, DjlTrainingExample.trainedRows());
        System.out.println("DJL table, seed 1, standard run: " + rows);
        assertEquals(List.of("fp32", "PTQ 2-bit unweighted", "PTQ 2-bit sensitivity-weighted"),
                rows.stream().map(DjlTrainingExample.Row::label).toList());
        DjlTrainingExample.Row fp32 = rows.get(0);
        DjlTrainingExample.Row unweighted = rows.get(1);
        DjlTrainingExample.Row weighted = rows.get(2);
        assertTrue(fp32.accuracy() >= 0.93, "fp32 accuracy " + fp32.accuracy());
        assertTrue(unweighted.accuracy() < fp32.accuracy(), "2-bit per tensor loses accuracy: " + unweighted);
        assertTrue(weighted.accuracy() > unweighted.accuracy(), "weighted " + weighted + " vs unweighted " + unweighted);
        assertTrue(weighted.loss() < unweighted.loss(), "weighted " + weighted + " vs unweighted " + unweighted);
    }
}
