/*
 * Shared core of the training-time DKM passes (dev.palettizer.backend.DkmPasses), written in the same
 * dialect as palettizer_core.h (see ../README.md, "Dialect contract") and included after it.
 * The per-point math mirrors dev.palettizer.backend.DkmPointMath operation by operation, in double;
 * only exp and log may differ from Java's in the last bits.
 *
 * Data: every per-element array is F32 in element order (the host converts F16/BF16); tables are double,
 * [partition][k][dim] for centroids and e, [partition][k] for f, [partition][65536] for per-value tables.
 *
 * Summation order, fixed for a given work-group size (so the same bits on every run):
 *  - attention / gradient sums and dL/dC_in: each work-group is one tile of PAL_WG consecutive points of
 *    one partition (in the partition's point order, DkmLayout.pointOfPartition); a tile sums its points
 *    by a binary tree in local memory, then dkm_reduce_tiles adds a partition's tiles in tile order.
 *  - per-value sums and counts: order-free integer sums (counts; g in a per-key fixed point, see
 *    backend/FixedPointSums.java), added with atomics: the same bits as Java in any order.
 */

/* Largest k and cluster_dim the per-point rows hold (private arrays need a compile-time size). */
#define DKM_MAX_K 256
#define DKM_MAX_DIM 8
#define DKM_MODE_DKM 0
#define DKM_MODE_GSM 1
#define DKM_MODE_HARD 2
/* DkmPointMath.ATTENTION_FLOOR and MASKED_DISTANCE. */
#define DKM_FLOOR 1e-7
#define DKM_MASKED 1e7

/* DkmLayout, passed by value as five longs. */
typedef struct {
    pal_long elements;
    pal_long inner;
    pal_long axis_len;
    pal_long dim;
    pal_long partition_channels;
} dkm_layout;

/* DkmParams, passed by value as six longs (doubles as their raw bits). */
typedef struct {
    pal_long k;
    pal_long mode;
    pal_long keep_sparsity;
    pal_long noise_key;
    pal_long tau_bits;
    pal_long prune_bits;
} dkm_params;

/* ------------------------------------------------------------------ layout (DkmLayout) */

PAL_DEVICE pal_long dkm_points_in(dkm_layout L, pal_long p) {
    pal_long c0 = p * L.partition_channels;
    pal_long c1 = c0 + L.partition_channels < L.axis_len ? c0 + L.partition_channels : L.axis_len;
    return (L.elements / (L.axis_len * L.inner)) * ((c1 - c0) / L.dim) * L.inner;
}

PAL_DEVICE pal_long dkm_point_of_partition(dkm_layout L, pal_long p, pal_long j) {
    pal_long b0 = p * L.partition_channels / L.dim;
    pal_long c1 = (p + 1) * L.partition_channels;
    pal_long b1 = (c1 < L.axis_len ? c1 : L.axis_len) / L.dim;
    pal_long per_outer = (b1 - b0) * L.inner;
    pal_long o = j / per_outer;
    pal_long rem = j - o * per_outer;
    pal_long b = b0 + rem / L.inner;
    pal_long r = rem % L.inner;
    return (o * (L.axis_len / L.dim) + b) * L.inner + r;
}

/* First element of component d of point q. */
PAL_DEVICE pal_long dkm_element(dkm_layout L, pal_long q, pal_long d) {
    pal_long u = q / L.inner;
    return u * L.dim * L.inner + d * L.inner + (q - u * L.inner);
}

PAL_DEVICE pal_long dkm_partition_of_point(dkm_layout L, pal_long q) {
    pal_long u = q / L.inner;
    return (u % (L.axis_len / L.dim)) * L.dim / L.partition_channels;
}

/* The tile's partition: the last p with tile_start[p] <= tile (tile_start has partitions + 1 entries). */
PAL_DEVICE pal_long dkm_tile_partition(PAL_GLOBAL const pal_long* tile_start, pal_long partitions, pal_long tile) {
    pal_long lo = 0;
    pal_long hi = partitions - 1;
    while (lo < hi) {
        pal_long mid = (lo + hi + 1) / 2;
        if (tile_start[mid] <= tile) {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    return lo;
}

/* ------------------------------------------------------------------ value keys (DkmPasses.ValueKeys) */

#define DKM_KEYS_F16 0
#define DKM_KEYS_BF16 1

/* Float.float16ToFloat. */
PAL_DEVICE float dkm_half_to_float(pal_uint h) {
    pal_uint sign = (h & 0x8000u) << 16;
    pal_uint e = (h >> 10) & 0x1fu;
    pal_uint m = h & 0x3ffu;
    if (e == 31u) {
        return PAL_AS_FLOAT(sign | 0x7f800000u | (m << 13));
    }
    if (e == 0u) {
        /* zero or subnormal: m * 2^-24, exact in float */
        float v = (float) m * 5.9604644775390625e-8f;
        return sign != 0u ? -v : v;
    }
    return PAL_AS_FLOAT(sign | ((e + 112u) << 23) | (m << 13));
}

/* ValueKeys.key: the 16-bit pattern of x, or -1 when x is not exactly a value of that type. */
PAL_DEVICE int dkm_key(float x, int keys) {
    pal_uint b = PAL_AS_UINT(x);
    if (keys == DKM_KEYS_F16) {
        pal_uint h = pal_fp16_bits(x);
        return PAL_AS_UINT(dkm_half_to_float(h)) == b ? (int) h : -1;
    }
    return (b & 0xffffu) == 0u && x == x ? (int) (b >> 16) : -1;
}

/* ------------------------------------------------------------------ Gumbel noise (DkmPointMath) */

PAL_DEVICE pal_ulong dkm_mix(pal_ulong z) {
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ul;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBul;
    return z ^ (z >> 31);
}

/* Float.floatToIntBits: NaNs collapse to the canonical one. */
PAL_DEVICE pal_ulong dkm_float_bits(float x) {
    return x != x ? 0x7fc00000ul : (pal_ulong) PAL_AS_UINT(x);
}

PAL_DEVICE double dkm_gumbel(pal_ulong point_key, int j) {
    pal_ulong h = dkm_mix(point_key + 0x9E3779B97F4A7C15ul * (pal_ulong) (j + 1));
    double u = ((double) (h >> 11) + 0.5) * 1.1102230246251565e-16; /* 2^-53 */
    return -log(-log(u));
}

/* ------------------------------------------------------------------ per-point math (DkmPointMath) */

PAL_DEVICE int dkm_non_zero(const float* x, int dim) {
    int nz = 0;
    for (int t = 0; t < dim; t++) {
        nz |= x[t] != 0.0f;
    }
    return nz;
}

/* DkmPointMath.attention: fills s (pre-clamp softmax) and a; d is scratch; returns the inertia term. */
PAL_DEVICE double dkm_attention(const float* x, PAL_GLOBAL const double* c, int k, int dim, dkm_params P,
                                double* d, double* s, double* a) {
    double best = PAL_AS_DOUBLE(0x7ff0000000000000l);
    int arg = 0;
    int nz = dkm_non_zero(x, dim);
    for (int j = 0; j < k; j++) {
        double sum = 0.0;
        for (int t = 0; t < dim; t++) {
            double diff = (double) x[t] - c[j * dim + t];
            sum += PAL_DMUL(diff, diff);
        }
        d[j] = sum;
    }
    if (P.keep_sparsity != 0 && nz) {
        d[0] = DKM_MASKED;
    }
    double prune = PAL_AS_DOUBLE(P.prune_bits);
    if (prune > 0.0) {
        d[0] -= prune;
    }
    for (int j = 0; j < k; j++) {
        if (d[j] < best) {
            best = d[j];
            arg = j;
        }
    }
    if (P.mode == DKM_MODE_HARD) {
        for (int j = 0; j < k; j++) {
            s[j] = j == arg ? 1.0 : 0.0;
            a[j] = s[j];
        }
        return best;
    }
    double inv_tau = 1.0 / PAL_AS_DOUBLE(P.tau_bits);
    double max_logit = -PAL_AS_DOUBLE(0x7ff0000000000000l);
    pal_ulong point_key = (pal_ulong) P.noise_key;
    if (P.mode == DKM_MODE_GSM) {
        for (int t = 0; t < dim; t++) {
            point_key = dkm_mix(point_key ^ dkm_float_bits(x[t]));
        }
    }
    for (int j = 0; j < k; j++) {
        double logit = PAL_DMUL(-d[j], inv_tau);
        if (P.mode == DKM_MODE_GSM) {
            logit += dkm_gumbel(point_key, j);
        }
        s[j] = logit;
        max_logit = logit > max_logit || logit != logit ? logit : max_logit;
    }
    double total = 0.0;
    for (int j = 0; j < k; j++) {
        s[j] = exp(s[j] - max_logit);
        total += s[j];
    }
    for (int j = 0; j < k; j++) {
        s[j] /= total;
        a[j] = P.mode == DKM_MODE_DKM && s[j] < DKM_FLOOR ? DKM_FLOOR : s[j]; /* Math.max: NaN stays NaN */
    }
    return best;
}

/*
 * DkmPointMath.backward with multiplicity 1, after dkm_attention of the same point: writes the point
 * gradient to dx and, in gd, the factor of every centroid's dL/dC_in share (the share of (j, t) is
 * -2 gd[j] (x_t - c_jt); gd[j] is 0 where the share is skipped). g: the point's output gradient, or
 * NULL when not the partition's last iteration.
 */
PAL_DEVICE void dkm_backward(const float* x, PAL_GLOBAL const double* c, const float* g, PAL_GLOBAL const double* c_out,
                             PAL_GLOBAL const double* e, PAL_GLOBAL const double* f, int k, int dim, dkm_params P,
                             const double* s, const double* a, double* gd, double* dx) {
    for (int t = 0; t < dim; t++) {
        double sum = 0.0;
        for (int j = 0; j < k; j++) {
            sum += PAL_DMUL(a[j], e[j * dim + t]);
        }
        dx[t] = sum; /* m * sum with m = 1 */
    }
    if (P.mode == DKM_MODE_HARD) {
        for (int j = 0; j < k; j++) {
            gd[j] = 0.0;
        }
        return;
    }
    double dot = 0.0;
    for (int j = 0; j < k; j++) {
        double v = 0.0;
        for (int t = 0; t < dim; t++) {
            if (g != 0) {
                v += PAL_DMUL((double) g[t], c_out[j * dim + t]);
            }
            v += PAL_DMUL(e[j * dim + t], (double) x[t]);
        }
        v -= f[j];
        if (P.mode == DKM_MODE_DKM && !(s[j] >= DKM_FLOOR)) {
            v = 0.0;
        }
        gd[j] = v; /* ga_j until the loop below */
        dot += PAL_DMUL(s[j], v);
    }
    int nz = dkm_non_zero(x, dim);
    double inv_tau = 1.0 / PAL_AS_DOUBLE(P.tau_bits);
    for (int j = 0; j < k; j++) {
        double gdj = PAL_DMUL(PAL_DMUL(-s[j], gd[j] - dot), inv_tau);
        if (j == 0 && P.keep_sparsity != 0 && nz) {
            gd[j] = 0.0;
            continue;
        }
        gd[j] = gdj;
        for (int t = 0; t < dim; t++) {
            double diff = (double) x[t] - c[j * dim + t];
            dx[t] += PAL_DMUL(PAL_DMUL(2.0, gdj), diff);
        }
    }
}

/* Loads point q's components (element order) into x. */
PAL_DEVICE void dkm_load(dkm_layout L, pal_long q, PAL_GLOBAL const float* src, float* x) {
    for (int t = 0; t < (int) L.dim; t++) {
        x[t] = src[dkm_element(L, q, t)];
    }
}

/* Binary-tree sum of one value per work-item; work-item 0 gets the total. Every work-item must call it. */
PAL_DEVICE double dkm_tile_sum(double v, PAL_LOCAL double* scratch) {
    int lid = PAL_LOCAL_ID();
    scratch[lid] = v;
    PAL_BARRIER_LOCAL();
    for (int half_width = PAL_WG / 2; half_width > 0; half_width >>= 1) {
        if (lid < half_width) {
            scratch[lid] += scratch[lid + half_width];
        }
        PAL_BARRIER_LOCAL();
    }
    double total = scratch[0];
    PAL_BARRIER_LOCAL();
    return total;
}

/* ------------------------------------------------------------------ tile passes (one work-group per tile) */

#define DKM_SUMS_ATTENTION 0
#define DKM_SUMS_GRADIENT 1

/*
 * One tile of attentionSums (kind DKM_SUMS_ATTENTION: width k + k*dim + 1: S_j, M_jt, inertia) or of
 * attentionGradientSums (kind DKM_SUMS_GRADIENT: width k*dim: sum a_j g_t). partials: [tile][width].
 */
PAL_DEVICE void dkm_sums_tile(dkm_layout L, dkm_params P, int kind, PAL_GLOBAL const float* w, PAL_GLOBAL const float* g,
                              PAL_GLOBAL const double* c_in, PAL_GLOBAL const pal_uchar* active,
                              PAL_GLOBAL const pal_long* tile_start, pal_long partitions, pal_long tile,
                              PAL_GLOBAL double* partials, PAL_LOCAL double* scratch) {
    int k = (int) P.k;
    int dim = (int) L.dim;
    int width = kind == DKM_SUMS_ATTENTION ? k + k * dim + 1 : k * dim;
    pal_long p = dkm_tile_partition(tile_start, partitions, tile);
    PAL_GLOBAL double* out = partials + tile * width;
    int lid = PAL_LOCAL_ID();
    if (active[p] == 0) { /* uniform over the work-group */
        for (int c = lid; c < width; c += PAL_WG) {
            out[c] = 0.0;
        }
        return;
    }
    pal_long j = (tile - tile_start[p]) * PAL_WG + lid;
    int valid = j < dkm_points_in(L, p);
    float x[DKM_MAX_DIM];
    float gp[DKM_MAX_DIM];
    double d[DKM_MAX_K];
    double s[DKM_MAX_K];
    double a[DKM_MAX_K];
    double inertia = 0.0;
    PAL_GLOBAL const double* c = c_in + p * k * dim;
    if (valid) {
        pal_long q = dkm_point_of_partition(L, p, j);
        dkm_load(L, q, w, x);
        if (kind == DKM_SUMS_GRADIENT) {
            dkm_load(L, q, g, gp);
        }
        inertia = dkm_attention(x, c, k, dim, P, d, s, a);
    }
    for (int col = 0; col < width; col++) {
        double v = 0.0;
        if (valid) {
            if (kind == DKM_SUMS_GRADIENT) {
                v = PAL_DMUL(a[col / dim], (double) gp[col % dim]);
            } else if (col < k) {
                v = a[col];
            } else if (col < width - 1) {
                v = PAL_DMUL(a[(col - k) / dim], (double) x[(col - k) % dim]);
            } else {
                v = inertia;
            }
        }
        double total = dkm_tile_sum(v, scratch);
        if (lid == 0) {
            out[col] = total;
        }
    }
}

/* One work-item per (partition, column): the partition's tiles added in tile order. */
PAL_DEVICE void dkm_reduce_tiles_item(PAL_GLOBAL const double* partials, PAL_GLOBAL const pal_long* tile_start,
                                      pal_long partitions, pal_long width, pal_long item, PAL_GLOBAL double* out) {
    pal_long p = item / width;
    pal_long col = item - p * width;
    double sum = 0.0;
    for (pal_long t = tile_start[p]; t < tile_start[p + 1]; t++) {
        sum += partials[t * width + col];
    }
    out[item] = sum;
}

/* attentionApply for point j of the tile: out = sum_j a_j c_out_j, in partitions with active[p]. */
PAL_DEVICE void dkm_apply_tile(dkm_layout L, dkm_params P, PAL_GLOBAL const float* w, PAL_GLOBAL float* out,
                               PAL_GLOBAL const double* c_in, PAL_GLOBAL const double* c_out,
                               PAL_GLOBAL const pal_uchar* active, PAL_GLOBAL const pal_long* tile_start,
                               pal_long partitions, pal_long tile) {
    int k = (int) P.k;
    int dim = (int) L.dim;
    pal_long p = dkm_tile_partition(tile_start, partitions, tile);
    pal_long j = (tile - tile_start[p]) * PAL_WG + PAL_LOCAL_ID();
    if (active[p] == 0 || j >= dkm_points_in(L, p)) {
        return;
    }
    float x[DKM_MAX_DIM];
    double d[DKM_MAX_K];
    double s[DKM_MAX_K];
    double a[DKM_MAX_K];
    pal_long q = dkm_point_of_partition(L, p, j);
    dkm_load(L, q, w, x);
    dkm_attention(x, c_in + p * k * dim, k, dim, P, d, s, a);
    PAL_GLOBAL const double* co = c_out + p * k * dim;
    for (int t = 0; t < dim; t++) {
        double v = 0.0;
        for (int m = 0; m < k; m++) {
            v += PAL_DMUL(a[m], co[m * dim + t]);
        }
        out[dkm_element(L, q, t)] = (float) v;
    }
}

/*
 * One tile of backwardIteration: point gradients into grad (added to its contents when accumulate), and
 * the tile's dL/dC_in shares into partials [tile][k*dim]. role per partition: 0 skip (grad 0 unless
 * accumulating), 1 update terms, 2 also the direct output-gradient term (g).
 */
PAL_DEVICE void dkm_backward_tile(dkm_layout L, dkm_params P, PAL_GLOBAL const float* w, PAL_GLOBAL const float* g,
                                  PAL_GLOBAL float* grad, int accumulate, PAL_GLOBAL const double* c_in,
                                  PAL_GLOBAL const double* c_out, PAL_GLOBAL const double* e,
                                  PAL_GLOBAL const double* f, PAL_GLOBAL const pal_uchar* role,
                                  PAL_GLOBAL const pal_long* tile_start, pal_long partitions, pal_long tile,
                                  PAL_GLOBAL double* partials, PAL_LOCAL double* scratch) {
    int k = (int) P.k;
    int dim = (int) L.dim;
    int width = k * dim;
    pal_long p = dkm_tile_partition(tile_start, partitions, tile);
    PAL_GLOBAL double* out = partials + tile * width;
    int lid = PAL_LOCAL_ID();
    pal_long j = (tile - tile_start[p]) * PAL_WG + lid;
    int valid = j < dkm_points_in(L, p);
    pal_long q = valid ? dkm_point_of_partition(L, p, j) : 0;
    if (role[p] == 0) { /* uniform over the work-group */
        if (valid && accumulate == 0) {
            for (int t = 0; t < dim; t++) {
                grad[dkm_element(L, q, t)] = 0.0f;
            }
        }
        for (int c = lid; c < width; c += PAL_WG) {
            out[c] = 0.0;
        }
        return;
    }
    float x[DKM_MAX_DIM];
    float gp[DKM_MAX_DIM];
    double d[DKM_MAX_K];
    double s[DKM_MAX_K];
    double a[DKM_MAX_K];
    double dx[DKM_MAX_DIM];
    int offset = (int) (p * width);
    if (valid) {
        int direct = role[p] == 2;
        dkm_load(L, q, w, x);
        if (direct) {
            dkm_load(L, q, g, gp);
        }
        dkm_attention(x, c_in + offset, k, dim, P, d, s, a);
        dkm_backward(x, c_in + offset, direct ? gp : 0, c_out + offset, e + offset, f + p * k, k, dim, P, s, a, d, dx);
        for (int t = 0; t < dim; t++) {
            pal_long el = dkm_element(L, q, t);
            double before = accumulate != 0 ? (double) grad[el] : 0.0;
            grad[el] = (float) (before + dx[t]);
        }
    }
    for (int col = 0; col < width; col++) {
        double v = 0.0;
        if (valid) {
            int m = col / dim;
            int t = col - m * dim;
            double diff = (double) x[t] - c_in[offset + col];
            v = -PAL_DMUL(PAL_DMUL(2.0, d[m]), diff);
        }
        double total = dkm_tile_sum(v, scratch);
        if (lid == 0) {
            out[col] = total;
        }
    }
}

/* ------------------------------------------------------------------ per-value passes (cluster_dim 1) */

/*
 * Reductions by (partition, key) are order-free, so every thread count and every backend gives the same bits
 * (backend/FixedPointSums.java is the Java side): counts are integers; the sum of g per key is a sum of integers,
 * g scaled by 2^shift and rounded to nearest even, with the shift chosen per key from its count n and largest
 * |g| so that no partial sum can leave 63 bits; the total is rounded to double once.
 */
#define DKM_FINITE_LIMIT 0x7f800000u

/* shift for a key of count n >= 1 whose largest |g| has the bits m (finite, nonzero): |g| < 2^e, n < 2^c. */
PAL_DEVICE int dkm_fixed_shift(pal_ulong n, pal_uint m) {
    int biased = (int) (m >> 23);
    int e = (biased > 1 ? biased : 1) - 126;
    int c = 64 - PAL_CLZ64(n);
    return 62 - e - c;
}

/* Element i: counts its key and (g given) raises the key's largest |g|; sets *failed on a value without a key. */
PAL_DEVICE void dkm_key_stats_item(dkm_layout L, PAL_GLOBAL const float* w, PAL_GLOBAL const float* g, int keys,
                                   pal_long i, PAL_GLOBAL pal_ulong* counts, PAL_GLOBAL pal_uint* max_bits,
                                   PAL_GLOBAL int* failed) {
    int key = dkm_key(w[i], keys); /* dim 1: point i is element i */
    if (key < 0) {
        *failed = 1;
        return;
    }
    pal_long slot = dkm_partition_of_point(L, i) * 65536 + key;
    PAL_ATOMIC_ADD_U64(counts + slot, 1);
    if (g != 0) {
        PAL_ATOMIC_MAX_U32(max_bits + slot, PAL_AS_UINT(g[i]) & 0x7fffffffu);
    }
}

/* Element i: adds its g, in its key's fixed point, to the key's sum (keys valid, stats done). */
PAL_DEVICE void dkm_fixed_sum_item(dkm_layout L, PAL_GLOBAL const float* w, PAL_GLOBAL const float* g, int keys,
                                   pal_long i, PAL_GLOBAL const pal_ulong* counts, PAL_GLOBAL const pal_uint* max_bits,
                                   PAL_GLOBAL pal_ulong* sums) {
    int key = dkm_key(w[i], keys);
    if (key < 0) {
        return;
    }
    pal_long slot = dkm_partition_of_point(L, i) * 65536 + key;
    pal_uint m = max_bits[slot];
    if (m == 0u || m >= DKM_FINITE_LIMIT) {
        return; /* all zero, or the result is NaN whatever the others add */
    }
    pal_long t = PAL_RINT_L(PAL_LDEXP((double) g[i], dkm_fixed_shift(counts[slot], m)));
    PAL_ATOMIC_ADD_U64(sums + slot, (pal_ulong) t);
}

/* Slot s's result as a double: its count (max_bits NULL), or its sum of g (NaN when some g was not finite). */
PAL_DEVICE void dkm_key_result_item(PAL_GLOBAL const pal_ulong* counts, PAL_GLOBAL const pal_uint* max_bits,
                                    PAL_GLOBAL const pal_ulong* sums, pal_long s, PAL_GLOBAL double* out) {
    if (max_bits == 0) {
        out[s] = (double) counts[s];
        return;
    }
    pal_uint m = max_bits[s];
    if (m == 0u) {
        out[s] = 0.0;
    } else if (m >= DKM_FINITE_LIMIT) {
        out[s] = PAL_AS_DOUBLE(0x7ff8000000000000L);
    } else {
        out[s] = PAL_LDEXP((double) (pal_long) sums[s], -dkm_fixed_shift(counts[s], m));
    }
}

/* gatherByValue (b == NULL: out = a[key]) or gatherGradientByValue (out = a[key] * g + b[key]) for element i. */
PAL_DEVICE void dkm_gather_item(dkm_layout L, PAL_GLOBAL const float* w, PAL_GLOBAL const float* g, int keys,
                                PAL_GLOBAL const float* a, PAL_GLOBAL const float* b, pal_long i,
                                PAL_GLOBAL float* out) {
    int key = dkm_key(w[i], keys);
    if (key < 0) { /* outside the contract (keys valid for w): marked, never a wrong table entry */
        out[i] = PAL_AS_FLOAT(0x7fc00000u);
        return;
    }
    pal_long slot = dkm_partition_of_point(L, i) * 65536 + key;
    out[i] = b == 0 ? a[slot] : PAL_FMUL(a[slot], g[i]) + b[slot];
}
