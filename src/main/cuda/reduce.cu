// Reductions over axes: sum, mean and variance (Welford), plus the elementwise backward of the
// variance. No permute is ever materialized: the host coalesces the axes into one of three
// layouts and picks the kernel that reads that layout coalesced.
//
//   rows     [rows, len], reduce len          (reduced axes are the innermost; a warp per row
//                                             when rows are short, a block per row otherwise)
//   cols     [outer, len, inner], reduce len  (reduced axes contiguous, kept axes inside them)
//   general  any mix (BN's [N, C, H, W] over {0, 2, 3}: reduced, kept, reduced)
//
// mode: 0 sum, 1 mean (sum / n, a division as the reference does), 2 variance
// (m2 / (n - correction); n - correction == 0 gives 0/0 = NaN, as PyTorch and the reference).
// Sums accumulate in T in a fixed order per launch geometry (no atomics), so results are
// deterministic run to run; float32 error grows like log(n), not n, thanks to the tree.

#include "common/reduce.cuh"
#include "common/strided.cuh"
#include "common/vec.cuh"
#include "common/welford.cuh"

namespace red {

enum Mode { kSum = 0, kMean = 1, kVar = 2 };

template <typename T>
__device__ __forceinline__ T finish_sum(int mode, T sum, T n) {
    return mode == kMean ? sum / n : sum;
}

template <typename T>
__device__ __forceinline__ T finish_var(const jnorm::Welford<T>& w, int correction) {
    return w.m2 / (w.n - T(correction));
}

// ---------------------------------------------------------------------------------------------
// rows: out[r] = reduce(x[r, 0:len]). One block per row (grid-stride over rows), threads stride
// over the row so a warp reads 32 consecutive elements; when len is a multiple of the vector
// width every row starts 16-byte aligned and the block reads 16-byte vectors. The per-thread
// partials meet in a warp-shuffle block reduction (two barriers, 32 partials in shared memory).
// Why a block per row: the rows of a normalization (LayerNorm rows, GroupNorm groups) are long;
// a short-row layout still works, at the cost of idle lanes.
// Launch: grid = min(rows, cap), block = a multiple of 32.
template <typename T>
__device__ void rows(int mode, int correction, int nrows, int len, const T* __restrict__ x, T* __restrict__ out) {
    __shared__ T scratch[jnorm::kWarpSize];
    __shared__ jnorm::Welford<T> wscratch[jnorm::kWarpSize];
    using V = typename jnorm::Vec16<T>::type;
    constexpr int W = jnorm::Vec16<T>::kWidth;
    for (int r = blockIdx.x; r < nrows; r += gridDim.x) {
        const T* row = x + static_cast<long long>(r) * len;
        if (mode == kVar) {
            jnorm::Welford<T> w{T(0), T(0), T(0)};
            for (int i = threadIdx.x; i < len; i += blockDim.x) {
                jnorm::welford_push(w, row[i]);
            }
            w = jnorm::block_welford(w, wscratch);
            if (threadIdx.x == 0) {
                out[r] = finish_var(w, correction);
            }
        } else {
            T sum = T(0);
            if (len % W == 0) {
                const V* rv = reinterpret_cast<const V*>(row);
                for (int i = threadIdx.x; i < len / W; i += blockDim.x) {
                    V v = rv[i];
#pragma unroll
                    for (int k = 0; k < W; ++k) {
                        sum += jnorm::lane(v, k);
                    }
                }
            } else {
                for (int i = threadIdx.x; i < len; i += blockDim.x) {
                    sum += row[i];
                }
            }
            sum = jnorm::block_reduce_sum(sum, scratch);
            if (threadIdx.x == 0) {
                out[r] = finish_sum(mode, sum, T(len));
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// rows_warp: the rows layout for short rows (len <= 64): one warp per row, eight rows per block
// of 256, grid-stride over rows by warps. A block per short row would leave most lanes idle and
// pay two barriers per row; a warp needs only shuffles. A warp reads its row's consecutive
// elements (one or two coalesced requests).
// Launch: block 256 (any multiple of 32 works), grid = min(ceil(rows / 8), cap).
template <typename T>
__device__ void rows_warp(int mode, int correction, int nrows, int len, const T* __restrict__ x,
                          T* __restrict__ out) {
    const int lane = threadIdx.x % jnorm::kWarpSize;
    const int warps_per_block = blockDim.x / jnorm::kWarpSize;
    const int warp_stride = gridDim.x * warps_per_block;
    for (int r = blockIdx.x * warps_per_block + threadIdx.x / jnorm::kWarpSize; r < nrows; r += warp_stride) {
        const T* row = x + static_cast<long long>(r) * len;
        if (mode == kVar) {
            jnorm::Welford<T> w{T(0), T(0), T(0)};
            for (int i = lane; i < len; i += jnorm::kWarpSize) {
                jnorm::welford_push(w, row[i]);
            }
            w = jnorm::warp_welford(w);
            if (lane == 0) {
                out[r] = finish_var(w, correction);
            }
        } else {
            T sum = T(0);
            for (int i = lane; i < len; i += jnorm::kWarpSize) {
                sum += row[i];
            }
            sum = jnorm::warp_reduce_sum(sum);
            if (lane == 0) {
                out[r] = finish_sum(mode, sum, T(len));
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// cols: out[o, c] = reduce(x[o, 0:len, c]). Block (32, 8): threadIdx.x walks the inner axis
// (a warp reads 32 consecutive elements of one reduced row: coalesced), threadIdx.y splits the
// reduced axis eight ways so short-inner / long-len shapes still fill the block; the eight
// partials of a column meet in shared memory. Grid (ceil(inner / 32), min(outer, cap)).
// Launch: block exactly (32, 8).
constexpr int kColsX = 32;
constexpr int kColsY = 8;

template <typename T>
__device__ void cols(int mode, int correction, int outer, int len, int inner, const T* __restrict__ x,
                     T* __restrict__ out) {
    __shared__ T sums[kColsY][kColsX + 1];
    __shared__ jnorm::Welford<T> ws[kColsY][kColsX + 1];
    const int c = blockIdx.x * kColsX + threadIdx.x;
    for (int o = blockIdx.y; o < outer; o += gridDim.y) {
        const T* base = x + static_cast<long long>(o) * len * inner + c;
        if (mode == kVar) {
            jnorm::Welford<T> w{T(0), T(0), T(0)};
            if (c < inner) {
                for (int i = threadIdx.y; i < len; i += kColsY) {
                    jnorm::welford_push(w, base[static_cast<long long>(i) * inner]);
                }
            }
            ws[threadIdx.y][threadIdx.x] = w;
            __syncthreads();
            if (threadIdx.y == 0) {
#pragma unroll
                for (int k = 1; k < kColsY; ++k) {
                    w = jnorm::welford_merge(w, ws[k][threadIdx.x]);
                }
                if (c < inner) {
                    out[static_cast<long long>(o) * inner + c] = finish_var(w, correction);
                }
            }
        } else {
            T sum = T(0);
            if (c < inner) {
                for (int i = threadIdx.y; i < len; i += kColsY) {
                    sum += base[static_cast<long long>(i) * inner];
                }
            }
            sums[threadIdx.y][threadIdx.x] = sum;
            __syncthreads();
            if (threadIdx.y == 0) {
#pragma unroll
                for (int k = 1; k < kColsY; ++k) {
                    sum += sums[k][threadIdx.x];
                }
                if (c < inner) {
                    out[static_cast<long long>(o) * inner + c] = finish_sum(mode, sum, T(len));
                }
            }
        }
        // The next outer row reuses the shared arrays.
        __syncthreads();
    }
}

// ---------------------------------------------------------------------------------------------
// general: one block per output (grid-stride over outputs). The output's base offset comes from
// its coordinates on the kept axes (map `kept`), the reduced elements from a flat index over the
// reduced axes (map `reduced`); both maps hold x's strides. With the innermost axis reduced
// (BN: {N, H*W} around C), consecutive threads read consecutive elements.
// Launch: grid = min(outputs, cap), block = a multiple of 32.
template <typename T>
__device__ void general(int mode, int correction, unsigned outputs, unsigned len, const T* __restrict__ x,
                        T* __restrict__ out, const jnorm::StridedMap<1>& kept,
                        const jnorm::StridedMap<1>& reduced) {
    __shared__ T scratch[jnorm::kWarpSize];
    __shared__ jnorm::Welford<T> wscratch[jnorm::kWarpSize];
    for (unsigned o = blockIdx.x; o < outputs; o += gridDim.x) {
        unsigned base[1];
        jnorm::strided_offsets(kept, o, base);
        const T* xo = x + base[0];
        if (mode == kVar) {
            jnorm::Welford<T> w{T(0), T(0), T(0)};
            for (unsigned j = threadIdx.x; j < len; j += blockDim.x) {
                unsigned off[1];
                jnorm::strided_offsets(reduced, j, off);
                jnorm::welford_push(w, xo[off[0]]);
            }
            w = jnorm::block_welford(w, wscratch);
            if (threadIdx.x == 0) {
                out[o] = finish_var(w, correction);
            }
        } else {
            T sum = T(0);
            for (unsigned j = threadIdx.x; j < len; j += blockDim.x) {
                unsigned off[1];
                jnorm::strided_offsets(reduced, j, off);
                sum += xo[off[0]];
            }
            sum = jnorm::block_reduce_sum(sum, scratch);
            if (threadIdx.x == 0) {
                out[o] = finish_sum(mode, sum, T(len));
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// var_backward: dx[i] = dy[o(i)] * 2 * (x[i] - mean[o(i)]) / denom, with o(i) the keep-dim
// output slot of element i (map `to_out`: x's coalesced dims, output strides, 0 on reduced
// axes). One thread per element of x, grid-stride; dy and mean are small and cached.
// The mean comes from a preceding mean launch of this module (same layout logic).
template <typename T>
__device__ void var_backward(unsigned n, T denom, const T* __restrict__ x, const T* __restrict__ dy,
                             const T* __restrict__ mean, T* __restrict__ dx, const jnorm::StridedMap<1>& to_out) {
    const unsigned stride = gridDim.x * blockDim.x;
    for (unsigned i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride) {
        unsigned o[1];
        jnorm::strided_offsets(to_out, i, o);
        dx[i] = dy[o[0]] * T(2) * (x[i] - mean[o[0]]) / denom;
    }
}

}  // namespace red

extern "C" {

__global__ void reduce_rows_f32(int mode, int correction, int rows, int len, const float* __restrict__ x,
                                float* __restrict__ out) {
    red::rows(mode, correction, rows, len, x, out);
}
__global__ void reduce_rows_f64(int mode, int correction, int rows, int len, const double* __restrict__ x,
                                double* __restrict__ out) {
    red::rows(mode, correction, rows, len, x, out);
}

__global__ void reduce_rows_warp_f32(int mode, int correction, int rows, int len, const float* __restrict__ x,
                                     float* __restrict__ out) {
    red::rows_warp(mode, correction, rows, len, x, out);
}
__global__ void reduce_rows_warp_f64(int mode, int correction, int rows, int len, const double* __restrict__ x,
                                     double* __restrict__ out) {
    red::rows_warp(mode, correction, rows, len, x, out);
}

// No __launch_bounds__: with it ptxas caps these at 32 registers and spills 8 bytes.
__global__ void reduce_cols_f32(int mode, int correction, int outer, int len, int inner, const float* __restrict__ x,
                float* __restrict__ out) {
    red::cols(mode, correction, outer, len, inner, x, out);
}
__global__ void reduce_cols_f64(int mode, int correction, int outer, int len, int inner, const double* __restrict__ x,
                double* __restrict__ out) {
    red::cols(mode, correction, outer, len, inner, x, out);
}

__global__ void reduce_general_f32(int mode, int correction, unsigned outputs, unsigned len,
                                   const float* __restrict__ x, float* __restrict__ out,
                                   const jnorm::StridedMap<1> kept, const jnorm::StridedMap<1> reduced) {
    red::general(mode, correction, outputs, len, x, out, kept, reduced);
}
__global__ void reduce_general_f64(int mode, int correction, unsigned outputs, unsigned len,
                                   const double* __restrict__ x, double* __restrict__ out,
                                   const jnorm::StridedMap<1> kept, const jnorm::StridedMap<1> reduced) {
    red::general(mode, correction, outputs, len, x, out, kept, reduced);
}

__global__ void var_backward_f32(unsigned n, float denom, const float* __restrict__ x, const float* __restrict__ dy,
                                 const float* __restrict__ mean, float* __restrict__ dx,
                                 const jnorm::StridedMap<1> to_out) {
    red::var_backward(n, denom, x, dy, mean, dx, to_out);
}
__global__ void var_backward_f64(unsigned n, double denom, const double* __restrict__ x,
                                 const double* __restrict__ dy, const double* __restrict__ mean,
                                 double* __restrict__ dx, const jnorm::StridedMap<1> to_out) {
    red::var_backward(n, denom, x, dy, mean, dx, to_out);
}

}  // extern "C"
