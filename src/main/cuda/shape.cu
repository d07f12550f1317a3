// Data movement between contiguous tensors: expand (broadcast), permute, slice and its adjoint.
//
// expand, permute and slice are one operation, a strided gather out[i] = x[base + offset(i)],
// where offset(i) walks out's coalesced dims with x's strides (0 on broadcast axes, permuted
// strides for permute, step-scaled strides for slice). sliceScatter is the matching scatter.
// One thread per output element in a grid-stride loop: writes are always coalesced, reads are
// coalesced whenever the innermost coalesced axis has stride 1 in x.
//
// The one layout where that is not the case and which matters (NCHW <-> NHWC, matrix
// transposes) is a batched 2-D transpose; it gets its own tiled kernel that reads and writes
// 32-wide rows through shared memory.

#include "common/strided.cuh"

namespace shp {

// ---------------------------------------------------------------------------------------------
// gather: out[i] = x[base + offset(i)]. Launch: any grid and block (1-D).
template <typename T>
__device__ void gather(unsigned n, unsigned base, const T* __restrict__ x, T* __restrict__ out,
                       const jnorm::StridedMap<1>& map) {
    const unsigned stride = gridDim.x * blockDim.x;
    for (unsigned i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride) {
        unsigned off[1];
        jnorm::strided_offsets(map, i, off);
        out[i] = x[base + off[0]];
    }
}

// scatter: dst[base + offset(i)] = src[i]; positions not hit keep their values.
// Launch: any grid and block (1-D).
template <typename T>
__device__ void scatter(unsigned n, unsigned base, const T* __restrict__ src, T* __restrict__ dst,
                        const jnorm::StridedMap<1>& map) {
    const unsigned stride = gridDim.x * blockDim.x;
    for (unsigned i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride) {
        unsigned off[1];
        jnorm::strided_offsets(map, i, off);
        dst[base + off[0]] = src[i];
    }
}

// ---------------------------------------------------------------------------------------------
// transpose: out[b, c, r] = x[b, r, c] for x of [batch, rows, cols]. One 32x32 tile per block
// (block 32 x 8, each thread moves 4 elements): the tile is read row-wise from x (coalesced),
// stored in shared memory with one column of padding (so the column-wise reads hit 32 different
// banks), and written row-wise to out (coalesced). Grid (ceil(cols/32), ceil(rows/32), min(batch, cap)).
// Launch: block exactly (32, 8).
constexpr int kTile = 32;
constexpr int kRowsPerPass = 8;

template <typename T>
__device__ void transpose(int batch, int nrows, int ncols, const T* __restrict__ x, T* __restrict__ out) {
    __shared__ T tile[kTile][kTile + 1];
    const int c0 = blockIdx.x * kTile;
    const int r0 = blockIdx.y * kTile;
    const long long plane = static_cast<long long>(nrows) * ncols;
    for (int b = blockIdx.z; b < batch; b += gridDim.z) {
        const T* xb = x + b * plane;
        T* ob = out + b * plane;
#pragma unroll
        for (int k = 0; k < kTile; k += kRowsPerPass) {
            const int r = r0 + threadIdx.y + k;
            const int c = c0 + threadIdx.x;
            if (r < nrows && c < ncols) {
                tile[threadIdx.y + k][threadIdx.x] = xb[static_cast<long long>(r) * ncols + c];
            }
        }
        __syncthreads();
#pragma unroll
        for (int k = 0; k < kTile; k += kRowsPerPass) {
            const int c = c0 + threadIdx.y + k;
            const int r = r0 + threadIdx.x;
            if (c < ncols && r < nrows) {
                ob[static_cast<long long>(c) * nrows + r] = tile[threadIdx.x][threadIdx.y + k];
            }
        }
        // The next batch entry overwrites the tile.
        __syncthreads();
    }
}

}  // namespace shp

extern "C" {

__global__ void shape_gather_f32(unsigned n, unsigned base, const float* __restrict__ x, float* __restrict__ out,
                                 const jnorm::StridedMap<1> map) {
    shp::gather(n, base, x, out, map);
}
__global__ void shape_gather_f64(unsigned n, unsigned base, const double* __restrict__ x,
                                 double* __restrict__ out, const jnorm::StridedMap<1> map) {
    shp::gather(n, base, x, out, map);
}

__global__ void shape_scatter_f32(unsigned n, unsigned base, const float* __restrict__ src,
                                  float* __restrict__ dst, const jnorm::StridedMap<1> map) {
    shp::scatter(n, base, src, dst, map);
}
__global__ void shape_scatter_f64(unsigned n, unsigned base, const double* __restrict__ src,
                                  double* __restrict__ dst, const jnorm::StridedMap<1> map) {
    shp::scatter(n, base, src, dst, map);
}

__global__ void __launch_bounds__(shp::kTile * shp::kRowsPerPass)
shape_transpose_f32(int batch, int rows, int cols, const float* __restrict__ x, float* __restrict__ out) {
    shp::transpose(batch, rows, cols, x, out);
}
__global__ void __launch_bounds__(shp::kTile * shp::kRowsPerPass)
shape_transpose_f64(int batch, int rows, int cols, const double* __restrict__ x, double* __restrict__ out) {
    shp::transpose(batch, rows, cols, x, out);
}

}  // extern "C"
