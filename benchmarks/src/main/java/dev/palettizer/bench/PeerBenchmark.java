package dev.palettizer.bench;

import dev.palettizer.api.Palettizer;
import dev.palettizer.engine.EngineOptions;
import dev.palettizer.engine.TensorInput;
import dev.palettizer.spec.PalettizationSpec;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.commons.math3.ml.clustering.CentroidCluster;
import org.apache.commons.math3.ml.clustering.DoublePoint;
import org.apache.commons.math3.ml.clustering.KMeansPlusPlusClusterer;
import org.apache.commons.math3.ml.distance.EuclideanDistance;
import org.apache.commons.math3.random.JDKRandomGenerator;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.BenchmarkParams;
import smile.clustering.KMeans;
import smile.math.MathEx;

/**
 * 16-cluster scalar k-means against general-purpose Java peers, on a subsample they can finish:
 * the first 262,144 values (rows 0-63) of the 4096x4096 matrix ({@link WeightMatrix#SUBSAMPLE_TEXT}).
 * Peers run with their library defaults (Smile: k-means++ then at most 100 iterations, tolerance
 * 1e-4; Commons Math: k-means++ then iterations until no point moves). Ours runs per tensor, 4-bit,
 * on the same subsample (fast mode and exact), and on the full matrix.
 *
 * <p>Steady state for everyone: average time over 1 s iterations after 5 s of warm-up (a single
 * shot after two warm-ups timed our 5 ms call while parts of it were still interpreted). Commons
 * Math needs about 12 s per call, so its iterations are single calls, fewer of them.
 *
 * <p>Each method keeps the centroids it found; the trial's teardown scores them on the subsample
 * with one formula ({@link Sse}) and records the SSE in {@code target/bench-sse.json}, so the claim
 * "at least 20x faster at equal or lower SSE" can be checked from one run.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgs = {ForkArgs.HEAP, ForkArgs.GC, ForkArgs.YOUNG, ForkArgs.PRETOUCH, ForkArgs.NATIVE_ACCESS, ForkArgs.VECTOR})
@State(Scope.Benchmark)
public class PeerBenchmark {
    static final int K = 16;
    private static final int SEED = 7;
    private static final PalettizationSpec SPEC = PalettizationSpec.defaults();

    private float[] subsample;
    private double[][] smilePoints;
    private List<DoublePoint> commonsPoints;
    private TensorInput subsampleTensor;
    private TensorInput fullTensor;
    private Palettizer fast;
    private Palettizer exact;
    /** Centroids of the latest call, scored once at the end of the trial. */
    private double[] centroids;

    @Setup
    public void setup() {
        float[] full = WeightMatrix.weights(WeightMatrix.ROWS * WeightMatrix.COLS);
        subsample = WeightMatrix.subsample(full);
        smilePoints = new double[subsample.length][];
        commonsPoints = new ArrayList<>(subsample.length);
        for (int i = 0; i < subsample.length; i++) {
            smilePoints[i] = new double[] {subsample[i]};
            commonsPoints.add(new DoublePoint(smilePoints[i]));
        }
        subsampleTensor = TensorInput.of("subsample", subsample, WeightMatrix.SUBSAMPLE_ROWS, WeightMatrix.COLS);
        fullTensor = TensorInput.of("w", full, WeightMatrix.ROWS, WeightMatrix.COLS);
        int cores = Runtime.getRuntime().availableProcessors();
        fast = Palettizer.builder().workers(cores).build();
        exact = Palettizer.builder().workers(cores).options(EngineOptions.defaults().withFastMode(false)).build();
        System.out.println("\nsubsample: " + WeightMatrix.SUBSAMPLE_TEXT);
    }

    @TearDown
    public void tearDown(BenchmarkParams params) {
        fast.close();
        exact.close();
        double sse = Sse.of(subsample, centroids);
        System.out.printf("%nSSE of %s on the subsample: %.9g (recorded in %s)%n",
                Results.shortName(params.getBenchmark()), sse, SseRecord.file());
        SseRecord.put(params.getBenchmark(), sse);
    }

    @Benchmark
    public double[] smile() {
        MathEx.setSeed(SEED);
        KMeans model = KMeans.fit(smilePoints, K);
        centroids = new double[model.centroids.length];
        for (int i = 0; i < centroids.length; i++) {
            centroids[i] = model.centroids[i][0];
        }
        return centroids;
    }

    @Benchmark
    @Warmup(iterations = 1)
    @Measurement(iterations = 3)
    public double[] commonsMath() {
        // maxIterations -1 is the library default: iterate until no point changes cluster.
        KMeansPlusPlusClusterer<DoublePoint> clusterer =
                new KMeansPlusPlusClusterer<>(K, -1, new EuclideanDistance(), new JDKRandomGenerator(SEED));
        List<CentroidCluster<DoublePoint>> clusters = clusterer.cluster(commonsPoints);
        centroids = new double[clusters.size()];
        for (int i = 0; i < centroids.length; i++) {
            centroids[i] = clusters.get(i).getCenter().getPoint()[0];
        }
        return centroids;
    }

    /** Default fast mode: optimal k-means of the values rounded to fp16 and 4 decimals. */
    @Benchmark
    public double[] ours() {
        centroids = Sse.toDoubles(fast.palettize(subsampleTensor, SPEC).lut());
        return centroids;
    }

    /** Optimal k-means of the exact fp32 values. */
    @Benchmark
    public double[] oursNoFast() {
        centroids = Sse.toDoubles(exact.palettize(subsampleTensor, SPEC).lut());
        return centroids;
    }

    /** The full matrix's LUT, scored on the subsample like the others. */
    @Benchmark
    public double[] oursFullMatrix() {
        centroids = Sse.toDoubles(fast.palettize(fullTensor, SPEC).lut());
        return centroids;
    }
}
