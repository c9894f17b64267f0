/*
 * OpenCL entry points: argument lists, local memory and the work-item to data mapping only; the
 * logic is in common/palettizer_core.h. Optional buffers (sensitivities, weights, channel scales)
 * are passed as NULL when absent. Chunk data is component-major: [t * count + i].
 */

/* One work-item per element of the chunk: x = raw / scale and w = s * scale^2. */
PAL_KERNEL pal_prepare(pal_layout L, pal_long first, pal_long count, __global const float* raw,
                       __global const float* sens, __global const float* scales,
                       __global float* x, __global float* w) {
    pal_long e = PAL_GLOBAL_ID();
    if (e < count * L.cluster_dim) {
        pal_prepare_item(L, first, count, e, raw, sens, scales, x, w);
    }
}

/* One work-group per segment {group, slot, from, to}; hist holds 65,536 doubles per slot. */
PAL_KERNEL pal_histogram_dense(pal_layout L, pal_long first, __global const float* x, __global const float* w,
                               int key_kind, __global const pal_long* segments, __global double* hist) {
    __local pal_uint keys[PAL_WG];
    __local float weights[PAL_WG];
    __global const pal_long* s = segments + 4 * PAL_GROUP_ID();
    pal_histogram_dense_segment(L, first, x, w, key_kind, s[0], s[2], s[3], hist + s[1] * 65536, keys, weights);
}

/* One work-item per position of the chunk: groups [group_from, group_to) write their sort keys. */
PAL_KERNEL pal_histogram_keys(pal_layout L, pal_long first, pal_long count, __global const float* x,
                              __global const float* w, int key_kind, __global const pal_uint* sortable,
                              pal_long group_from, pal_long group_to, __global pal_ulong* keys) {
    pal_long i = PAL_GLOBAL_ID();
    if (i < count) {
        pal_long p = first + i;
        pal_long g = pal_group_of_position(L, p);
        if (g >= group_from && g < group_to) {
            pal_long slot = (g - group_from) * L.vectors_per_group + pal_vector_in_group(L, g, p);
            keys[slot] = pal_sorted_histogram_key(x[i], w != 0 ? w[i] : 1.0f, key_kind, sortable);
        }
    }
}

/* One work-group per group of the batch, each over its vectors_per_group keys. */
PAL_KERNEL pal_histogram_sorted(pal_layout L, __global pal_ulong* keys, __global float* values,
                                __global double* weights) {
    pal_long base = PAL_GROUP_ID() * L.vectors_per_group;
    pal_histogram_sorted_group(keys + base, L.vectors_per_group, values + base, weights + base);
}

/* PAL_ASSIGN_ITEMS positions per work-item; partials gets 3 doubles per work-group. */
PAL_KERNEL pal_assign(pal_layout L, pal_long first, pal_long count, __global const float* raw,
                      __global const float* sens, __global const float* scales, __global const float* x,
                      __global const float* w, __global const float* lut, int lut_size,
                      __global pal_uchar* indices, __global double* partials) {
    __local double scratch[3 * PAL_WG];
    pal_assign_group(L, first, count, raw, sens, scales, x, w, lut, lut_size, indices, scratch, partials);
}

/* One work-group per segment; acc holds 2 * lut_size * cluster_dim doubles per slot. */
PAL_KERNEL pal_centroid_sums(pal_layout L, pal_long first, pal_long count, __global const float* x,
                             __global const float* w, __global const pal_uchar* indices, int lut_size,
                             __global const pal_long* segments, __global double* acc) {
    __local pal_uint keys[PAL_WG];
    __global const pal_long* s = segments + 4 * PAL_GROUP_ID();
    pal_centroid_segment(L, first, count, x, w, indices, lut_size, s[0], s[2], s[3],
                         acc + s[1] * 2 * lut_size * L.cluster_dim, keys);
}

/* One work-item per (group of the batch, item j < width): the group's slots summed in slot order. */
PAL_KERNEL pal_reduce_slots(__global const double* acc, pal_long groups, pal_long slots_per_group,
                            pal_long width, __global double* out) {
    pal_long id = PAL_GLOBAL_ID();
    if (id < groups * width) {
        pal_long g = id / width;
        pal_long j = id % width;
        out[id] = pal_sum_slots(acc, g * slots_per_group, slots_per_group, width, j);
    }
}

/* One work-item per block of eight indices. */
PAL_KERNEL pal_pack(__global const pal_uchar* indices, pal_long count, int bits, __global pal_uchar* packed,
                    pal_long packed_length) {
    pal_long b = PAL_GLOBAL_ID();
    if (b * 8 < count) {
        pal_pack_block(indices, count, bits, b, packed, packed_length);
    }
}

PAL_KERNEL pal_unpack(__global const pal_uchar* packed, pal_long packed_length, int bits,
                      __global pal_uchar* indices, pal_long count) {
    pal_long b = PAL_GLOBAL_ID();
    if (b * 8 < count) {
        pal_unpack_block(packed, packed_length, bits, b, indices, count);
    }
}

/* One work-item per position of the chunk. */
PAL_KERNEL pal_reconstruct(pal_layout L, pal_long first, pal_long count, __global const float* lut, int lut_size,
                           __global const pal_uchar* indices, __global const float* scales, __global float* out) {
    pal_long i = PAL_GLOBAL_ID();
    if (i < count) {
        pal_reconstruct_item(L, first, count, i, lut, lut_size, indices, scales, out);
    }
}

/* One work-group per group of the batch: counts[g] = non-zero bins of hist[g * 65536, +65536) (order holds n patterns). */
PAL_KERNEL pal_compact_count(__global const double* hist, __global const pal_uint* order, pal_long n,
                             __global pal_uint* counts) {
    __local pal_uint scratch[PAL_WG];
    pal_compact_count_group(hist + PAL_GROUP_ID() * 65536, order, n, counts + PAL_GROUP_ID(), scratch);
}

/* One work-group per group, after pal_compact_count: the non-zero bins as (pattern, weight), groups back to back. */
PAL_KERNEL pal_compact(__global const double* hist, __global const pal_uint* order, pal_long n,
                       __global const pal_uint* counts, __global pal_uint* patterns, __global double* weights) {
    __local pal_uint scratch[PAL_WG];
    pal_compact_group(hist + PAL_GROUP_ID() * 65536, order, n, counts, PAL_GROUP_ID(), patterns, weights, scratch);
}

/* One work-group per group, after pal_compact: distinct[g] = runs of equal values (values: per pattern). */
PAL_KERNEL pal_fold_count(__global const pal_uint* patterns, __global const float* values,
                          __global const pal_uint* counts, __global pal_uint* distinct) {
    __local pal_uint scratch[PAL_WG];
    pal_fold_count_group(patterns, values, counts, PAL_GROUP_ID(), distinct + PAL_GROUP_ID(), scratch);
}

/* One work-group per group, after pal_fold_count: each group's distinct values and weights, back to back. */
PAL_KERNEL pal_fold(__global const pal_uint* patterns, __global const double* weights, __global const float* values,
                    __global const pal_uint* counts, __global const pal_uint* distinct, __global float* out_values,
                    __global double* out_weights) {
    __local pal_uint scratch[PAL_WG];
    pal_fold_group(patterns, weights, values, counts, distinct, PAL_GROUP_ID(), out_values, out_weights, scratch);
}

/* ------------------------------------------------------------------ DKM passes (common/dkm_core.h) */

/* One work-group per tile (tile_start: first tile of each partition, partitions + 1 entries). */
PAL_KERNEL pal_dkm_sums(dkm_layout L, dkm_params P, int kind, __global const float* w, __global const float* g,
                    __global const double* c_in, __global const pal_uchar* active, __global const pal_long* tile_start,
                    pal_long partitions, __global double* partials) {
    __local double scratch[PAL_WG];
    dkm_sums_tile(L, P, kind, w, g, c_in, active, tile_start, partitions, PAL_GROUP_ID(), partials, scratch);
}

/* One work-item per (partition, column) of width columns. */
PAL_KERNEL pal_dkm_reduce_tiles(__global const double* partials, __global const pal_long* tile_start, pal_long partitions,
                            pal_long width, __global double* out) {
    pal_long item = PAL_GLOBAL_ID();
    if (item < partitions * width) {
        dkm_reduce_tiles_item(partials, tile_start, partitions, width, item, out);
    }
}

/* One work-group per tile. */
PAL_KERNEL pal_dkm_apply(dkm_layout L, dkm_params P, __global const float* w, __global float* out,
                     __global const double* c_in, __global const double* c_out, __global const pal_uchar* active,
                     __global const pal_long* tile_start, pal_long partitions) {
    dkm_apply_tile(L, P, w, out, c_in, c_out, active, tile_start, partitions, PAL_GROUP_ID());
}

/* One work-group per tile. */
PAL_KERNEL pal_dkm_backward(dkm_layout L, dkm_params P, __global const float* w, __global const float* g,
                        __global float* grad, int accumulate, __global const double* c_in,
                        __global const double* c_out, __global const double* e, __global const double* f,
                        __global const pal_uchar* role, __global const pal_long* tile_start, pal_long partitions,
                        __global double* partials) {
    __local double scratch[PAL_WG];
    dkm_backward_tile(L, P, w, g, grad, accumulate, c_in, c_out, e, f, role, tile_start, partitions, PAL_GROUP_ID(),
                      partials, scratch);
}

/* One work-item per element; g NULL: counts only. */
PAL_KERNEL pal_dkm_key_stats(dkm_layout L, __global const float* w, __global const float* g, int keys, __global pal_ulong* counts,
                         __global pal_uint* max_bits, __global int* failed) {
    pal_long i = PAL_GLOBAL_ID();
    if (i < L.elements) {
        dkm_key_stats_item(L, w, g, keys, i, counts, max_bits, failed);
    }
}

/* One work-item per element. */
PAL_KERNEL pal_dkm_fixed_sums(dkm_layout L, __global const float* w, __global const float* g, int keys, __global const pal_ulong* counts,
                          __global const pal_uint* max_bits, __global pal_ulong* sums) {
    pal_long i = PAL_GLOBAL_ID();
    if (i < L.elements) {
        dkm_fixed_sum_item(L, w, g, keys, i, counts, max_bits, sums);
    }
}

/* One work-item per (partition, key); max_bits NULL: the counts. */
PAL_KERNEL pal_dkm_key_results(__global const pal_ulong* counts, __global const pal_uint* max_bits, __global const pal_ulong* sums,
                           pal_long slots, __global double* out) {
    pal_long s = PAL_GLOBAL_ID();
    if (s < slots) {
        dkm_key_result_item(counts, max_bits, sums, s, out);
    }
}

/* One work-item per element; b NULL: out = a[key]. */
PAL_KERNEL pal_dkm_gather(dkm_layout L, __global const float* w, __global const float* g, int keys,
                      __global const float* a, __global const float* b, __global float* out) {
    pal_long i = PAL_GLOBAL_ID();
    if (i < L.elements) {
        dkm_gather_item(L, w, g, keys, a, b, i, out);
    }
}
