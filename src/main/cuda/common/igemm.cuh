// The register-blocked shared-memory GEMM main loop shared by gemm.cu, conv2d.cu and ws_conv.cu.
//
// One block of 256 threads computes a 64 x 64 tile of C = A (M x K) * B (K x N); each thread
// owns 4 x 4 outputs at rows ty + 16 i and columns tx + 16 j (tx = t % 16, ty = t / 16).
// Why that strided ownership and not a 4 x 4 square: in the inner product the 32 lanes of a
// warp read 16 consecutive B columns (one wavefront) and 2 distinct A rows (broadcast), so the
// shared-memory reads are conflict free without vector loads, and the epilogue's stores put
// 16 consecutive columns of a row into one request (coalesced).
// Per K step of 8 the block stages a 64 x 8 slice of A and an 8 x 64 slice of B (2 elements
// per thread each), then does 8 x 16 FMAs per thread from shared memory: arithmetic intensity
// 64 FMAs per 4 shared loads, against 1 per 2 for an untiled dot product.
// Latency: the next slice is loaded into registers while the current one is multiplied
// (register prefetch), so one barrier pair per K step covers the global-load latency.
//
// Operands arrive through *loaders*: a GEMM reads strided matrices (16-byte vectors where
// aligned), an implicit-GEMM convolution gathers im2col columns on the fly, a weight-standardized
// convolution standardizes weights while it loads them. A loader decides which thread loads
// which tile element, so that consecutive lanes read consecutive addresses of its layout; the
// main loop only orders the global loads, shared stores and barriers. Loaders return 0 outside the matrix, which
// makes tails (M, N, K not multiples of the tile) free of special cases in the inner loop.
#pragma once

namespace jnorm {
namespace igemm {

constexpr int kTileM = 64;
constexpr int kTileN = 64;
constexpr int kTileK = 8;
constexpr int kThreads = 256;
// +4 elements per shared row: with the k-fast slot mapping 8 lanes write 8 different k rows of
// the same column, which without padding all land in one bank (8-way conflict).
constexpr int kPad = 4;
constexpr int kSlots = kTileM * kTileK / kThreads;  // elements each thread stages per operand

// Position of one staged element inside the 64 x 8 operand slice: `outer` is the row of A or
// the column of B (0..63), `k` the position along K (0..7).
struct Slot {
    int outer;
    int k;
};

// k-fast: 8 consecutive lanes take 8 consecutive k of one row; right for operands whose K axis
// is contiguous in memory (row-major A, column-major B, im2col rows over output pixels).
__device__ __forceinline__ Slot slot_k_fast(int e) {
    return Slot{static_cast<int>(threadIdx.x >> 3) + 32 * e, static_cast<int>(threadIdx.x & 7)};
}

// outer-fast: 32 consecutive lanes take 32 consecutive rows (or columns) at one k; right for
// operands whose M or N axis is contiguous (column-major A, row-major B, image pixels).
__device__ __forceinline__ Slot slot_outer_fast(int e) {
    return Slot{static_cast<int>(threadIdx.x & 63), static_cast<int>(threadIdx.x >> 6) + 4 * e};
}

template <typename T>
struct Smem {
    T a[kTileK][kTileM + kPad];
    T b[kTileK][kTileN + kPad];
};

// acc[i][j] += sum_k A[m0 + ty + 16 i][k] * B[k][n0 + tx + 16 j] over k in [0, K).
// LoadA / LoadB are staging loaders: `fetch(k0)` reads this thread's share of the operand's
// 64 x 8 slice at K offset k0 into registers (0 outside the matrix), `stage(tile)` writes those
// registers into the shared slice tile[k][outer]. How the slice is shared among threads is the
// loader's business (scalar slots, or 16-byte vectors by half the block, see gemm.cu).
// Every thread of the block must call this (it contains barriers).
template <typename T, typename LoadA, typename LoadB>
__device__ __forceinline__ void mainloop(LoadA& la, LoadB& lb, int K, T (&acc)[4][4], Smem<T>& s) {
    const int tx = threadIdx.x & 15;
    const int ty = threadIdx.x >> 4;
    la.fetch(0);
    lb.fetch(0);
    for (int k0 = 0; k0 < K; k0 += kTileK) {
        la.stage(s.a);
        lb.stage(s.b);
        __syncthreads();
        if (k0 + kTileK < K) {
            la.fetch(k0 + kTileK);
            lb.fetch(k0 + kTileK);
        }
#pragma unroll
        for (int kk = 0; kk < kTileK; ++kk) {
            T av[4];
            T bv[4];
#pragma unroll
            for (int i = 0; i < 4; ++i) {
                av[i] = s.a[kk][ty + 16 * i];
                bv[i] = s.b[kk][tx + 16 * i];
            }
#pragma unroll
            for (int i = 0; i < 4; ++i) {
#pragma unroll
                for (int j = 0; j < 4; ++j) {
                    acc[i][j] = fma(av[i], bv[j], acc[i][j]);
                }
            }
        }
        __syncthreads();
    }
}

// Adapts a slot loader (`Slot slot(int e)`, `T load(int e, int k0)`: element e of this thread,
// kSlots per thread) to the fetch/stage interface.
template <typename T, typename L>
struct SlotStager {
    const L& l;
    T r[kSlots];

    __device__ __forceinline__ void fetch(int k0) {
#pragma unroll
        for (int e = 0; e < kSlots; ++e) {
            r[e] = l.load(e, k0);
        }
    }
    __device__ __forceinline__ void stage(T (*tile)[kTileM + kPad]) const {
#pragma unroll
        for (int e = 0; e < kSlots; ++e) {
            const Slot sl = l.slot(e);
            tile[sl.k][sl.outer] = r[e];
        }
    }
};

// The main loop over two slot loaders.
template <typename T, typename LoadA, typename LoadB>
__device__ __forceinline__ void mainloop_slots(const LoadA& la, const LoadB& lb, int K, T (&acc)[4][4], Smem<T>& s) {
    SlotStager<T, LoadA> a{la, {}};
    SlotStager<T, LoadB> b{lb, {}};
    mainloop(a, b, K, acc, s);
}

// Row (m) and column (n) of this thread's output (i, j) inside the block's tile.
__device__ __forceinline__ int out_row(int i) {
    return static_cast<int>(threadIdx.x >> 4) + 16 * i;
}
__device__ __forceinline__ int out_col(int j) {
    return static_cast<int>(threadIdx.x & 15) + 16 * j;
}

}  // namespace igemm
}  // namespace jnorm
