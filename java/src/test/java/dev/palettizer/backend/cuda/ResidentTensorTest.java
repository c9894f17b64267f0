package dev.palettizer.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.palettizer.backend.BackendKernelContract;
import dev.palettizer.backend.CentroidSums;
import dev.palettizer.backend.ClusterInput;
import dev.palettizer.backend.JavaBackend;
import dev.palettizer.backend.ValueKey;
import dev.palettizer.backend.WeightedValues;
import dev.palettizer.model.ErrorStats;
import dev.palettizer.model.FloatArraySource;
import dev.palettizer.model.GroupLayout;
import dev.palettizer.spec.Granularity;
import dev.palettizer.spec.PalettizationSpec;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ForkJoinPool;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A tensor kept on the device gives the streamed (and so the Java) results: histogram, indices and
 * centroid sums exactly, the error within {@value BackendKernelContract#ERROR_TOLERANCE} relative.
 * Needs an NVIDIA GPU; skipped with the driver probe's reason elsewhere.
 */
class ResidentTensorTest {
    // Also the backend's lifetime and threads, which need a device too.

    private static ClusterInput input(String layout, boolean scaled) {
        PalettizationSpec spec = switch (layout) {
            case "per tensor" -> PalettizationSpec.defaults();
            case "axis 0 group 32" -> PalettizationSpec.defaults().withGranularity(Granularity.grouped(0, 32));
            default -> PalettizationSpec.defaults().withClusterDim(4);
        };
        GroupLayout l = GroupLayout.of(new long[] {256, 515}, spec).layout().orElseThrow();
        SplittableRandom r = new SplittableRandom(3);
        float[] v = new float[(int) l.elementCount()];
        float[] s = new float[v.length];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (r.nextGaussian() * 0.02);
            s[i] = (float) r.nextDouble();
        }
        float[] scales = null;
        if (scaled) {
            scales = new float[(int) l.rows()];
            for (int row = 0; row < scales.length; row++) {
                scales[row] = 0.5f + row / 512f;
            }
        }
        return new ClusterInput(new FloatArraySource(v), new FloatArraySource(s), l, scales);
    }

    @Test
    void eachThreadMakesTheContextCurrentAndClosingTwiceIsHarmless() throws Exception {
        try (ForkJoinPool pool = new ForkJoinPool(2)) {
            CudaBackend b = CudaTesting.backend(pool, 1 << 20);
            byte[] indices = {1, 0, 1, 1, 0, 0, 0, 1, 1};
            List<Future<byte[]>> packed = new ArrayList<>();
            try (ExecutorService threads = Executors.newFixedThreadPool(3)) {
                for (int i = 0; i < 6; i++) {
                    packed.add(threads.submit(() -> b.pack(indices, indices.length, 1)));
                }
                for (Future<byte[]> f : packed) {
                    assertArrayEquals(new JavaBackend(pool).pack(indices, indices.length, 1), f.get());
                }
            }
            b.close();
            b.close();
            assertThrows(IllegalStateException.class, () -> b.pack(indices, indices.length, 1));
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"per tensor", "axis 0 group 32", "cluster_dim 4"})
    void residentStepsEqualJava(String layout) {
        try (ForkJoinPool pool = new ForkJoinPool(2); CudaBackend cuda = CudaTesting.backend(pool, 0)) {
            JavaBackend java = new JavaBackend(pool);
            for (boolean scaled : new boolean[] {false, true}) {
                ClusterInput in = input(layout, scaled);
                GroupLayout l = in.layout();
                int lutSize = 16;
                float[] lut = new float[l.groups() * lutSize * l.clusterDim()];
                for (int i = 0; i < lut.length; i++) {
                    lut[i] = (i % lutSize - 7.5f) * 0.006f;
                }
                try (ResidentTensor t = cuda.resident(in)) {
                    if (l.clusterDim() == 1) {
                        ValueKey key = ValueKey.fastRounded(4);
                        WeightedValues[] want = java.histogram(in, key, 0, l.groups());
                        WeightedValues[] got = t.histogram(key);
                        for (int g = 0; g < want.length; g++) {
                            assertArrayEquals(want[g].values(), got[g].values());
                            assertArrayEquals(want[g].weights(), got[g].weights());
                        }
                    }
                    byte[] indices = new byte[(int) l.vectorCount()];
                    ErrorStats we = java.assign(in, lut, lutSize, indices);
                    ErrorStats ge = t.assign(lut, lutSize);
                    assertArrayEquals(indices, t.indices());
                    assertEquals(we.sse(), ge.sse(), BackendKernelContract.ERROR_TOLERANCE * we.sse());
                    CentroidSums want = java.centroidSums(in, indices, lutSize);
                    CentroidSums got = t.centroidSums(lutSize);
                    assertArrayEquals(want.sums(), got.sums());
                    assertArrayEquals(want.weights(), got.weights());
                }
            }
            ResidentTensor closed = cuda.resident(input(layout, false));
            closed.close();
            closed.close();
            assertThrows(IllegalStateException.class, () -> closed.assign(new float[0], 16));
        }
    }
}
