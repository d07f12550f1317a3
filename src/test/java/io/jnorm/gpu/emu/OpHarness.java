package io.jnorm.gpu.emu;

import io.jnorm.gpu.DevicePointer;
import io.jnorm.gpu.GpuModule;
import io.jnorm.gpu.KernelArgs;
import io.jnorm.gpu.LaunchConfig;

/**
 * Runs one PTX instruction on rows of inputs: thread i loads operand j from slot i of input j
 * (8-byte slots, read at the operand's type), executes {@code insn} with registers %a0 %a1 %a2
 * and destination %d, and stores %d into slot i. A .pred destination is stored as 0 or 1.
 */
final class OpHarness {
    private OpHarness() {
    }

    static long[] run(String insn, String dstType, String[] srcTypes, long[]... inputs) {
        int n = inputs[0].length;
        StringBuilder p = new StringBuilder(".version 9.0\n.target sm_80\n.address_size 64\n");
        p.append(".visible .entry op(.param .u64 out, .param .u64 in0, .param .u64 in1, .param .u64 in2)\n{\n");
        p.append("  .reg .b64 %rd<16>;\n  .reg .b32 %r<4>;\n  .reg .pred %p<2>;\n");
        boolean pred = dstType.equals("pred");
        p.append(pred ? "  .reg .pred %d;\n" : "  .reg ." + regType(dstType) + " %d;\n");
        for (int j = 0; j < srcTypes.length; j++) {
            p.append("  .reg .").append(regType(srcTypes[j])).append(" %a").append(j).append(";\n");
        }
        p.append("  mov.u32 %r1, %tid.x;\n  mul.wide.u32 %rd1, %r1, 8;\n");
        for (int j = 0; j < srcTypes.length; j++) {
            p.append("  ld.param.u64 %rd").append(2 + j).append(", [in").append(j).append("];\n");
            p.append("  add.s64 %rd").append(6 + j).append(", %rd").append(2 + j).append(", %rd1;\n");
            p.append("  ld.global.").append(srcTypes[j]).append(" %a").append(j).append(", [%rd").append(6 + j)
                    .append("];\n");
        }
        p.append("  ").append(insn).append("\n");
        p.append("  ld.param.u64 %rd10, [out];\n  add.s64 %rd11, %rd10, %rd1;\n");
        if (pred) {
            p.append("  selp.u32 %r2, 1, 0, %d;\n  st.global.u32 [%rd11], %r2;\n");
        } else {
            p.append("  st.global.").append(dstType).append(" [%rd11], %d;\n");
        }
        p.append("  ret;\n}\n");
        try (PtxEmulator emu = new PtxEmulator()) {
            GpuModule m = emu.loadModule("op.ptx", p.toString());
            DevicePointer out = emu.alloc(8L * n);
            emu.memsetZero(out, 0, 8L * n);
            DevicePointer[] in = new DevicePointer[3];
            for (int j = 0; j < 3; j++) {
                in[j] = emu.alloc(8L * n);
                emu.copyToDevice(in[j], 0, j < inputs.length ? inputs[j] : new long[n], 0, n);
            }
            emu.launch(emu.kernel(m, "op"), LaunchConfig.of1d(1, n),
                    KernelArgs.of().ptr(out).ptr(in[0]).ptr(in[1]).ptr(in[2]));
            long[] res = new long[n];
            emu.copyToHost(res, 0, out, 0, n);
            int bytes = pred ? 4 : Math.max(2, PtxAst.typeSize(dstType));
            if (bytes < 8) {
                for (int i = 0; i < n; i++) {
                    res[i] &= (1L << (8 * bytes)) - 1;
                }
            }
            return res;
        }
    }

    private static String regType(String t) {
        return t.startsWith("f") ? t : (PtxAst.typeSize(t) == 1 ? "b16" : "b" + 8 * PtxAst.typeSize(t));
    }

    /** One instruction on one row of operands. */
    static long one(String insn, String dstType, String srcType, long... operands) {
        String[] types = new String[operands.length];
        java.util.Arrays.fill(types, srcType);
        long[][] in = new long[operands.length][];
        for (int j = 0; j < operands.length; j++) {
            in[j] = new long[] {operands[j]};
        }
        return run(insn, dstType, types, in)[0];
    }

    static long f(float x) {
        return Float.floatToRawIntBits(x) & 0xFFFFFFFFL;
    }

    static long d(double x) {
        return Double.doubleToRawLongBits(x);
    }
}
