// Implicit-GEMM convolution (NCHW, stride, padding, dilation, groups) on the tile of igemm.cuh,
// shared by conv2d.cu (plain weights) and ws_conv.cu (weights standardized while staged).
//
// Each pass is one GEMM per channel group whose operands are gathered on the fly, so no im2col
// matrix ever exists in global memory (it would be KH*KW times the input):
//   forward    y[o, (n,p)]   = sum_{(c,i,j)} W[o, (c,i,j)]  * x[n, c, p*s - pad + (i,j)*dil]
//              M = O/g, N = batch * OH * OW, K = C/g * KH * KW
//   dgrad      dx[c, (n,q)]  = sum_{(o,i,j)} W[o, c, i, j]  * dy[n, o, (q + pad - (i,j)*dil) / s]
//              M = C/g, N = batch * H * W,   K = O/g * KH * KW   (terms whose division by the
//              stride is not exact, or lands outside dy, are zero)
//   wgrad      dW[o, (c,i,j)] = sum_{(n,p)} dy[n, o, p]     * x[n, c, p*s - pad + (i,j)*dil]
//              M = O/g, N = C/g * KH * KW,   K = batch * OH * OW  (split along K, see below)
// Grid z runs over groups (and K splits for wgrad), so groups cost nothing extra.
// Each loader keeps the part of its index math that is fixed for the thread (the output pixel
// of an im2col column, the tap of a weight column) in registers, and decomposes only the
// varying K index per element; the pixel axis is always the one consecutive lanes walk, so
// image reads and writes are coalesced for stride 1.
#pragma once

#include "igemm.cuh"

namespace jnorm {
namespace conv {

using igemm::Slot;

// By-value kernel parameter; mirrors the Java packing in the cuda conv launchers (72 bytes).
struct ConvParams {
    int n, c, h, w;        // input
    int o, kh, kw;         // weight [o, c / groups, kh, kw]
    int oh, ow;            // output
    int stride_h, stride_w, pad_h, pad_w, dil_h, dil_w;
    int groups;
    int k_chunk;           // wgrad: K elements per split (a multiple of the K tile)
    int splits;            // wgrad: number of K splits (grid z = groups * splits)
};

// ---- forward -------------------------------------------------------------------------------

// A = weights of one group as [O/g, K]; rows contiguous along K, so k-fast slots. With WS the
// element is (W - mean_o) * scale_o, mean and scale of the thread's two rows held in registers
// (the slot's row never changes along K), so standardization costs one FMA-pair per element.
template <typename T, bool kWs>
struct FwdLoadW {
    const T* w;       // first weight of the group
    int rows;         // O / g
    int kdim;         // C/g * KH * KW
    int m0;
    T mean[igemm::kSlots];
    T scale[igemm::kSlots];

    __device__ __forceinline__ void init(const T* stats, int o_total, int o_first) {
#pragma unroll
        for (int e = 0; e < igemm::kSlots; ++e) {
            const int m = m0 + slot(e).outer;
            mean[e] = T(0);
            scale[e] = T(1);
            if (kWs && m < rows) {
                mean[e] = stats[o_first + m];
                scale[e] = stats[o_total + o_first + m];
            }
        }
    }
    __device__ __forceinline__ Slot slot(int e) const {
        return igemm::slot_k_fast(e);
    }
    __device__ __forceinline__ T load(int e, int k0) const {
        const Slot s = slot(e);
        const int m = m0 + s.outer;
        const int k = k0 + s.k;
        if (m >= rows || k >= kdim) {
            return T(0);
        }
        const T v = w[static_cast<long long>(m) * kdim + k];
        return kWs ? (v - mean[e]) * scale[e] : v;
    }
};

// B = im2col of the input: column = output pixel (n, oh, ow), row = tap (c, i, j).
// outer-fast slots: a thread's column is fixed, so its pixel is decoded once.
template <typename T>
struct FwdLoadX {
    const T* xg;      // x[n, first channel of the group]
    int kdim;
    int khw;
    int ih0;
    int iw0;
    bool valid;
    const ConvParams* p;

    __device__ __forceinline__ void init(const T* x, const ConvParams& cp, int g, int col) {
        p = &cp;
        const int cg = cp.c / cp.groups;
        khw = cp.kh * cp.kw;
        kdim = cg * khw;
        const int ohw = cp.oh * cp.ow;
        valid = col < cp.n * ohw;
        const int img = valid ? col / ohw : 0;
        const int pix = col - img * ohw;
        const int oy = pix / cp.ow;
        const int ox = pix - oy * cp.ow;
        ih0 = oy * cp.stride_h - cp.pad_h;
        iw0 = ox * cp.stride_w - cp.pad_w;
        xg = x + (static_cast<long long>(img) * cp.c + static_cast<long long>(g) * cg) * cp.h * cp.w;
    }
    __device__ __forceinline__ Slot slot(int e) const {
        return igemm::slot_outer_fast(e);
    }
    __device__ __forceinline__ T load(int e, int k0) const {
        const int k = k0 + slot(e).k;
        if (!valid || k >= kdim) {
            return T(0);
        }
        const int ci = k / khw;
        const int r = k - ci * khw;
        const int i = r / p->kw;
        const int j = r - i * p->kw;
        const int ih = ih0 + i * p->dil_h;
        const int iw = iw0 + j * p->dil_w;
        if (ih < 0 || ih >= p->h || iw < 0 || iw >= p->w) {
            return T(0);
        }
        return xg[(static_cast<long long>(ci) * p->h + ih) * p->w + iw];
    }
};

// y = conv(x, W or standardized W) + bias. Grid (ceil(batch*OH*OW / 64), ceil(O/g / 64), g).
template <typename T, bool kWs>
__device__ __forceinline__ void forward(const T* __restrict__ x, const T* __restrict__ w, const T* __restrict__ stats,
                                        const T* __restrict__ bias, T* __restrict__ y, const ConvParams& p) {
    __shared__ igemm::Smem<T> smem;
    const int g = blockIdx.z;
    const int og = p.o / p.groups;
    const int cg = p.c / p.groups;
    const int m0 = blockIdx.y * igemm::kTileM;
    const int n0 = blockIdx.x * igemm::kTileN;

    FwdLoadW<T, kWs> la;
    la.w = w + static_cast<long long>(g) * og * cg * p.kh * p.kw;
    la.rows = og;
    la.kdim = cg * p.kh * p.kw;
    la.m0 = m0;
    la.init(stats, p.o, g * og);
    FwdLoadX<T> lb;
    lb.init(x, p, g, n0 + static_cast<int>(threadIdx.x & 63));

    T acc[4][4] = {};
    igemm::mainloop_slots(la, lb, la.kdim, acc, smem);

    const int ohw = p.oh * p.ow;
    const int cols = p.n * ohw;
#pragma unroll
    for (int j = 0; j < 4; ++j) {
        const int col = n0 + igemm::out_col(j);
        if (col >= cols) {
            continue;
        }
        const int img = col / ohw;
        const int pix = col - img * ohw;
#pragma unroll
        for (int i = 0; i < 4; ++i) {
            const int m = m0 + igemm::out_row(i);
            if (m < og) {
                const int o = g * og + m;
                y[(static_cast<long long>(img) * p.o + o) * ohw + pix] = acc[i][j] + (bias != nullptr ? bias[o] : T(0));
            }
        }
    }
}

// ---- backward input ------------------------------------------------------------------------

// A = W^T of one group gathered as [C/g, O/g * KH * KW]; consecutive k are consecutive taps of
// one output channel (contiguous), so k-fast slots. With WS, mean and scale of every output
// channel of the group sit in shared memory (they vary along K).
template <typename T, bool kWs>
struct DgradLoadW {
    const T* w;       // first weight of the group
    const T* s_mean;  // shared, [O/g]
    const T* s_scale;
    int rows;         // C / g
    int kdim;         // O/g * KH * KW
    int khw;
    int m0;

    __device__ __forceinline__ Slot slot(int e) const {
        return igemm::slot_k_fast(e);
    }
    __device__ __forceinline__ T load(int e, int k0) const {
        const Slot s = slot(e);
        const int m = m0 + s.outer;
        const int k = k0 + s.k;
        if (m >= rows || k >= kdim) {
            return T(0);
        }
        const int ol = k / khw;
        const int r = k - ol * khw;
        const T v = w[(static_cast<long long>(ol) * rows + m) * khw + r];
        return kWs ? (v - s_mean[ol]) * s_scale[ol] : v;
    }
};

// B = dy gathered per input pixel: column = (n, h, w), row = (o, i, j). outer-fast slots.
template <typename T>
struct DgradLoadDy {
    const T* dyg;     // dy[n, first output channel of the group]
    const ConvParams* p;
    int kdim;
    int khw;
    int hp;           // h + pad_h
    int wp;
    bool valid;

    __device__ __forceinline__ void init(const T* dy, const ConvParams& cp, int g, int col) {
        p = &cp;
        const int og = cp.o / cp.groups;
        khw = cp.kh * cp.kw;
        kdim = og * khw;
        const int hw = cp.h * cp.w;
        valid = col < cp.n * hw;
        const int img = valid ? col / hw : 0;
        const int pix = col - img * hw;
        const int yy = pix / cp.w;
        hp = yy + cp.pad_h;
        wp = pix - yy * cp.w + cp.pad_w;
        dyg = dy + (static_cast<long long>(img) * cp.o + static_cast<long long>(g) * og) * cp.oh * cp.ow;
    }
    __device__ __forceinline__ Slot slot(int e) const {
        return igemm::slot_outer_fast(e);
    }
    __device__ __forceinline__ T load(int e, int k0) const {
        const int k = k0 + slot(e).k;
        if (!valid || k >= kdim) {
            return T(0);
        }
        const int ol = k / khw;
        const int r = k - ol * khw;
        const int i = r / p->kw;
        const int j = r - i * p->kw;
        const int th = hp - i * p->dil_h;
        const int tw = wp - j * p->dil_w;
        if (th < 0 || tw < 0) {
            return T(0);
        }
        const int oy = th / p->stride_h;
        const int ox = tw / p->stride_w;
        if (oy * p->stride_h != th || ox * p->stride_w != tw || oy >= p->oh || ox >= p->ow) {
            return T(0);
        }
        return dyg[(static_cast<long long>(ol) * p->oh + oy) * p->ow + ox];
    }
};

// dx (overwritten). Grid (ceil(batch*H*W / 64), ceil(C/g / 64), g). With WS, dynamic shared
// memory holds 2 * O/g values (mean and scale of the group's output channels).
template <typename T, bool kWs>
__device__ __forceinline__ void backward_input(const T* __restrict__ dy, const T* __restrict__ w,
                                               const T* __restrict__ stats, T* __restrict__ dx,
                                               const ConvParams& p, T* s_stats) {
    __shared__ igemm::Smem<T> smem;
    const int g = blockIdx.z;
    const int og = p.o / p.groups;
    const int cg = p.c / p.groups;
    const int khw = p.kh * p.kw;
    const int m0 = blockIdx.y * igemm::kTileM;
    const int n0 = blockIdx.x * igemm::kTileN;
    if (kWs) {
        for (int i = threadIdx.x; i < og; i += blockDim.x) {
            s_stats[i] = stats[g * og + i];
            s_stats[og + i] = stats[p.o + g * og + i];
        }
        // The main loop's first barrier orders these writes before any loader reads them, but
        // the prefetch of the first slice happens before that barrier, so order them here.
        __syncthreads();
    }

    DgradLoadW<T, kWs> la{w + static_cast<long long>(g) * og * cg * khw, s_stats, s_stats + og, cg, og * khw, khw, m0};
    DgradLoadDy<T> lb;
    lb.init(dy, p, g, n0 + static_cast<int>(threadIdx.x & 63));

    T acc[4][4] = {};
    igemm::mainloop_slots(la, lb, la.kdim, acc, smem);

    const int hw = p.h * p.w;
    const int cols = p.n * hw;
#pragma unroll
    for (int j = 0; j < 4; ++j) {
        const int col = n0 + igemm::out_col(j);
        if (col >= cols) {
            continue;
        }
        const int img = col / hw;
        const int pix = col - img * hw;
#pragma unroll
        for (int i = 0; i < 4; ++i) {
            const int m = m0 + igemm::out_row(i);
            if (m < cg) {
                dx[(static_cast<long long>(img) * p.c + g * cg + m) * hw + pix] = acc[i][j];
            }
        }
    }
}

// ---- backward weight -----------------------------------------------------------------------

// A = dy of one group as [O/g, batch * OH * OW]: row o is contiguous within each image, so
// k-fast slots; K is restricted to this block's split [k_begin, k_end).
template <typename T>
struct WgradLoadDy {
    const T* dyg;     // dy[0, first output channel of the group]
    long long img_stride;  // O * OH * OW
    int ohw;
    int rows;
    int m0;
    int k_begin;
    int k_end;

    __device__ __forceinline__ Slot slot(int e) const {
        return igemm::slot_k_fast(e);
    }
    __device__ __forceinline__ T load(int e, int k0) const {
        const Slot s = slot(e);
        const int m = m0 + s.outer;
        const int k = k_begin + k0 + s.k;
        if (m >= rows || k >= k_end) {
            return T(0);
        }
        const int img = k / ohw;
        const int pix = k - img * ohw;
        return dyg[img * img_stride + static_cast<long long>(m) * ohw + pix];
    }
};

// B = im2col^T: row = output pixel (n, oh, ow) along K, column = tap (c, i, j). k-fast slots so
// that 8 consecutive lanes read 8 neighbouring pixels of one tap (contiguous for stride 1);
// each slot's tap is fixed and decoded once.
template <typename T>
struct WgradLoadX {
    const T* xg;           // x[0, first channel of the group]
    const ConvParams* p;
    long long img_stride;  // C * H * W
    long long chan_off[igemm::kSlots];
    int ioff[igemm::kSlots];
    int joff[igemm::kSlots];
    bool valid[igemm::kSlots];
    int k_begin;
    int k_end;

    __device__ __forceinline__ void init(const T* x, const ConvParams& cp, int g, int n0) {
        p = &cp;
        const int cg = cp.c / cp.groups;
        const int khw = cp.kh * cp.kw;
        img_stride = static_cast<long long>(cp.c) * cp.h * cp.w;
        xg = x + static_cast<long long>(g) * cg * cp.h * cp.w;
#pragma unroll
        for (int e = 0; e < igemm::kSlots; ++e) {
            const int col = n0 + slot(e).outer;
            valid[e] = col < cg * khw;
            const int ci = valid[e] ? col / khw : 0;
            const int r = col - ci * khw;
            const int i = r / cp.kw;
            const int j = r - i * cp.kw;
            chan_off[e] = static_cast<long long>(ci) * cp.h * cp.w;
            ioff[e] = i * cp.dil_h - cp.pad_h;
            joff[e] = j * cp.dil_w - cp.pad_w;
        }
    }
    __device__ __forceinline__ Slot slot(int e) const {
        return igemm::slot_k_fast(e);
    }
    __device__ __forceinline__ T load(int e, int k0) const {
        const int k = k_begin + k0 + slot(e).k;
        if (!valid[e] || k >= k_end) {
            return T(0);
        }
        const int ohw = p->oh * p->ow;
        const int img = k / ohw;
        const int pix = k - img * ohw;
        const int oy = pix / p->ow;
        const int ox = pix - oy * p->ow;
        const int ih = oy * p->stride_h + ioff[e];
        const int iw = ox * p->stride_w + joff[e];
        if (ih < 0 || ih >= p->h || iw < 0 || iw >= p->w) {
            return T(0);
        }
        return xg[img * img_stride + chan_off[e] + static_cast<long long>(ih) * p->w + iw];
    }
};

// Partial weight gradient of one K split: out[split, o, (c,i,j)] (out is dW itself when
// splits == 1). Grid (ceil(C/g*KH*KW / 64), ceil(O/g / 64), g * splits), z = split * g + group.
// Why split K: K = batch * OH * OW is the long axis and M, N are small (a 3x3x64 layer has
// 64 x 576 outputs = 9 tiles), so without splitting a handful of blocks would each walk the
// whole batch. Partials are summed by a second kernel in a fixed order, so the result is
// deterministic (no atomics).
template <typename T>
__device__ __forceinline__ void backward_weight(const T* __restrict__ dy, const T* __restrict__ x, T* __restrict__ out,
                                                const ConvParams& p) {
    __shared__ igemm::Smem<T> smem;
    const int g = blockIdx.z % p.groups;
    const int split = blockIdx.z / p.groups;
    const int og = p.o / p.groups;
    const int cg = p.c / p.groups;
    const int rdim = cg * p.kh * p.kw;
    const int ohw = p.oh * p.ow;
    const int ktotal = p.n * ohw;
    const int m0 = blockIdx.y * igemm::kTileM;
    const int n0 = blockIdx.x * igemm::kTileN;
    const int k_begin = split * p.k_chunk;
    const int k_end = min(ktotal, k_begin + p.k_chunk);

    WgradLoadDy<T> la{dy + static_cast<long long>(g) * og * ohw, static_cast<long long>(p.o) * ohw, ohw, og, m0,
                      k_begin, k_end};
    WgradLoadX<T> lb;
    lb.init(x, p, g, n0);
    lb.k_begin = k_begin;
    lb.k_end = k_end;

    T acc[4][4] = {};
    igemm::mainloop_slots(la, lb, k_end - k_begin, acc, smem);

    T* dst = out + (static_cast<long long>(split) * p.o + g * og) * rdim;
#pragma unroll
    for (int i = 0; i < 4; ++i) {
        const int m = m0 + igemm::out_row(i);
        if (m < og) {
#pragma unroll
            for (int j = 0; j < 4; ++j) {
                const int col = n0 + igemm::out_col(j);
                if (col < rdim) {
                    dst[static_cast<long long>(m) * rdim + col] = acc[i][j];
                }
            }
        }
    }
}

}  // namespace conv
}  // namespace jnorm
