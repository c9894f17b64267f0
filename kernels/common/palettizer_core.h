/*
 * Palettizer device logic, shared by the OpenCL and CUDA backends.
 *
 * Written in the C subset that OpenCL C 1.2 and CUDA C++ both accept; everything dialect-specific
 * (address spaces, ids, barriers, bit casts, uncontracted products) comes from the dialect header
 * included before this file (opencl/dialect.h or cuda/dialect.cuh). Entry points stay thin: they
 * declare local memory and call one function here per work-group or work-item.
 *
 * Every function reproduces the float arithmetic of the Java reference
 * (java/.../backend/JavaBackend.java) operation for operation, so that indices and LUTs are the
 * same bits. Sums that Java accumulates sequentially per slice (histogram bins, centroid sums) are
 * accumulated here in the same element order per slice ("slot") and reduced over slots in slot
 * order, which gives Java's exact doubles; only the error statistics use a tree reduction.
 *
 * Data of one chunk of index-stream positions [first, first + count) is component-major:
 * component t of the vector at position first + i is at [t * count + i].
 */
#ifndef PALETTIZER_CORE_H
#define PALETTIZER_CORE_H

/* How a row-major tensor [rows, cols, inner...] splits into LUT groups; mirrors model/GroupLayout.
 * All 64-bit so that host, OpenCL and CUDA agree on the byte layout (11 x 8 bytes). */
typedef struct {
    pal_long rows;
    pal_long row_stride;        /* cols * inner */
    pal_long inner;
    pal_long cluster_dim;
    pal_long axis;              /* -1 per tensor, 0 or 1 per grouped channel */
    pal_long group_size;
    pal_long groups;
    pal_long run_length;
    pal_long run_count;
    pal_long run_stride;
    pal_long vectors_per_group;
} pal_layout;

/* Keys of the histogram (ValueKey.Kind): fp16 or bf16 bit patterns, or the fp32 value itself. */
#define PAL_KEY_FP16 0
#define PAL_KEY_BF16 1
#define PAL_KEY_FP32 2

/* An invalid sort key: sorts after every real key (real keys carry a lane < 0xffff). */
#define PAL_NO_KEY 0xffffffffu

/* ------------------------------------------------------------------ layout */

/* a / b and a % b for non-negative operands, in 32 bits when both fit: 64-bit division is several
 * times slower on CPUs and emulated on GPUs, and positions of one tensor stay below 2^31. */
PAL_DEVICE pal_long pal_div(pal_long a, pal_long b) {
    return ((a | b) >> 32) == 0 ? (pal_long) ((pal_uint) a / (pal_uint) b) : a / b;
}

PAL_DEVICE pal_long pal_rem(pal_long a, pal_long b) {
    return ((a | b) >> 32) == 0 ? (pal_long) ((pal_uint) a % (pal_uint) b) : a % b;
}

PAL_DEVICE pal_long pal_group_start(pal_layout L, pal_long g) {
    if (L.axis == 0) {
        return g * L.group_size * L.row_stride;
    }
    if (L.axis == 1) {
        return g * L.group_size * L.inner;
    }
    return 0;
}

/* Index-stream position of the vector whose first element is e (GroupLayout.position). */
PAL_DEVICE pal_long pal_position_of_element(pal_layout L, pal_long e) {
    return pal_div(e, L.cluster_dim * L.row_stride) * L.row_stride + pal_rem(e, L.row_stride);
}

/* Position of vector v of group g, in group order (PieceCursor's walk). */
PAL_DEVICE pal_long pal_group_vector_position(pal_layout L, pal_long g, pal_long v) {
    pal_long run = pal_div(v, L.run_length);
    pal_long offset = v - run * L.run_length;
    return pal_position_of_element(L, pal_group_start(L, g) + run * L.run_stride + offset);
}

/* Group of the vector at position p (GroupLayout.groupOf of its first element). */
PAL_DEVICE pal_long pal_group_of_position(pal_layout L, pal_long p) {
    if (L.axis == 0) {
        return pal_div(pal_div(p, L.row_stride) * L.cluster_dim, L.group_size);
    }
    if (L.axis == 1) {
        return pal_div(pal_rem(p, L.row_stride), L.inner * L.group_size);
    }
    return 0;
}

/* Index within its group (group order) of the vector at position p, which must belong to group g. */
PAL_DEVICE pal_long pal_vector_in_group(pal_layout L, pal_long g, pal_long p) {
    pal_long block = pal_div(p, L.row_stride);
    pal_long offset = p - block * L.row_stride;
    if (L.axis == 0) {
        return (block - g * L.group_size / L.cluster_dim) * L.row_stride + offset;
    }
    if (L.axis == 1) {
        return block * L.run_length + offset - g * L.group_size * L.inner;
    }
    return p;
}

/* First output channel (row) of the vector at position p. */
PAL_DEVICE pal_long pal_row_of_position(pal_layout L, pal_long p) {
    return pal_div(p, L.row_stride) * L.cluster_dim;
}

/* ------------------------------------------------------------------ values and keys */

/* Clustered value x = raw / scale and weight w = s * scale^2 (PieceReader.read). */
PAL_DEVICE float pal_clustered(float raw, float scale) {
    return PAL_DIV_RN(raw, scale);
}

PAL_DEVICE float pal_weight(float s, float scale) {
    return PAL_FMUL(s, PAL_FMUL(scale, scale));
}

/* Float.floatToFloat16: round to nearest even, overflow to infinity, subnormals kept. */
PAL_DEVICE pal_uint pal_fp16_bits(float x) {
    pal_uint b = PAL_AS_UINT(x);
    pal_uint sign = (b >> 16) & 0x8000u;
    pal_uint a = b & 0x7fffffffu;
    if (a > 0x7f800000u) {
        return sign | 0x7c00u | ((b & 0x007fe000u) >> 13) | ((b & 0x00001ff0u) >> 4) | (b & 0x0000000fu);
    }
    if (a >= 0x477ff000u) {             /* >= 65520: rounds to infinity */
        return sign | 0x7c00u;
    }
    if (a >= 0x38800000u) {             /* >= 2^-14: normal fp16 */
        pal_uint m = a - 0x38000000u;   /* rebias the exponent from 127 to 15 */
        return sign | ((m + 0x0fffu + ((m >> 13) & 1u)) >> 13);
    }
    if (a <= 0x33000000u) {             /* <= 2^-25: rounds to zero */
        return sign;
    }
    pal_uint e = a >> 23;
    pal_uint mant = (a & 0x007fffffu) | 0x00800000u;
    pal_uint shift = 126u - e;          /* value / 2^-24 = mant >> shift */
    pal_uint r = mant >> shift;
    pal_uint rem = mant & ((1u << shift) - 1u);
    pal_uint tie = 1u << (shift - 1u);    /* ("half" is a type name in OpenCL C) */
    if (rem > tie || (rem == tie && (r & 1u) != 0u)) {
        r += 1u;
    }
    return sign | r;
}

/* Floats.toBf16: round to nearest even. */
PAL_DEVICE pal_uint pal_bf16_bits(float x) {
    pal_uint b = PAL_AS_UINT(x);
    return ((b + 0x7fffu + ((b >> 16) & 1u)) >> 16) & 0xffffu;
}

/* ValueKey.patternOf. */
PAL_DEVICE pal_uint pal_pattern(float x, int key_kind) {
    return key_kind == PAL_KEY_BF16 ? pal_bf16_bits(x) : pal_fp16_bits(x);
}

/* FloatOrder.sortable with the sign bit flipped, so that unsigned order is the float order. */
PAL_DEVICE pal_uint pal_sortable(float v) {
    int s = PAL_AS_INT(v);
    return ((pal_uint) (s ^ ((s >> 31) & 0x7fffffff))) ^ 0x80000000u;
}

PAL_DEVICE float pal_from_sortable(pal_uint u) {
    int s = (int) (u ^ 0x80000000u);
    return PAL_AS_FLOAT((pal_uint) (s ^ ((s >> 31) & 0x7fffffff)));
}

/* ------------------------------------------------------------------ sorting */

/* The key work-item lid keeps from bitonic stage (k, j), given its partner lid ^ j's: the lower index
 * of a pair takes the smaller key where the block of k is ascending, the larger where descending. */
PAL_DEVICE pal_uint pal_bitonic_keep(pal_uint mine, pal_uint other, int lid, int k, int j) {
    int keep_low = ((lid & j) == 0) == ((lid & k) == 0);
    pal_uint low = mine < other ? mine : other;
    pal_uint high = mine < other ? other : mine;
    return keep_low ? low : high;
}

/*
 * Bitonic sort of PAL_WG keys in local memory, one per work-item; keys must be written before.
 * Stages whose partners are PAL_SORT_LANES or more apart go through local memory (the lower index
 * of each pair exchanges both, one barrier per stage); closer ones, in the same warp, exchange
 * registers with PAL_SHUFFLE_XOR and need no barrier. The network, and so the result, is the same.
 */
PAL_DEVICE void pal_sort_local(PAL_LOCAL pal_uint* keys) {
    int lid = PAL_LOCAL_ID();
    PAL_BARRIER_LOCAL();
    pal_uint key = keys[lid];
    int in_registers = 0;                   /* key is newer than keys[lid] */
    for (int k = 2; k <= PAL_WG; k <<= 1) {
        for (int j = k >> 1; j > 0; j >>= 1) {
            if (j < PAL_SORT_LANES) {
                key = pal_bitonic_keep(key, PAL_SHUFFLE_XOR(key, j), lid, k, j);
                in_registers = 1;
                continue;
            }
            if (in_registers) {
                keys[lid] = key;
                PAL_BARRIER_LOCAL();
                in_registers = 0;
            }
            int partner = lid ^ j;
            if (partner > lid) {
                pal_uint a = keys[lid];
                pal_uint b = keys[partner];
                int ascending = (lid & k) == 0;
                if ((a > b) == ascending) {
                    keys[lid] = b;
                    keys[partner] = a;
                }
            }
            PAL_BARRIER_LOCAL();
            key = keys[lid];
        }
    }
    if (in_registers) {
        keys[lid] = key;
        PAL_BARRIER_LOCAL();
    }
}

/*
 * Sorts a[0, m) ascending in global memory with one work-group: a bitonic network over the next
 * power of two in its all-ascending form, where every compare-exchange puts the smaller key at
 * the lower index; the virtual padding past m then never moves, so pairs reaching past m are skipped.
 */
PAL_DEVICE void pal_sort_global(PAL_GLOBAL pal_ulong* a, pal_long m) {
    pal_long n = 1;
    while (n < m) {
        n <<= 1;
    }
    for (pal_long k = 2; k <= n; k <<= 1) {
        for (pal_long j = k >> 1; j > 0; j >>= 1) {
            for (pal_long q = PAL_LOCAL_ID(); q < n / 2; q += PAL_WG) {
                /* pair q of its block of j pairs (j is a power of two): lo = (q / j) * 2j + q % j */
                pal_long within = q & (j - 1);
                pal_long lo = 2 * q - within;
                pal_long hi = j == (k >> 1) ? 2 * (q - within) + k - 1 - within : lo + j;
                if (hi < m && a[lo] > a[hi]) {
                    pal_ulong t = a[lo];
                    a[lo] = a[hi];
                    a[hi] = t;
                }
            }
            PAL_BARRIER_ALL();
        }
    }
}

/* ------------------------------------------------------------------ prepare */

/* Element e of a chunk (component-major): clustered value and weight, for inputs with channel scales. */
PAL_DEVICE void pal_prepare_item(pal_layout L, pal_long first, pal_long count, pal_long e,
                                 PAL_GLOBAL const float* raw, PAL_GLOBAL const float* sens,
                                 PAL_GLOBAL const float* scales, PAL_GLOBAL float* x, PAL_GLOBAL float* w) {
    pal_long t = pal_div(e, count);
    pal_long i = e - t * count;
    float scale = scales[pal_row_of_position(L, first + i) + t];
    x[e] = pal_clustered(raw[e], scale);
    w[e] = pal_weight(sens != 0 ? sens[e] : 1.0f, scale);
}

/* ------------------------------------------------------------------ histogram */

/*
 * One segment (group g, slot, group vectors [from, to)) of the dense histogram: adds each
 * element's weight to hist[pattern of x] in group order, exactly as JavaBackend.denseHistogram does
 * within a slice. Tiles of PAL_WG elements are sorted by (pattern, lane); the first lane of each
 * pattern's run adds the run's weights in lane order, so no two work-items touch one bin at once.
 */
PAL_DEVICE void pal_histogram_dense_segment(pal_layout L, pal_long first, PAL_GLOBAL const float* x,
                                            PAL_GLOBAL const float* w, int key_kind,
                                            pal_long g, pal_long from, pal_long to, PAL_GLOBAL double* hist,
                                            PAL_LOCAL pal_uint* keys, PAL_LOCAL float* weights) {
    int lid = PAL_LOCAL_ID();
    for (pal_long base = from; base < to; base += PAL_WG) {
        pal_long v = base + lid;
        pal_uint key = PAL_NO_KEY;
        float weight = 0.0f;
        if (v < to) {
            pal_long i = pal_group_vector_position(L, g, v) - first;
            key = (pal_pattern(x[i], key_kind) << 16) | (pal_uint) lid;
            weight = w != 0 ? w[i] : 1.0f;
        }
        keys[lid] = key;
        weights[lid] = weight;
        pal_sort_local(keys);
        pal_long valid = to - base < PAL_WG ? to - base : PAL_WG;
        pal_uint mine = keys[lid];
        if (lid < valid && (lid == 0 || (keys[lid - 1] >> 16) != (mine >> 16))) {
            pal_uint pattern = mine >> 16;
            double sum = hist[pattern];
            for (int j = lid; j < valid && (keys[j] >> 16) == pattern; j++) {
                sum += (double) weights[keys[j] & 0xffffu];
            }
            hist[pattern] = sum;
        }
        PAL_BARRIER_ALL();
    }
}

/*
 * Dense histograms leave the device as their distinct values, folded as DistinctValuesBuilder.fromDense
 * folds them: it visits the bins in order[0, n) (the patterns sorted by value, FloatOrder), drops
 * zero bins, and adds a bin whose value equals the previous kept bin's (== on floats: -0 and 0 fold,
 * keeping the first) into that entry, in visit order. Two stages, each a count kernel and a write
 * kernel (a group's output offset is the sum of the counts of the groups before it):
 *   compact: the non-zero bins as (pattern, weight) pairs, groups back to back;
 *   fold: per run of equal values among those, the first one's value and the run's weights summed
 *         in order, by one work-item (a run may cross work-items' stretches).
 * Each work-item owns a contiguous stretch of its group's items, so entries come out in order after
 * an exclusive prefix over the work-items' counts.
 */

/* [*from, *to): work-item PAL_LOCAL_ID()'s stretch of m items. */
PAL_DEVICE void pal_stretch(pal_long m, pal_long* from, pal_long* to) {
    pal_long per = (m + PAL_WG - 1) / PAL_WG;
    *from = PAL_LOCAL_ID() * per < m ? PAL_LOCAL_ID() * per : m;
    *to = *from + per < m ? *from + per : m;
}

/* Sum of counts[0, g), for every work-item of the group. */
PAL_DEVICE pal_ulong pal_sum_before(PAL_GLOBAL const pal_uint* counts, pal_long g, PAL_LOCAL pal_uint* scratch) {
    int lid = PAL_LOCAL_ID();
    pal_uint part = 0;
    for (pal_long q = lid; q < g; q += PAL_WG) {
        part += counts[q];
    }
    scratch[lid] = part;
    PAL_BARRIER_LOCAL();
    pal_ulong total = 0;
    for (int q = 0; q < PAL_WG; q++) {
        total += scratch[q];
    }
    PAL_BARRIER_LOCAL();
    return total;
}

/* Work-item 0 writes the sum of the work-items' c to *count. */
PAL_DEVICE void pal_count_total(pal_uint c, PAL_GLOBAL pal_uint* count, PAL_LOCAL pal_uint* scratch) {
    int lid = PAL_LOCAL_ID();
    scratch[lid] = c;
    PAL_BARRIER_LOCAL();
    if (lid == 0) {
        pal_uint total = 0;
        for (int q = 0; q < PAL_WG; q++) {
            total += scratch[q];
        }
        *count = total;
    }
}

/* The work-item's c plus the c of the work-items before it (called by all, after they have c). */
PAL_DEVICE pal_ulong pal_prefix(pal_uint c, pal_ulong base, PAL_LOCAL pal_uint* scratch) {
    int lid = PAL_LOCAL_ID();
    scratch[lid] = c;
    PAL_BARRIER_LOCAL();
    for (int q = 0; q < lid; q++) {
        base += scratch[q];
    }
    return base;
}

/* Number of non-zero bins of one group's histogram hist[0, 65536), written to *count. */
PAL_DEVICE void pal_compact_count_group(PAL_GLOBAL const double* hist, PAL_GLOBAL const pal_uint* order, pal_long n,
                                        PAL_GLOBAL pal_uint* count, PAL_LOCAL pal_uint* scratch) {
    pal_long from, to;
    pal_stretch(n, &from, &to);
    pal_uint c = 0;
    for (pal_long j = from; j < to; j++) {
        c += hist[order[j]] != 0.0 ? 1u : 0u;
    }
    pal_count_total(c, count, scratch);
}

/* Group g's non-zero bins as (pattern, weight) pairs, from offset sum(counts[0, g)). */
PAL_DEVICE void pal_compact_group(PAL_GLOBAL const double* hist, PAL_GLOBAL const pal_uint* order, pal_long n,
                                  PAL_GLOBAL const pal_uint* counts, pal_long g, PAL_GLOBAL pal_uint* patterns,
                                  PAL_GLOBAL double* weights, PAL_LOCAL pal_uint* scratch) {
    pal_ulong base = pal_sum_before(counts, g, scratch);
    pal_long from, to;
    pal_stretch(n, &from, &to);
    pal_uint c = 0;
    for (pal_long j = from; j < to; j++) {
        c += hist[order[j]] != 0.0 ? 1u : 0u;
    }
    pal_ulong o = pal_prefix(c, base, scratch);
    for (pal_long j = from; j < to; j++) {
        pal_uint p = order[j];
        double v = hist[p];
        if (v != 0.0) {
            patterns[o] = p;
            weights[o] = v;
            o++;
        }
    }
}

/* Whether compacted entry e of a group starting at begin opens a run: values holds each pattern's value. */
PAL_DEVICE int pal_opens_run(PAL_GLOBAL const pal_uint* patterns, PAL_GLOBAL const float* values, pal_ulong begin,
                             pal_ulong e) {
    return e == begin || values[patterns[e]] != values[patterns[e - 1]];
}

/* Number of runs of equal values among group g's compacted entries, written to *count. */
PAL_DEVICE void pal_fold_count_group(PAL_GLOBAL const pal_uint* patterns, PAL_GLOBAL const float* values,
                                     PAL_GLOBAL const pal_uint* counts, pal_long g, PAL_GLOBAL pal_uint* count,
                                     PAL_LOCAL pal_uint* scratch) {
    pal_ulong begin = pal_sum_before(counts, g, scratch);
    pal_long from, to;
    pal_stretch(counts[g], &from, &to);
    pal_uint c = 0;
    for (pal_long e = from; e < to; e++) {
        c += pal_opens_run(patterns, values, begin, begin + e) ? 1u : 0u;
    }
    pal_count_total(c, count, scratch);
}

/* Group g's distinct values and summed weights, from offset sum(distinct[0, g)). */
PAL_DEVICE void pal_fold_group(PAL_GLOBAL const pal_uint* patterns, PAL_GLOBAL const double* weights,
                               PAL_GLOBAL const float* values, PAL_GLOBAL const pal_uint* counts,
                               PAL_GLOBAL const pal_uint* distinct, pal_long g, PAL_GLOBAL float* out_values,
                               PAL_GLOBAL double* out_weights, PAL_LOCAL pal_uint* scratch) {
    pal_ulong begin = pal_sum_before(counts, g, scratch);
    pal_ulong base = pal_sum_before(distinct, g, scratch);
    pal_ulong end = begin + counts[g];
    pal_long from, to;
    pal_stretch(counts[g], &from, &to);
    pal_uint c = 0;
    for (pal_long e = from; e < to; e++) {
        c += pal_opens_run(patterns, values, begin, begin + e) ? 1u : 0u;
    }
    pal_ulong o = pal_prefix(c, base, scratch);
    for (pal_ulong e = begin + from; e < begin + to; e++) {
        if (pal_opens_run(patterns, values, begin, e)) {
            double sum = weights[e];
            for (pal_ulong q = e + 1; q < end && !pal_opens_run(patterns, values, begin, q); q++) {
                sum += weights[q];
            }
            out_values[o] = values[patterns[e]];
            out_weights[o] = sum;
            o++;
        }
    }
}

/*
 * Sort key of one element for the sorted histogram: (sortable key value, weight bits), the long
 * JavaBackend.sortedHistogram sorts. For 16-bit kinds the host supplies sortable[pattern], computed
 * from ValueKey.valueOfPattern (so fast mode's decimal rounding is Java's own).
 */
PAL_DEVICE pal_ulong pal_sorted_histogram_key(float x, float w, int key_kind, PAL_GLOBAL const pal_uint* sortable) {
    pal_uint k = key_kind == PAL_KEY_FP32 ? pal_sortable(x) : sortable[pal_pattern(x, key_kind)];
    return ((pal_ulong) k << 32) | (pal_ulong) PAL_AS_UINT(w);
}

/*
 * One group of the sorted histogram (one work-group): sorts its keys, then the first element of
 * each run of equal values writes the run's value and summed weight (0 elsewhere), summed in
 * sorted order as DistinctValuesBuilder does. The value is that of the run's first element of
 * non-zero weight, as the builder keeps (it tells -0 from 0).
 */
PAL_DEVICE void pal_histogram_sorted_group(PAL_GLOBAL pal_ulong* keys, pal_long m,
                                           PAL_GLOBAL float* values, PAL_GLOBAL double* weights) {
    pal_sort_global(keys, m);
    for (pal_long j = PAL_LOCAL_ID(); j < m; j += PAL_WG) {
        float value = pal_from_sortable((pal_uint) (keys[j] >> 32));
        double sum = 0.0;
        float kept = value;
        if (j == 0 || pal_from_sortable((pal_uint) (keys[j - 1] >> 32)) != value) {
            int found = 0;
            for (pal_long q = j; q < m && pal_from_sortable((pal_uint) (keys[q] >> 32)) == value; q++) {
                float wq = PAL_AS_FLOAT((pal_uint) keys[q]);
                if (!found && wq != 0.0f) {
                    kept = pal_from_sortable((pal_uint) (keys[q] >> 32));
                    found = 1;
                }
                sum += (double) wq;
            }
        }
        values[j] = kept;
        weights[j] = sum;
    }
}

/* ------------------------------------------------------------------ assignment */

/* JavaBackend.nearest over JavaBackend.midpoints, computing the midpoints it visits. The search
 * never reads the last midpoint (the +Inf padding), so it is not needed. */
PAL_DEVICE int pal_nearest(PAL_GLOBAL const float* lut, int lut_size, float x) {
    int idx = 0;
    for (int step = lut_size >> 1; step > 0; step >>= 1) {
        int j = idx + step - 1;
        float mid = (lut[j] + lut[j + 1]) * 0.5f;
        idx += x > mid ? step : 0;
    }
    return idx;
}

/* Squared-error terms of one vector (sse, weighted sse, energy), Java's double arithmetic. */
typedef struct {
    double sse;
    double weighted;
    double energy;
} pal_error;

PAL_DEVICE void pal_add_error(pal_error* e, float raw, float centroid, float scale, float s) {
    double v = (double) raw;
    double err = v - (double) PAL_FMUL(centroid, scale);
    e->sse += PAL_DMUL(err, err);
    e->weighted += PAL_DMUL(PAL_DMUL((double) s, err), err);
    e->energy += PAL_DMUL(v, v);
}

/*
 * Nearest LUT entry of the vector (cluster_dim > 1) at chunk index i, written to indices[i]; its error
 * terms are added to e. The first entry of least weighted distance, summed over components in Java's
 * order (scalars search the sorted LUT's midpoints in pal_assign_group).
 */
PAL_DEVICE void pal_assign_item(pal_layout L, pal_long first, pal_long count, pal_long i,
                                PAL_GLOBAL const float* raw, PAL_GLOBAL const float* sens,
                                PAL_GLOBAL const float* scales, PAL_GLOBAL const float* x,
                                PAL_GLOBAL const float* w, PAL_GLOBAL const float* lut, int lut_size,
                                PAL_GLOBAL pal_uchar* indices, pal_error* e) {
    pal_long p = first + i;
    pal_long cd = L.cluster_dim;
    pal_long row = pal_row_of_position(L, p);
    PAL_GLOBAL const float* entries = lut + pal_group_of_position(L, p) * lut_size * cd;
    int best = 0;
    float best_dist = PAL_INF_F;
    for (int k = 0; k < lut_size; k++) {
        float dist = 0.0f;
        for (pal_long t = 0; t < cd; t++) {
            float d = x[t * count + i] - entries[k * cd + t];
            float wt = w != 0 ? w[t * count + i] : 1.0f;
            dist += PAL_FMUL(PAL_FMUL(wt, d), d);
        }
        if (dist < best_dist) {
            best_dist = dist;
            best = k;
        }
    }
    indices[i] = (pal_uchar) best;
    for (pal_long t = 0; t < cd; t++) {
        float scale = scales != 0 ? scales[row + t] : 1.0f;
        float s = sens != 0 ? sens[t * count + i] : 1.0f;
        pal_add_error(e, raw[t * count + i], entries[best * cd + t], scale, s);
    }
}

/* Tree reduction of the work-group's error terms in a fixed order; lane 0 writes the partial. */
PAL_DEVICE void pal_reduce_error(pal_error e, PAL_LOCAL double* scratch, PAL_GLOBAL double* partials) {
    int lid = PAL_LOCAL_ID();
    scratch[lid] = e.sse;
    scratch[PAL_WG + lid] = e.weighted;
    scratch[2 * PAL_WG + lid] = e.energy;
    PAL_BARRIER_LOCAL();
    for (int s = PAL_WG >> 1; s > 0; s >>= 1) {
        if (lid < s) {
            scratch[lid] += scratch[lid + s];
            scratch[PAL_WG + lid] += scratch[PAL_WG + lid + s];
            scratch[2 * PAL_WG + lid] += scratch[2 * PAL_WG + lid + s];
        }
        PAL_BARRIER_LOCAL();
    }
    if (lid == 0) {
        pal_long wg = PAL_GROUP_ID();
        partials[3 * wg] = scratch[0];
        partials[3 * wg + 1] = scratch[PAL_WG];
        partials[3 * wg + 2] = scratch[2 * PAL_WG];
    }
}

/* Positions per work-item of the assignment kernel, PAL_WG apart: the work-group's reduction of the
 * error terms is paid once per PAL_ASSIGN_ITEMS * PAL_WG positions. The hosts size grids by it
 * (CudaBackend.ASSIGN_ITEMS, OpenClBackend.ASSIGN_ITEMS). */
#define PAL_ASSIGN_ITEMS 16

/* Work-group PAL_GROUP_ID()'s positions of the chunk: their indices, and its error partial. */
PAL_DEVICE void pal_assign_group(pal_layout L, pal_long first, pal_long count,
                                 PAL_GLOBAL const float* raw, PAL_GLOBAL const float* sens,
                                 PAL_GLOBAL const float* scales, PAL_GLOBAL const float* x,
                                 PAL_GLOBAL const float* w, PAL_GLOBAL const float* lut, int lut_size,
                                 PAL_GLOBAL pal_uchar* indices, PAL_LOCAL double* scratch, PAL_GLOBAL double* partials) {
    pal_error e = {0.0, 0.0, 0.0};
    pal_long base = PAL_GROUP_ID() * PAL_WG * PAL_ASSIGN_ITEMS + PAL_LOCAL_ID();
    if (L.cluster_dim == 1) {
        /* Every load of the work-item first, so that their latencies overlap: the byte stores to indices
         * could alias the inputs, so the compiler may not move a later item's loads above them. Then the
         * items in order, with the arithmetic of JavaBackend.nearest and its error terms: the same bits. */
        float xs[PAL_ASSIGN_ITEMS];
        float raws[PAL_ASSIGN_ITEMS];
        float ss[PAL_ASSIGN_ITEMS];
        for (int r = 0; r < PAL_ASSIGN_ITEMS; r++) {
            pal_long i = base + (pal_long) r * PAL_WG;
            if (i < count) {
                xs[r] = x[i];
                raws[r] = raw[i];
                ss[r] = sens != 0 ? sens[i] : 1.0f;
            }
        }
        for (int r = 0; r < PAL_ASSIGN_ITEMS; r++) {
            pal_long i = base + (pal_long) r * PAL_WG;
            if (i < count) {
                pal_long p = first + i;
                PAL_GLOBAL const float* entries = lut + pal_group_of_position(L, p) * lut_size;
                int best = pal_nearest(entries, lut_size, xs[r]);
                indices[i] = (pal_uchar) best;
                float scale = scales != 0 ? scales[pal_row_of_position(L, p)] : 1.0f;
                pal_add_error(&e, raws[r], entries[best], scale, ss[r]);
            }
        }
    } else {
        for (int r = 0; r < PAL_ASSIGN_ITEMS; r++) {
            pal_long i = base + (pal_long) r * PAL_WG;
            if (i < count) {
                pal_assign_item(L, first, count, i, raw, sens, scales, x, w, lut, lut_size, indices, &e);
            }
        }
    }
    pal_reduce_error(e, scratch, partials);
}

/* ------------------------------------------------------------------ centroid sums */

/*
 * One segment of Lloyd's update: adds w * x and w of every component to its entry's sums in group
 * order, as JavaBackend.centroidSums does within a slice; acc holds [sums | weights] of one slot,
 * each lut_size * cluster_dim doubles. Same tile sort and run ownership as the dense histogram.
 */
PAL_DEVICE void pal_centroid_segment(pal_layout L, pal_long first, pal_long count, PAL_GLOBAL const float* x,
                                     PAL_GLOBAL const float* w, PAL_GLOBAL const pal_uchar* indices, int lut_size,
                                     pal_long g, pal_long from, pal_long to, PAL_GLOBAL double* acc,
                                     PAL_LOCAL pal_uint* keys) {
    int lid = PAL_LOCAL_ID();
    pal_long cd = L.cluster_dim;
    pal_long per_group = lut_size * cd;
    for (pal_long base = from; base < to; base += PAL_WG) {
        pal_long v = base + lid;
        pal_uint key = PAL_NO_KEY;
        if (v < to) {
            pal_long i = pal_group_vector_position(L, g, v) - first;
            key = ((pal_uint) indices[i] << 16) | (pal_uint) lid;
        }
        keys[lid] = key;
        pal_sort_local(keys);
        pal_long valid = to - base < PAL_WG ? to - base : PAL_WG;
        pal_uint mine = keys[lid];
        if (lid < valid && (lid == 0 || (keys[lid - 1] >> 16) != (mine >> 16))) {
            pal_long entry = (pal_long) (mine >> 16) * cd;
            for (int j = lid; j < valid && (keys[j] >> 16) == (mine >> 16); j++) {
                pal_long i = pal_group_vector_position(L, g, base + (keys[j] & 0xffffu)) - first;
                for (pal_long t = 0; t < cd; t++) {
                    float wt = w != 0 ? w[t * count + i] : 1.0f;
                    acc[entry + t] += PAL_DMUL((double) wt, (double) x[t * count + i]);
                    acc[per_group + entry + t] += (double) wt;
                }
            }
        }
        PAL_BARRIER_ALL();
    }
}

/* Sum of item j over the slots of one group, in slot order from 0 (Java's combination order). */
PAL_DEVICE double pal_sum_slots(PAL_GLOBAL const double* acc, pal_long first_slot, pal_long slots,
                                pal_long width, pal_long j) {
    double total = 0.0;
    for (pal_long s = 0; s < slots; s++) {
        total += acc[(first_slot + s) * width + j];
    }
    return total;
}

/* ------------------------------------------------------------------ packing and reconstruction */

/* Block b of eight indices occupies bytes [b * bits, b * bits + bits) of the stream, LSB first. */
PAL_DEVICE void pal_pack_block(PAL_GLOBAL const pal_uchar* indices, pal_long count, int bits, pal_long b,
                               PAL_GLOBAL pal_uchar* packed, pal_long packed_length) {
    pal_long i0 = b * 8;
    int n = count - i0 < 8 ? (int) (count - i0) : 8;
    pal_ulong acc = 0;
    for (int j = 0; j < n; j++) {
        acc |= (pal_ulong) indices[i0 + j] << (j * bits);
    }
    pal_long off = b * bits;
    int bytes = packed_length - off < bits ? (int) (packed_length - off) : bits;
    for (int k = 0; k < bytes; k++) {
        packed[off + k] = (pal_uchar) (acc >> (8 * k));
    }
}

PAL_DEVICE void pal_unpack_block(PAL_GLOBAL const pal_uchar* packed, pal_long packed_length, int bits, pal_long b,
                                 PAL_GLOBAL pal_uchar* indices, pal_long count) {
    pal_long off = b * bits;
    int bytes = packed_length - off < bits ? (int) (packed_length - off) : bits;
    pal_ulong acc = 0;
    for (int k = 0; k < bytes; k++) {
        acc |= (pal_ulong) packed[off + k] << (8 * k);
    }
    pal_long i0 = b * 8;
    int n = count - i0 < 8 ? (int) (count - i0) : 8;
    pal_ulong mask = ((pal_ulong) 1 << bits) - 1;
    for (int j = 0; j < n; j++) {
        indices[i0 + j] = (pal_uchar) ((acc >> (j * bits)) & mask);
    }
}

/* Dense values of the vector at chunk index i: lut entry times its rows' scales (JavaBackend.reconstruct). */
PAL_DEVICE void pal_reconstruct_item(pal_layout L, pal_long first, pal_long count, pal_long i,
                                     PAL_GLOBAL const float* lut, int lut_size, PAL_GLOBAL const pal_uchar* indices,
                                     PAL_GLOBAL const float* scales, PAL_GLOBAL float* out) {
    pal_long p = first + i;
    pal_long cd = L.cluster_dim;
    pal_long row = pal_row_of_position(L, p);
    pal_long entry = (pal_group_of_position(L, p) * lut_size + indices[i]) * cd;
    for (pal_long t = 0; t < cd; t++) {
        float scale = scales != 0 ? scales[row + t] : 1.0f;
        out[t * count + i] = PAL_FMUL(lut[entry + t], scale);
    }
}

#endif
