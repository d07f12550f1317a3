package io.jnorm.gpu;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * Kernel arguments laid out for a launch, after they were checked against the {@code .entry}.
 *
 * <p>Two views of the same bytes:
 * <ul>
 *   <li>{@link #values()}: one little-endian array per parameter, exactly the parameter's size.
 *       This is what {@code cuLaunchKernel}'s {@code kernelParams} array points to, one pointer
 *       per parameter (JCudaDriver passes {@code Pointer.to(Pointer.to(values[0]), ...)}).</li>
 *   <li>{@link #buffer()}: the kernel's {@code .param} state space as {@code ld.param} sees it:
 *       each parameter at the next offset aligned to its {@code .align}, padding zeroed. This is
 *       the image {@code CU_LAUNCH_PARAM_BUFFER_POINTER} would take, and the one an emulator
 *       loads from.</li>
 * </ul>
 */
public final class KernelParamLayout {

    private final List<byte[]> values;
    private final int[] offsets;
    private final byte[] buffer;

    private KernelParamLayout(List<byte[]> values, int[] offsets, byte[] buffer) {
        this.values = values;
        this.offsets = offsets;
        this.buffer = buffer;
    }

    /**
     * Checks {@code args} against {@code kernel}'s parameters and lays them out.
     *
     * @throws IllegalArgumentException naming the kernel and the first mismatching parameter
     */
    public static KernelParamLayout of(GpuKernel kernel, KernelArgs args) {
        args.checkAgainst(kernel);
        List<KernelParam> params = kernel.params();
        List<byte[]> values = new ArrayList<>(params.size());
        int[] offsets = new int[params.size()];
        int end = 0;
        for (int i = 0; i < params.size(); i++) {
            KernelParam p = params.get(i);
            offsets[i] = alignUp(end, p.align());
            end = offsets[i] + p.sizeBytes();
            values.add(args.list().get(i).bytes().clone());
        }
        byte[] buffer = new byte[end];
        for (int i = 0; i < values.size(); i++) {
            System.arraycopy(values.get(i), 0, buffer, offsets[i], values.get(i).length);
        }
        return new KernelParamLayout(Collections.unmodifiableList(values), offsets, buffer);
    }

    /** Parameter {@code i}'s bytes (a copy-free view: do not modify). */
    public List<byte[]> values() {
        return values;
    }

    /** Byte offset of parameter {@code i} in the parameter space. */
    public int offset(int i) {
        return offsets[i];
    }

    /** A copy of the parameter-space image. */
    public byte[] buffer() {
        return buffer.clone();
    }

    public int bufferSize() {
        return buffer.length;
    }

    static int alignUp(int offset, int align) {
        return (offset + align - 1) / align * align;
    }
}
