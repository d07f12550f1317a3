// 2-D max and average pooling over NCHW planes, forward and backward (PyTorch semantics, as the
// CPU reference: the first maximum in row-major window order wins a tie, a NaN wins over
// numbers, padding never wins a max and counts in the average's divisor).
//
// Forward kernels: one thread per output pixel (grid-stride over planes * OH * OW). Consecutive
// threads produce consecutive output pixels (coalesced stores) and read input rows at the
// stride's pitch; each window is read once, so the input moves KH*KW / (sh*sw) times, which
// the caches absorb for overlapping windows.
//
// Windows two wide at stride 2 without column padding on an even-width plane (the common
// k2 s2 pool) read each window row as one 2-element vector (float2 / double2): a warp's request
// then covers its 64 contiguous input columns in full sectors, where two scalar requests 2
// elements apart would each touch twice the sectors they use.
//
// Backward kernels are gathers, not scatters: one thread per INPUT pixel visits the output
// windows that contain it (at most ceil(KH/sh) * ceil(KW/sw)) in ascending order and adds their
// share. No atomics, every dx element is written exactly once (so dx needs no zeroing pass) and
// the summation order matches the reference. The max backward recomputes each window's argmax
// from x instead of reading a saved index tensor: no extra tensor to store, and a window costs
// KH*KW compares that stay in L1.

namespace pool {

// Mirrors the Java packing of Pool2dSpec plus the plane geometry (44 bytes).
struct PoolParams {
    int planes;  // N * C
    int h, w, oh, ow;
    int kh, kw, stride_h, stride_w, pad_h, pad_w;
};

template <typename T>
struct Pair;
template <>
struct Pair<float> {
    using type = float2;
};
template <>
struct Pair<double> {
    using type = double2;
};

// Whether window column pair (c0, c0 + 1) can be read as one aligned 2-vector: the plane and
// row starts are even (even width) and c0 is even (stride 2, no column padding).
__device__ __forceinline__ bool pair_columns(const PoolParams& p, int c0) {
    return p.kw == 2 && p.stride_w == 2 && p.pad_w == 0 && (p.w & 1) == 0 && c0 + 1 < p.w;
}

// Strict '>' keeps the first of equal maxima; a NaN replaces any number once.
template <typename T>
__device__ __forceinline__ void take_max(T val, int at, int& arg, T& best) {
    if (arg < 0 || val > best || (val != val && best == best)) {
        arg = at;
        best = val;
    }
}

// In-plane index (r * W + c) of the winner of window (oy, ox), or -1 for an all-padding window.
template <typename T>
__device__ __forceinline__ int window_argmax(const T* __restrict__ plane, const PoolParams& p, int oy, int ox, T& best) {
    int arg = -1;
    best = T(0);
    const int r0 = oy * p.stride_h - p.pad_h;
    const int c0 = ox * p.stride_w - p.pad_w;
    if (pair_columns(p, c0)) {
        for (int u = 0; u < p.kh; ++u) {
            const int r = r0 + u;
            if (r < 0 || r >= p.h) {
                continue;
            }
            const typename Pair<T>::type q = *reinterpret_cast<const typename Pair<T>::type*>(plane + r * p.w + c0);
            take_max(q.x, r * p.w + c0, arg, best);
            take_max(q.y, r * p.w + c0 + 1, arg, best);
        }
        return arg;
    }
    for (int u = 0; u < p.kh; ++u) {
        const int r = r0 + u;
        if (r < 0 || r >= p.h) {
            continue;
        }
        for (int v = 0; v < p.kw; ++v) {
            const int c = c0 + v;
            if (c < 0 || c >= p.w) {
                continue;
            }
            take_max(plane[r * p.w + c], r * p.w + c, arg, best);
        }
    }
    return arg;
}

template <typename T>
__device__ void max_fwd(const T* __restrict__ x, T* __restrict__ y, const PoolParams& p) {
    const long long total = static_cast<long long>(p.planes) * p.oh * p.ow;
    const long long stride = static_cast<long long>(gridDim.x) * blockDim.x;
    for (long long i = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x; i < total; i += stride) {
        const int ox = static_cast<int>(i % p.ow);
        const long long q = i / p.ow;
        const int oy = static_cast<int>(q % p.oh);
        const long long plane = q / p.oh;
        T best;
        const int arg = window_argmax(x + plane * p.h * p.w, p, oy, ox, best);
        y[i] = arg < 0 ? T(-INFINITY) : best;
    }
}

// First and last output index whose window (start o * s - pad, length k) contains position r.
__device__ __forceinline__ void covering(int r, int k, int s, int pad, int out, int& lo, int& hi) {
    const int a = r + pad - k + 1;  // smallest window start that still reaches r
    lo = a <= 0 ? 0 : (a + s - 1) / s;
    hi = min(out - 1, (r + pad) / s);
}

template <typename T>
__device__ void max_bwd(const T* __restrict__ x, const T* __restrict__ dy, T* __restrict__ dx, const PoolParams& p) {
    const long long total = static_cast<long long>(p.planes) * p.h * p.w;
    const long long stride = static_cast<long long>(gridDim.x) * blockDim.x;
    for (long long i = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x; i < total; i += stride) {
        const int c = static_cast<int>(i % p.w);
        const long long q = i / p.w;
        const int r = static_cast<int>(q % p.h);
        const long long plane = q / p.h;
        int oy0, oy1, ox0, ox1;
        covering(r, p.kh, p.stride_h, p.pad_h, p.oh, oy0, oy1);
        covering(c, p.kw, p.stride_w, p.pad_w, p.ow, ox0, ox1);
        const T* xp = x + plane * p.h * p.w;
        const T* dyp = dy + plane * p.oh * p.ow;
        T acc = T(0);
        for (int oy = oy0; oy <= oy1; ++oy) {
            for (int ox = ox0; ox <= ox1; ++ox) {
                T best;
                if (window_argmax(xp, p, oy, ox, best) == r * p.w + c) {
                    acc += dyp[oy * p.ow + ox];
                }
            }
        }
        dx[i] = acc;
    }
}

template <typename T>
__device__ void avg_fwd(const T* __restrict__ x, T* __restrict__ y, const PoolParams& p) {
    const long long total = static_cast<long long>(p.planes) * p.oh * p.ow;
    const long long stride = static_cast<long long>(gridDim.x) * blockDim.x;
    const T area = T(p.kh) * T(p.kw);
    for (long long i = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x; i < total; i += stride) {
        const int ox = static_cast<int>(i % p.ow);
        const long long q = i / p.ow;
        const int oy = static_cast<int>(q % p.oh);
        const T* xp = x + (q / p.oh) * p.h * p.w;
        const int r0 = oy * p.stride_h - p.pad_h;
        const int c0 = ox * p.stride_w - p.pad_w;
        T sum = T(0);
        if (pair_columns(p, c0)) {
            for (int u = max(0, -r0); u < p.kh && r0 + u < p.h; ++u) {
                const typename Pair<T>::type v = *reinterpret_cast<const typename Pair<T>::type*>(xp + (r0 + u) * p.w + c0);
                sum += v.x;  // two adds in column order, as the scalar loop
                sum += v.y;
            }
        } else {
            for (int u = max(0, -r0); u < p.kh && r0 + u < p.h; ++u) {
                for (int v = max(0, -c0); v < p.kw && c0 + v < p.w; ++v) {
                    sum += xp[(r0 + u) * p.w + c0 + v];
                }
            }
        }
        y[i] = sum / area;
    }
}

template <typename T>
__device__ void avg_bwd(const T* __restrict__ dy, T* __restrict__ dx, const PoolParams& p) {
    const long long total = static_cast<long long>(p.planes) * p.h * p.w;
    const long long stride = static_cast<long long>(gridDim.x) * blockDim.x;
    const T area = T(p.kh) * T(p.kw);
    if (p.kw == 2 && p.stride_w == 2 && p.pad_w == 0 && (p.w & 1) == 0) {
        // Columns 2j and 2j + 1 lie in exactly the same windows: one thread per column pair reads
        // each dy once and stores the shared value as one 2-vector (neighbouring lanes read
        // neighbouring dy, so a request moves full sectors instead of each float twice).
        using P = typename Pair<T>::type;
        const int half = p.w >> 1;
        for (long long i = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x; i < total / 2; i += stride) {
            const int c = static_cast<int>(i % half) * 2;
            const long long q = i / half;
            const int r = static_cast<int>(q % p.h);
            int oy0, oy1, ox0, ox1;
            covering(r, p.kh, p.stride_h, p.pad_h, p.oh, oy0, oy1);
            covering(c, p.kw, p.stride_w, p.pad_w, p.ow, ox0, ox1);
            const T* dyp = dy + (q / p.h) * p.oh * p.ow;
            T acc = T(0);
            for (int oy = oy0; oy <= oy1; ++oy) {
                for (int ox = ox0; ox <= ox1; ++ox) {
                    acc += dyp[oy * p.ow + ox] / area;
                }
            }
            P o;
            o.x = acc;
            o.y = acc;
            *reinterpret_cast<P*>(dx + q * p.w + c) = o;
        }
        return;
    }
    for (long long i = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x; i < total; i += stride) {
        const int c = static_cast<int>(i % p.w);
        const long long q = i / p.w;
        const int r = static_cast<int>(q % p.h);
        int oy0, oy1, ox0, ox1;
        covering(r, p.kh, p.stride_h, p.pad_h, p.oh, oy0, oy1);
        covering(c, p.kw, p.stride_w, p.pad_w, p.ow, ox0, ox1);
        const T* dyp = dy + (q / p.h) * p.oh * p.ow;
        T acc = T(0);
        for (int oy = oy0; oy <= oy1; ++oy) {
            for (int ox = ox0; ox <= ox1; ++ox) {
                acc += dyp[oy * p.ow + ox] / area;
            }
        }
        dx[i] = acc;
    }
}

}  // namespace pool

extern "C" {

__global__ void max_pool2d_fwd_f32(const float* __restrict__ x, float* __restrict__ y, const pool::PoolParams p) {
    pool::max_fwd(x, y, p);
}
__global__ void max_pool2d_fwd_f64(const double* __restrict__ x, double* __restrict__ y, const pool::PoolParams p) {
    pool::max_fwd(x, y, p);
}
__global__ void max_pool2d_bwd_f32(const float* __restrict__ x, const float* __restrict__ dy, float* __restrict__ dx,
                                   const pool::PoolParams p) {
    pool::max_bwd(x, dy, dx, p);
}
__global__ void max_pool2d_bwd_f64(const double* __restrict__ x, const double* __restrict__ dy, double* __restrict__ dx,
                                   const pool::PoolParams p) {
    pool::max_bwd(x, dy, dx, p);
}
__global__ void avg_pool2d_fwd_f32(const float* __restrict__ x, float* __restrict__ y, const pool::PoolParams p) {
    pool::avg_fwd(x, y, p);
}
__global__ void avg_pool2d_fwd_f64(const double* __restrict__ x, double* __restrict__ y, const pool::PoolParams p) {
    pool::avg_fwd(x, y, p);
}
__global__ void avg_pool2d_bwd_f32(const float* __restrict__ dy, float* __restrict__ dx, const pool::PoolParams p) {
    pool::avg_bwd(dy, dx, p);
}
__global__ void avg_pool2d_bwd_f64(const double* __restrict__ dy, double* __restrict__ dx, const pool::PoolParams p) {
    pool::avg_bwd(dy, dx, p);
}

}  // extern "C"
