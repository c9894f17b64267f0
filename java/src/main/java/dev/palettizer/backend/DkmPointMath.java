package dev.palettizer.backend;

import dev.palettizer.spec.DkmMode;

/**
 * The per-point math of one DKM iteration, shared by every pass implementation (and written so a kernel
 * can mirror it: a point, k centroids, a few k-sized scratch rows, no allocation).
 *
 * <p>Forward, for a point x against input centroids C (coremltools' {@code diff_palettize_seq}):
 * {@code d_j = |x - c_j|^2} (cdist squared); with keepSparsity a non-zero point's {@code d_0} is the constant
 * {@link #MASKED_DISTANCE}; with prune, {@code d_0 -= prune}. Attention: dkm
 * {@code a_j = max(softmax_j(-d/tau), ATTENTION_FLOOR)}; gsm {@code a_j = softmax_j(-d_j/tau + g_j)} with Gumbel
 * noise g (torch's {@code gumbel_softmax(-d/tau)} at its own temperature 1: the noise is added to the
 * logits, not divided by tau); hard: one-hot on the smallest d (first on ties).
 *
 * <p>Backward, exact reverse mode of that map: given the upstream gradient {@code ga_j} of the attention,
 * {@code gs_j = ga_j [s_j >= floor]} (torch's clamp passes the gradient where the input is inside the
 * bound), {@code gl_j = s_j (gs_j - sum_m s_m gs_m)}, {@code gd_j = -gl_j / tau} (0 where d_j was the
 * constant mask), then {@code dx += sum_j 2 gd_j (x - c_j)} and {@code dC_j -= 2 gd_j (x - c_j)}. In
 * hard mode the attention is a constant (coremltools builds it as a fresh leaf tensor), so ga stops there.
 *
 * <p>The upstream {@code ga_j} of a point with multiplicity m (1 for an element; a distinct value's
 * count on the uniquified route) and summed output gradient G is {@code G . c'_j + m (e_j . x - f_j)}:
 * the first term only at the last iteration (c' its output centroids), the second from the centroid update
 * {@code c_j = M_j / S_j} with {@code e_j = dL/dc_j / S_j}, {@code f_j = e_j . c_j}; the update itself
 * adds {@code m sum_j a_j e_j} to dx. Everything is linear in (G, m), which is what lets the uniquified
 * route split a value's gradient into {@code A_v g_i + B_v}.
 */
public final class DkmPointMath {
    /** coremltools' zero_threshold default: dkm attention is clamped below at this value. */
    public static final double ATTENTION_FLOOR = 1e-7;
    /** coremltools' distance for non-zero points to the pinned zero centroid: 1 / zero_threshold. */
    public static final double MASKED_DISTANCE = 1 / ATTENTION_FLOOR;

    private DkmPointMath() {}

    /** k-sized scratch rows of one worker. */
    public static final class Scratch {
        final double[] d;
        final double[] s;
        final double[] a;
        final double[] ga;
        final double[] dx;

        public Scratch(int k, int dim) {
            d = new double[k];
            s = new double[k];
            a = new double[k];
            ga = new double[k];
            dx = new double[dim];
        }

        /** The attention row of the last {@link #attention} call. */
        public double[] attentionRow() {
            return a;
        }

        /** The point gradient of the last {@link #backward} call. */
        public double[] pointGradient() {
            return dx;
        }
    }

    /**
     * Fills {@code sc.a} (and the pre-clamp softmax {@code sc.s}) for point {@code x[xo..xo+dim)} against
     * centroids {@code c[co..co+k*dim)}; returns the point's inertia contribution (smallest modified distance).
     */
    public static double attention(float[] x, int xo, double[] c, int co, DkmParams p, Scratch sc) {
        int k = p.k();
        int dim = p.dim();
        double[] d = sc.d;
        double best = Double.POSITIVE_INFINITY;
        int arg = 0;
        boolean nonZero = false;
        for (int t = 0; t < dim; t++) {
            nonZero |= x[xo + t] != 0;
        }
        for (int j = 0; j < k; j++) {
            double sum = 0;
            for (int t = 0; t < dim; t++) {
                double diff = x[xo + t] - c[co + j * dim + t];
                sum += diff * diff;
            }
            d[j] = sum;
        }
        if (p.keepSparsity() && nonZero) {
            d[0] = MASKED_DISTANCE;
        }
        if (p.prune() > 0) {
            d[0] -= p.prune();
        }
        for (int j = 0; j < k; j++) {
            if (d[j] < best) {
                best = d[j];
                arg = j;
            }
        }
        double[] s = sc.s;
        double[] a = sc.a;
        if (p.mode() == DkmMode.HARD) {
            for (int j = 0; j < k; j++) {
                s[j] = j == arg ? 1 : 0;
                a[j] = s[j];
            }
            return best;
        }
        double invTau = 1 / p.tau();
        double maxLogit = Double.NEGATIVE_INFINITY;
        long pointKey = p.mode() == DkmMode.GSM ? pointKey(p.noiseKey(), x, xo, dim) : 0;
        for (int j = 0; j < k; j++) {
            double logit = -d[j] * invTau;
            if (p.mode() == DkmMode.GSM) {
                logit += gumbel(pointKey, j);
            }
            s[j] = logit;
            maxLogit = Math.max(maxLogit, logit);
        }
        double total = 0;
        for (int j = 0; j < k; j++) {
            s[j] = Math.exp(s[j] - maxLogit);
            total += s[j];
        }
        for (int j = 0; j < k; j++) {
            s[j] /= total;
            a[j] = p.mode() == DkmMode.DKM ? Math.max(s[j], ATTENTION_FLOOR) : s[j];
        }
        return best;
    }

    /**
     * Reverse mode of one iteration for one point, after {@link #attention} of the same point filled
     * {@code sc}: writes the point's gradient to {@code sc.dx} and adds its share of dL/dC_in into
     * {@code gcIn[go..go+k*dim)}.
     *
     * @param g     summed output gradient of the point (dim values at {@code gOff}), or null when not the last iteration
     * @param cOut  the iteration's output centroids at {@code co2} (read only when g is not null)
     * @param m     multiplicity of the point in the centroid update
     * @param e     dL/dc_j / S_j at {@code eo} (k*dim), f: e_j . u_j at {@code fo} (k)
     */
    public static void backward(float[] x, int xo, double[] c, int co, double[] g, int gOff, double[] cOut, int co2,
                                double m, double[] e, int eo, double[] f, int fo, DkmParams p, Scratch sc,
                                double[] gcIn, int go) {
        int k = p.k();
        int dim = p.dim();
        double[] a = sc.a;
        double[] dx = sc.dx;
        for (int t = 0; t < dim; t++) {
            double sum = 0;
            for (int j = 0; j < k; j++) {
                sum += a[j] * e[eo + j * dim + t];
            }
            dx[t] = m * sum;
        }
        if (p.mode() == DkmMode.HARD) {
            return;
        }
        double[] s = sc.s;
        double[] ga = sc.ga;
        double dot = 0;
        for (int j = 0; j < k; j++) {
            double v = 0;
            for (int t = 0; t < dim; t++) {
                if (g != null) {
                    v += g[gOff + t] * cOut[co2 + j * dim + t];
                }
                v += m * e[eo + j * dim + t] * x[xo + t];
            }
            v -= m * f[fo + j];
            if (p.mode() == DkmMode.DKM && !(s[j] >= ATTENTION_FLOOR)) {
                v = 0;
            }
            ga[j] = v;
            dot += s[j] * v;
        }
        boolean nonZero = false;
        for (int t = 0; t < dim; t++) {
            nonZero |= x[xo + t] != 0;
        }
        double invTau = 1 / p.tau();
        for (int j = 0; j < k; j++) {
            double gd = -s[j] * (ga[j] - dot) * invTau;
            if (j == 0 && p.keepSparsity() && nonZero) {
                continue;
            }
            for (int t = 0; t < dim; t++) {
                double diff = x[xo + t] - c[co + j * dim + t];
                dx[t] += 2 * gd * diff;
                gcIn[go + j * dim + t] -= 2 * gd * diff;
            }
        }
    }

    /**
     * Gumbel noise keyed by (seed, step, iteration) through {@code noiseKey}, the point's float bits and j:
     * a counter-based hash, so backward recomputes it without storage, and equal points (equal values)
     * draw equal noise, which keeps the uniquified route exact. Equal-valued elements therefore share
     * their noise; this is the one place where gsm here differs from torch's per-element draws.
     */
    public static double gumbel(long pointKey, int j) {
        long h = mix(pointKey + 0x9E3779B97F4A7C15L * (j + 1));
        double u = ((h >>> 11) + 0.5) * 0x1.0p-53;
        return -Math.log(-Math.log(u));
    }

    /** Key of (seed, step, iteration) for {@link DkmParams#noiseKey()}. */
    public static long noiseKey(long seed, long step, int iteration) {
        return mix(mix(mix(seed) ^ step) ^ iteration);
    }

    /** Noise key of one point: its float bits hashed into the iteration's key. */
    public static long pointKey(long noiseKey, float[] x, int xo, int dim) {
        long h = noiseKey;
        for (int t = 0; t < dim; t++) {
            h = mix(h ^ (Float.floatToIntBits(x[xo + t]) & 0xffffffffL));
        }
        return h;
    }

    /** splitmix64's finaliser. */
    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
