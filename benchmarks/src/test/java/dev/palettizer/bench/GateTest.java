package dev.palettizer.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The deliberate-slowdown proof: synthetic JMH results in which one benchmark's ratio to the
 * reference doubled must fail the gate, and one that moved within the noise must pass.
 */
class GateTest {
    private static final Map<String, Double> BASELINES = Map.of(
            "EndToEndBenchmark.perTensor4Bit", 10.0,
            "KernelBenchmark.assign(bits=4,size=1048576)", 0.5);

    /** One JMH result entry; raw values spread a few percent around the median. */
    private static String entry(String method, String params, double median, String unit) {
        return """
                {"benchmark": "dev.palettizer.bench.%s", "mode": "ss", "params": %s,
                 "primaryMetric": {"score": %s, "scoreUnit": "%s",
                   "scorePercentiles": {"50.0": %s},
                   "rawData": [[%s, %s, %s]]},
                 "secondaryMetrics": {"gc.alloc.rate.norm": {"score": 1048576.0, "scoreUnit": "B/op"}}}
                """.formatted(method, params, median, unit, median, median * 0.98, median, median * 1.02);
    }

    private static List<Results.Score> run(double perTensorSeconds, double assignMillis) throws Exception {
        String json = "[" + String.join(",",
                entry("ReferenceBenchmark.sum64MiB", "{}", 20.0, "ms/op"),
                entry("EndToEndBenchmark.perTensor4Bit", "{}", perTensorSeconds, "s/op"),
                entry("KernelBenchmark.assign", "{\"size\": \"1048576\", \"bits\": \"4\"}", assignMillis, "ms/op"))
                + "]";
        return Results.parse(new ObjectMapper().readTree(json));
    }

    private static Gate.Row row(List<Gate.Row> rows, String name) {
        return rows.stream().filter(r -> r.score().name().equals(name)).findFirst().orElseThrow();
    }

    @Test
    void twiceTheBaselineRatioFails() throws Exception {
        // 0.4 s / 20 ms = 20, baseline 10: the ratio doubled.
        List<Gate.Row> rows = Gate.evaluate(run(0.4, 10.0), BASELINES, Gate.THRESHOLD);
        assertEquals(Gate.Verdict.FAIL, row(rows, "EndToEndBenchmark.perTensor4Bit").verdict());
        assertEquals(Gate.Verdict.PASS, row(rows, "KernelBenchmark.assign(bits=4,size=1048576)").verdict());
        assertFalse(Gate.passed(rows));
    }

    @Test
    void changeWithinNoisePasses() throws Exception {
        // 0.22 s / 20 ms = 11 (+10 %), 10.6 ms / 20 ms = 0.53 (+6 %): both under the 25 % floor.
        List<Gate.Row> rows = Gate.evaluate(run(0.22, 10.6), BASELINES, Gate.THRESHOLD);
        assertTrue(Gate.passed(rows));
        assertEquals(Gate.Verdict.REFERENCE, row(rows, ReferenceBenchmark.NAME).verdict());
    }

    @Test
    void benchmarkWithoutBaselineIsNew() throws Exception {
        List<Gate.Row> rows = Gate.evaluate(run(0.2, 10.0), Map.of(), Gate.THRESHOLD);
        assertEquals(Gate.Verdict.NEW, row(rows, "EndToEndBenchmark.perTensor4Bit").verdict());
        assertTrue(Gate.passed(rows));
    }

    @Test
    void noisyBenchmarkGetsWiderTolerance() {
        Results.Score ref = new Results.Score(ReferenceBenchmark.NAME, 20, "ms/op", 5, 0.01, Double.NaN);
        Results.Score noisy = new Results.Score("EndToEndBenchmark.perTensor4Bit", 0.26, "s/op", 5, 0.15, Double.NaN);
        // +30 % exceeds the 25 % floor but not 3 x 15 % relative error.
        List<Gate.Row> rows = Gate.evaluate(List.of(ref, noisy), BASELINES, Gate.THRESHOLD);
        assertEquals(Gate.Verdict.PASS, row(rows, "EndToEndBenchmark.perTensor4Bit").verdict());
    }

    @Test
    void resultsWithoutReferenceAreRejected() {
        Results.Score only = new Results.Score("EndToEndBenchmark.perTensor4Bit", 0.2, "s/op", 5, 0, Double.NaN);
        assertThrows(IllegalArgumentException.class, () -> Gate.evaluate(List.of(only), BASELINES, Gate.THRESHOLD));
    }

    @Test
    void parsesMedianUnitsParamsAndAllocation() throws Exception {
        Results.Score s = row(Gate.evaluate(run(0.2, 10.0), Map.of(), Gate.THRESHOLD),
                "KernelBenchmark.assign(bits=4,size=1048576)").score();
        assertEquals(0.010, s.seconds(), 1e-12);
        assertEquals(3, s.samples());
        assertEquals(0.02, s.relativeError(), 1e-9);
        assertEquals(1048576.0, s.allocBytesPerOp());
    }
}
