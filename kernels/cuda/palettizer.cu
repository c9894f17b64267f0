/*
 * CUDA entry points: argument lists, shared memory and the thread to data mapping only; the logic
 * is in common/palettizer_core.h, shared with opencl/palettizer.cl. Every kernel has the OpenCL
 * kernel's name, argument order and types (pal_layout by value: 11 x 8 bytes), and is launched with
 * blocks of exactly PAL_WG threads over the same grid as its OpenCL twin. Optional buffers
 * (sensitivities, weights, channel scales) are NULL when absent. Chunk data is component-major:
 * [t * count + i].
 */
#include "dialect.cuh"
#include "../common/palettizer_core.h"
#include "../common/dkm_core.h"

/* One thread per element of the chunk: x = raw / scale and w = s * scale^2. */
PAL_KERNEL pal_prepare(pal_layout L, pal_long first, pal_long count, const float* raw, const float* sens,
                       const float* scales, float* x, float* w) {
    pal_long e = PAL_GLOBAL_ID();
    if (e < count * L.cluster_dim) {
        pal_prepare_item(L, first, count, e, raw, sens, scales, x, w);
    }
}

/* One block per segment {group, slot, from, to}; hist holds 65,536 doubles per slot. */
PAL_KERNEL pal_histogram_dense(pal_layout L, pal_long first, const float* x, const float* w, int key_kind,
                               const pal_long* segments, double* hist) {
    __shared__ pal_uint keys[PAL_WG];
    __shared__ float weights[PAL_WG];
    const pal_long* s = segments + 4 * PAL_GROUP_ID();
    pal_histogram_dense_segment(L, first, x, w, key_kind, s[0], s[2], s[3], hist + s[1] * 65536, keys, weights);
}

/* One thread per position of the chunk: groups [group_from, group_to) write their sort keys. */
PAL_KERNEL pal_histogram_keys(pal_layout L, pal_long first, pal_long count, const float* x, const float* w,
                              int key_kind, const pal_uint* sortable, pal_long group_from, pal_long group_to,
                              pal_ulong* keys) {
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

/* One block per group of the batch, each over its vectors_per_group keys. */
PAL_KERNEL pal_histogram_sorted(pal_layout L, pal_ulong* keys, float* values, double* weights) {
    pal_long base = PAL_GROUP_ID() * L.vectors_per_group;
    pal_histogram_sorted_group(keys + base, L.vectors_per_group, values + base, weights + base);
}

/* PAL_ASSIGN_ITEMS positions per thread; partials gets 3 doubles per block. */
PAL_KERNEL pal_assign(pal_layout L, pal_long first, pal_long count, const float* raw, const float* sens,
                      const float* scales, const float* x, const float* w, const float* lut, int lut_size,
                      pal_uchar* indices, double* partials) {
    __shared__ double scratch[3 * PAL_WG];
    pal_assign_group(L, first, count, raw, sens, scales, x, w, lut, lut_size, indices, scratch, partials);
}

/* Doubles of a slot's sums that a block accumulates in shared memory (32 KiB: 8 bits up to cluster_dim 8). */
#define PAL_SHARED_SUMS 4096

/*
 * One block per segment; acc holds 2 * lut_size * cluster_dim doubles per slot. A slot that fits is
 * copied to shared memory, accumulated there by the core (CUDA has one address space for both, so
 * it is the same function OpenCL runs on global memory) and copied back: the same additions in the
 * same order on the same doubles, without a global read-modify-write per element. Segments of one
 * launch have distinct slots.
 */
PAL_KERNEL pal_centroid_sums(pal_layout L, pal_long first, pal_long count, const float* x, const float* w,
                             const pal_uchar* indices, int lut_size, const pal_long* segments, double* acc) {
    __shared__ pal_uint keys[PAL_WG];
    __shared__ double sums[PAL_SHARED_SUMS];
    const pal_long* s = segments + 4 * PAL_GROUP_ID();
    pal_long width = 2 * lut_size * L.cluster_dim;
    double* slot = acc + s[1] * width;
    if (width > PAL_SHARED_SUMS) {
        pal_centroid_segment(L, first, count, x, w, indices, lut_size, s[0], s[2], s[3], slot, keys);
        return;
    }
    for (pal_long q = threadIdx.x; q < width; q += PAL_WG) {
        sums[q] = slot[q];
    }
    __syncthreads();
    pal_centroid_segment(L, first, count, x, w, indices, lut_size, s[0], s[2], s[3], sums, keys);
    __syncthreads();
    for (pal_long q = threadIdx.x; q < width; q += PAL_WG) {
        slot[q] = sums[q];
    }
}

/* One thread per (group of the batch, item j < width): the group's slots summed in slot order. */
PAL_KERNEL pal_reduce_slots(const double* acc, pal_long groups, pal_long slots_per_group, pal_long width,
                            double* out) {
    pal_long id = PAL_GLOBAL_ID();
    if (id < groups * width) {
        pal_long g = id / width;
        pal_long j = id % width;
        out[id] = pal_sum_slots(acc, g * slots_per_group, slots_per_group, width, j);
    }
}

/* One thread per block of eight indices. */
PAL_KERNEL pal_pack(const pal_uchar* indices, pal_long count, int bits, pal_uchar* packed, pal_long packed_length) {
    pal_long b = PAL_GLOBAL_ID();
    if (b * 8 < count) {
        pal_pack_block(indices, count, bits, b, packed, packed_length);
    }
}

PAL_KERNEL pal_unpack(const pal_uchar* packed, pal_long packed_length, int bits, pal_uchar* indices, pal_long count) {
    pal_long b = PAL_GLOBAL_ID();
    if (b * 8 < count) {
        pal_unpack_block(packed, packed_length, bits, b, indices, count);
    }
}

/* One thread per position of the chunk. */
PAL_KERNEL pal_reconstruct(pal_layout L, pal_long first, pal_long count, const float* lut, int lut_size,
                           const pal_uchar* indices, const float* scales, float* out) {
    pal_long i = PAL_GLOBAL_ID();
    if (i < count) {
        pal_reconstruct_item(L, first, count, i, lut, lut_size, indices, scales, out);
    }
}

/* One block per group of the batch: counts[g] = non-zero bins of hist[g * 65536, +65536) (order holds n patterns). */
PAL_KERNEL pal_compact_count(const double* hist, const pal_uint* order, pal_long n, pal_uint* counts) {
    __shared__ pal_uint scratch[PAL_WG];
    pal_compact_count_group(hist + PAL_GROUP_ID() * 65536, order, n, counts + PAL_GROUP_ID(), scratch);
}

/* One block per group, after pal_compact_count: the non-zero bins as (pattern, weight), groups back to back. */
PAL_KERNEL pal_compact(const double* hist, const pal_uint* order, pal_long n, const pal_uint* counts,
                       pal_uint* patterns, double* weights) {
    __shared__ pal_uint scratch[PAL_WG];
    pal_compact_group(hist + PAL_GROUP_ID() * 65536, order, n, counts, PAL_GROUP_ID(), patterns, weights, scratch);
}

/* One block per group, after pal_compact: distinct[g] = runs of equal values (values: per pattern). */
PAL_KERNEL pal_fold_count(const pal_uint* patterns, const float* values, const pal_uint* counts,
                          pal_uint* distinct) {
    __shared__ pal_uint scratch[PAL_WG];
    pal_fold_count_group(patterns, values, counts, PAL_GROUP_ID(), distinct + PAL_GROUP_ID(), scratch);
}

/* One block per group, after pal_fold_count: each group's distinct values and weights, back to back. */
PAL_KERNEL pal_fold(const pal_uint* patterns, const double* weights, const float* values,
                    const pal_uint* counts, const pal_uint* distinct, float* out_values,
                    double* out_weights) {
    __shared__ pal_uint scratch[PAL_WG];
    pal_fold_group(patterns, weights, values, counts, distinct, PAL_GROUP_ID(), out_values, out_weights, scratch);
}

/* ------------------------------------------------------------------ DKM passes (common/dkm_core.h) */

/* One block per tile (tile_start: first tile of each partition, partitions + 1 entries). */
PAL_KERNEL pal_dkm_sums(dkm_layout L, dkm_params P, int kind, const float* w, const float* g, const double* c_in,
                    const pal_uchar* active, const pal_long* tile_start, pal_long partitions, double* partials) {
    __shared__ double scratch[PAL_WG];
    dkm_sums_tile(L, P, kind, w, g, c_in, active, tile_start, partitions, PAL_GROUP_ID(), partials, scratch);
}

/* One thread per (partition, column) of width columns. */
PAL_KERNEL pal_dkm_reduce_tiles(const double* partials, const pal_long* tile_start, pal_long partitions, pal_long width,
                            double* out) {
    pal_long item = PAL_GLOBAL_ID();
    if (item < partitions * width) {
        dkm_reduce_tiles_item(partials, tile_start, partitions, width, item, out);
    }
}

/* One block per tile. */
PAL_KERNEL pal_dkm_apply(dkm_layout L, dkm_params P, const float* w, float* out, const double* c_in, const double* c_out,
                     const pal_uchar* active, const pal_long* tile_start, pal_long partitions) {
    dkm_apply_tile(L, P, w, out, c_in, c_out, active, tile_start, partitions, PAL_GROUP_ID());
}

/* One block per tile. */
PAL_KERNEL pal_dkm_backward(dkm_layout L, dkm_params P, const float* w, const float* g, float* grad, int accumulate,
                        const double* c_in, const double* c_out, const double* e, const double* f,
                        const pal_uchar* role, const pal_long* tile_start, pal_long partitions, double* partials) {
    __shared__ double scratch[PAL_WG];
    dkm_backward_tile(L, P, w, g, grad, accumulate, c_in, c_out, e, f, role, tile_start, partitions, PAL_GROUP_ID(),
                      partials, scratch);
}

/* One thread per element; g NULL: counts only. */
PAL_KERNEL pal_dkm_key_stats(dkm_layout L, const float* w, const float* g, int keys, pal_ulong* counts,
                         pal_uint* max_bits, int* failed) {
    pal_long i = PAL_GLOBAL_ID();
    if (i < L.elements) {
        dkm_key_stats_item(L, w, g, keys, i, counts, max_bits, failed);
    }
}

/* One thread per element. */
PAL_KERNEL pal_dkm_fixed_sums(dkm_layout L, const float* w, const float* g, int keys, const pal_ulong* counts,
                          const pal_uint* max_bits, pal_ulong* sums) {
    pal_long i = PAL_GLOBAL_ID();
    if (i < L.elements) {
        dkm_fixed_sum_item(L, w, g, keys, i, counts, max_bits, sums);
    }
}

/* One thread per (partition, key); max_bits NULL: the counts. */
PAL_KERNEL pal_dkm_key_results(const pal_ulong* counts, const pal_uint* max_bits, const pal_ulong* sums,
                           pal_long slots, double* out) {
    pal_long s = PAL_GLOBAL_ID();
    if (s < slots) {
        dkm_key_result_item(counts, max_bits, sums, s, out);
    }
}

/* One thread per element; b NULL: out = a[key]. */
PAL_KERNEL pal_dkm_gather(dkm_layout L, const float* w, const float* g, int keys, const float* a, const float* b,
                      float* out) {
    pal_long i = PAL_GLOBAL_ID();
    if (i < L.elements) {
        dkm_gather_item(L, w, g, keys, a, b, i, out);
    }
}
