package io.jnorm.gpu.emu;

import io.jnorm.gpu.emu.KernelDecoder.Address;
import io.jnorm.gpu.emu.PtxAst.Instr;
import io.jnorm.gpu.emu.PtxAst.NotPred;
import io.jnorm.gpu.emu.PtxAst.Operand;
import io.jnorm.gpu.emu.PtxAst.Pair;
import io.jnorm.gpu.emu.PtxAst.Sink;
import io.jnorm.gpu.emu.PtxAst.Sym;
import io.jnorm.gpu.emu.PtxAst.Vec;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;

/**
 * The opcode and modifier table: decodes one PTX instruction into an {@link Insn}. Each opcode
 * consumes the modifiers it understands; anything left over is an unknown modifier and fails the
 * module load with the line, so nothing unsupported is ever executed silently.
 */
final class InstructionDecoder {

    /** Cache, eviction and memory-ordering qualifiers that do not change a single-stream result. */
    private static final Set<String> MEMORY_HINTS = Set.of("weak", "volatile", "relaxed", "acquire", "release",
            "acq_rel", "sc", "gpu", "cta", "sys", "ca", "cg", "cs", "lu", "cv", "wb", "wt", "L1::evict_normal",
            "L1::evict_unchanged", "L1::evict_first", "L1::evict_last", "L1::no_allocate", "L2::evict_normal",
            "L2::evict_first", "L2::evict_last", "L2::64B", "L2::128B", "L2::256B", "shared::cta");

    private final KernelDecoder k;
    private List<String> mods;
    private Instr in;

    InstructionDecoder(KernelDecoder k) {
        this.k = k;
    }

    private boolean take(String m) {
        return mods.remove(m);
    }

    private String takeAny(String... options) {
        for (String o : options) {
            if (mods.remove(o)) {
                return o;
            }
        }
        return null;
    }

    /** Removes and returns the type modifiers, in order. */
    private List<Integer> types() {
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

    private int type() {
        List<Integer> t = types();
        if (t.size() != 1) {
            throw k.error("expected exactly one type modifier");
        }
        if (t.get(0) == Types.F16) {
            throw k.error("half precision is not supported");
        }
        return t.get(0);
    }

    private int rounding(boolean integerRounding) {
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

    private void done() {
        if (!mods.isEmpty()) {
            throw k.error("unsupported modifier ." + String.join(".", mods) + " on " + in.opcode().split("\\.")[0]);
        }
    }

    private Operand op(int i) {
        if (i >= in.ops().size()) {
            throw k.error("missing operand " + (i + 1));
        }
        return in.ops().get(i);
    }

    private void arity(int n) {
        if (in.ops().size() != n) {
            throw k.error("expected " + n + " operands, got " + in.ops().size());
        }
    }

    Insn decode(Instr instr) {
        this.in = instr;
        String[] parts = instr.opcode().split("\\.");
        mods = new ArrayList<>(Arrays.asList(parts).subList(1, parts.length));
        Insn x = new Insn();
        String base = parts[0];
        switch (base) {
            case "mov": mov(x); break;
            case "ld": case "ldu": memory(x, true); break;
            case "st": memory(x, false); break;
            case "cvta": cvta(x); break;
            case "cvt": cvt(x); break;
            case "add": case "sub": addSub(x, base.equals("sub")); break;
            case "mul": mul(x); break;
            case "mad": mad(x); break;
            case "mul24": case "mad24": mul24(x, base.equals("mad24")); break;
            case "fma": fma(x); break;
            case "div": div(x); break;
            case "rem": intBinary(x, Op.REM); break;
            case "min": case "max": minMax(x, base.equals("min")); break;
            case "abs": case "neg": absNeg(x, base.equals("abs")); break;
            case "and": case "or": case "xor": logic(x, base); break;
            case "not": case "cnot": not(x, base.equals("cnot")); break;
            case "shl": case "shr": shift(x, base.equals("shl")); break;
            case "popc": case "clz": case "brev": bitUnary(x, base); break;
            case "bfind": x.imm = take("shiftamt") ? 1 : 0; bitUnary(x, base); break;
            case "bfe": x.op = Op.BFE; x.type = type(); done(); arity(4); sources(x, 4); break;
            case "bfi": x.op = Op.BFI; x.type = type(); done(); arity(5); sources(x, 5); break;
            case "prmt": x.op = Op.PRMT; type(); done(); arity(4); sources(x, 4); break;
            case "lop3": lop3(x); break;
            case "rcp": case "sqrt": case "rsqrt": case "ex2": case "lg2": case "sin": case "cos": case "tanh":
                floatUnary(x, base);
                break;
            case "copysign": x.op = Op.COPYSIGN_F; x.type = floatType(); done(); arity(3); sources(x, 3); break;
            case "testp": testp(x); break;
            case "setp": setp(x); break;
            case "selp": selp(x); break;
            case "slct": slct(x); break;
            case "bra": bra(x); break;
            case "ret": case "exit": x.op = Op.EXIT; take("uni"); done(); break;
            case "trap": case "brkpt": throw k.error("trap/brkpt are not supported");
            case "bar": case "barrier": barrier(x); break;
            case "membar": x.op = Op.NOP; takeAny("cta", "gl", "sys"); done(); break;
            case "fence": x.op = Op.NOP; takeAny("sc", "acq_rel"); takeAny("cta", "gpu", "sys"); done(); break;
            case "nanosleep": x.op = Op.NOP; type(); done(); break;
            case "prefetch": case "prefetchu": x.op = Op.NOP; takeAny("global", "local"); takeAny("L1", "L2"); done(); break;
            case "shfl": shfl(x); break;
            case "vote": vote(x); break;
            case "activemask": x.op = Op.ACTIVEMASK; type(); done(); arity(1); x.d = k.dst(op(0)); break;
            case "redux": redux(x); break;
            case "atom": case "red": atom(x, base.equals("atom")); break;
            default:
                throw k.error("unsupported instruction " + base);
        }
        x.plain = x.mode == Fp.RN && !x.ftz && !x.sat;
        return x;
    }

    /** Decodes operands 0..n-1 as d, a, b, c, e (sources at the instruction type). */
    private void sources(Insn x, int n) {
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

    private int floatType() {
        int t = type();
        if (t != Types.F32 && t != Types.F64) {
            throw k.error("expected .f32 or .f64");
        }
        return t;
    }

    private void mov(Insn x) {
        int t = type();
        done();
        arity(2);
        x.type = t;
        if (t == Types.PRED) {
            x.op = Op.MOV_PRED;
            x.d = k.pred(op(0));
            if (op(1) instanceof PtxAst.Imm imm) {
                x.a = -1;
                x.imm = imm.bits() != 0 ? 1 : 0;
            } else {
                x.a = k.pred(op(1));
            }
            return;
        }
        if (op(0) instanceof Vec v) {
            x.op = Types.bits(t) == 64 ? Op.UNPACK64 : Op.UNPACK32;
            x.vregs = vectorDsts(v, 2);
            x.a = k.src(op(1), t);
            return;
        }
        x.d = k.dst(op(0));
        if (op(1) instanceof Vec v) {
            if (v.elems().size() != 2) {
                throw k.error("only two-element packing is supported");
            }
            x.op = Types.bits(t) == 64 ? Op.PACK64 : Op.PACK32;
            x.a = k.src(v.elems().get(0), t);
            x.b = k.src(v.elems().get(1), t);
            return;
        }
        int dyn = k.dynamicSpecial(op(1));
        if (dyn >= 0) {
            x.op = Op.CLOCK;
            x.mode = dyn;
            return;
        }
        x.op = Op.MOV;
        x.a = k.src(op(1), t);
    }

    private int[] vectorDsts(Vec v, int n) {
        if (v.elems().size() != n) {
            throw k.error("expected a vector of " + n + " elements");
        }
        int[] r = new int[n];
        for (int i = 0; i < n; i++) {
            r[i] = v.elems().get(i) instanceof Sink ? -1 : k.dst(v.elems().get(i));
        }
        return r;
    }

    private int space() {
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

    private void memory(Insn x, boolean load) {
        x.op = load ? Op.LD : Op.ST;
        int space = space();
        mods.removeIf(MEMORY_HINTS::contains);
        take("nc");
        String v = takeAny("v2", "v4");
        x.vec = v == null ? 1 : v.charAt(1) - '0';
        x.type = type();
        x.size = Math.max(1, Types.bits(x.type) / 8);
        done();
        arity(2);
        Operand data = load ? op(0) : op(1);
        Address a = k.address(load ? op(1) : op(0), space);
        x.space = a.space();
        x.a = a.base();
        x.imm = a.offset();
        x.addrMask = a.mask();
        if (x.vec > 1) {
            if (!(data instanceof Vec vec) || vec.elems().size() != x.vec) {
                throw k.error("expected a vector of " + x.vec + " elements");
            }
            x.vregs = new int[x.vec];
            for (int i = 0; i < x.vec; i++) {
                Operand el = vec.elems().get(i);
                x.vregs[i] = load ? (el instanceof Sink ? -1 : k.dst(el)) : k.src(el, x.type);
            }
        } else if (load) {
            x.d = k.dst(data);
        } else {
            x.b = k.src(data, x.type);
        }
    }

    private void cvta(Insn x) {
        x.op = Op.CVTA;
        boolean to = take("to");
        int space = space();
        type();
        done();
        arity(2);
        x.d = k.dst(op(0));
        x.a = k.src(op(1), Types.U64);
        // generic addresses of shared and local memory live in windows above the global heap
        long window = space == KernelDecoder.SPACE_SHARED ? DeviceMemory.SHARED_WINDOW
                : space == KernelDecoder.SPACE_LOCAL ? DeviceMemory.LOCAL_WINDOW : 0;
        if (space == KernelDecoder.SPACE_GENERIC) {
            throw k.error("cvta needs a state space");
        }
        x.imm = to ? -window : window;
        x.addrMask = to && window != 0 ? 0xFFFFFFFFL : -1L;
    }

    private void cvt(Insn x) {
        int ri = rounding(true);
        int r = rounding(false);
        x.ftz = take("ftz");
        x.sat = take("sat");
        List<Integer> t = types();
        done();
        arity(2);
        if (t.size() != 2) {
            throw k.error("cvt needs a destination and a source type");
        }
        x.type = t.get(0);
        x.srcType = t.get(1);
        if (x.type == Types.F16 || x.srcType == Types.F16 || x.type == Types.PRED || x.srcType == Types.PRED) {
            throw k.error("cvt between these types is not supported");
        }
        boolean fd = Types.isFloat(x.type);
        boolean fs = Types.isFloat(x.srcType);
        if (ri >= 0) {
            if (!fs) {
                throw k.error("integer rounding needs a float source");
            }
            x.mode = ri;
            x.imm = 1;
        } else {
            x.mode = Math.max(r, 0);
            if (fs && !fd) {
                throw k.error("float-to-integer cvt needs .rni/.rzi/.rmi/.rpi");
            }
        }
        x.op = fd || fs ? Op.CVT_F : Op.CVT_I2I;
        x.d = k.dst(op(0));
        x.a = k.src(op(1), x.srcType);
    }

    private void floatArith(Insn x, int opF32, int opF64, int n) {
        x.mode = Math.max(rounding(false), 0);
        x.ftz = take("ftz");
        x.sat = take("sat");
        x.type = floatType();
        done();
        arity(n);
        x.op = x.type == Types.F32 ? opF32 : opF64;
        if (x.type == Types.F64 && (x.ftz || x.sat)) {
            throw k.error(".ftz and .sat apply to .f32 only");
        }
        sources(x, n);
    }

    private boolean isFloatInstr() {
        return mods.contains("f32") || mods.contains("f64");
    }

    private void addSub(Insn x, boolean sub) {
        if (isFloatInstr()) {
            floatArith(x, sub ? Op.SUB_F32 : Op.ADD_F32, sub ? Op.SUB_F64 : Op.ADD_F64, 3);
            return;
        }
        boolean sat = take("sat");
        x.type = type();
        done();
        arity(3);
        if (sat && x.type != Types.S32) {
            throw k.error("add/sub.sat needs .s32");
        }
        x.op = sat ? (sub ? Op.SUB_SAT : Op.ADD_SAT) : (sub ? Op.SUB : Op.ADD);
        sources(x, 3);
    }

    private void mul(Insn x) {
        if (isFloatInstr()) {
            floatArith(x, Op.MUL_F32, Op.MUL_F64, 3);
            return;
        }
        String m = takeAny("lo", "hi", "wide");
        x.type = type();
        done();
        arity(3);
        x.op = m == null || m.equals("lo") ? Op.MUL_LO : m.equals("hi") ? Op.MUL_HI : Op.MUL_WIDE;
        if (x.op == Op.MUL_WIDE && Types.bits(x.type) == 64) {
            throw k.error("mul.wide needs a 16- or 32-bit type");
        }
        sources(x, 3);
    }

    private void mad(Insn x) {
        if (isFloatInstr()) {
            floatArith(x, Op.FMA_F32, Op.FMA_F64, 4);
            return;
        }
        String m = takeAny("lo", "hi", "wide");
        x.type = type();
        done();
        arity(4);
        x.op = m == null || m.equals("lo") ? Op.MAD_LO : m.equals("hi") ? Op.MAD_HI : Op.MAD_WIDE;
        x.d = k.dst(op(0));
        x.a = k.src(op(1), x.type);
        x.b = k.src(op(2), x.type);
        x.c = k.src(op(3), x.op == Op.MAD_WIDE ? wide(x.type) : x.type);
    }

    private static int wide(int t) {
        switch (t) {
            case Types.S16: return Types.S32;
            case Types.U16: return Types.U32;
            case Types.S32: return Types.S64;
            default: return Types.U64;
        }
    }

    private void mul24(Insn x, boolean mad) {
        String m = takeAny("lo", "hi");
        x.imm = "hi".equals(m) ? 1 : 0;
        x.type = type();
        done();
        x.op = mad ? Op.MAD24 : Op.MUL24;
        arity(mad ? 4 : 3);
        sources(x, mad ? 4 : 3);
    }

    private void fma(Insn x) {
        floatArith(x, Op.FMA_F32, Op.FMA_F64, 4);
        if (!in.opcode().matches(".*\\.r[nzmp](\\..*|$)")) {
            throw k.error("fma needs a rounding modifier");
        }
    }

    private void div(Insn x) {
        if (!isFloatInstr()) {
            intBinary(x, Op.DIV);
            return;
        }
        String kind = takeAny("approx", "full");
        x.mode = Math.max(rounding(false), 0);
        x.imm = kind == null ? 0 : 1;
        x.ftz = take("ftz");
        x.type = floatType();
        done();
        arity(3);
        x.op = Op.DIV_F;
        sources(x, 3);
    }

    private void intBinary(Insn x, int opc) {
        x.type = type();
        done();
        arity(3);
        x.op = opc;
        sources(x, 3);
    }

    private void minMax(Insn x, boolean min) {
        if (isFloatInstr()) {
            x.ftz = take("ftz");
            x.type = floatType();
            done();
            arity(3);
            x.op = min ? Op.MIN_F : Op.MAX_F;
            sources(x, 3);
            return;
        }
        intBinary(x, min ? Op.MIN : Op.MAX);
    }

    private void absNeg(Insn x, boolean abs) {
        if (isFloatInstr()) {
            x.ftz = take("ftz");
            x.type = floatType();
            x.op = abs ? Op.ABS_F : Op.NEG_F;
        } else {
            x.type = type();
            x.op = abs ? Op.ABS : Op.NEG;
        }
        done();
        arity(2);
        sources(x, 2);
    }

    private void logic(Insn x, String base) {
        x.type = type();
        done();
        arity(3);
        if (x.type == Types.PRED) {
            x.op = base.equals("and") ? Op.AND_P : base.equals("or") ? Op.OR_P : Op.XOR_P;
            x.d = k.pred(op(0));
            x.a = k.pred(op(1));
            x.negA = op(1) instanceof NotPred;
            x.b = k.pred(op(2));
            x.negC = op(2) instanceof NotPred;
            return;
        }
        x.op = base.equals("and") ? Op.AND : base.equals("or") ? Op.OR : Op.XOR;
        sources(x, 3);
    }

    private void not(Insn x, boolean cnot) {
        x.type = type();
        done();
        arity(2);
        if (x.type == Types.PRED && !cnot) {
            x.op = Op.NOT_P;
            x.d = k.pred(op(0));
            x.a = k.pred(op(1));
            return;
        }
        x.op = cnot ? Op.CNOT : Op.NOT;
        sources(x, 2);
    }

    private void shift(Insn x, boolean left) {
        x.type = type();
        done();
        arity(3);
        x.op = left ? Op.SHL : Op.SHR;
        x.d = k.dst(op(0));
        x.a = k.src(op(1), x.type);
        x.b = k.src(op(2), Types.U32);
    }

    private void bitUnary(Insn x, String base) {
        x.type = type();
        done();
        arity(2);
        x.op = switch (base) {
            case "popc" -> Op.POPC;
            case "clz" -> Op.CLZ;
            case "brev" -> Op.BREV;
            default -> Op.BFIND;
        };
        sources(x, 2);
    }

    private void lop3(Insn x) {
        x.type = type();
        done();
        arity(5);
        x.op = Op.LOP3;
        sources(x, 4);
        if (!(op(4) instanceof PtxAst.Imm lut)) {
            throw k.error("lop3 needs an immediate truth table");
        }
        x.imm = lut.bits() & 0xFF;
    }

    private void floatUnary(Insn x, String base) {
        boolean approx = take("approx");
        int r = rounding(false);
        x.ftz = take("ftz");
        x.type = floatType();
        done();
        arity(2);
        x.mode = Math.max(r, 0);
        x.imm = approx ? 1 : 0;
        boolean exactAllowed = base.equals("rcp") || base.equals("sqrt");
        if (approx == (r >= 0) || (!approx && !exactAllowed)) {
            throw k.error(base + " needs " + (exactAllowed ? ".approx or a rounding modifier" : ".approx"));
        }
        x.op = switch (base) {
            case "rcp" -> Op.RCP_F;
            case "sqrt" -> Op.SQRT_F;
            case "rsqrt" -> Op.RSQRT_F;
            case "ex2" -> Op.EX2_F;
            case "lg2" -> Op.LG2_F;
            case "sin" -> Op.SIN_F;
            case "cos" -> Op.COS_F;
            default -> Op.TANH_F;
        };
        if (x.type == Types.F64 && approx && !(base.equals("rcp") || base.equals("rsqrt") || base.equals("sqrt"))) {
            throw k.error(base + ".approx.f64 does not exist");
        }
        sources(x, 2);
    }

    private void testp(Insn x) {
        String m = takeAny("finite", "infinite", "number", "notanumber", "normal", "subnormal");
        if (m == null) {
            throw k.error("testp needs a test");
        }
        x.mode = List.of("finite", "infinite", "number", "notanumber", "normal", "subnormal").indexOf(m);
        x.type = floatType();
        done();
        arity(2);
        x.op = Op.TESTP_F;
        x.d = k.pred(op(0));
        x.a = k.src(op(1), x.type);
    }

    /** Compare masks: bit 0 less, bit 1 equal, bit 2 greater, bit 3 unordered (a NaN operand). */
    static int compareMask(String c) {
        switch (c) {
            case "eq": return 2;
            case "ne": return 5;
            case "lt": case "lo": return 1;
            case "le": case "ls": return 3;
            case "gt": case "hi": return 4;
            case "ge": case "hs": return 6;
            case "equ": return 10;
            case "neu": return 13;
            case "ltu": return 9;
            case "leu": return 11;
            case "gtu": return 12;
            case "geu": return 14;
            case "num": return 7;
            case "nan": return 8;
            default: return -1;
        }
    }

    private void setp(Insn x) {
        String cmp = null;
        for (String m : mods) {
            if (compareMask(m) >= 0) {
                cmp = m;
                break;
            }
        }
        if (cmp == null) {
            throw k.error("setp needs a comparison");
        }
        mods.remove(cmp);
        x.mode = compareMask(cmp);
        String bool = takeAny("and", "or", "xor");
        x.imm = bool == null ? 0 : bool.equals("and") ? 1 : bool.equals("or") ? 2 : 3;
        x.ftz = take("ftz");
        x.type = type();
        done();
        boolean isFloat = Types.isFloat(x.type);
        if (!isFloat && (x.mode & 8) != 0) {
            throw k.error("unordered comparisons need a float type");
        }
        x.op = x.type == Types.F32 ? Op.SETP_F32 : x.type == Types.F64 ? Op.SETP_F64 : Op.SETP_I;
        arity(bool == null ? 3 : 4);
        if (op(0) instanceof Pair p) {
            x.d = k.pred(p.value());
            x.d2 = k.pred(p.pred());
        } else {
            x.d = k.pred(op(0));
        }
        x.a = k.src(op(1), x.type);
        x.b = k.src(op(2), x.type);
        if (bool != null) {
            x.c = k.pred(op(3));
            x.negC = op(3) instanceof NotPred;
        }
    }

    private void selp(Insn x) {
        x.type = type();
        done();
        arity(4);
        x.op = Op.SELP;
        x.d = k.dst(op(0));
        x.a = k.src(op(1), x.type);
        x.b = k.src(op(2), x.type);
        x.c = k.pred(op(3));
    }

    private void slct(Insn x) {
        x.ftz = take("ftz");
        List<Integer> t = types();
        done();
        arity(4);
        if (t.size() != 2 || (t.get(1) != Types.S32 && t.get(1) != Types.F32)) {
            throw k.error("slct needs a data type and .s32 or .f32");
        }
        x.op = Op.SLCT;
        x.type = t.get(0);
        x.srcType = t.get(1);
        x.d = k.dst(op(0));
        x.a = k.src(op(1), x.type);
        x.b = k.src(op(2), x.type);
        x.c = k.src(op(3), x.srcType);
    }

    private void bra(Insn x) {
        take("uni");
        done();
        arity(1);
        if (!(op(0) instanceof Sym)) {
            throw k.error("bra needs a label");
        }
        x.op = Op.BRA;
    }

    private void barrier(Insn x) {
        if (take("warp")) {
            if (!take("sync")) {
                throw k.error("expected bar.warp.sync");
            }
            done();
            arity(1);
            x.op = Op.WARP_SYNC;
            x.e = k.src(op(0), Types.B32);
            return;
        }
        take("aligned");
        if (take("red")) {
            String r = takeAny("popc", "and", "or");
            if (r == null) {
                throw k.error("bar.red needs .popc, .and or .or");
            }
            x.mode = r.equals("popc") ? 0 : r.equals("and") ? 1 : 2;
            x.type = type();
            done();
            x.op = Op.BAR_RED;
            int n = in.ops().size();
            if (n != 3 && n != 4) {
                throw k.error("bar.red needs 3 or 4 operands");
            }
            x.d = x.mode == 0 ? k.dst(op(0)) : k.pred(op(0));
            x.a = k.src(op(1), Types.U32);
            x.b = n == 4 ? k.src(op(2), Types.U32) : -1;
            x.c = k.pred(op(n - 1));
            x.negC = op(n - 1) instanceof NotPred;
            return;
        }
        String kind = takeAny("sync", "arrive");
        if (kind == null) {
            kind = "sync";
        }
        done();
        x.op = kind.equals("sync") ? Op.BAR_SYNC : Op.BAR_ARRIVE;
        if (in.ops().isEmpty() || in.ops().size() > 2) {
            throw k.error("bar." + kind + " needs a barrier id and an optional thread count");
        }
        x.a = k.src(op(0), Types.U32);
        x.b = in.ops().size() == 2 ? k.src(op(1), Types.U32) : -1;
        if (x.op == Op.BAR_ARRIVE && x.b < 0) {
            throw k.error("bar.arrive needs a thread count");
        }
    }

    private void shfl(Insn x) {
        if (!take("sync")) {
            throw k.error("only shfl.sync is supported (shfl without .sync is gone since sm_70)");
        }
        String m = takeAny("up", "down", "bfly", "idx");
        if (m == null) {
            throw k.error("shfl needs .up, .down, .bfly or .idx");
        }
        x.mode = List.of("up", "down", "bfly", "idx").indexOf(m);
        x.type = type();
        done();
        arity(5);
        x.op = Op.SHFL;
        if (op(0) instanceof Pair p) {
            x.d = k.dst(p.value());
            x.d2 = k.pred(p.pred());
        } else {
            x.d = k.dst(op(0));
        }
        x.a = k.src(op(1), Types.B32);
        x.b = k.src(op(2), Types.U32);
        x.c = k.src(op(3), Types.U32);
        x.e = k.src(op(4), Types.B32);
    }

    private void vote(Insn x) {
        if (!take("sync")) {
            throw k.error("only vote.sync is supported");
        }
        String m = takeAny("all", "any", "uni", "ballot");
        if (m == null) {
            throw k.error("vote needs .all, .any, .uni or .ballot");
        }
        x.mode = List.of("all", "any", "uni", "ballot").indexOf(m);
        x.type = type();
        done();
        arity(3);
        x.op = Op.VOTE;
        x.d = x.mode == 3 ? k.dst(op(0)) : k.pred(op(0));
        x.a = k.pred(op(1));
        x.negA = op(1) instanceof NotPred;
        x.e = k.src(op(2), Types.B32);
    }

    private void redux(Insn x) {
        if (!take("sync")) {
            throw k.error("redux needs .sync");
        }
        String m = takeAny("add", "min", "max", "and", "or", "xor");
        if (m == null) {
            throw k.error("redux needs an operation");
        }
        x.mode = List.of("add", "min", "max", "and", "or", "xor").indexOf(m);
        x.type = type();
        done();
        arity(3);
        x.op = Op.REDUX;
        x.d = k.dst(op(0));
        x.a = k.src(op(1), x.type);
        x.e = k.src(op(2), Types.B32);
    }

    static final int A_ADD = 0, A_MIN = 1, A_MAX = 2, A_INC = 3, A_DEC = 4, A_AND = 5, A_OR = 6, A_XOR = 7,
            A_EXCH = 8, A_CAS = 9;

    private void atom(Insn x, boolean returns) {
        int space = space();
        mods.removeIf(MEMORY_HINTS::contains);
        String m = takeAny("add", "min", "max", "inc", "dec", "and", "or", "xor", "exch", "cas");
        if (m == null) {
            throw k.error("atomic needs an operation");
        }
        x.mode = List.of("add", "min", "max", "inc", "dec", "and", "or", "xor", "exch", "cas").indexOf(m);
        x.type = type();
        done();
        if (x.space == KernelDecoder.SPACE_PARAM || space == KernelDecoder.SPACE_LOCAL
                || space == KernelDecoder.SPACE_CONST || space == KernelDecoder.SPACE_PARAM) {
            throw k.error("atomics work on global and shared memory only");
        }
        if (Types.isFloat(x.type) && x.mode != A_ADD && x.mode != A_EXCH && x.mode != A_MIN && x.mode != A_MAX) {
            throw k.error("atomic ." + m + " does not exist for floats");
        }
        x.size = Types.bits(x.type) / 8;
        x.op = Op.ATOM;
        int n = (returns ? 3 : 2) + (x.mode == A_CAS ? 1 : 0);
        arity(n);
        int i = 0;
        x.d = returns ? k.dst(op(i++)) : k.sink();
        Address a = k.address(op(i++), space);
        x.space = a.space();
        x.a = a.base();
        x.imm = a.offset();
        x.addrMask = a.mask();
        x.b = k.src(op(i++), x.type);
        if (x.mode == A_CAS) {
            x.c = k.src(op(i), x.type);
        }
        // atom.add.f32 flushes subnormal inputs and results (PTX ISA, atom)
        x.ftz = x.type == Types.F32 && x.mode == A_ADD;
    }
}
