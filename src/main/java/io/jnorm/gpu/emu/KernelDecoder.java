package io.jnorm.gpu.emu;

import io.jnorm.gpu.KernelParam;
import io.jnorm.gpu.emu.PtxAst.Addr;
import io.jnorm.gpu.emu.PtxAst.Decl;
import io.jnorm.gpu.emu.PtxAst.Function;
import io.jnorm.gpu.emu.PtxAst.Group;
import io.jnorm.gpu.emu.PtxAst.Imm;
import io.jnorm.gpu.emu.PtxAst.ImmKind;
import io.jnorm.gpu.emu.PtxAst.Instr;
import io.jnorm.gpu.emu.PtxAst.Label;
import io.jnorm.gpu.emu.PtxAst.Module;
import io.jnorm.gpu.emu.PtxAst.Operand;
import io.jnorm.gpu.emu.PtxAst.Param;
import io.jnorm.gpu.emu.PtxAst.Reg;
import io.jnorm.gpu.emu.PtxAst.Sink;
import io.jnorm.gpu.emu.PtxAst.Stmt;
import io.jnorm.gpu.emu.PtxAst.Sym;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Turns one {@code .entry} of a parsed module into a {@link KernelImage}: resolves names through
 * a scope stack (nested {@code { }} blocks may redeclare registers), lays out shared, local and
 * parameter memory, turns immediates and special registers into pre-filled register planes,
 * inlines {@code .func} calls (their {@code .param} arguments live in the thread's local frame),
 * and resolves labels to instruction indices. Opcodes are decoded by {@link InstructionDecoder}.
 */
final class KernelDecoder {

    enum Kind { REG, PRED, SHARED, DYN_SHARED, LOCAL, PARAM, GLOBAL }

    /** What a name means: a register (slot and bit width) or a variable (address in its space). */
    record SymInfo(Kind kind, int index, int bits, long address) {
    }

    /** A resolved memory operand: space, base register plane (or the zero plane), offset, mask. */
    record Address(int space, int base, long offset, long mask) {
    }

    static final int SPACE_GLOBAL = 0, SPACE_SHARED = 1, SPACE_LOCAL = 2, SPACE_PARAM = 3, SPACE_CONST = 4,
            SPACE_GENERIC = 5;

    final Module module;
    private final Map<String, Function> functions = new HashMap<>();
    private final Map<String, Long> globalAddresses;
    private final Map<String, Decl> moduleShared = new HashMap<>();
    private final Deque<Map<String, SymInfo>> scopes = new ArrayDeque<>();
    private final Map<String, Integer> sharedOffsets = new HashMap<>();

    final List<Insn> code = new ArrayList<>();
    private final List<KernelImage.Source> sources = new ArrayList<>();
    private final Set<Integer> joins = new HashSet<>();
    private int slots;
    private int preds;
    private final Map<Long, Integer> constSlots = new LinkedHashMap<>();
    private final Map<Integer, Integer> specialSlots = new LinkedHashMap<>();
    private int sharedBytes;
    private int dynAlign = 16;
    private int dynBaseSlot = -1;
    private int localBytes;
    private int sinkSlot = -1;
    final int zeroSlot;
    private final InstructionDecoder ops = new InstructionDecoder(this);
    Instr current;

    private KernelDecoder(Module module, Map<String, Long> globalAddresses) {
        this.module = module;
        this.globalAddresses = globalAddresses;
        for (Function f : module.functions()) {
            functions.put(f.name(), f);
        }
        for (Decl d : module.globals()) {
            if (d.space().equals(".shared")) {
                moduleShared.put(d.name(), d);
            }
        }
        zeroSlot = constant(0);
    }

    static KernelImage decode(Module module, Function entry, Map<String, Long> globalAddresses) {
        return new KernelDecoder(module, globalAddresses).decodeEntry(entry);
    }

    private KernelImage decodeEntry(Function entry) {
        Map<String, SymInfo> params = new HashMap<>();
        List<KernelParam> kparams = new ArrayList<>();
        int[] offsets = new int[entry.params().size()];
        int off = 0;
        for (int i = 0; i < entry.params().size(); i++) {
            Param p = entry.params().get(i);
            off = (off + p.align() - 1) / p.align() * p.align();
            offsets[i] = off;
            params.put(p.name(), new SymInfo(Kind.PARAM, 0, 0, off));
            kparams.add(new KernelParam(p.name(), p.type(), p.size(), p.align()));
            off += p.size();
        }
        emitBody(entry, params, new ArrayDeque<>());
        Insn[] arr = code.toArray(new Insn[0]);
        for (int j : joins) {
            if (j < arr.length) {
                arr[j].join = true;
            }
        }
        int[] cs = new int[constSlots.size()];
        long[] cv = new long[constSlots.size()];
        int k = 0;
        for (Map.Entry<Long, Integer> e : constSlots.entrySet()) {
            cs[k] = e.getValue();
            cv[k++] = e.getKey();
        }
        int[] ss = new int[specialSlots.size()];
        int[] si = new int[specialSlots.size()];
        k = 0;
        for (Map.Entry<Integer, Integer> e : specialSlots.entrySet()) {
            si[k] = e.getKey();
            ss[k++] = e.getValue();
        }
        return new KernelImage(entry.name(), module.name(), arr, sources.toArray(new KernelImage.Source[0]),
                slots, cs, cv, ss, si, preds, sharedBytes, dynAlign, dynBaseSlot, localBytes, kparams, offsets, off,
                entry.maxntid(), entry.reqntid());
    }

    /** Emits a function body; inlined calls recurse, with the callee's params bound to the caller's. */
    private void emitBody(Function f, Map<String, SymInfo> bindings, Deque<String> callStack) {
        callStack.push(f.name());
        scopes.push(new HashMap<>(bindings));
        Map<String, Integer> labels = new HashMap<>();
        List<Object[]> fixups = new ArrayList<>();
        List<Integer> returns = new ArrayList<>();
        int depth = 0;
        for (Stmt s : f.body()) {
            if (s instanceof PtxAst.Open) {
                scopes.push(new HashMap<>());
                depth++;
            } else if (s instanceof PtxAst.Close) {
                scopes.pop();
                depth--;
            } else if (s instanceof Decl d) {
                declare(d);
            } else if (s instanceof Label l) {
                labels.put(l.name(), code.size());
            } else if (s instanceof Instr in) {
                current = in;
                String base = in.opcode().split("\\.", 2)[0];
                if (base.equals("call")) {
                    inlineCall(in, callStack);
                    continue;
                }
                boolean inlined = callStack.size() > 1;
                if (inlined && base.equals("ret")) {
                    if (in.guard() != null) {
                        throw error("a predicated ret inside a .func is not supported");
                    }
                    Insn br = new Insn();
                    br.op = Op.BRA;
                    returns.add(add(br, in));
                    continue;
                }
                Insn insn = ops.decode(in);
                int idx = add(insn, in);
                if (insn.op == Op.BRA) {
                    fixups.add(new Object[] {idx, ((Sym) in.ops().get(0)).name()});
                }
            }
        }
        for (Object[] fx : fixups) {
            Integer target = labels.get((String) fx[1]);
            if (target == null) {
                throw new PtxLoadException(module.name(), code.get((Integer) fx[0]).src, "", "undefined label " + fx[1]);
            }
            code.get((Integer) fx[0]).target = target;
            joins.add(target);
        }
        for (int r : returns) {
            code.get(r).target = code.size();
            joins.add(code.size());
        }
        scopes.pop();
        callStack.pop();
    }

    private int add(Insn insn, Instr in) {
        PtxAst.Loc loc = in.loc();
        String cu = null;
        if (loc != null) {
            String file = module.files().getOrDefault(loc.file(), "file" + loc.file());
            cu = file.substring(file.lastIndexOf('/') + 1) + ":" + loc.line();
        }
        insn.src = sources.size();
        sources.add(new KernelImage.Source(in.line(), module.lineText(in.line()), cu));
        if (in.guard() != null) {
            insn.guard = pred(new Reg(in.guard()));
            insn.guardNeg = in.guardNeg();
        }
        code.add(insn);
        return code.size() - 1;
    }

    private void inlineCall(Instr in, Deque<String> callStack) {
        List<Operand> o = in.ops();
        int i = 0;
        List<Operand> rets = List.of();
        if (i < o.size() && o.get(i) instanceof Group g) {
            rets = g.items();
            i++;
        }
        if (i >= o.size() || !(o.get(i) instanceof Sym fs)) {
            throw error("indirect calls are not supported");
        }
        i++;
        List<Operand> args = i < o.size() && o.get(i) instanceof Group g ? g.items() : List.of();
        Function callee = functions.get(fs.name());
        if (callee == null || callee.body() == null) {
            throw error("call of a function without a body in this module: " + fs.name());
        }
        if (callStack.contains(callee.name())) {
            throw error("recursive call of " + callee.name() + " is not supported");
        }
        if (callee.params().size() != args.size() || callee.rets().size() != rets.size()) {
            throw error("call of " + callee.name() + " with the wrong number of arguments");
        }
        Map<String, SymInfo> bind = new HashMap<>();
        for (int k = 0; k < args.size(); k++) {
            bind.put(callee.params().get(k).name(), callParam(args.get(k)));
        }
        for (int k = 0; k < rets.size(); k++) {
            bind.put(callee.rets().get(k).name(), callParam(rets.get(k)));
        }
        Map<String, SymInfo> outer = new HashMap<>();
        // the callee sees module-level names plus its bindings, never the caller's registers
        Deque<Map<String, SymInfo>> saved = new ArrayDeque<>(scopes);
        scopes.clear();
        outer.putAll(bind);
        emitBody(callee, outer, callStack);
        scopes.addAll(saved);
    }

    private SymInfo callParam(Operand o) {
        if (!(o instanceof Sym s)) {
            throw error("call arguments must be .param variables");
        }
        SymInfo si = lookup(s.name());
        if (si == null || si.kind() != Kind.LOCAL) {
            throw error("call argument " + s.name() + " is not a .param variable of the caller");
        }
        return si;
    }

    private void declare(Decl d) {
        Map<String, SymInfo> scope = scopes.peek();
        switch (d.space()) {
            case ".reg": {
                int t = Types.of(d.type());
                int n = Math.max(d.regRange(), 1);
                for (int i = 0; i < n; i++) {
                    String name = d.regRange() >= 0 ? d.name() + i : d.name();
                    if (t == Types.PRED) {
                        scope.put(name, new SymInfo(Kind.PRED, preds++, 1, 0));
                    } else {
                        scope.put(name, new SymInfo(Kind.REG, 32 * slots++, Types.bits(t), 0));
                    }
                }
                break;
            }
            case ".local":
            case ".param": {
                int size = (int) (PtxAst.typeSize(d.type()) * Math.max(d.arrayLen(), 1));
                localBytes = (localBytes + d.align() - 1) / d.align() * d.align();
                scope.put(d.name(), new SymInfo(Kind.LOCAL, 0, 0, localBytes));
                localBytes += size;
                break;
            }
            case ".shared":
                scope.put(d.name(), shared(d));
                break;
            default:
                throw new PtxLoadException(module.name(), d.line(), module.lineText(d.line()),
                        "variables in " + d.space() + " must be declared at module scope");
        }
    }

    private SymInfo shared(Decl d) {
        if (d.arrayLen() == 0) {
            dynAlign = Math.max(dynAlign, d.align());
            if (dynBaseSlot < 0) {
                dynBaseSlot = 32 * slots++;
            }
            return new SymInfo(Kind.DYN_SHARED, dynBaseSlot, 0, 0);
        }
        Integer off = sharedOffsets.get(d.name() + "@" + d.line());
        if (off == null) {
            int size = (int) (PtxAst.typeSize(d.type()) * Math.max(d.arrayLen(), 1));
            sharedBytes = (sharedBytes + d.align() - 1) / d.align() * d.align();
            off = sharedBytes;
            sharedBytes += size;
            sharedOffsets.put(d.name() + "@" + d.line(), off);
        }
        return new SymInfo(Kind.SHARED, 0, 0, off);
    }

    SymInfo lookup(String name) {
        for (Map<String, SymInfo> s : scopes) {
            SymInfo si = s.get(name);
            if (si != null) {
                return si;
            }
        }
        Decl sh = moduleShared.get(name);
        if (sh != null) {
            return shared(sh);
        }
        Long g = globalAddresses.get(name);
        if (g != null) {
            return new SymInfo(Kind.GLOBAL, 0, 0, g);
        }
        return null;
    }

    PtxLoadException error(String why) {
        return new PtxLoadException(module.name(), current.line(), module.lineText(current.line()), why);
    }

    int constant(long value) {
        return constSlots.computeIfAbsent(value, v -> 32 * slots++);
    }

    int sink() {
        if (sinkSlot < 0) {
            sinkSlot = 32 * slots++;
        }
        return sinkSlot;
    }

    /** A destination register plane. */
    int dst(Operand o) {
        if (o instanceof Sink) {
            return sink();
        }
        if (o instanceof Reg r) {
            SymInfo si = lookup(r.name());
            if (si != null && si.kind() == Kind.REG) {
                return si.index();
            }
        }
        throw error("expected a destination register, got " + describe(o));
    }

    /** Bit width of a register operand, or 0 for anything else. */
    int bitsOf(Operand o) {
        if (o instanceof Reg r) {
            SymInfo si = lookup(r.name());
            return si != null && si.kind() == Kind.REG ? si.bits() : 0;
        }
        return 0;
    }

    /** A source plane: registers, immediates (converted for {@code type}), specials and symbol addresses. */
    int src(Operand o, int type) {
        if (o instanceof Reg r) {
            SymInfo si = lookup(r.name());
            if (si != null && si.kind() == Kind.REG) {
                return si.index();
            }
            int sp = Special.of(r.name());
            if (sp >= 0 && sp < Special.CLOCK) {
                return specialSlots.computeIfAbsent(sp, v -> 32 * slots++);
            }
            if (sp >= Special.CLOCK) {
                throw error(r.name() + " can only be read with mov");
            }
            throw error("undeclared register " + r.name());
        }
        if (o instanceof Imm imm) {
            return constant(immediate(imm, type));
        }
        if (o instanceof Sym s) {
            SymInfo si = lookup(s.name());
            if (si == null) {
                throw error("undefined symbol " + s.name());
            }
            switch (si.kind()) {
                case DYN_SHARED:
                    return si.index();
                case SHARED: case LOCAL: case PARAM: case GLOBAL:
                    return constant(si.address());
                default:
                    return si.index();
            }
        }
        throw error("unexpected operand " + describe(o));
    }

    static long immediate(Imm imm, int type) {
        if (type == Types.F32) {
            switch (imm.kind()) {
                case F32_BITS: return imm.bits();
                case F64_BITS: case DECIMAL_F64: return Fp.bits((float) Fp.d(imm.bits()));
                default: return Fp.bits((float) imm.bits());
            }
        }
        if (type == Types.F64) {
            switch (imm.kind()) {
                case F32_BITS: return Fp.bits((double) Fp.f(imm.bits()));
                case F64_BITS: case DECIMAL_F64: return imm.bits();
                default: return Fp.bits((double) imm.bits());
            }
        }
        if (imm.kind() == ImmKind.F32_BITS || imm.kind() == ImmKind.F64_BITS) {
            return imm.bits();
        }
        if (imm.kind() == ImmKind.DECIMAL_F64) {
            return (long) Fp.d(imm.bits());
        }
        return imm.bits();
    }

    /** Special register id when the operand is one of the changing ones (%clock ...), else -1. */
    int dynamicSpecial(Operand o) {
        if (o instanceof Reg r) {
            int sp = Special.of(r.name());
            return sp >= Special.CLOCK ? sp : -1;
        }
        return -1;
    }

    int pred(Operand o) {
        String name = o instanceof Reg r ? r.name() : o instanceof PtxAst.NotPred n ? n.name() : null;
        if (name != null) {
            SymInfo si = lookup(name);
            if (si != null && si.kind() == Kind.PRED) {
                return si.index();
            }
        }
        throw error("expected a predicate register, got " + describe(o));
    }

    /** Resolves {@code [base+off]} for an instruction that names {@code space}. */
    Address address(Operand o, int space) {
        if (!(o instanceof Addr a)) {
            throw error("expected an address, got " + describe(o));
        }
        if (a.base() == null) {
            return new Address(space, zeroSlot, a.offset(), -1L);
        }
        SymInfo si = lookup(a.base());
        if (si == null) {
            throw error("undefined name in address: " + a.base());
        }
        switch (si.kind()) {
            case REG: {
                long mask = si.bits() == 32 ? 0xFFFFFFFFL : -1L;
                return new Address(space, si.index(), a.offset(), mask);
            }
            case PARAM:
                return new Address(SPACE_PARAM, zeroSlot, si.address() + a.offset(), -1L);
            case LOCAL:
                return new Address(SPACE_LOCAL, zeroSlot, si.address() + a.offset(), -1L);
            case SHARED:
                return new Address(space == SPACE_GENERIC ? SPACE_SHARED : checkSpace(space, SPACE_SHARED),
                        zeroSlot, si.address() + a.offset(), -1L);
            case DYN_SHARED:
                return new Address(space == SPACE_GENERIC ? SPACE_SHARED : checkSpace(space, SPACE_SHARED),
                        si.index(), a.offset(), 0xFFFFFFFFL);
            case GLOBAL:
                return new Address(space == SPACE_CONST ? SPACE_CONST : SPACE_GLOBAL, zeroSlot,
                        si.address() + a.offset(), -1L);
            default:
                throw error("a predicate cannot be an address");
        }
    }

    private int checkSpace(int space, int expected) {
        if (space != expected) {
            throw error("variable accessed through the wrong state space");
        }
        return space;
    }

    static String describe(Operand o) {
        if (o instanceof Reg r) {
            return r.name();
        }
        if (o instanceof Sym s) {
            return s.name();
        }
        return o.getClass().getSimpleName().toLowerCase();
    }
}
