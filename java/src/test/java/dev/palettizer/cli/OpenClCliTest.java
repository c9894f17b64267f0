package dev.palettizer.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.palettizer.backend.opencl.OpenClBackendProvider;
import dev.palettizer.engine.Equivalence;
import dev.palettizer.io.SafetensorsFile;
import dev.palettizer.io.SafetensorsWriter;
import dev.palettizer.model.DType;
import java.io.IOException;
import java.nio.file.Path;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code --backend opencl} end to end next to {@code --backend java}. Tolerance: the decompressed
 * weights must be equal ({@link Equivalence#RECONSTRUCTION_TOLERANCE} = 0), since the backend gives
 * the reference's LUTs and indices.
 */
class OpenClCliTest {
    @TempDir
    Path dir;

    @BeforeAll
    static void needsOpenCl() {
        OpenClBackendProvider provider = new OpenClBackendProvider();
        Assumptions.assumeTrue(provider.devices().stream().anyMatch(d -> d.availability().available()),
                () -> "OpenCL CLI tests skipped: no usable OpenCL device (" + provider.devices() + ")");
    }

    private Path model() throws IOException {
        SplittableRandom r = new SplittableRandom(7);
        float[] a = new float[300 * 257];
        float[] b = new float[64 * 96];
        for (float[] w : new float[][] {a, b}) {
            for (int i = 0; i < w.length; i++) {
                double u = r.nextDouble() - 0.5;
                w[i] = (float) (-0.02 * Math.signum(u) * Math.log(1 - 2 * Math.abs(u)));
            }
        }
        Path p = dir.resolve("m.safetensors");
        new SafetensorsWriter()
                .add(new SafetensorsWriter.Tensor("a.weight", DType.F32, new long[] {300, 257}, SafetensorsWriter.Payload.ofFloats(a)))
                .add(new SafetensorsWriter.Tensor("b.weight", DType.F32, new long[] {64, 96}, SafetensorsWriter.Payload.ofFloats(b)))
                .write(p);
        return p;
    }

    private float[] palettizeAndDecompress(Path in, String backend, String... spec) throws IOException {
        Path packed = dir.resolve(backend + ".pal.safetensors");
        Path dense = dir.resolve(backend + ".dense.safetensors");
        String[] args = new String[spec.length + 5];
        System.arraycopy(new String[] {"palettize", in.toString(), packed.toString(), "--backend", backend}, 0, args, 0, 5);
        System.arraycopy(spec, 0, args, 5, spec.length);
        CliTest.Run p = CliTest.run(args);
        assertEquals(0, p.exit(), p.err());
        CliTest.Run d = CliTest.run("decompress", packed.toString(), dense.toString(), "--backend", backend);
        assertEquals(0, d.exit(), d.err());
        try (SafetensorsFile f = SafetensorsFile.open(dense)) {
            float[] out = new float[300 * 257 + 64 * 96];
            f.tensor("a.weight").orElseThrow().floats().read(0, out, 0, 300 * 257);
            f.tensor("b.weight").orElseThrow().floats().read(0, out, 300 * 257, 64 * 96);
            return out;
        }
    }

    @Test
    void openClAndJavaDecompressToTheSameWeights() throws IOException {
        Path in = model();
        String[][] specs = {
            {"--bits", "4"},
            {"--bits", "3", "--granularity", "per-grouped-channel", "--group-size", "32", "--axis", "1", "--no-fast"},
            {"--bits", "2", "--cluster-dim", "4", "--no-fast", "--per-channel-scale"},
        };
        for (String[] spec : specs) {
            float[] java = palettizeAndDecompress(in, "java", spec);
            float[] openCl = palettizeAndDecompress(in, "opencl", spec);
            double maxDiff = 0;
            for (int i = 0; i < java.length; i++) {
                maxDiff = Math.max(maxDiff, Math.abs(java[i] - openCl[i]));
            }
            assertTrue(maxDiff <= Equivalence.RECONSTRUCTION_TOLERANCE, String.join(" ", spec) + ": max diff " + maxDiff);
            assertArrayEquals(java, openCl, String.join(" ", spec));
        }
    }

    @Test
    void selftestPrintsItsTableAndPasses() {
        CliTest.Run r = CliTest.run("selftest", "--backend", "opencl");
        assertEquals(0, r.exit(), r.out() + r.err());
        int families = Equivalence.families().size();
        assertTrue(r.out().contains(families + " of " + families + " families pass"), r.out());
        assertTrue(r.out().contains("cluster_dim 4, per tensor") && r.out().contains("LUT fp8_e5m2"), r.out());
    }

    @Test
    void selftestOfAnUnknownBackendFailsWithTheChoices() {
        CliTest.Run r = CliTest.run("selftest", "--backend", "nosuch");
        assertEquals(Main.FAILED, r.exit());
        assertTrue(r.err().contains("unknown backend 'nosuch'") && r.err().contains("opencl"), r.err());
    }
}
