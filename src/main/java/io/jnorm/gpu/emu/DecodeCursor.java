package io.jnorm.gpu.emu;

import io.jnorm.gpu.emu.PtxAst.Instr;
import io.jnorm.gpu.emu.PtxAst.Operand;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;

/**
 * The instruction being decoded: its modifiers still to be consumed and its operands, with the
 * helpers every opcode family uses (one type, rounding, state space, operand lists). A modifier
 * nobody takes fails the load in {@link #done}.
 */
final class DecodeCursor {

    /** Cache, eviction and memory-ordering qualifiers that do not change a single-stream result. */
    static final Set<String> MEMORY_HINTS = Set.of("weak", "volatile", "relaxed", "acquire", "release",
            "acq_rel", "sc", "gpu", "cta", "sys", "ca", "cg", "cs", "lu", "cv", "wb", "wt", "L1::evict_normal",
            "L1::evict_unchanged", "L1::evict_first", "L1::evict_last", "L1::no_allocate", "L2::evict_normal",
            "L2::evict_first", "L2::evict_last", "L2::64B", "L2::128B", "L2::256B", "shared::cta");

    final KernelDecoder k;
    List<String> mods;
    Instr in;

    DecodeCursor(KernelDecoder k) {
        this.k = k;
    }

    boolean take(String m) {
        return mods.remove(m);
    }

    String takeAny(String... options) {
        for (String o : options) {
            if (mods.remove(o)) {
                return o;
            }
        }
        return null;
    }

    /** Removes and returns the type modifiers, in order. */
    List<Integer> types() {
        List<Integer> out = new ArrayList<>();
        for (int i = 0; i < mods.size(); i++) {
            int t = Types.of(mods.get(i));
            if (t >= 0) {
                out.add(t);
                mods.remove(i--);
            }
        }
        return out;
    }

    int type() {
        List<Integer> t = types();
        if (t.size() != 1) {
            throw k.error("expected exactly one type modifier");
        }
        if (t.get(0) == Types.F16) {
            throw k.error("half precision is not supported");
        }
        return t.get(0);
    }

    int rounding(boolean integerRounding) {
        String r = integerRounding ? takeAny("rni", "rzi", "rmi", "rpi") : takeAny("rn", "rz", "rm", "rp");
        if (r == null) {
            return -1;
        }
        switch (r.charAt(1)) {
            case 'z': return Fp.RZ;
            case 'm': return Fp.RM;
            case 'p': return Fp.RP;
            default: return Fp.RN;
        }
    }

    void done() {
        if (!mods.isEmpty()) {
            throw k.error("unsupported modifier ." + String.join(".", mods) + " on " + in.opcode().split("\\.")[0]);
        }
    }

    Operand op(int i) {
        if (i >= in.ops().size()) {
            throw k.error("missing operand " + (i + 1));
        }
        return in.ops().get(i);
    }

    void arity(int n) {
        if (in.ops().size() != n) {
            throw k.error("expected " + n + " operands, got " + in.ops().size());
        }
    }

    /** Starts on {@code instr}: its modifiers (the opcode's dot-separated parts after the first) are to be taken. */
    String start(Instr instr) {
        in = instr;
        String[] parts = instr.opcode().split("\\.");
        mods = new ArrayList<>(Arrays.asList(parts).subList(1, parts.length));
        return parts[0];
    }

    /** Decodes operands 0..n-1 as d, a, b, c, e (sources at the instruction type). */
    void sources(Insn x, int n) {
        x.d = k.dst(op(0));
        int t = x.type;
        if (n > 1) {
            x.a = k.src(op(1), t);
        }
        if (n > 2) {
            x.b = k.src(op(2), t);
        }
        if (n > 3) {
            x.c = k.src(op(3), t);
        }
        if (n > 4) {
            x.e = k.src(op(4), t);
        }
    }

    int floatType() {
        int t = type();
        if (t != Types.F32 && t != Types.F64) {
            throw k.error("expected .f32 or .f64");
        }
        return t;
    }

    int space() {
        String s = takeAny("global", "shared", "local", "param", "const");
        if (s == null) {
            return KernelDecoder.SPACE_GENERIC;
        }
        switch (s) {
            case "global": return KernelDecoder.SPACE_GLOBAL;
            case "shared": return KernelDecoder.SPACE_SHARED;
            case "local": return KernelDecoder.SPACE_LOCAL;
            case "param": return KernelDecoder.SPACE_PARAM;
            default: return KernelDecoder.SPACE_CONST;
        }
    }

}
