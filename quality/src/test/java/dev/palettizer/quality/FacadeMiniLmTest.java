package dev.palettizer.quality;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.palettizer.api.ExportFormat;
import dev.palettizer.api.KMeansPalettizer;
import dev.palettizer.api.ModelWeights;
import dev.palettizer.api.Palettizer;
import dev.palettizer.api.PrepareOptions;
import dev.palettizer.api.PreparedModel;
import dev.palettizer.api.ProgressOutput;
import dev.palettizer.engine.FileJobOptions;
import dev.palettizer.engine.OnnxOutput;
import dev.palettizer.spec.SpecResolver;
import dev.palettizer.spec.WeightDecision;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The facade on the real transformer: all-MiniLM-L6-v2 opened with {@code ModelWeights.open(model.onnx)},
 * prepared and finalized to compressed ONNX, is the file the command-line path writes byte for byte
 * (same tensors: 2-D, more than the default 2048 elements; 4-bit per tensor, fast mode).
 */
class FacadeMiniLmTest {
    @TempDir
    Path dir;

    @Test
    void facadeWritesTheCommandLinesCompressedMiniLm() throws Exception {
        MiniLm fp32 = MiniLm.fp32(dir);
        GridPoint point = new GridPoint(4, GridPoint.Layout.PER_TENSOR, true);
        WeightDecision decision = WeightDecision.palettize(point.spec(), point.fast(), 4, "one spec for all weights");
        SpecResolver asTheCommandLine = site -> site.shape().length >= 2
                && Math.multiplyExact(site.shape()[0], site.shape()[1]) > FileJobOptions.DEFAULT_WEIGHT_THRESHOLD
                ? decision : WeightDecision.leave("1-D or small");
        Path viaFacade = dir.resolve("facade.onnx");
        try (ModelWeights model = ModelWeights.open(fp32.model());
             KMeansPalettizer palettizer = new KMeansPalettizer(model, asTheCommandLine)) {
            PreparedModel prepared = palettizer.prepare(PrepareOptions.defaults().withWorkers(2)
                    .withProgress(ProgressOutput.NONE));
            assertEquals(38, prepared.palettized().size(), "MiniLM's 2-D weights: embeddings and 36 MatMuls");
            palettizer.finalize(ExportFormat.ONNX, viaFacade).close();
        }
        Path viaCli = dir.resolve("cli.onnx");
        try (Palettizer p = Palettizer.builder().workers(2).build()) {
            QualityMain.palettize(p, fp32, point, viaCli, OnnxOutput.COMPRESSED);
        }
        assertTrue(Files.size(viaFacade) < Files.size(fp32.model()) / 6, "4-bit: under a sixth of the fp32 file");
        assertArrayEquals(Files.readAllBytes(viaCli), Files.readAllBytes(viaFacade));
    }
}
