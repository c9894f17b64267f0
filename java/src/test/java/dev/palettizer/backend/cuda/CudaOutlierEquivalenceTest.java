package dev.palettizer.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.palettizer.backend.JavaBackend;
import dev.palettizer.engine.Equivalence;
import dev.palettizer.engine.OutlierFamilies;
import java.util.List;
import java.util.concurrent.ForkJoinPool;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Dense-and-sparse on CUDA ({@link OutlierFamilies}): the Java reference's LUTs, indices and
 * reconstruction under {@link Equivalence}'s tolerances. Needs an NVIDIA GPU; elsewhere every family
 * is skipped with the driver probe's reason.
 */
class CudaOutlierEquivalenceTest {
    private static ForkJoinPool pool;
    private static JavaBackend reference;
    private static CudaBackend backend;

    @BeforeAll
    static void setUp() {
        pool = new ForkJoinPool(2);
        reference = new JavaBackend(pool);
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

    private static CudaBackend backend() {
        if (backend == null) {
            backend = CudaTesting.backend(pool, 0);
        }
        return backend;
    }

    @TestFactory
    Stream<DynamicTest> outlierFamiliesMatchTheJavaReference() {
        return OutlierFamilies.families().stream().map(f -> DynamicTest.dynamicTest(f.name(), () -> {
            Equivalence.Row row = Equivalence.run(f, reference, backend(), pool);
            assertTrue(row.pass(), () -> Equivalence.table(List.of(row)));
        }));
    }
}
