package dev.palettizer.config;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.palettizer.spec.Granularity;
import dev.palettizer.spec.PalettizationSpec;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The recipe the README names loads as documented: its budget and the rule the budget keeps. */
class RecipeFilesTest {
    private static final Path RECIPE = Path.of("..", "examples", "recipes", "calibrated-mixed-5bit.yaml");
    private static final Path RECIPE_4_5 = Path.of("..", "examples", "recipes", "calibrated-mixed-4.5bit.yaml");

    @Test
    void calibratedMixedFiveBitRecipeLoads() throws Exception {
        assertEquals(5.0, ConfigFiles.targetBits(RECIPE).orElseThrow());
        KMeansPalettizerConfig config = ConfigFiles.load(RECIPE);
        PalettizationSpec weight = config.globalConfig().opStateSpec().get("weight");
        assertEquals(Granularity.groupedRagged(32), weight.granularity());
        assertEquals(0.001, weight.outlierFraction());
        assertEquals(weight, config.globalConfig().opStateSpec().get("in_proj_weight"));
    }

    /** The 4.5-bit recipe: the same rule at a budget of 4.5 (its importances come from the stats file). */
    @Test
    void calibratedMixedFourAndAHalfBitRecipeLoads() throws Exception {
        assertEquals(4.5, ConfigFiles.targetBits(RECIPE_4_5).orElseThrow());
        assertEquals(ConfigFiles.load(RECIPE).globalConfig(), ConfigFiles.load(RECIPE_4_5).globalConfig());
    }
}
