package dev.palettizer.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class WeightSitesTest {
    @Test
    void linearWeightIsTheStateOfItsModule() {
        WeightSite s = WeightSites.forTensor("encoder.layer.0.fc1.weight", new long[] {64, 32});
        assertEquals("encoder.layer.0.fc1", s.moduleName());
        assertEquals("weight", s.stateName());
        assertEquals("Linear", s.moduleType());
        assertEquals("encoder.layer.0.fc1", s.opName());
        assertEquals("linear", s.opType());
        assertArrayEquals(new long[] {64, 32}, s.shape());
    }

    @Test
    void convolutionsByRank() {
        assertEquals("Conv1d", WeightSites.forTensor("c.weight", new long[] {8, 4, 3}).moduleType());
        assertEquals("conv2d", WeightSites.forTensor("c.weight", new long[] {8, 4, 3, 3}).opType());
        assertEquals("Conv3d", WeightSites.forTensor("c.weight", new long[] {8, 4, 3, 3, 3}).moduleType());
    }

    @Test
    void otherRanksAndRootStatesHaveNoTypeOrModule() {
        WeightSite bias = WeightSites.forTensor("fc1.bias", new long[] {64});
        assertEquals("fc1", bias.moduleName());
        assertEquals("bias", bias.stateName());
        assertEquals("", bias.moduleType());
        assertEquals("", bias.opName());
        assertEquals("", bias.opType());
        WeightSite root = WeightSites.forTensor("scale", new long[] {4, 4});
        assertEquals("", root.moduleName());
        assertEquals("scale", root.stateName());
        assertEquals("Linear", root.moduleType());
    }
}
