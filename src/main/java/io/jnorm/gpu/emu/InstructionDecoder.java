package io.jnorm.gpu.emu;

import io.jnorm.gpu.emu.PtxAst.Instr;

/**
 * The opcode table: decodes one PTX instruction into an {@link Insn} by handing it to the decoder
 * of its family. Each opcode consumes the modifiers it understands; anything left over is an
 * unknown modifier and fails the module load with the line, so nothing unsupported is ever
 * executed silently.
 */
final class InstructionDecoder {

    private final DecodeCursor c;
    private final DataDecoder data;
    private final ArithDecoder arith;
    private final ControlDecoder control;

    InstructionDecoder(KernelDecoder k) {
        c = new DecodeCursor(k);
        data = new DataDecoder(c);
        arith = new ArithDecoder(c);
        control = new ControlDecoder(c);
    }

    Insn decode(Instr instr) {
        String base = c.start(instr);
        Insn x = new Insn();
        switch (base) {
            case "mov": data.mov(x); break;
            case "ld": case "ldu": data.memory(x, true); break;
            case "st": data.memory(x, false); break;
            case "cvta": data.cvta(x); break;
            case "cvt": data.cvt(x); break;
            case "add": case "sub": arith.addSub(x, base.equals("sub")); break;
            case "mul": arith.mul(x); break;
            case "mad": arith.mad(x); break;
            case "mul24": case "mad24": arith.mul24(x, base.equals("mad24")); break;
            case "fma": arith.fma(x); break;
            case "div": arith.div(x); break;
            case "rem": arith.intBinary(x, Op.REM); break;
            case "min": case "max": arith.minMax(x, base.equals("min")); break;
            case "abs": case "neg": arith.absNeg(x, base.equals("abs")); break;
            case "and": case "or": case "xor": arith.logic(x, base); break;
            case "not": case "cnot": arith.not(x, base.equals("cnot")); break;
            case "shl": case "shr": arith.shift(x, base.equals("shl")); break;
            case "popc": case "clz": case "brev": arith.bitUnary(x, base); break;
            case "bfind": x.imm = c.take("shiftamt") ? 1 : 0; arith.bitUnary(x, base); break;
            case "bfe": x.op = Op.BFE; x.type = c.type(); c.done(); c.arity(4); c.sources(x, 4); break;
            case "bfi": x.op = Op.BFI; x.type = c.type(); c.done(); c.arity(5); c.sources(x, 5); break;
            case "prmt": x.op = Op.PRMT; c.type(); c.done(); c.arity(4); c.sources(x, 4); break;
            case "lop3": arith.lop3(x); break;
            case "rcp": case "sqrt": case "rsqrt": case "ex2": case "lg2": case "sin": case "cos": case "tanh":
                arith.floatUnary(x, base);
                break;
            case "copysign": x.op = Op.COPYSIGN_F; x.type = c.floatType(); c.done(); c.arity(3); c.sources(x, 3); break;
            case "testp": arith.testp(x); break;
            case "setp": control.setp(x); break;
            case "selp": control.selp(x); break;
            case "slct": control.slct(x); break;
            case "bra": control.bra(x); break;
            case "ret": case "exit": x.op = Op.EXIT; c.take("uni"); c.done(); break;
            case "trap": case "brkpt": throw c.k.error("trap/brkpt are not supported");
            case "bar": case "barrier": control.barrier(x); break;
            case "membar": x.op = Op.NOP; c.takeAny("cta", "gl", "sys"); c.done(); break;
            case "fence": x.op = Op.NOP; c.takeAny("sc", "acq_rel"); c.takeAny("cta", "gpu", "sys"); c.done(); break;
            case "nanosleep": x.op = Op.NOP; c.type(); c.done(); break;
            case "prefetch": case "prefetchu": x.op = Op.NOP; c.takeAny("global", "local"); c.takeAny("L1", "L2"); c.done(); break;
            case "shfl": control.shfl(x); break;
            case "vote": control.vote(x); break;
            case "activemask": x.op = Op.ACTIVEMASK; c.type(); c.done(); c.arity(1); x.d = c.k.dst(c.op(0)); break;
            case "redux": control.redux(x); break;
            case "atom": case "red": data.atom(x, base.equals("atom")); break;
            default:
                throw c.k.error("unsupported instruction " + base);
        }
        x.plain = x.mode == Fp.RN && !x.ftz && !x.sat;
        return x;
    }

}
