package dev.palettizer.dkm;

import dev.palettizer.backend.DkmLayout;
import dev.palettizer.backend.JavaDkmPasses;
import dev.palettizer.spec.ClusterDType;
import dev.palettizer.spec.DkmMode;
import dev.palettizer.spec.DkmSpec;
import dev.palettizer.spec.KMeansInit;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Runs one forward and backward of a {@link DkmWeight} and measures it against {@link DkmOracle}: the
 * forward output, and central finite differences (in double) of {@code L(w) = sum_i v_i out_i(w)} through
 * the oracle with quantization residuals, Gumbel noise and the iteration count frozen at the base point
 * (the declared conventions), both along a random direction and element by element on a sample.
 */
final class DkmGradientCheck {
    static final JavaDkmPasses PASSES = new JavaDkmPasses(2);

    /** Largest forward error relative to max |w|. */
    double forwardError;
    /** Largest per-element gradient error relative to max |gradient|. */
    double elementError;
    /** Directional-derivative error relative to sum |gradient_i * direction_i|. */
    double directionalError;
    String route;
    /** Iterations the oracle's own epsilon rule ran (largest over partitions). */
    int oracleIterations;
    float[] gradient;

    static DkmSpec spec(int nBits, int dim, int maxIter, double tau, double eps, DkmMode mode, ClusterDType type,
                        boolean enforceZero, double prune, boolean extra, long partitionSize, List<Integer> permute) {
        int qmin = type == ClusterDType.U8 ? 0 : -128;
        int qmax = type == ClusterDType.U8 ? 255 : 127;
        return new DkmSpec(nBits, dim, maxIter, tau, eps, 0.0, mode, type, qmin, qmax, enforceZero, prune, extra, 0.05,
                KMeansInit.CPU_KMEANS_PP, 1024, partitionSize, permute, 42L);
    }

    static DkmSpec simple(int nBits, int dim, double tau, DkmMode mode) {
        return spec(nBits, dim, 3, tau, 0.0, mode, ClusterDType.F32, false, 0.0, false, 2_000_000_000L, List.of());
    }

    static float[] gaussian(int n, double scale, boolean fp16, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] w = new float[n];
        for (int i = 0; i < n; i++) {
            float v = (float) (scale * r.nextGaussian());
            w[i] = fp16 ? Float.float16ToFloat(Float.floatToFloat16(v)) : v;
        }
        return w;
    }

    static DkmGradientCheck run(DkmSpec spec, long[] shape, float[] w, boolean allowValues, boolean planted) {
        DkmWeight weight = new DkmWeight("test.weight", shape, spec, PASSES);
        weight.valuesRouteAllowed = allowValues;
        weight.dropMeanShiftTerm = planted;
        return run(weight, w, 20);
    }

    static DkmGradientCheck run(DkmWeight weight, float[] w, int sampledElements) {
        DkmSpec spec = weight.spec();
        int n = w.length;
        float[] out = new float[n];
        weight.forward(w, out);
        DkmGradientCheck c = new DkmGradientCheck();
        c.route = weight.stats().route();
        double[] c0 = weight.startCentroids();
        SplittableRandom r = new SplittableRandom(7);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) r.nextGaussian();
        }
        float[] grad = new float[n];
        weight.backward(v, grad);
        c.gradient = grad;
        double wScale = 0;
        double gScale = 0;
        for (int i = 0; i < n; i++) {
            wScale = Math.max(wScale, Math.abs(w[i]));
            gScale = Math.max(gScale, Math.abs(grad[i]));
        }
        DkmLayout l = weight.layout();
        int dim = l.dim();
        int stride = spec.lutSize() * dim;
        double h = 1e-6 * wScale;
        for (int p = 0; p < l.partitions(); p++) {
            int np = (int) l.pointsIn(p);
            long[] elementOf = new long[np * dim];
            double[] x = DkmOracle.points(w, l, p, elementOf);
            double[] c0p = java.util.Arrays.copyOfRange(c0, p * stride, (p + 1) * stride);
            long step = weight.stats().step();
            // The oracle runs the engine's iteration count: with epsilon 0 the stop rule compares inertias for
            // exact equality, which summation order can flip; the rule itself is checked where it is not borderline.
            DkmOracle base = DkmOracle.run(x, np, dim, c0p, spec, step, null, null, weight.stats().iterations()[p]);
            DkmOracle byRule = DkmOracle.run(x, np, dim, c0p, spec, step, null, null, 0);
            c.oracleIterations = Math.max(c.oracleIterations, byRule.iterations);
            for (int i = 0; i < np * dim; i++) {
                c.forwardError = Math.max(c.forwardError, Math.abs(base.out[i] - out[(int) elementOf[i]]) / wScale);
            }
            double[] dir = new double[np * dim];
            double dot = 0;
            double dotAbs = 0;
            for (int i = 0; i < dir.length; i++) {
                dir[i] = x[i] == 0 ? 0 : r.nextBoolean() ? 1 : -1;
                dot += dir[i] * grad[(int) elementOf[i]];
                dotAbs += Math.abs(dir[i] * grad[(int) elementOf[i]]);
            }
            double fd = (loss(x, dir, h, np, dim, c0p, spec, step, base, v, elementOf)
                    - loss(x, dir, -h, np, dim, c0p, spec, step, base, v, elementOf)) / (2 * h);
            c.directionalError = Math.max(c.directionalError, Math.abs(fd - dot) / Math.max(dotAbs, 1e-30));
            for (int s = 0; s < sampledElements; s++) {
                int i = r.nextInt(np * dim);
                if (x[i] == 0) {
                    continue;
                }
                double[] unit = new double[np * dim];
                unit[i] = 1;
                double fdi = (loss(x, unit, h, np, dim, c0p, spec, step, base, v, elementOf)
                        - loss(x, unit, -h, np, dim, c0p, spec, step, base, v, elementOf)) / (2 * h);
                c.elementError = Math.max(c.elementError, Math.abs(fdi - grad[(int) elementOf[i]]) / gScale);
            }
        }
        return c;
    }

    private static double loss(double[] x, double[] dir, double h, int np, int dim, double[] c0, DkmSpec spec, long step,
                               DkmOracle base, float[] v, long[] elementOf) {
        double[] xs = x.clone();
        for (int i = 0; i < xs.length; i++) {
            xs[i] += h * dir[i];
        }
        DkmOracle o = DkmOracle.run(xs, np, dim, c0, spec, step, base.residuals, base.noise, base.iterations);
        double sum = 0;
        for (int i = 0; i < xs.length; i++) {
            sum += v[(int) elementOf[i]] * o.out[i];
        }
        return sum;
    }

    @Override
    public String toString() {
        return "route " + route + ", forward " + forwardError + ", element " + elementError + ", directional " + directionalError;
    }
}
