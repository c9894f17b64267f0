/*
 * CUDA C++ dialect of the shared kernel core (see ../README.md, "Dialect contract").
 * palettizer.cu includes this file, then ../common/palettizer_core.h, then defines the entry points;
 * build-fatbin compiles it with the flags in nvcc.flags (no FMA contraction, IEEE division,
 * denormals kept), so the results are the Java reference's bits, as on OpenCL.
 */
#ifndef PALETTIZER_DIALECT_CUH
#define PALETTIZER_DIALECT_CUH

/* Threads per block: fixed in the fatbin; the host launches every kernel with exactly this many. */
#ifndef PAL_WG
#define PAL_WG 256
#endif

typedef long long pal_long;
typedef unsigned long long pal_ulong;
typedef unsigned int pal_uint;
typedef unsigned char pal_uchar;

#define PAL_DEVICE __device__ static
/* extern "C": the host finds each entry point by its plain name (cuModuleGetFunction). */
#define PAL_KERNEL extern "C" __global__ void __launch_bounds__(PAL_WG)
#define PAL_GLOBAL
#define PAL_LOCAL

#define PAL_LOCAL_ID() ((int) threadIdx.x)
#define PAL_GROUP_ID() ((pal_long) blockIdx.x)
#define PAL_GLOBAL_ID() ((pal_long) blockIdx.x * (pal_long) blockDim.x + (pal_long) threadIdx.x)

/* __syncthreads orders shared and global memory accesses among the block's threads. */
#define PAL_BARRIER_LOCAL() __syncthreads()
#define PAL_BARRIER_ALL() __syncthreads()

/* Bitonic stages whose partners are in the same warp exchange registers (blocks are whole warps,
 * and every thread of the block reaches the sort). */
#define PAL_SORT_LANES 32
#define PAL_SHUFFLE_XOR(v, mask) __shfl_xor_sync(0xffffffffu, (v), (mask))

#define PAL_AS_UINT(f) __float_as_uint(f)
#define PAL_AS_INT(f) __float_as_int(f)
#define PAL_AS_FLOAT(u) __uint_as_float(u)
#define PAL_INF_F __int_as_float(0x7f800000)
#define PAL_AS_DOUBLE(l) __longlong_as_double(l)

/* Products that feed an addition, rounded on their own (never fused into an FMA), as Java does;
 * nvcc.flags also passes --fmad=false, so no other product can be contracted either. */
#define PAL_FMUL(a, b) __fmul_rn((a), (b))
#define PAL_DMUL(a, b) __dmul_rn((a), (b))
/* Correctly rounded float division, whatever -prec-div says. */
#define PAL_DIV_RN(a, b) __fdiv_rn((a), (b))

/* Order-free reductions (integer atomics in global memory). */
#define PAL_ATOMIC_ADD_U64(p, v) atomicAdd((p), (pal_ulong) (v))
#define PAL_ATOMIC_MAX_U32(p, v) atomicMax((p), (pal_uint) (v))
#define PAL_CLZ64(x) __clzll((long long) (x))
/* Exact scaling by a power of two, and double to integer rounded to nearest even. */
#define PAL_LDEXP(x, e) ldexp((x), (e))
#define PAL_RINT_L(x) __double2ll_rn(x)

#endif
