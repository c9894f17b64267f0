package dev.palettizer.backend.opencl;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.palettizer.backend.JavaBackend;
import dev.palettizer.engine.Algorithm;
import dev.palettizer.engine.EngineOptions;
import dev.palettizer.engine.Equivalence;
import dev.palettizer.model.DType;
import dev.palettizer.spec.Granularity;
import dev.palettizer.spec.PalettizationSpec;
import java.util.List;
import java.util.concurrent.ForkJoinPool;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Dense-and-sparse on OpenCL: the backend receives sensitivities masked at the outliers (unit weights
 * elsewhere when the tensor has none), a path the plain families never take unweighted; it must give
 * the Java reference's LUTs, indices and reconstruction under {@link Equivalence}'s tolerances.
 */
class OpenClOutlierEquivalenceTest {
    private static ForkJoinPool pool;
    private static JavaBackend reference;
    private static OpenClBackend backend;

    @BeforeAll
    static void setUp() {
        OpenClDevice device = OpenClTesting.device();
        pool = new ForkJoinPool(2);
        reference = new JavaBackend(pool);
        backend = new OpenClBackend(device, pool, OpenClBackend.defaultBudget(device));
    }

    @AfterAll
    static void tearDown() {
        if (backend != null) {
            backend.close();
        }
        if (pool != null) {
            pool.close();
        }
    }

    static List<Equivalence.Family> families() {
        EngineOptions fast = EngineOptions.defaults();
        EngineOptions exact = fast.withFastMode(false);
        EngineOptions lloyd = exact.withAlgorithm(Algorithm.KMEANS_PLUS_PLUS);
        PalettizationSpec o = PalettizationSpec.defaults().withOutlierFraction(0.005);
        long[] large = {203, 211};
        long[] rows96 = {96, 77};
        return List.of(
                new Equivalence.Family("outliers, per tensor, f32, fast", DType.F32, large, o, fast, false),
                new Equivalence.Family("outliers, per tensor, f32, fast, weighted", DType.F32, large, o.withBits(3), fast,
                        true),
                new Equivalence.Family("outliers, per tensor, bf16, no-fast", DType.BF16, large, o, exact, false),
                new Equivalence.Family("outliers, per tensor, f32, no-fast (host histogram)", DType.F32, large, o, exact,
                        false),
                new Equivalence.Family("outliers, axis 0 group 32, scaled, fast", DType.F32, rows96,
                        o.withGranularity(Granularity.grouped(0, 32)).withPerChannelScale(true), fast, false),
                new Equivalence.Family("outliers, axis 1 group 1, f16, no-fast, weighted", DType.F16, new long[] {77, 96},
                        o.withBits(2).withGranularity(Granularity.perChannel(1)), exact, true),
                new Equivalence.Family("outliers, cluster_dim 2, k-means++/Lloyd", DType.F32, new long[] {128, 93},
                        o.withClusterDim(2), lloyd, false));
    }

    @TestFactory
    Stream<DynamicTest> outlierFamiliesMatchTheJavaReference() {
        return families().stream().map(f -> DynamicTest.dynamicTest(f.name(), () -> {
            Equivalence.Row row = Equivalence.run(f, reference, backend, pool);
            assertTrue(row.pass(), () -> Equivalence.table(List.of(row)));
        }));
    }
}
