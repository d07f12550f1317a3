package io.jnorm.gpu.emu;

import io.jnorm.gpu.emu.PtxAst.Addr;
import io.jnorm.gpu.emu.PtxAst.Close;
import io.jnorm.gpu.emu.PtxAst.Decl;
import io.jnorm.gpu.emu.PtxAst.Function;
import io.jnorm.gpu.emu.PtxAst.Group;
import io.jnorm.gpu.emu.PtxAst.Imm;
import io.jnorm.gpu.emu.PtxAst.ImmKind;
import io.jnorm.gpu.emu.PtxAst.Instr;
import io.jnorm.gpu.emu.PtxAst.Label;
import io.jnorm.gpu.emu.PtxAst.Loc;
import io.jnorm.gpu.emu.PtxAst.Module;
import io.jnorm.gpu.emu.PtxAst.NotPred;
import io.jnorm.gpu.emu.PtxAst.Open;
import io.jnorm.gpu.emu.PtxAst.Operand;
import io.jnorm.gpu.emu.PtxAst.Pair;
import io.jnorm.gpu.emu.PtxAst.Param;
import io.jnorm.gpu.emu.PtxAst.Reg;
import io.jnorm.gpu.emu.PtxAst.Sink;
import io.jnorm.gpu.emu.PtxAst.Stmt;
import io.jnorm.gpu.emu.PtxAst.Sym;
import io.jnorm.gpu.emu.PtxAst.Vec;
import io.jnorm.gpu.emu.PtxLexer.Kind;
import io.jnorm.gpu.emu.PtxLexer.Token;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Recursive-descent parser for the PTX that nvcc emits: module directives, variables,
 * {@code .entry}/{@code .func} with their bodies. It checks syntax only; the decoder checks
 * opcodes and modifiers. Anything it does not know is an error naming the line.
 */
final class PtxParser {

    private static final Set<String> PERF_DIRECTIVES = Set.of(".maxntid", ".reqntid", ".minnctapersm",
            ".maxnctapersm", ".maxnreg", ".noreturn", ".maxclusterrank", ".reqnctapercluster",
            ".explicitcluster", ".blocksareclusters");

    private final String name;
    private final String[] lines;
    private final List<Token> toks;
    private int pos;
    private Loc loc;

    private PtxParser(String name, String src) {
        this.name = name;
        this.lines = src.split("\n", -1);
        this.toks = PtxLexer.tokenize(name, src);
    }

    static Module parse(String name, String src) {
        return new PtxParser(name, src).module();
    }

    private Token peek() {
        return toks.get(pos);
    }

    private Token peek(int k) {
        return toks.get(Math.min(pos + k, toks.size() - 1));
    }

    private Token next() {
        return toks.get(pos++);
    }

    private PtxLoadException error(Token t, String why) {
        String text = t.line() >= 1 && t.line() <= lines.length ? lines[t.line() - 1] : t.text();
        return new PtxLoadException(name, t.line(), text, why + " (at " + t + ")");
    }

    private Token expect(String s) {
        Token t = next();
        if (!t.is(s)) {
            throw error(t, "expected '" + s + "'");
        }
        return t;
    }

    private boolean accept(String s) {
        if (peek().is(s)) {
            pos++;
            return true;
        }
        return false;
    }

    private String word() {
        Token t = next();
        if (t.kind() != Kind.WORD) {
            throw error(t, "expected a name");
        }
        return t.text();
    }

    private long integer() {
        boolean neg = accept("-");
        Token t = next();
        if (t.kind() != Kind.NUMBER) {
            throw error(t, "expected a number");
        }
        Imm imm = number(t);
        if (imm.kind() != ImmKind.INT) {
            throw error(t, "expected an integer");
        }
        return neg ? -imm.bits() : imm.bits();
    }

    private void skipRestOfLine(int line) {
        while (peek().kind() != Kind.EOF && peek().line() == line) {
            pos++;
        }
    }

    private Module module() {
        List<Function> functions = new ArrayList<>();
        List<Decl> globals = new ArrayList<>();
        Map<Integer, String> files = new HashMap<>();
        while (peek().kind() != Kind.EOF) {
            Token t = next();
            switch (t.text()) {
                case ".version":
                case ".target":
                    skipRestOfLine(t.line());
                    break;
                case ".address_size":
                    if (integer() != 64) {
                        throw error(t, "only 64-bit addressing is supported");
                    }
                    break;
                case ".file": {
                    int idx = (int) integer();
                    Token f = next();
                    if (f.kind() != Kind.STRING) {
                        throw error(f, "expected a file name");
                    }
                    files.put(idx, f.text());
                    skipRestOfLine(t.line());
                    break;
                }
                case ".section":
                    skipSection();
                    break;
                case ".visible":
                case ".extern":
                case ".weak":
                case ".common":
                    if (t.is(".extern") && isVarSpace(peek().text())) {
                        globals.add(decl(next().text(), t.line()));
                    }
                    break;
                case ".entry":
                case ".func": {
                    Function f = function(t);
                    if (f != null) {
                        functions.add(f);
                    }
                    break;
                }
                case ".global":
                case ".const":
                case ".shared":
                    globals.add(decl(t.text(), t.line()));
                    break;
                case ".pragma":
                    next();
                    expect(";");
                    break;
                default:
                    throw error(t, "unknown module-level directive");
            }
        }
        return new Module(name, lines, functions, globals, files);
    }

    private static boolean isVarSpace(String s) {
        return s.equals(".shared") || s.equals(".global") || s.equals(".const");
    }

    private void skipSection() {
        next();
        expect("{");
        int depth = 1;
        while (depth > 0) {
            Token t = next();
            if (t.kind() == Kind.EOF) {
                throw error(t, "unterminated .section");
            }
            if (t.is("{")) {
                depth++;
            } else if (t.is("}")) {
                depth--;
            }
        }
    }

    private Function function(Token kw) {
        boolean entry = kw.is(".entry");
        List<Param> rets = new ArrayList<>();
        if (!entry && peek().is("(")) {
            rets = paramList();
        }
        String fname = word();
        List<Param> params = peek().is("(") ? paramList() : new ArrayList<>();
        int[] maxntid = null;
        int[] reqntid = null;
        while (PERF_DIRECTIVES.contains(peek().text())) {
            Token d = next();
            if (d.is(".noreturn") || d.is(".explicitcluster") || d.is(".blocksareclusters")) {
                continue;
            }
            int[] dims = {1, 1, 1};
            dims[0] = (int) integer();
            for (int k = 1; k < 3 && accept(","); k++) {
                dims[k] = (int) integer();
            }
            if (d.is(".maxntid")) {
                maxntid = dims;
            } else if (d.is(".reqntid")) {
                reqntid = dims;
            }
        }
        if (accept(";")) {
            return null;
        }
        if (!peek().is("{")) {
            throw error(peek(), "expected a function body");
        }
        List<Stmt> body = body();
        return new Function(fname, entry, params, rets, body, kw.line(), maxntid, reqntid);
    }

    private List<Param> paramList() {
        expect("(");
        List<Param> out = new ArrayList<>();
        if (accept(")")) {
            return out;
        }
        do {
            Token p = next();
            if (!p.is(".param") && !p.is(".reg")) {
                throw error(p, "expected .param");
            }
            String type = null;
            int align = 0;
            while (peek().kind() == Kind.WORD && peek().text().startsWith(".")) {
                String d = next().text();
                if (d.equals(".align")) {
                    align = (int) integer();
                } else if (PtxAst.typeSize(d.substring(1)) > 0) {
                    type = d.substring(1);
                } else if (!Set.of(".ptr", ".global", ".shared", ".const", ".local").contains(d)) {
                    throw error(p, "unknown parameter attribute " + d);
                }
            }
            if (type == null) {
                throw error(p, "parameter without a type");
            }
            String pname = word();
            int elem = PtxAst.typeSize(type);
            int size = elem;
            boolean array = false;
            if (accept("[")) {
                size = (int) (elem * integer());
                expect("]");
                array = true;
            }
            out.add(new Param(pname, type, size, align == 0 ? elem : align, array));
        } while (accept(","));
        expect(")");
        return out;
    }

    private List<Stmt> body() {
        List<Stmt> out = new ArrayList<>();
        int depth = 0;
        loc = null;
        do {
            Token t = peek();
            if (t.kind() == Kind.EOF) {
                throw error(t, "unterminated function body");
            }
            if (accept("{")) {
                depth++;
                out.add(new Open(t.line()));
            } else if (accept("}")) {
                depth--;
                out.add(new Close(t.line()));
            } else if (t.is(".loc")) {
                next();
                int file = (int) integer();
                int line = (int) integer();
                loc = new Loc(file, line);
                skipRestOfLine(t.line());
            } else if (t.is(".pragma")) {
                next();
                next();
                expect(";");
            } else if (t.is(".reg")) {
                next();
                regDecl(out, t.line());
            } else if (t.is(".local") || t.is(".shared") || t.is(".param") || t.is(".global") || t.is(".const")) {
                next();
                out.add(decl(t.text(), t.line()));
            } else if (t.kind() == Kind.WORD && peek(1).is(":")) {
                next();
                next();
                out.add(new Label(t.text(), t.line()));
            } else {
                out.add(instr());
            }
        } while (depth > 0);
        return out;
    }

    private void regDecl(List<Stmt> out, int line) {
        Token tt = next();
        String type = tt.text().startsWith(".") ? tt.text().substring(1) : "";
        if (PtxAst.typeSize(type) < 0) {
            throw error(tt, "unknown register type");
        }
        do {
            String rname = word();
            int range = -1;
            if (accept("<")) {
                range = (int) integer();
                expect(">");
            }
            out.add(new Decl(".reg", type, 0, rname, range, -1, null, line));
        } while (accept(","));
        expect(";");
    }

    private Decl decl(String space, int line) {
        int align = 0;
        String type = null;
        while (peek().kind() == Kind.WORD && peek().text().startsWith(".")) {
            Token d = next();
            if (d.is(".align")) {
                align = (int) integer();
            } else if (PtxAst.typeSize(d.text().substring(1)) > 0) {
                type = d.text().substring(1);
            } else if (!d.is(".ptr")) {
                throw error(d, "unknown variable attribute");
            }
        }
        if (type == null) {
            throw error(peek(), "variable without a type");
        }
        String vname = word();
        long len = -1;
        while (accept("[")) {
            long dim = peek().is("]") ? 0 : integer();
            expect("]");
            len = len < 0 ? dim : len * dim;
        }
        byte[] init = null;
        if (accept("=")) {
            init = initializer(type, len, line);
        }
        expect(";");
        return new Decl(space, type, align == 0 ? PtxAst.typeSize(type) : align, vname, -1, len, init, line);
    }

    private byte[] initializer(String type, long len, int line) {
        int elem = PtxAst.typeSize(type);
        List<Long> vals = new ArrayList<>();
        boolean braces = accept("{");
        do {
            boolean neg = accept("-");
            Token t = next();
            if (t.kind() != Kind.NUMBER) {
                throw error(t, "only numeric initializers are supported");
            }
            Imm imm = number(t);
            long bits = imm.bits();
            if (imm.kind() == ImmKind.DECIMAL_F64 || (imm.kind() == ImmKind.F64_BITS && elem == 4)) {
                double d = Double.longBitsToDouble(bits);
                bits = elem == 4 ? Float.floatToRawIntBits((float) d) : bits;
            }
            vals.add(neg ? -bits : bits);
        } while (braces && accept(","));
        if (braces) {
            expect("}");
        }
        long count = Math.max(len, 1);
        if (vals.size() > count) {
            throw new PtxLoadException(name, line, lines[line - 1], "too many initializer values");
        }
        ByteBuffer bb = ByteBuffer.allocate((int) (count * elem)).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < vals.size(); i++) {
            long v = vals.get(i);
            for (int b = 0; b < elem; b++) {
                bb.put(i * elem + b, (byte) (v >>> (8 * b)));
            }
        }
        return bb.array();
    }

    private Instr instr() {
        Token first = peek();
        String guard = null;
        boolean neg = false;
        if (accept("@")) {
            neg = accept("!");
            guard = word();
        }
        Token op = next();
        if (op.kind() != Kind.WORD || op.text().startsWith(".")) {
            throw error(op, "expected an instruction");
        }
        List<Operand> ops = new ArrayList<>();
        if (!peek().is(";")) {
            do {
                ops.add(operand());
            } while (accept(","));
        }
        expect(";");
        return new Instr(op.text(), guard, neg, ops, first.line(), loc);
    }

    private Operand operand() {
        Token t = peek();
        if (accept("[")) {
            String base = null;
            long off = 0;
            if (peek().kind() == Kind.WORD) {
                base = word();
                if (accept("+")) {
                    off = integer();
                } else if (peek().is("-")) {
                    off = integer();
                }
            } else {
                off = integer();
            }
            expect("]");
            return new Addr(base, off);
        }
        if (accept("{")) {
            List<Operand> el = new ArrayList<>();
            do {
                el.add(operand());
            } while (accept(","));
            expect("}");
            return new Vec(el);
        }
        if (accept("(")) {
            List<Operand> el = new ArrayList<>();
            if (!peek().is(")")) {
                do {
                    el.add(operand());
                } while (accept(","));
            }
            expect(")");
            return new Group(el);
        }
        if (accept("!")) {
            return new NotPred(word());
        }
        if (t.is("-") || t.kind() == Kind.NUMBER) {
            boolean neg = accept("-");
            Imm imm = number(next());
            if (!neg) {
                return imm;
            }
            return switch (imm.kind()) {
                case INT -> new Imm(-imm.bits(), ImmKind.INT);
                case F32_BITS -> new Imm(imm.bits() ^ 0x80000000L, ImmKind.F32_BITS);
                default -> new Imm(imm.bits() ^ Long.MIN_VALUE, imm.kind());
            };
        }
        String w = word();
        if (w.equals("_")) {
            return new Sink();
        }
        if (w.startsWith("%")) {
            Reg r = new Reg(w);
            if (accept("|")) {
                return new Pair(r, operand());
            }
            return r;
        }
        return new Sym(w);
    }

    private Imm number(Token t) {
        String s = t.text();
        try {
            if (s.length() > 2 && (s.charAt(1) == 'f' || s.charAt(1) == 'F') && s.charAt(0) == '0') {
                return new Imm(Long.parseLong(s.substring(2), 16), ImmKind.F32_BITS);
            }
            if (s.length() > 2 && (s.charAt(1) == 'd' || s.charAt(1) == 'D') && s.charAt(0) == '0') {
                return new Imm(Long.parseUnsignedLong(s.substring(2), 16), ImmKind.F64_BITS);
            }
            String body = s.endsWith("U") || s.endsWith("u") ? s.substring(0, s.length() - 1) : s;
            if (body.startsWith("0x") || body.startsWith("0X")) {
                return new Imm(Long.parseUnsignedLong(body.substring(2), 16), ImmKind.INT);
            }
            if (body.contains(".") || body.contains("e") || body.contains("E")) {
                return new Imm(Double.doubleToRawLongBits(Double.parseDouble(body)), ImmKind.DECIMAL_F64);
            }
            if (body.length() > 1 && body.startsWith("0")) {
                return new Imm(Long.parseUnsignedLong(body.substring(1), 8), ImmKind.INT);
            }
            return new Imm(Long.parseUnsignedLong(body), ImmKind.INT);
        } catch (NumberFormatException e) {
            throw error(t, "malformed number");
        }
    }
}
