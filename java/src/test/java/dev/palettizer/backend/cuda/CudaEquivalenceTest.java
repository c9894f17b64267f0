package dev.palettizer.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.palettizer.backend.JavaBackend;
import dev.palettizer.engine.Equivalence;
import java.util.List;
import java.util.concurrent.ForkJoinPool;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * The equivalence suite on CUDA: every spec family palettized with the Java reference and with this
 * backend. Tolerances are {@link Equivalence}'s: identical LUTs ({@value Equivalence#LUT_TOLERANCE}),
 * indices ({@value Equivalence#INDEX_TOLERANCE} mismatches) and reconstructions
 * ({@value Equivalence#RECONSTRUCTION_TOLERANCE}); SSE within {@value Equivalence#SSE_TOLERANCE} relative.
 * Needs an NVIDIA GPU; elsewhere every family is skipped with the driver probe's reason.
 */
class CudaEquivalenceTest {
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

    /** Made by the first family; without a device every family is skipped with the reason. */
    private static CudaBackend backend() {
        if (backend == null) {
            backend = CudaTesting.backend(pool, 0);
        }
        return backend;
    }

    @TestFactory
    Stream<DynamicTest> everyFamilyMatchesTheJavaReference() {
        return Equivalence.families().stream().map(f -> DynamicTest.dynamicTest(f.name(), () -> {
            Equivalence.Row row = Equivalence.run(f, reference, backend(), pool);
            assertTrue(row.pass(), () -> Equivalence.table(List.of(row)));
        }));
    }
}
