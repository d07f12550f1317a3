package io.jnorm.gpu;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads the parameter list of every {@code .entry} in a PTX module.
 *
 * <p>Both drivers need it: a real GPU's driver API does not tell the caller what a kernel takes,
 * and the emulator needs the {@code .param} layout to build the parameter space. Taking the
 * list from the PTX (not from a hand-written table) is what lets a launch be checked against the
 * kernel that will actually run.
 *
 * <p>Forms accepted, as nvcc and hand-written PTX spell them:
 * <pre>
 *   .param .u64 name                              scalar (u/s/b/f 8..64, pred not allowed)
 *   .param .u64 .ptr .global .align 8 name        pointer with state space and alignment
 *   .param .align 8 .b8 name[48]                  by-value struct as a byte array
 * </pre>
 * A scalar's alignment is its size unless {@code .align} says otherwise; a byte array's is
 * {@code .align} or 1.
 */
public final class PtxEntrySignatures {

    private static final Pattern ENTRY = Pattern.compile("\\.entry\\s+([A-Za-z_$%][\\w$]*)\\s*\\(");
    private static final Pattern PARAM_NAME = Pattern.compile("([A-Za-z_$%][\\w$]*)\\s*(?:\\[\\s*(\\d+)\\s*])?");
    private static final Pattern TYPE = Pattern.compile("\\.([usbf])(8|16|32|64)");

    private PtxEntrySignatures() {
    }

    /**
     * Every entry of the module in source order, each with its parameters in declaration order.
     *
     * @throws IllegalArgumentException when an entry's parameter list cannot be read; the message
     *                                  names the entry and the offending declaration
     */
    public static Map<String, List<KernelParam>> parse(String ptx) {
        String code = stripComments(ptx);
        Map<String, List<KernelParam>> entries = new LinkedHashMap<>();
        Matcher m = ENTRY.matcher(code);
        while (m.find()) {
            String entry = m.group(1);
            int close = code.indexOf(')', m.end());
            if (close < 0) {
                throw new IllegalArgumentException("PTX entry " + entry + ": parameter list has no closing ')'");
            }
            if (entries.containsKey(entry)) {
                throw new IllegalArgumentException("PTX declares entry " + entry + " twice");
            }
            entries.put(entry, parseParams(entry, code.substring(m.end(), close)));
        }
        return Collections.unmodifiableMap(entries);
    }

    /**
     * The parameters of one entry.
     *
     * @throws IllegalArgumentException when the module has no such entry; the message lists those it has
     */
    public static List<KernelParam> of(String ptx, String entry) {
        Map<String, List<KernelParam>> all = parse(ptx);
        List<KernelParam> params = all.get(entry);
        if (params == null) {
            throw new IllegalArgumentException("PTX has no .entry " + entry + "; its entries are " + all.keySet());
        }
        return params;
    }

    private static List<KernelParam> parseParams(String entry, String list) {
        List<KernelParam> params = new ArrayList<>();
        if (list.isBlank()) {
            return Collections.unmodifiableList(params);
        }
        for (String decl : list.split(",")) {
            params.add(parseParam(entry, decl.trim()));
        }
        return Collections.unmodifiableList(params);
    }

    private static KernelParam parseParam(String entry, String decl) {
        String[] tokens = decl.split("\\s+");
        if (tokens.length < 3 || !tokens[0].equals(".param")) {
            throw bad(entry, decl, "expected '.param <type> <name>'");
        }
        String type = null;
        int align = 0;
        int i = 1;
        for (; i < tokens.length && tokens[i].startsWith("."); i++) {
            String t = tokens[i];
            if (t.equals(".align")) {
                if (i + 1 >= tokens.length) {
                    throw bad(entry, decl, ".align without a value");
                }
                align = parseAlign(entry, decl, tokens[++i]);
            } else if (TYPE.matcher(t).matches()) {
                if (type != null) {
                    throw bad(entry, decl, "two types (" + type + " and " + t.substring(1) + ")");
                }
                type = t.substring(1);
            } else if (!isPointerAttribute(t)) {
                throw bad(entry, decl, "unsupported qualifier " + t);
            }
        }
        if (type == null) {
            throw bad(entry, decl, "no type (expected .u32, .f64, .b8 ...)");
        }
        String rest = String.join(" ", Arrays.asList(tokens).subList(i, tokens.length));
        Matcher name = PARAM_NAME.matcher(rest);
        if (!name.matches()) {
            throw bad(entry, decl, "cannot read the parameter name from '" + rest + "'");
        }
        int elementBytes = Integer.parseInt(type.substring(1)) / 8;
        int count = name.group(2) == null ? 1 : Integer.parseInt(name.group(2));
        if (count < 1) {
            throw bad(entry, decl, "empty array");
        }
        if (align == 0) {
            align = elementBytes;
        }
        return new KernelParam(name.group(1), type, elementBytes * count, align);
    }

    private static boolean isPointerAttribute(String t) {
        return t.equals(".ptr") || t.equals(".global") || t.equals(".shared") || t.equals(".const")
                || t.equals(".local");
    }

    private static int parseAlign(String entry, String decl, String value) {
        try {
            int a = Integer.parseInt(value);
            if (a > 0 && Integer.bitCount(a) == 1) {
                return a;
            }
        } catch (NumberFormatException e) {
            // reported below with the declaration
        }
        throw bad(entry, decl, ".align " + value + " is not a power of two");
    }

    private static IllegalArgumentException bad(String entry, String decl, String why) {
        return new IllegalArgumentException("PTX entry " + entry + ": cannot read parameter '" + decl + "': " + why);
    }

    /** Removes // and block comments, leaving quoted strings (file names, pragmas) intact. */
    static String stripComments(String ptx) {
        StringBuilder out = new StringBuilder(ptx.length());
        int n = ptx.length();
        for (int i = 0; i < n; i++) {
            char c = ptx.charAt(i);
            if (c == '"') {
                int end = ptx.indexOf('"', i + 1);
                end = end < 0 ? n - 1 : end;
                out.append(ptx, i, end + 1);
                i = end;
            } else if (c == '/' && i + 1 < n && ptx.charAt(i + 1) == '/') {
                int end = ptx.indexOf('\n', i);
                i = (end < 0 ? n : end) - 1;
            } else if (c == '/' && i + 1 < n && ptx.charAt(i + 1) == '*') {
                int end = ptx.indexOf("*/", i + 2);
                i = end < 0 ? n : end + 1;
                out.append(' ');
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }
}
