package dev.palettizer.api;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.palettizer.config.dkm.DKMPalettizerConfig;
import dev.palettizer.config.dkm.ModuleDKMPalettizerConfig;
import dev.palettizer.spec.SpecException;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The DKM facade's lifecycle (issue 11): prepare, milestone, forward/backward, bad input, report, finalize. */
class DKMPalettizerTest {
    private static final long[] W_SHAPE = {64, 48};

    @TempDir
    Path dir;

    private static ModelWeights model(float[] weight, float[] bias) {
        return ModelWeights.builder().add("fc1.weight", weight, W_SHAPE).add("fc1.bias", bias, 64).build();
    }

    private static DKMPalettizerConfig config(ModuleDKMPalettizerConfig.Builder b) {
        return DKMPalettizerConfig.of(b.build());
    }

    private static DKMPalettizer prepared(float[] w, ModuleDKMPalettizerConfig.Builder b) {
        DKMPalettizer dkm = new DKMPalettizer(model(w, new float[64]), config(b), DkmOptions.defaults().withWorkers(2).withSeed(3));
        assertEquals(List.of("fc1.weight"), dkm.prepare());
        return dkm;
    }

    private static float[] gradient(int n, long seed) {
        return KMeansPalettizerTest.laplace(n, seed);
    }

    @Test
    void beforeTheMilestoneForwardAndBackwardAreTheIdentityThenDkmTakesOver() {
        float[] w = KMeansPalettizerTest.laplace(64 * 48, 1);
        try (DKMPalettizer dkm = prepared(w, ModuleDKMPalettizerConfig.builder().nBits(2).milestone(2))) {
            float[] out = new float[w.length];
            float[] g = gradient(w.length, 9);
            float[] gIn = new float[w.length];
            for (int step = 0; step < 2; step++) {
                assertFalse(dkm.active("fc1.weight"));
                dkm.forward("fc1.weight", w, out);
                assertArrayEquals(w, out);
                dkm.backward("fc1.weight", g, gIn);
                assertArrayEquals(g, gIn);
                dkm.step();
            }
            assertTrue(dkm.active("fc1.weight"));
            dkm.forward("fc1.weight", w, out);
            assertFalse(Arrays.equals(w, out), "once active, forward palettizes");
            dkm.backward("fc1.weight", g, gIn);
            assertFalse(Arrays.equals(g, gIn), "DKM's backward is not the identity");
            DkmModuleReport r = dkm.report().get("fc1.weight");
            assertEquals(4, r.clusters());
            assertEquals(1, r.clusterDim());
            assertEquals(64 * 48, r.parameters());
            assertEquals(2, r.milestone());
            assertTrue(r.active());
            assertEquals("recompute", r.route(), "arbitrary floats take the recomputation route");
            assertFalse(dkm.report().get("fc1.bias").palettized());
        }
    }

    @Test
    void badInputNamesTheWeightAndLeavesNoTrace() {
        float[] w = KMeansPalettizerTest.laplace(64 * 48, 2);
        float[] g = gradient(w.length, 5);
        try (DKMPalettizer dkm = prepared(w, ModuleDKMPalettizerConfig.builder().nBits(2));
             DKMPalettizer twin = prepared(w, ModuleDKMPalettizerConfig.builder().nBits(2))) {
            float[] out = new float[w.length];
            float[] gIn = new float[w.length];
            assertTrue(assertThrows(IllegalStateException.class, () -> dkm.backward("fc1.weight", g, gIn))
                    .getMessage().contains("fc1.weight"));
            assertTrue(assertThrows(IllegalArgumentException.class, () -> dkm.forward("fc9.weight", w, out))
                    .getMessage().contains("fc9.weight"));
            assertTrue(assertThrows(IllegalArgumentException.class, () -> dkm.forward("fc1.weight", w, new float[3]))
                    .getMessage().contains("fc1.weight"));
            dkm.forward("fc1.weight", w, out);
            assertTrue(assertThrows(IllegalArgumentException.class, () -> dkm.backward("fc1.weight", new float[7], gIn))
                    .getMessage().contains("fc1.weight"));
            float[] nan = g.clone();
            nan[100] = Float.NaN;
            assertTrue(assertThrows(IllegalArgumentException.class, () -> dkm.backward("fc1.weight", nan, gIn))
                    .getMessage().contains("fc1.weight"));
            dkm.backward("fc1.weight", g, gIn);

            float[] twinOut = new float[w.length];
            float[] twinGIn = new float[w.length];
            twin.forward("fc1.weight", w, twinOut);
            twin.backward("fc1.weight", g, twinGIn);
            assertArrayEquals(twinOut, out, "forward after the failed calls is bit for bit a clean run's");
            assertArrayEquals(twinGIn, gIn, "backward after the failed calls is bit for bit a clean run's");
        }
    }

    @Test
    void unsupportedBackendsAndLeftAloneWeightsAreSaid() {
        assertThrows(SpecException.class, () -> DkmOptions.defaults().withBackend("tpu"));
        float[] w = KMeansPalettizerTest.laplace(64 * 48, 2);
        DKMPalettizerConfig c = config(ModuleDKMPalettizerConfig.builder()).setModuleName("fc1", null);
        try (DKMPalettizer dkm = new DKMPalettizer(model(w, new float[64]), c)) {
            assertEquals(List.of(), dkm.prepare());
            assertTrue(dkm.report().get("fc1.weight").rule().contains("fc1"));
        }
    }

    /** Per tensor scalar, 4 partitions of 16 channels, and cluster_dim 2 with partitions: the file decodes to the hard assignment. */
    @Test
    void finalizeWritesTheHardLutsAndNearestIndicesInTheCompressedFormat() throws IOException {
        check(ModuleDKMPalettizerConfig.builder().nBits(2), 1, 1);
        check(ModuleDKMPalettizerConfig.builder().nBits(3).partitionSize(16), 4, 1);
        check(ModuleDKMPalettizerConfig.builder().nBits(2).clusterDim(2).partitionSize(32), 2, 2);
    }

    private void check(ModuleDKMPalettizerConfig.Builder b, int partitions, int dim) throws IOException {
        float[] w = KMeansPalettizerTest.laplace(64 * 48, 4);
        int k = 1 << b.build().spec("Linear", 0).nBits();
        Path out = dir.resolve("dkm-" + partitions + "-" + dim + ".safetensors");
        Path dense = dir.resolve("dense-" + partitions + "-" + dim + ".safetensors");
        float[] hardened = new float[w.length];
        try (DKMPalettizer dkm = prepared(w, b)) {
            float[] soft = new float[w.length];
            for (int step = 0; step < 3; step++) {
                dkm.forward("fc1.weight", w, soft);
                dkm.backward("fc1.weight", gradient(w.length, step), new float[w.length]);
                for (int i = 0; i < w.length; i++) {
                    w[i] -= 1e-3f * soft[i];
                }
                dkm.step();
            }
            assertEquals(partitions, dkm.report().get("fc1.weight").partitions());
            dkm.harden("fc1.weight", w, hardened);
            dkm.finalize(ExportFormat.COMPRESSED_SAFETENSORS, out).close();
        }
        try (Palettizer p = Palettizer.builder().workers(2).backend("java").build()) {
            p.decompressFile(out, dense);
        }
        try (ModelWeights m = ModelWeights.open(dense)) {
            float[] hard = m.weight("fc1.weight").orElseThrow().toFloatArray();
            assertArrayEquals(hardened, hard, "harden() gives the values the finalized file decodes to");
            int rowsPerPartition = 64 / partitions;
            for (int part = 0; part < partitions; part++) {
                // The distinct vectors of the partition are its LUT; each vector must decode to its nearest one.
                Set<List<Float>> lut = new HashSet<>();
                for (int r = part * rowsPerPartition; r < (part + 1) * rowsPerPartition; r += dim) {
                    for (int c = 0; c < 48; c++) {
                        lut.add(vector(hard, r, c, dim));
                    }
                }
                assertTrue(lut.size() <= k, "partition " + part + " decodes to " + lut.size() + " > " + k + " centroids");
                for (int r = part * rowsPerPartition; r < (part + 1) * rowsPerPartition; r += dim) {
                    for (int c = 0; c < 48; c++) {
                        List<Float> original = vector(w, r, c, dim);
                        List<Float> got = vector(hard, r, c, dim);
                        for (List<Float> other : lut) {
                            assertTrue(distance(original, got) <= distance(original, other) + 1e-12,
                                    "element (" + r + ", " + c + ") decodes to " + got + " but " + other + " is nearer to " + original);
                        }
                    }
                }
            }
            assertArrayEquals(new float[64], m.weight("fc1.bias").orElseThrow().toFloatArray(), "biases are left as they were");
        }
    }

    private static List<Float> vector(float[] a, int row, int col, int dim) {
        Float[] v = new Float[dim];
        for (int d = 0; d < dim; d++) {
            v[d] = a[(row + d) * 48 + col];
        }
        return List.of(v);
    }

    private static double distance(List<Float> a, List<Float> b) {
        double s = 0;
        for (int i = 0; i < a.size(); i++) {
            double d = (double) a.get(i) - b.get(i);
            s += d * d;
        }
        return s;
    }

    private static int distinct(float[] a) {
        Set<Float> s = new HashSet<>();
        for (float v : a) {
            s.add(v);
        }
        return s.size();
    }

    @Test
    void finalizeWithAMmapFolderMapsTheDenseWeightsBack() throws IOException {
        float[] w = KMeansPalettizerTest.laplace(64 * 48, 6);
        try (DKMPalettizer dkm = prepared(w, ModuleDKMPalettizerConfig.builder().nBits(2));
             FinalizedModel f = dkm.finalize(ExportFormat.COMPRESSED_SAFETENSORS, dir.resolve("m.safetensors"),
                     FinalizeOptions.defaults().withMmapDir(dir.resolve("mmap")))) {
            float[] mapped = f.mapped().orElseThrow().weight("fc1.weight").orElseThrow().toFloatArray();
            assertTrue(distinct(mapped) <= 4, "finalize without a palettized step initialises DKM and hardens");
            assertNotEquals(0, mapped[0]);
        }
    }
}
