package io.jnorm.nn;

import java.util.Arrays;

/** Kernel, stride and padding of a 2-D pooling layer, each (height, width), checked once. */
record Pool2dWindow(int[] kernel, int[] stride, int[] padding) {

    /**
     * @param stride null for the kernel size (PyTorch's default)
     * @throws IllegalArgumentException naming the layer for sizes that are not positive or a
     *         padding above half the kernel
     */
    static Pool2dWindow of(String layer, int[] kernel, int[] stride, int[] padding) {
        int[] k = pair(layer, "kernel", kernel);
        int[] s = stride == null ? k.clone() : pair(layer, "stride", stride);
        int[] p = pair(layer, "padding", padding);
        for (int a = 0; a < 2; a++) {
            if (k[a] <= 0 || s[a] <= 0) {
                throw new IllegalArgumentException(layer + ": kernel and stride must be positive, got kernel "
                        + Arrays.toString(k) + ", stride " + Arrays.toString(s));
            }
            if (p[a] < 0 || p[a] > k[a] / 2) {
                throw new IllegalArgumentException(layer + ": padding must be in [0, kernel/2], got padding "
                        + Arrays.toString(p) + " for kernel " + Arrays.toString(k));
            }
        }
        return new Pool2dWindow(k, s, p);
    }

    private static int[] pair(String layer, String what, int[] v) {
        if (v == null || (v.length != 1 && v.length != 2)) {
            throw new IllegalArgumentException(layer + ": " + what + " needs one value or (height, width), got "
                    + Arrays.toString(v));
        }
        return v.length == 1 ? new int[] {v[0], v[0]} : v.clone();
    }

    @Override
    public String toString() {
        return "kernel=" + Arrays.toString(kernel) + ", stride=" + Arrays.toString(stride) + ", padding="
                + Arrays.toString(padding);
    }
}
