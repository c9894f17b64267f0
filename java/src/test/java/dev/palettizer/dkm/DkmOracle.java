package dev.palettizer.dkm;

import dev.palettizer.backend.DkmLayout;
import dev.palettizer.backend.DkmPointMath;
import dev.palettizer.spec.DkmMode;
import dev.palettizer.spec.DkmSpec;

/**
 * Test-only reference: DKM of one partition with the n x k attention of every iteration materialised,
 * in double, written straight from the formulas (coremltools' diff_palettize_seq), not from the engine.
 * Quantization residuals and Gumbel noise can be frozen, so finite differences see the declared
 * convention: {@code w -> A(w)(C_T(w) + r)} with r = Q(C_T(w0)) - C_T(w0) fixed at the base point, and
 * noise fixed at the base point's draws.
 */
final class DkmOracle {
    final double[] out;
    final int iterations;
    final double[][] residuals;
    final double[][] noise;
    final double[] finalCentroids;

    private DkmOracle(double[] out, int iterations, double[][] residuals, double[][] noise, double[] finalCentroids) {
        this.out = out;
        this.iterations = iterations;
        this.residuals = residuals;
        this.noise = noise;
        this.finalCentroids = finalCentroids;
    }

    /**
     * @param x         n points of dim values (point-major)
     * @param c0        k*dim start centroids
     * @param step      the weight's step (for the gsm noise of the base point)
     * @param frozenR   residuals per iteration, or null to quantize for real
     * @param frozenG   noise per iteration (n*k), or null to draw it from the points' bits
     * @param fixedT    iterations to run, or 0 for the epsilon rule
     */
    static DkmOracle run(double[] x, int n, int dim, double[] c0, DkmSpec spec, long step,
                         double[][] frozenR, double[][] frozenG, int fixedT) {
        int k = spec.lutSize();
        boolean keepSparsity = spec.enforceZero() && spec.pruneThreshold() == 0;
        double[] c = c0.clone();
        if (keepSparsity) {
            for (int t = 0; t < dim; t++) {
                c[t] = 0;
            }
        }
        double[][] residuals = new double[spec.maxIter() + 1][];
        double[][] noise = new double[spec.maxIter() + 1][];
        double[][] a = new double[n][k];
        double last = 0;
        int iters = 0;
        int maxT = fixedT > 0 ? fixedT : spec.maxIter();
        for (int it = 1; it <= maxT; it++) {
            double[][] d = new double[n][k];
            double inertia = 0;
            noise[it] = new double[n * k];
            for (int i = 0; i < n; i++) {
                boolean nonZero = false;
                for (int t = 0; t < dim; t++) {
                    nonZero |= x[i * dim + t] != 0;
                }
                double best = Double.POSITIVE_INFINITY;
                int arg = 0;
                for (int j = 0; j < k; j++) {
                    double s = 0;
                    for (int t = 0; t < dim; t++) {
                        double diff = x[i * dim + t] - c[j * dim + t];
                        s += diff * diff;
                    }
                    d[i][j] = s;
                }
                if (keepSparsity && nonZero) {
                    d[i][0] = DkmPointMath.MASKED_DISTANCE;
                }
                d[i][0] -= spec.pruneThreshold();
                for (int j = 0; j < k; j++) {
                    if (d[i][j] < best) {
                        best = d[i][j];
                        arg = j;
                    }
                }
                inertia += best;
                if (spec.mode() == DkmMode.HARD) {
                    for (int j = 0; j < k; j++) {
                        a[i][j] = j == arg ? 1 : 0;
                    }
                    continue;
                }
                float[] bits = new float[dim];
                for (int t = 0; t < dim; t++) {
                    bits[t] = (float) x[i * dim + t];
                }
                long pk = DkmPointMath.pointKey(DkmPointMath.noiseKey(spec.seed(), step, it), bits, 0, dim);
                double max = Double.NEGATIVE_INFINITY;
                double[] logit = new double[k];
                for (int j = 0; j < k; j++) {
                    double g = 0;
                    if (spec.mode() == DkmMode.GSM) {
                        g = frozenG != null ? frozenG[it][i * k + j] : DkmPointMath.gumbel(pk, j);
                    }
                    noise[it][i * k + j] = g;
                    logit[j] = -d[i][j] / spec.tau() + g;
                    max = Math.max(max, logit[j]);
                }
                double sum = 0;
                for (int j = 0; j < k; j++) {
                    sum += Math.exp(logit[j] - max);
                }
                for (int j = 0; j < k; j++) {
                    double s = Math.exp(logit[j] - max) / sum;
                    a[i][j] = spec.mode() == DkmMode.DKM ? Math.max(s, DkmPointMath.ATTENTION_FLOOR) : s;
                }
            }
            double[] u = new double[k * dim];
            for (int j = 0; j < k; j++) {
                double s = 0;
                double[] m = new double[dim];
                for (int i = 0; i < n; i++) {
                    s += a[i][j];
                    for (int t = 0; t < dim; t++) {
                        m[t] += a[i][j] * x[i * dim + t];
                    }
                }
                for (int t = 0; t < dim; t++) {
                    u[j * dim + t] = s > 0 ? m[t] / s : c[j * dim + t];
                }
            }
            double[] q = u.clone();
            if (frozenR != null) {
                for (int i = 0; i < q.length; i++) {
                    q[i] += frozenR[it][i];
                }
            } else {
                LutFakeQuant.apply(spec.clusterDType(), spec.quantMin(), spec.quantMax(), q, 0, q.length);
            }
            residuals[it] = new double[q.length];
            for (int i = 0; i < q.length; i++) {
                residuals[it][i] = q[i] - u[i];
            }
            if (spec.enforceZero()) {
                for (int t = 0; t < dim; t++) {
                    q[t] = 0;
                }
            }
            c = q;
            iters = it;
            if (fixedT == 0 && it > 1 && last != 0 && Math.abs(last - inertia) <= spec.epsilon()) {
                break;
            }
            last = inertia;
        }
        double[] out = new double[n * dim];
        for (int i = 0; i < n; i++) {
            for (int t = 0; t < dim; t++) {
                double v = 0;
                for (int j = 0; j < k; j++) {
                    v += a[i][j] * c[j * dim + t];
                }
                out[i * dim + t] = v;
            }
        }
        return new DkmOracle(out, iters, residuals, noise, c);
    }

    /** The points of partition p of a flat weight, point-major, and their element indices. */
    static double[] points(float[] w, DkmLayout l, int p, long[] elementOf) {
        int n = (int) l.pointsIn(p);
        double[] x = new double[n * l.dim()];
        for (int j = 0; j < n; j++) {
            long q = l.pointOfPartition(p, j);
            for (int t = 0; t < l.dim(); t++) {
                long e = l.element(q, t);
                x[j * l.dim() + t] = w[(int) e];
                elementOf[j * l.dim() + t] = e;
            }
        }
        return x;
    }
}
