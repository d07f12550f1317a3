// Kernels that exist to test the execution layer, not to compute anything for a user.
//
// Each one pins down a piece of CUDA semantics that jnorm's real kernels rely on (warp shuffles,
// barriers, grid-stride loops, global atomics, shared-memory tiling, by-value struct parameters,
// 2-D grids) or a memory-access pattern whose hardware counters are known exactly (sectors per
// request, shared-memory wavefronts per request). SelfTestKernelsTest runs every entry on the
// PTX emulator against a CPU result, and on a real GPU through tools/run-gpu-suite, so the same
// bytes are checked on both sides of the GpuDriver seam.
//
// Numeric kernels are templates instantiated for float and double with extern "C" names that
// carry the dtype; the counter kernels are float-only because their point is the access
// pattern, and 4-byte elements make the expected counts round numbers.

#include "common/reduce.cuh"

// A named namespace, not an anonymous one: nvcc prefixes internal-linkage names with a hash of
// the source file's absolute path, which would leak the build machine into the PTX.
namespace selftest {

// ---------------------------------------------------------------------------------------------
// block_reduce_sum: out[row] = sum(x[row, 0:row_len]).
// One block per row, because a normalization layer reduces one (sample, group) or one channel
// per block in exactly this way. Threads stride over the row by blockDim.x, so consecutive
// threads read consecutive elements (coalesced) for any row length, then the block combines
// the per-thread sums with warp shuffles and one round through shared memory.
// Launch: grid = rows, block = a multiple of 32 (<= 1024).
template <typename T>
__device__ void block_reduce_sum(const T* __restrict__ x, T* __restrict__ out, int row_len) {
    __shared__ T scratch[jnorm::kWarpSize];
    const T* row = x + static_cast<long long>(blockIdx.x) * row_len;
    T sum = T(0);
    for (int i = threadIdx.x; i < row_len; i += blockDim.x) {
        sum += row[i];
    }
    sum = jnorm::block_reduce_sum(sum, scratch);
    if (threadIdx.x == 0) {
        out[blockIdx.x] = sum;
    }
}

// ---------------------------------------------------------------------------------------------
// axpy: y = a * x + y over n elements with a grid-stride loop.
// The grid is sized to the machine rather than to n, so one launch covers any n (including n
// larger than gridDim * blockDim) and every thread does several iterations; this is the loop
// shape of every elementwise kernel in jnorm. The index is 64-bit so n near 2^31 cannot wrap.
// Launch: any grid and block.
template <typename T>
__device__ void axpy(int n, T a, const T* __restrict__ x, T* __restrict__ y) {
    const long long stride = static_cast<long long>(gridDim.x) * blockDim.x;
    for (long long i = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) {
        y[i] = a * x[i] + y[i];
    }
}

// ---------------------------------------------------------------------------------------------
// reduce_sum_atomic: *out += sum(x[0:n]) across the whole grid.
// Grid-stride partial sums per thread, a block reduction, then one atomicAdd per block. One
// atomic per block (not per thread) keeps contention at gridDim operations on one address.
// The order in which blocks add is not fixed, so the float result is only reproducible up to
// rounding; the caller zeroes *out first. atomicAdd(double*) needs sm_60+, fine for sm_75.
// Launch: any grid, block a multiple of 32.
template <typename T>
__device__ void reduce_sum_atomic(const T* __restrict__ x, T* __restrict__ out, int n) {
    __shared__ T scratch[jnorm::kWarpSize];
    const int stride = gridDim.x * blockDim.x;
    T sum = T(0);
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride) {
        sum += x[i];
    }
    sum = jnorm::block_reduce_sum(sum, scratch);
    if (threadIdx.x == 0) {
        atomicAdd(out, sum);
    }
}

// ---------------------------------------------------------------------------------------------
// matmul_tiled: C[M,N] = A[M,K] * B[K,N], row-major.
// One 16x16 output tile per block, one output per thread. Each K-step stages a 16x16 tile of A
// and of B in shared memory, so every global element is read M/16 or N/16 times instead of K
// times; the two barriers per step separate "tile written" from "tile read" and "tile read"
// from "next tile written". Out-of-range elements are staged as zero, so any M, N, K work.
// Threads with the same threadIdx.y read the same As row element (a broadcast, conflict free)
// and consecutive Bs elements (consecutive banks).
// Launch: block = (16, 16), grid = (ceil(N/16), ceil(M/16)).
constexpr int kTile = 16;

template <typename T>
__device__ void matmul_tiled(const T* __restrict__ A, const T* __restrict__ B, T* __restrict__ C,
                             int M, int N, int K) {
    __shared__ T As[kTile][kTile];
    __shared__ T Bs[kTile][kTile];
    const int row = blockIdx.y * kTile + threadIdx.y;
    const int col = blockIdx.x * kTile + threadIdx.x;
    T acc = T(0);
    for (int k0 = 0; k0 < K; k0 += kTile) {
        const int a_col = k0 + threadIdx.x;
        const int b_row = k0 + threadIdx.y;
        As[threadIdx.y][threadIdx.x] = (row < M && a_col < K) ? A[static_cast<long long>(row) * K + a_col] : T(0);
        Bs[threadIdx.y][threadIdx.x] = (b_row < K && col < N) ? B[static_cast<long long>(b_row) * N + col] : T(0);
        __syncthreads();
#pragma unroll
        for (int k = 0; k < kTile; ++k) {
            acc += As[threadIdx.y][k] * Bs[k][threadIdx.x];
        }
        __syncthreads();
    }
    if (row < M && col < N) {
        C[static_cast<long long>(row) * N + col] = acc;
    }
}

// ---------------------------------------------------------------------------------------------
// affine2d_struct: y[r, c] = scale * x[r, c] + shift on a strided 2-D view, with every argument
// packed into one struct passed by value.
// It exists for the parameter path: a by-value struct becomes `.param .align 8 .b8 name[N]` in
// PTX, which the signature parser, the argument packer and the emulator must all lay out the
// same way as the C++ compiler does. A 2-D grid over (columns, rows) also covers
// %ctaid.y / %ntid.y / %tid.y. Layout (both dtypes): two 8-byte pointers, four ints, then
// scale and shift, so float gives 40 bytes and double 48.
// Launch: block = (bx, by), grid = (ceil(cols/bx), ceil(rows/by)).
template <typename T>
struct Affine2d {
    const T* x;
    T* y;
    int rows;
    int cols;
    int ld_x;  // elements between consecutive rows of x
    int ld_y;
    T scale;
    T shift;
};

template <typename T>
__device__ void affine2d_struct(const Affine2d<T>& p) {
    const int c = blockIdx.x * blockDim.x + threadIdx.x;
    const int r = blockIdx.y * blockDim.y + threadIdx.y;
    if (r < p.rows && c < p.cols) {
        p.y[static_cast<long long>(r) * p.ld_y + c] = p.scale * p.x[static_cast<long long>(r) * p.ld_x + c] + p.shift;
    }
}

// ---------------------------------------------------------------------------------------------
// Counter kernels. Their expected hardware counts, for full warps and 256-byte aligned buffers:
//   copy_coalesced_f32  lane i reads 4 bytes at i*4          -> 128 B per warp = 4 sectors/request
//   copy_float4_f32     lane i reads 16 bytes at i*16        -> 512 B per warp = 16 sectors/request
//   copy_stride32_f32   lane i reads 4 bytes at i*128        -> 32 distinct sectors/request
//                       (its stores are coalesced: 4 sectors/request)
//   smem_rowsum_conflict_f32  every shared access of a warp hits one bank -> 32 wavefronts/request
//   smem_rowsum_padded_f32    the same algorithm with a +1 padded row     -> 1 wavefront/request
// Launch: block a multiple of 32; for the copies n a multiple of the block size so every warp is
// full (the guards are still there for safety).

__device__ void copy_coalesced(const float* __restrict__ in, float* __restrict__ out, int n) {
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) {
        out[i] = in[i];
    }
}

// float4 moves 16 bytes per lane in one instruction: a quarter of the load/store instructions of
// the scalar copy for the same bytes, which is why jnorm's elementwise kernels vectorize.
__device__ void copy_float4(const float4* __restrict__ in, float4* __restrict__ out, int n4) {
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n4) {
        out[i] = in[i];
    }
}

// out[i] = in[i * 32]: the worst case for coalescing, every lane of a warp in its own 128-byte
// line, so a warp load costs 32 sectors for 128 useful bytes (1/8 of the bandwidth).
// `in` holds n * 32 floats.
__device__ void copy_stride32(const float* __restrict__ in, float* __restrict__ out, int n) {
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) {
        out[i] = in[static_cast<long long>(i) * 32];
    }
}

// Shared-memory bank conflicts. One warp per block owns a 32x32 tile: lane l writes its tile row
// l with in[base + r*32 + l] (global reads coalesced), and after the barrier sums the row of its
// neighbour (l+1) % 32, so data really crosses threads through shared memory.
// With a row pitch of 32 floats, lane l's element r sits at word l*32 + r: bank r for every lane,
// so each warp access is a 32-way conflict (32 wavefronts). With a pitch of 33 it sits at bank
// (l + r) % 32: 32 distinct banks, one wavefront. The result is identical:
// out[block*32 + l] = sum_r in[block*1024 + r*32 + (l+1)%32].
// `#pragma unroll 1` keeps the accesses scalar; an unrolled pitch-32 loop would let the compiler
// merge four row elements into one 16-byte ld.shared.v4, a different access pattern.
// Launch: block = 32 threads exactly, grid = number of 32x32 tiles.
template <int kPitch>
__device__ void smem_rowsum(const float* __restrict__ in, float* __restrict__ out) {
    __shared__ float tile[32 * kPitch];
    const int lane = threadIdx.x;
    const float* src = in + static_cast<long long>(blockIdx.x) * 32 * 32;
#pragma unroll 1
    for (int r = 0; r < 32; ++r) {
        tile[lane * kPitch + r] = src[r * 32 + lane];
    }
    __syncthreads();
    const int neighbour = (lane + 1) % 32;
    float sum = 0.0f;
#pragma unroll 1
    for (int r = 0; r < 32; ++r) {
        sum += tile[neighbour * kPitch + r];
    }
    out[blockIdx.x * 32 + lane] = sum;
}

}  // namespace selftest

using namespace selftest;

// ---------------------------------------------------------------------------------------------
// Entry points. __launch_bounds__ only where a kernel's launch contract fixes the block size.

extern "C" {

__global__ void block_reduce_sum_f32(const float* __restrict__ x, float* __restrict__ out, int row_len) {
    block_reduce_sum(x, out, row_len);
}
__global__ void block_reduce_sum_f64(const double* __restrict__ x, double* __restrict__ out, int row_len) {
    block_reduce_sum(x, out, row_len);
}

__global__ void axpy_f32(int n, float a, const float* __restrict__ x, float* __restrict__ y) {
    axpy(n, a, x, y);
}
__global__ void axpy_f64(int n, double a, const double* __restrict__ x, double* __restrict__ y) {
    axpy(n, a, x, y);
}

__global__ void reduce_sum_atomic_f32(const float* __restrict__ x, float* __restrict__ out, int n) {
    reduce_sum_atomic(x, out, n);
}
__global__ void reduce_sum_atomic_f64(const double* __restrict__ x, double* __restrict__ out, int n) {
    reduce_sum_atomic(x, out, n);
}

__global__ void __launch_bounds__(kTile * kTile)
matmul_tiled_f32(const float* __restrict__ A, const float* __restrict__ B, float* __restrict__ C, int M, int N, int K) {
    matmul_tiled(A, B, C, M, N, K);
}
__global__ void __launch_bounds__(kTile * kTile)
matmul_tiled_f64(const double* __restrict__ A, const double* __restrict__ B, double* __restrict__ C, int M, int N, int K) {
    matmul_tiled(A, B, C, M, N, K);
}

__global__ void affine2d_struct_f32(const Affine2d<float> p) {
    affine2d_struct(p);
}
__global__ void affine2d_struct_f64(const Affine2d<double> p) {
    affine2d_struct(p);
}

__global__ void copy_coalesced_f32(const float* __restrict__ in, float* __restrict__ out, int n) {
    copy_coalesced(in, out, n);
}
__global__ void copy_float4_f32(const float4* __restrict__ in, float4* __restrict__ out, int n4) {
    copy_float4(in, out, n4);
}
__global__ void copy_stride32_f32(const float* __restrict__ in, float* __restrict__ out, int n) {
    copy_stride32(in, out, n);
}

__global__ void __launch_bounds__(32) smem_rowsum_conflict_f32(const float* __restrict__ in, float* __restrict__ out) {
    smem_rowsum<32>(in, out);
}
__global__ void __launch_bounds__(32) smem_rowsum_padded_f32(const float* __restrict__ in, float* __restrict__ out) {
    smem_rowsum<33>(in, out);
}

}  // extern "C"
