package io.jnorm.gpu.emu;

import io.jnorm.gpu.KernelParam;

import java.util.List;

/**
 * A decoded {@code .entry}: its instruction array, register-file shape, memory layout and
 * parameter layout. Immutable after decoding and shared by every launch of the kernel.
 */
final class KernelImage {
    /** Where an instruction came from, for error reports. */
    record Source(int ptxLine, String text, String cuLocation) {
    }

    final String name;
    final String module;
    final Insn[] code;
    final Source[] sources;
    /** Register planes of 32 lanes each, including constant and special-register planes. */
    final int slots;
    final int[] constSlots;
    final long[] constValues;
    final int[] specialSlots;
    final int[] specialIds;
    final int preds;
    final int sharedStaticBytes;
    final int dynamicSharedAlign;
    /** Slot holding the dynamic shared memory base (its value depends on the static size), or -1. */
    final int dynamicBaseSlot;
    final int localBytes;
    final List<KernelParam> params;
    final int[] paramOffsets;
    final int paramBytes;
    final int[] maxntid;
    final int[] reqntid;

    KernelImage(String name, String module, Insn[] code, Source[] sources, int slots, int[] constSlots,
                long[] constValues, int[] specialSlots, int[] specialIds, int preds, int sharedStaticBytes,
                int dynamicSharedAlign, int dynamicBaseSlot, int localBytes, List<KernelParam> params,
                int[] paramOffsets, int paramBytes, int[] maxntid, int[] reqntid) {
        this.name = name;
        this.module = module;
        this.code = code;
        this.sources = sources;
        this.slots = slots;
        this.constSlots = constSlots;
        this.constValues = constValues;
        this.specialSlots = specialSlots;
        this.specialIds = specialIds;
        this.preds = preds;
        this.sharedStaticBytes = sharedStaticBytes;
        this.dynamicSharedAlign = dynamicSharedAlign;
        this.dynamicBaseSlot = dynamicBaseSlot;
        this.localBytes = localBytes;
        this.params = params;
        this.paramOffsets = paramOffsets;
        this.paramBytes = paramBytes;
        this.maxntid = maxntid;
        this.reqntid = reqntid;
    }

    /** Offset of dynamic shared memory in the block's shared window. */
    int dynamicSharedBase() {
        int align = Math.max(16, dynamicSharedAlign);
        return (sharedStaticBytes + align - 1) / align * align;
    }

    /** "module.ptx:LINE 'text' (file.cu:LINE)" for instruction {@code pc}. */
    String where(int pc) {
        Source s = sources[code[pc].src];
        String loc = s.cuLocation() == null ? "" : " (" + s.cuLocation() + ")";
        return String.format("%s:%d '%s'%s", module, s.ptxLine(), s.text(), loc);
    }
}
