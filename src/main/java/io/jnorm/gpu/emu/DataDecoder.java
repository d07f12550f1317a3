package io.jnorm.gpu.emu;

import io.jnorm.gpu.emu.KernelDecoder.Address;
import io.jnorm.gpu.emu.PtxAst.Operand;
import io.jnorm.gpu.emu.PtxAst.Sink;
import io.jnorm.gpu.emu.PtxAst.Vec;

import java.util.List;

/** Decodes data movement and memory instructions: mov, ld/st, cvta, cvt, atom/red. */
final class DataDecoder {

    private final DecodeCursor c;

    DataDecoder(DecodeCursor c) {
        this.c = c;
    }

    void mov(Insn x) {
        int t = c.type();
        c.done();
        c.arity(2);
        x.type = t;
        if (t == Types.PRED) {
            x.op = Op.MOV_PRED;
            x.d = c.k.pred(c.op(0));
            if (c.op(1) instanceof PtxAst.Imm imm) {
                x.a = -1;
                x.imm = imm.bits() != 0 ? 1 : 0;
            } else {
                x.a = c.k.pred(c.op(1));
            }
            return;
        }
        if (c.op(0) instanceof Vec v) {
            x.op = Types.bits(t) == 64 ? Op.UNPACK64 : Op.UNPACK32;
            x.vregs = vectorDsts(v, 2);
            x.a = c.k.src(c.op(1), t);
            return;
        }
        x.d = c.k.dst(c.op(0));
        if (c.op(1) instanceof Vec v) {
            if (v.elems().size() != 2) {
                throw c.k.error("only two-element packing is supported");
            }
            x.op = Types.bits(t) == 64 ? Op.PACK64 : Op.PACK32;
            x.a = c.k.src(v.elems().get(0), t);
            x.b = c.k.src(v.elems().get(1), t);
            return;
        }
        int dyn = c.k.dynamicSpecial(c.op(1));
        if (dyn >= 0) {
            x.op = Op.CLOCK;
            x.mode = dyn;
            return;
        }
        x.op = Op.MOV;
        x.a = c.k.src(c.op(1), t);
    }

    private int[] vectorDsts(Vec v, int n) {
        if (v.elems().size() != n) {
            throw c.k.error("expected a vector of " + n + " elements");
        }
        int[] r = new int[n];
        for (int i = 0; i < n; i++) {
            r[i] = v.elems().get(i) instanceof Sink ? -1 : c.k.dst(v.elems().get(i));
        }
        return r;
    }

    void memory(Insn x, boolean load) {
        x.op = load ? Op.LD : Op.ST;
        int space = c.space();
        c.mods.removeIf(DecodeCursor.MEMORY_HINTS::contains);
        c.take("nc");
        String v = c.takeAny("v2", "v4");
        x.vec = v == null ? 1 : v.charAt(1) - '0';
        x.type = c.type();
        x.size = Math.max(1, Types.bits(x.type) / 8);
        c.done();
        c.arity(2);
        Operand data = load ? c.op(0) : c.op(1);
        Address a = c.k.address(load ? c.op(1) : c.op(0), space);
        x.space = a.space();
        x.a = a.base();
        x.imm = a.offset();
        x.addrMask = a.mask();
        if (x.vec > 1) {
            if (!(data instanceof Vec vec) || vec.elems().size() != x.vec) {
                throw c.k.error("expected a vector of " + x.vec + " elements");
            }
            x.vregs = new int[x.vec];
            for (int i = 0; i < x.vec; i++) {
                Operand el = vec.elems().get(i);
                x.vregs[i] = load ? (el instanceof Sink ? -1 : c.k.dst(el)) : c.k.src(el, x.type);
            }
        } else if (load) {
            x.d = c.k.dst(data);
        } else {
            x.b = c.k.src(data, x.type);
        }
    }

    void cvta(Insn x) {
        x.op = Op.CVTA;
        boolean to = c.take("to");
        int space = c.space();
        c.type();
        c.done();
        c.arity(2);
        x.d = c.k.dst(c.op(0));
        x.a = c.k.src(c.op(1), Types.U64);
        // generic addresses of shared and local memory live in windows above the global heap
        long window = space == KernelDecoder.SPACE_SHARED ? DeviceMemory.SHARED_WINDOW
                : space == KernelDecoder.SPACE_LOCAL ? DeviceMemory.LOCAL_WINDOW : 0;
        if (space == KernelDecoder.SPACE_GENERIC) {
            throw c.k.error("cvta needs a state space");
        }
        x.imm = to ? -window : window;
        x.addrMask = to && window != 0 ? 0xFFFFFFFFL : -1L;
    }

    void cvt(Insn x) {
        int ri = c.rounding(true);
        int r = c.rounding(false);
        x.ftz = c.take("ftz");
        x.sat = c.take("sat");
        List<Integer> t = c.types();
        c.done();
        c.arity(2);
        if (t.size() != 2) {
            throw c.k.error("cvt needs a destination and a source type");
        }
        x.type = t.get(0);
        x.srcType = t.get(1);
        if (x.type == Types.F16 || x.srcType == Types.F16 || x.type == Types.PRED || x.srcType == Types.PRED) {
            throw c.k.error("cvt between these types is not supported");
        }
        boolean fd = Types.isFloat(x.type);
        boolean fs = Types.isFloat(x.srcType);
        if (ri >= 0) {
            if (!fs) {
                throw c.k.error("integer rounding needs a float source");
            }
            x.mode = ri;
            x.imm = 1;
        } else {
            x.mode = Math.max(r, 0);
            if (fs && !fd) {
                throw c.k.error("float-to-integer cvt needs .rni/.rzi/.rmi/.rpi");
            }
        }
        x.op = fd || fs ? Op.CVT_F : Op.CVT_I2I;
        x.d = c.k.dst(c.op(0));
        x.a = c.k.src(c.op(1), x.srcType);
    }

    void atom(Insn x, boolean returns) {
        int space = c.space();
        c.mods.removeIf(DecodeCursor.MEMORY_HINTS::contains);
        String m = c.takeAny("add", "min", "max", "inc", "dec", "and", "or", "xor", "exch", "cas");
        if (m == null) {
            throw c.k.error("atomic needs an operation");
        }
        x.mode = List.of("add", "min", "max", "inc", "dec", "and", "or", "xor", "exch", "cas").indexOf(m);
        x.type = c.type();
        c.done();
        if (x.space == KernelDecoder.SPACE_PARAM || space == KernelDecoder.SPACE_LOCAL
                || space == KernelDecoder.SPACE_CONST || space == KernelDecoder.SPACE_PARAM) {
            throw c.k.error("atomics work on global and shared memory only");
        }
        if (Types.isFloat(x.type) && x.mode != Atomics.A_ADD && x.mode != Atomics.A_EXCH && x.mode != Atomics.A_MIN && x.mode != Atomics.A_MAX) {
            throw c.k.error("atomic ." + m + " does not exist for floats");
        }
        x.size = Types.bits(x.type) / 8;
        x.op = Op.ATOM;
        int n = (returns ? 3 : 2) + (x.mode == Atomics.A_CAS ? 1 : 0);
        c.arity(n);
        int i = 0;
        x.d = returns ? c.k.dst(c.op(i++)) : c.k.sink();
        Address a = c.k.address(c.op(i++), space);
        x.space = a.space();
        x.a = a.base();
        x.imm = a.offset();
        x.addrMask = a.mask();
        x.b = c.k.src(c.op(i++), x.type);
        if (x.mode == Atomics.A_CAS) {
            x.c = c.k.src(c.op(i), x.type);
        }
        // atom.add.f32 flushes subnormal inputs and results (PTX ISA, atom)
        x.ftz = x.type == Types.F32 && x.mode == Atomics.A_ADD;
    }
}
