package io.jnorm.gpu.emu;

import java.util.ArrayList;
import java.util.List;

/**
 * Splits PTX text into tokens. Opcodes keep their dotted modifiers in one token
 * ({@code ld.global.nc.v4.f32}) so the decoder sees the whole spelling; directives keep their
 * leading dot ({@code .reg}); registers keep their {@code %} and special-register suffix
 * ({@code %tid.x}). Every token remembers its line, for error messages and for {@code .loc},
 * which ends at the line break rather than at a semicolon.
 */
final class PtxLexer {

    enum Kind { WORD, NUMBER, STRING, PUNCT, EOF }

    record Token(Kind kind, String text, int line) {
        boolean is(String s) {
            return text.equals(s) && kind != Kind.STRING;
        }

        @Override
        public String toString() {
            return kind == Kind.EOF ? "end of file" : "'" + text + "'";
        }
    }

    private PtxLexer() {
    }

    static List<Token> tokenize(String moduleName, String src) {
        List<Token> out = new ArrayList<>();
        int i = 0;
        int line = 1;
        int n = src.length();
        while (i < n) {
            char c = src.charAt(i);
            if (c == '\n') {
                line++;
                i++;
            } else if (Character.isWhitespace(c)) {
                i++;
            } else if (c == '/' && i + 1 < n && src.charAt(i + 1) == '/') {
                while (i < n && src.charAt(i) != '\n') {
                    i++;
                }
            } else if (c == '/' && i + 1 < n && src.charAt(i + 1) == '*') {
                int end = src.indexOf("*/", i + 2);
                if (end < 0) {
                    throw new PtxLoadException(moduleName, line, "/*", "unterminated comment");
                }
                for (int k = i; k < end; k++) {
                    if (src.charAt(k) == '\n') {
                        line++;
                    }
                }
                i = end + 2;
            } else if (c == '"') {
                int end = src.indexOf('"', i + 1);
                if (end < 0) {
                    throw new PtxLoadException(moduleName, line, "\"", "unterminated string");
                }
                out.add(new Token(Kind.STRING, src.substring(i + 1, end), line));
                i = end + 1;
            } else if (Character.isDigit(c)) {
                int s = i;
                i++;
                while (i < n && (Character.isLetterOrDigit(src.charAt(i)) || src.charAt(i) == '.')) {
                    i++;
                }
                out.add(new Token(Kind.NUMBER, src.substring(s, i), line));
            } else if (Character.isLetter(c) || c == '_' || c == '$' || c == '%' || c == '.') {
                int s = i;
                boolean dots = c != '_' && c != '$';
                i++;
                while (i < n) {
                    char d = src.charAt(i);
                    if (Character.isLetterOrDigit(d) || d == '_' || d == '$' || (dots && d == '.')
                            || (d == ':' && i + 1 < n && src.charAt(i + 1) == ':' && dots)) {
                        // "::" appears inside modifiers such as .L2::cache_hint
                        i += d == ':' ? 2 : 1;
                    } else {
                        break;
                    }
                }
                out.add(new Token(Kind.WORD, src.substring(s, i), line));
            } else if ("{}[]()<>,;:|+-!@=".indexOf(c) >= 0) {
                out.add(new Token(Kind.PUNCT, String.valueOf(c), line));
                i++;
            } else {
                throw new PtxLoadException(moduleName, line, String.valueOf(c), "unexpected character");
            }
        }
        out.add(new Token(Kind.EOF, "", line));
        return out;
    }
}
