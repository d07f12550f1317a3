package io.jnorm.io;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The dictionary at the start of a .npy file, e.g.
 * {@code {'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }}: a Python literal, parsed
 * here by a small recursive-descent reader (not by evaluating anything). Specification:
 * numpy.lib.format (NEP 1).
 */
record NpyHeader(NpyDType dtype, boolean fortranOrder, int[] shape) {

    /** Whole preamble + header length is a multiple of this, as NumPy >= 1.23 writes it. */
    static final int ALIGN = 64;

    /**
     * Parses the header text.
     *
     * @throws IllegalArgumentException for malformed text, missing or extra keys, or an
     *                                  unsupported dtype, naming {@code what}
     */
    static NpyHeader parse(String text, String what) {
        Map<String, Object> dict = new Parser(text, what).dict();
        if (!dict.keySet().equals(java.util.Set.of("descr", "fortran_order", "shape"))) {
            throw new IllegalArgumentException("Npy: " + what + " header has keys " + dict.keySet()
                    + "; expected exactly descr, fortran_order, shape");
        }
        if (!(dict.get("descr") instanceof String descr)) {
            throw new IllegalArgumentException("Npy: " + what + " has a structured dtype " + dict.get("descr")
                    + "; only plain numeric arrays are supported");
        }
        if (!(dict.get("fortran_order") instanceof Boolean fortran)) {
            throw new IllegalArgumentException("Npy: " + what + " header has fortran_order "
                    + dict.get("fortran_order") + "; expected True or False");
        }
        if (!(dict.get("shape") instanceof int[] shape)) {
            throw new IllegalArgumentException("Npy: " + what + " header has shape " + dict.get("shape")
                    + "; expected a tuple of integers");
        }
        return new NpyHeader(NpyDType.parse(descr, what), fortran, shape);
    }

    /** The header text padded with spaces and a final newline so the data starts aligned. */
    byte[] encode(int preambleBytes) {
        StringBuilder sb = new StringBuilder("{'descr': '").append(dtype.descr())
                .append("', 'fortran_order': ").append(fortranOrder ? "True" : "False")
                .append(", 'shape': (");
        for (int i = 0; i < shape.length; i++) {
            sb.append(i > 0 ? ", " : "").append(shape[i]);
        }
        // Python spells a one-element tuple "(3,)".
        sb.append(shape.length == 1 ? ",), }" : "), }");
        int unpadded = preambleBytes + sb.length() + 1;
        sb.append(" ".repeat((ALIGN - unpadded % ALIGN) % ALIGN)).append('\n');
        return sb.toString().getBytes(StandardCharsets.US_ASCII);
    }

    /** A header value this reader does not interpret, kept for the error message. */
    private record Unsupported(String text) {
        @Override
        public String toString() {
            return text;
        }
    }

    private static final class Parser {
        private final String s;
        private final String what;
        private int pos;

        Parser(String s, String what) {
            this.s = s;
            this.what = what;
        }

        Map<String, Object> dict() {
            Map<String, Object> out = new LinkedHashMap<>();
            expect('{');
            while (true) {
                skipSpace();
                if (peek() == '}') {
                    pos++;
                    break;
                }
                String key = string();
                expect(':');
                out.put(key, value());
                skipSpace();
                if (peek() == ',') {
                    pos++;
                } else if (peek() != '}') {
                    throw error("expected ',' or '}'");
                }
            }
            skipSpace();
            if (pos != s.length()) {
                throw error("unexpected text after the dictionary");
            }
            return out;
        }

        private Object value() {
            skipSpace();
            char c = peek();
            if (c == '\'' || c == '"') {
                return string();
            }
            if (c == '(') {
                return tuple();
            }
            if (s.startsWith("True", pos)) {
                pos += 4;
                return Boolean.TRUE;
            }
            if (s.startsWith("False", pos)) {
                pos += 5;
                return Boolean.FALSE;
            }
            // Structured dtypes ("[('a', '<f8')]") and anything else are reported, not parsed.
            int end = pos;
            int depth = 0;
            while (end < s.length()) {
                char e = s.charAt(end);
                if (e == '[' || e == '(') {
                    depth++;
                } else if (e == ']' || e == ')') {
                    depth--;
                } else if (depth == 0 && (e == ',' || e == '}')) {
                    break;
                }
                end++;
            }
            String text = s.substring(pos, end);
            pos = end;
            return new Unsupported(text);
        }

        private int[] tuple() {
            expect('(');
            List<Integer> dims = new ArrayList<>();
            while (true) {
                skipSpace();
                if (peek() == ')') {
                    pos++;
                    break;
                }
                int start = pos;
                while (pos < s.length() && Character.isDigit(s.charAt(pos))) {
                    pos++;
                }
                if (start == pos) {
                    throw error("expected a non-negative integer in the shape");
                }
                long d = Long.parseLong(s.substring(start, pos));
                if (d > Integer.MAX_VALUE) {
                    throw error("dimension " + d + " is too large");
                }
                dims.add((int) d);
                if (peek() == 'L') {
                    pos++; // Python 2 long literal
                }
                skipSpace();
                if (peek() == ',') {
                    pos++;
                } else if (peek() != ')') {
                    throw error("expected ',' or ')' in the shape");
                }
            }
            return dims.stream().mapToInt(Integer::intValue).toArray();
        }

        private String string() {
            skipSpace();
            char q = peek();
            if (q != '\'' && q != '"') {
                throw error("expected a quoted string");
            }
            int end = s.indexOf(q, pos + 1);
            if (end < 0) {
                throw error("unterminated string");
            }
            String v = s.substring(pos + 1, end);
            pos = end + 1;
            return v;
        }

        private void expect(char c) {
            skipSpace();
            if (peek() != c) {
                throw error("expected '" + c + "'");
            }
            pos++;
        }

        private char peek() {
            if (pos >= s.length()) {
                throw error("header ends early");
            }
            return s.charAt(pos);
        }

        private void skipSpace() {
            while (pos < s.length() && Character.isWhitespace(s.charAt(pos))) {
                pos++;
            }
        }

        private IllegalArgumentException error(String problem) {
            return new IllegalArgumentException("Npy: " + what + " has a malformed header (" + problem
                    + " at character " + pos + "): " + s.strip());
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof NpyHeader h && h.dtype == dtype && h.fortranOrder == fortranOrder
                && Arrays.equals(h.shape, shape);
    }

    @Override
    public int hashCode() {
        return 31 * dtype.hashCode() + Arrays.hashCode(shape) + (fortranOrder ? 1 : 0);
    }

    @Override
    public String toString() {
        return "NpyHeader[" + dtype.descr() + ", fortran_order=" + fortranOrder + ", shape=" + Arrays.toString(shape) + "]";
    }
}
