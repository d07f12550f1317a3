package io.jnorm.backend.cuda;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * Builds the by-value {@code jnorm::StridedMap<K>} of common/strided.cuh: an iteration space's
 * dims with K operands' element strides, coalesced first so kernels do the fewest div/mods.
 *
 * <p>Coalescing: size-1 axes vanish, and an axis merges into the one inside it when every
 * operand steps over the inner axis exactly once per step of the outer one
 * ({@code stride_outer == stride_inner * dim_inner} for all operands). A 4-D bias add
 * [N, C, H, W] + [1, C, 1, 1] becomes 3-D (N, C, H*W); a same-shape op becomes 1-D.
 */
final class StridedMaps {
    static final int MAX_DIMS = 8;

    private StridedMaps() {
    }

    /** Size of the C struct: int rank, unsigned dims[8], unsigned strides[K][8]. */
    static int bytes(int operands) {
        return 4 + 4 * MAX_DIMS + 4 * MAX_DIMS * operands;
    }

    /**
     * A coalesced iteration space, innermost axis first (as the kernels walk it).
     *
     * @param dims    sizes, innermost first
     * @param strides strides[k][d] of operand k along axis d
     */
    record Layout(int[] dims, long[][] strides) {
        int rank() {
            return dims.length;
        }
    }

    /**
     * Coalesces an iteration space given outermost-first (row-major order, as Shape stores it).
     *
     * @param dims    the iteration space's sizes, outermost first
     * @param strides one array per operand, outermost first, same length as dims
     */
    static Layout coalesce(int[] dims, long[]... strides) {
        int k = strides.length;
        int[] outDims = new int[dims.length];
        long[][] outStrides = new long[k][dims.length];
        int r = 0;
        for (int d = dims.length - 1; d >= 0; d--) {
            if (dims[d] == 1) {
                continue;
            }
            boolean merge = r > 0;
            for (int j = 0; merge && j < k; j++) {
                merge = strides[j][d] == outStrides[j][r - 1] * outDims[r - 1];
            }
            if (merge) {
                outDims[r - 1] *= dims[d];
            } else {
                outDims[r] = dims[d];
                for (int j = 0; j < k; j++) {
                    outStrides[j][r] = strides[j][d];
                }
                r++;
            }
        }
        long[][] s = new long[k][];
        for (int j = 0; j < k; j++) {
            s[j] = Arrays.copyOf(outStrides[j], r);
        }
        return new Layout(Arrays.copyOf(outDims, r), s);
    }

    /**
     * The struct bytes, little-endian.
     *
     * @throws IllegalArgumentException naming {@code op} when the space needs more than 8 axes
     *                                  after coalescing
     */
    static byte[] encode(Layout layout, String op) {
        if (layout.rank() > MAX_DIMS) {
            throw new IllegalArgumentException(op + ": the cuda backend's strided kernels take at most " + MAX_DIMS
                    + " non-mergeable axes, this one has " + layout.rank() + " " + Arrays.toString(layout.dims()));
        }
        int k = layout.strides().length;
        ByteBuffer b = ByteBuffer.allocate(bytes(k)).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(layout.rank());
        for (int d = 0; d < MAX_DIMS; d++) {
            b.putInt(d < layout.rank() ? layout.dims()[d] : 1);
        }
        for (int j = 0; j < k; j++) {
            for (int d = 0; d < MAX_DIMS; d++) {
                b.putInt(d < layout.rank() ? (int) layout.strides()[j][d] : 0);
            }
        }
        return b.array();
    }

    /** Row-major strides of {@code in} broadcast to {@code outDims}: 0 on broadcast axes. */
    static long[] broadcastStrides(int[] inDims, int[] outDims) {
        long[] s = new long[outDims.length];
        int shift = outDims.length - inDims.length;
        long acc = 1;
        for (int i = inDims.length - 1; i >= 0; i--) {
            s[i + shift] = inDims[i] == 1 ? 0 : acc;
            acc *= inDims[i];
        }
        return s;
    }
}
