package dev.palettizer.backend.opencl;

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
 * The equivalence suite on OpenCL: every spec family palettized with the Java reference and with
 * this backend. Tolerances are {@link Equivalence}'s: identical LUTs ({@value Equivalence#LUT_TOLERANCE}),
 * indices ({@value Equivalence#INDEX_TOLERANCE} mismatches) and reconstructions
 * ({@value Equivalence#RECONSTRUCTION_TOLERANCE}); SSE within {@value Equivalence#SSE_TOLERANCE} relative.
 */
class OpenClEquivalenceTest {
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

    @TestFactory
    Stream<DynamicTest> everyFamilyMatchesTheJavaReference() {
        List<Equivalence.Family> families = Equivalence.families();
        return families.stream().map(f -> DynamicTest.dynamicTest(f.name(), () -> {
            Equivalence.Row row = Equivalence.run(f, reference, backend, pool);
            assertTrue(row.pass(), () -> Equivalence.table(List.of(row)));
        }));
    }
}
