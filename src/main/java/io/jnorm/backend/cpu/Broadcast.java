package io.jnorm.backend.cpu;

import io.jnorm.tensor.Shape;

/**
 * Index maps of the reference kernels: for each element of an iteration shape, the flat index
 * it reads or accumulates into.
 */
final class Broadcast {
    private Broadcast() {
    }

    /** For every output element, the index of the input element it reads. */
    static int[] sourceIndex(Shape in, Shape out) {
        int r = out.rank();
        int[] od = out.dims();
        long[] inStrides = new long[r];
        long[] s = in.strides();
        int shift = r - in.rank();
        for (int i = 0; i < in.rank(); i++) {
            inStrides[i + shift] = in.dims()[i] == 1 ? 0 : s[i];
        }
        return offsets(od, inStrides);
    }

    /**
     * Walks every multi-index of {@code dims} in row-major order and returns, for each, the
     * offset given by {@code strides} (an odometer, so no division per element). Broadcasting
     * (stride 0 on broadcast axes) and reductions (stride 0 on reduced axes) are both this walk.
     */
    static int[] offsets(int[] dims, long[] strides) {
        int r = dims.length;
        long total = 1;
        for (int d : dims) {
            total *= d;
        }
        int n = (int) total;
        int[] idx = new int[n];
        int[] counter = new int[r];
        long off = 0;
        for (int k = 0; k < n; k++) {
            idx[k] = (int) off;
            for (int a = r - 1; a >= 0; a--) {
                counter[a]++;
                off += strides[a];
                if (counter[a] < dims[a]) {
                    break;
                }
                off -= strides[a] * dims[a];
                counter[a] = 0;
            }
        }
        return idx;
    }
}
