package dev.palettizer.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The deliberate-slowdown proof: synthetic JMH results in which one benchmark's ratio to the
 * reference doubled must fail the gate, and one that moved within the noise must pass.
 */
class GateTest {
    /** Baselines recorded from one run each: no run-to-run spread. */
    private static final Map<String, Baselines.Baseline> BASELINES = Map.of(
            "EndToEndBenchmark.perTensor4Bit", Baselines.Baseline.of(List.of(10.0)),
            "KernelBenchmark.assign(bits=4,size=1048576)", Baselines.Baseline.of(List.of(0.5)));

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
    void theConfirmingRunsFilterMatchesExactlyTheFailedBenchmarks() throws Exception {
        List<Gate.Row> rows = Gate.evaluate(run(0.4, 20.0), BASELINES, Gate.THRESHOLD);
        String filter = Gate.failedFilter(rows);
        assertEquals("\\.EndToEndBenchmark\\.perTensor4Bit$|\\.KernelBenchmark\\.assign$", filter);
        Pattern p = Pattern.compile(filter);
        assertTrue(p.matcher("dev.palettizer.bench.KernelBenchmark.assign").find());
        assertFalse(p.matcher("dev.palettizer.bench.OpenClKernelBenchmark.assign").find());
        assertFalse(p.matcher("dev.palettizer.bench.EndToEndBenchmark.perTensor4BitOther").find());
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
        Results.Score ref = new Results.Score(ReferenceBenchmark.NAME, 20, "ms/op", 0.01, Double.NaN);
        Results.Score noisy = new Results.Score("EndToEndBenchmark.perTensor4Bit", 0.26, "s/op", 0.15, Double.NaN);
        // +30 % exceeds the 25 % floor but not 3 x 15 % relative error.
        List<Gate.Row> rows = Gate.evaluate(List.of(ref, noisy), BASELINES, Gate.THRESHOLD);
        assertEquals(Gate.Verdict.PASS, row(rows, "EndToEndBenchmark.perTensor4Bit").verdict());
    }

    @Test
    void runToRunSpreadWidensToleranceButNotToTwice() throws Exception {
        // Recorded ratios 8, 10, 12: median 10, relative SD 20 %, so 3 x 20 % = 60 % is allowed.
        Map<String, Baselines.Baseline> spread = Map.of(
                "EndToEndBenchmark.perTensor4Bit", Baselines.Baseline.of(List.of(12.0, 8.0, 10.0)));
        assertEquals(10.0, spread.get("EndToEndBenchmark.perTensor4Bit").ratio());
        assertEquals(Gate.Verdict.PASS,
                row(Gate.evaluate(run(0.3, 10.0), spread, Gate.THRESHOLD), "EndToEndBenchmark.perTensor4Bit").verdict());
        assertEquals(Gate.Verdict.FAIL,
                row(Gate.evaluate(run(0.4, 10.0), spread, Gate.THRESHOLD), "EndToEndBenchmark.perTensor4Bit").verdict());
    }

    @Test
    void resultsWithoutReferenceAreRejected() {
        Results.Score only = new Results.Score("EndToEndBenchmark.perTensor4Bit", 0.2, "s/op", 0, Double.NaN);
        assertThrows(IllegalArgumentException.class, () -> Gate.evaluate(List.of(only), BASELINES, Gate.THRESHOLD));
    }

    @Test
    void parsesMedianUnitsParamsAndAllocation() throws Exception {
        Results.Score s = row(Gate.evaluate(run(0.2, 10.0), Map.of(), Gate.THRESHOLD),
                "KernelBenchmark.assign(bits=4,size=1048576)").score();
        assertEquals(0.010, s.seconds(), 1e-12);
        // Raw 9.8, 10, 10.2 ms: standard deviation 0.2, so 2 % / sqrt(3) of the mean.
        assertEquals(0.02 / Math.sqrt(3), s.relativeError(), 1e-9);
        assertEquals(1048576.0, s.allocBytesPerOp());
    }
}
