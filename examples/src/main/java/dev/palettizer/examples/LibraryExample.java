package dev.palettizer.examples;

import dev.palettizer.api.Calibration;
import dev.palettizer.api.ExportFormat;
import dev.palettizer.api.FinalizeOptions;
import dev.palettizer.api.FinalizedModel;
import dev.palettizer.api.KMeansPalettizer;
import dev.palettizer.api.ModelWeights;
import dev.palettizer.api.PrepareOptions;
import dev.palettizer.api.PreparedModel;
import dev.palettizer.spec.PalettizationSpec;
import dev.palettizer.spec.SpecResolver;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The README's library example, kept here so that it compiles and runs (LibraryExampleTest): a
 * trainer's weights through prepare, calibration, saved sensitivities and finalize with a mmap folder.
 */
public final class LibraryExample {
    private LibraryExample() {}

    /** Dense weights: as prepared (unweighted), after calibration (weighted), and as mapped from the mmap folder. */
    public record Result(Map<String, float[]> unweighted, Map<String, float[]> weighted, Map<String, float[]> mapped) {}

    public static Result run(Mlp mlp, Dataset calibrationSet, Path dir) throws IOException {
        Map<String, float[]> palettized;
        Map<String, float[]> weighted;
        Map<String, float[]> mapped = new LinkedHashMap<>();
        // README: begin
        ModelWeights.Builder weights = ModelWeights.builder();       // the trainer's own arrays, not copied
        mlp.parameters().forEach((name, values) -> weights.add(name, values, mlp.shape(name)));
        SpecResolver config = SpecResolver.uniform(PalettizationSpec.defaults(), true, 4);  // 4-bit per tensor, fast mode

        try (KMeansPalettizer palettizer = new KMeansPalettizer(weights.build(), config)) {
            PreparedModel prepared = palettizer.prepare(PrepareOptions.defaults().withWorkers(2));
            palettized = prepared.denseWeights();                     // name -> values, palettized ones rebuilt

            try (Calibration calibration = palettizer.calibrate()) {  // the seed's calibration_mode
                for (int i = 0; i < calibrationSet.size(); i++) {
                    calibration.addGradients(mlp.gradients(calibrationSet, i, i + 1));  // name -> dLoss/dW
                }
            }                                                         // closed: LUTs recomputed, weighted
            weighted = palettizer.prepared().denseWeights();
            palettizer.saveSensitivities(dir.resolve("sensitivities.safetensors"));

            try (FinalizedModel done = palettizer.finalize(ExportFormat.COMPRESSED_SAFETENSORS,
                    dir.resolve("mlp.pal.safetensors"), FinalizeOptions.defaults().withMmapDir(dir.resolve("mmap")))) {
                for (ModelWeights.Weight w : done.mapped().orElseThrow().weights()) {
                    mapped.put(w.name(), w.toFloatArray());           // read from the mapped file, not the heap
                }
            }
        }
        // README: end
        return new Result(palettized, weighted, mapped);
    }
}
