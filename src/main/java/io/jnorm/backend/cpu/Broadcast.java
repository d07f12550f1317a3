package io.jnorm.backend.cpu;

import io.jnorm.tensor.Shape;

/**
 * Maps each flat index of a broadcast output to the flat index of one input: the input's
 * strides with 0 on the axes it is broadcast along.
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
        int n = (int) out.numel();
        int[] idx = new int[n];
        int[] counter = new int[r];
        long off = 0;
        for (int k = 0; k < n; k++) {
            idx[k] = (int) off;
            for (int a = r - 1; a >= 0; a--) {
                counter[a]++;
                off += inStrides[a];
                if (counter[a] < od[a]) {
                    break;
                }
                off -= inStrides[a] * od[a];
                counter[a] = 0;
            }
        }
        return idx;
    }
}
