// Index maps from a flat position in an iteration space to element offsets of its operands.
//
// The host coalesces dimensions before a launch (adjacent axes that are contiguous for every
// operand merge into one, size-1 axes vanish), so the rank seen here is usually 1 to 3 even for
// 4-D or 5-D tensors, and the div/mod chain below is short. The maps are passed by value as
// kernel parameters (constant bank), and the loops over axes are fully unrolled with a rank
// guard, so every struct field is read with a compile-time index: no local-memory copy of the
// struct, no stack frame.
//
// 32-bit unsigned arithmetic: the host only picks these kernels for tensors below 2^31
// elements (it says so in its error otherwise); 32-bit div/mod is much cheaper than 64-bit.
#pragma once

namespace jnorm {

constexpr int kMaxDims = 8;

// dims[0] is the innermost (fastest varying) axis; strides[k][d] is operand k's element stride
// along axis d (0 on broadcast axes).
template <int K>
struct StridedMap {
    int rank;
    unsigned dims[kMaxDims];
    unsigned strides[K][kMaxDims];
};

// Offsets of flat index i (row-major over dims) in each of the K operands.
template <int K>
__device__ __forceinline__ void strided_offsets(const StridedMap<K>& m, unsigned i, unsigned (&off)[K]) {
#pragma unroll
    for (int k = 0; k < K; ++k) {
        off[k] = 0;
    }
#pragma unroll
    for (int d = 0; d < kMaxDims; ++d) {
        if (d >= m.rank) {
            break;
        }
        const unsigned q = i / m.dims[d];
        const unsigned c = i - q * m.dims[d];
#pragma unroll
        for (int k = 0; k < K; ++k) {
            off[k] += c * m.strides[k][d];
        }
        i = q;
    }
}

}  // namespace jnorm
