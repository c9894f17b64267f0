/*
 * OpenCL C 1.2 dialect of the shared kernel core (see ../README.md, "Dialect contract").
 * The host concatenates: this file, common/palettizer_core.h, common/dkm_core.h, opencl/palettizer.cl, and builds
 * with -D PAL_WG=<work-group size, a power of two>.
 */
#pragma OPENCL EXTENSION cl_khr_fp64 : enable
/* 64-bit atomic add for the order-free per-value reductions (PoCL and NVIDIA's OpenCL have it). */
#pragma OPENCL EXTENSION cl_khr_int64_base_atomics : enable
/* Java never fuses a*b+c; neither may we, or distances and sums would differ in the last bit. */
#pragma OPENCL FP_CONTRACT OFF

#ifndef PAL_WG
#error "build with -D PAL_WG=<work-group size>"
#endif

typedef long pal_long;
typedef ulong pal_ulong;
typedef uint pal_uint;
typedef uchar pal_uchar;

#define PAL_DEVICE
#define PAL_KERNEL __kernel __attribute__((reqd_work_group_size(PAL_WG, 1, 1))) void
#define PAL_GLOBAL __global
#define PAL_LOCAL __local

#define PAL_LOCAL_ID() ((int) get_local_id(0))
#define PAL_GROUP_ID() ((pal_long) get_group_id(0))
#define PAL_GLOBAL_ID() ((pal_long) get_global_id(0))

#define PAL_BARRIER_LOCAL() barrier(CLK_LOCAL_MEM_FENCE)
#define PAL_BARRIER_ALL() barrier(CLK_LOCAL_MEM_FENCE | CLK_GLOBAL_MEM_FENCE)

/* OpenCL C 1.2 has no sub-group shuffles: every bitonic stage goes through local memory
 * (PAL_SORT_LANES 1), so the core never reaches PAL_SHUFFLE_XOR here. */
#define PAL_SORT_LANES 1
#define PAL_SHUFFLE_XOR(v, mask) (v)

#define PAL_AS_UINT(f) as_uint(f)
#define PAL_AS_INT(f) as_int(f)
#define PAL_AS_FLOAT(u) as_float(u)
#define PAL_INF_F INFINITY
#define PAL_AS_DOUBLE(l) as_double(l)

/* Products that feed an addition; FP_CONTRACT OFF keeps them rounded on their own. */
#define PAL_FMUL(a, b) ((a) * (b))
#define PAL_DMUL(a, b) ((a) * (b))
/* Correctly rounded float division on any device: the double quotient rounded once more to float
 * is the correctly rounded float quotient (53 >= 2 * 24 + 2), and fp64 division is IEEE in OpenCL. */
#define PAL_DIV_RN(a, b) ((float) ((double) (a) / (double) (b)))

/* Order-free reductions (integer atomics in global memory). */
#define PAL_ATOMIC_ADD_U64(p, v) atom_add((volatile __global ulong*) (p), (ulong) (v))
#define PAL_ATOMIC_MAX_U32(p, v) atomic_max((volatile __global uint*) (p), (uint) (v))
#define PAL_CLZ64(x) ((int) clz((ulong) (x)))
/* Exact scaling by a power of two, and double to integer rounded to nearest even. */
#define PAL_LDEXP(x, e) ldexp((x), (e))
#define PAL_RINT_L(x) convert_long_rte(x)
