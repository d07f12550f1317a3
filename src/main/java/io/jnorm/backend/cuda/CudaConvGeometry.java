package io.jnorm.backend.cuda;

import io.jnorm.backend.Conv2dSpec;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The sizes of one 2-D convolution as the conv kernels see them: x [n, c, h, w], w [o, c / groups,
 * kh, kw], y [n, o, oh, ow], plus the spec. Validated by the op before it reaches a launcher.
 */
public record CudaConvGeometry(int n, int c, int h, int w, int o, int kh, int kw, Conv2dSpec spec) {

    /** Bytes of the kernels' by-value {@code ConvParams} struct (18 ints). */
    static final int PARAMS_BYTES = 72;

    /** The geometry of conv(x, w) for shapes {@code x} [N, C, H, W] and {@code w} [O, C/g, KH, KW]. */
    public static CudaConvGeometry of(int[] x, int[] w, Conv2dSpec spec) {
        return new CudaConvGeometry(x[0], x[1], x[2], x[3], w[0], w[2], w[3], spec);
    }

    public int oh() {
        return spec.outH(h, kh);
    }

    public int ow() {
        return spec.outW(w, kw);
    }

    public int groups() {
        return spec.groups();
    }

    /** Input channels per group. */
    public int cg() {
        return c / spec.groups();
    }

    /** Output channels per group. */
    public int og() {
        return o / spec.groups();
    }

    /** Fan-in of one output channel: C/g * KH * KW (also the weight gradient's column count). */
    public int fanIn() {
        return cg() * kh * kw;
    }

    /** Pixels of the output over the batch: the weight gradient's reduction length. */
    public long outputPixels() {
        return (long) n * oh() * ow();
    }

    /** The {@code ConvParams} struct, little-endian, in field order. */
    byte[] pack(int kChunk, int splits) {
        ByteBuffer b = ByteBuffer.allocate(PARAMS_BYTES).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(n).putInt(c).putInt(h).putInt(w);
        b.putInt(o).putInt(kh).putInt(kw);
        b.putInt(oh()).putInt(ow());
        b.putInt(spec.strideH()).putInt(spec.strideW()).putInt(spec.padH()).putInt(spec.padW());
        b.putInt(spec.dilationH()).putInt(spec.dilationW());
        b.putInt(spec.groups());
        b.putInt(kChunk).putInt(splits);
        return b.array();
    }
}
