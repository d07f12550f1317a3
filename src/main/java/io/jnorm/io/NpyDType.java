package io.jnorm.io;

import io.jnorm.tensor.DType;

/**
 * The NumPy element types jnorm reads and writes, by their little-endian {@code descr} spelling.
 * Big-endian and other types are rejected by {@link #parse} with the descr in the message.
 */
public enum NpyDType {
    FLOAT32("<f4", 4, false),
    FLOAT64("<f8", 8, false),
    INT64("<i8", 8, true),
    INT32("<i4", 4, true),
    BOOL("|b1", 1, true);

    private final String descr;
    private final int bytes;
    private final boolean integral;

    NpyDType(String descr, int bytes, boolean integral) {
        this.descr = descr;
        this.bytes = bytes;
        this.integral = integral;
    }

    /** The header spelling, e.g. {@code "<f8"}. */
    public String descr() {
        return descr;
    }

    /** Bytes per element. */
    public int bytes() {
        return bytes;
    }

    /** True for integer and boolean types (values held as longs). */
    public boolean isIntegral() {
        return integral;
    }

    /** The NpyDType of a tensor dtype. */
    public static NpyDType of(DType dtype) {
        return dtype == DType.F32 ? FLOAT32 : FLOAT64;
    }

    /**
     * Parses a header {@code descr}. {@code '='} (native order) is read as little-endian because
     * every platform jnorm runs on is little-endian, and NumPy itself writes {@code '<'} there;
     * {@code '|'} is accepted for one-byte types, where order does not apply.
     *
     * @throws IllegalArgumentException for big-endian or unsupported types, naming {@code what}
     */
    public static NpyDType parse(String descr, String what) {
        if (descr.length() >= 2 && descr.charAt(0) == '>' && !descr.endsWith("1")) {
            throw new IllegalArgumentException("Npy: " + what + " is big-endian ('" + descr
                    + "'); only little-endian arrays are supported (in NumPy: a.astype(a.dtype.newbyteorder('<')))");
        }
        String d = descr;
        if (d.length() >= 2 && (d.charAt(0) == '=' || d.charAt(0) == '|' || d.charAt(0) == '>' || d.charAt(0) == '<')) {
            d = d.substring(1);
        }
        switch (d) {
            case "f4": return FLOAT32;
            case "f8": return FLOAT64;
            case "i8": return INT64;
            case "i4": return INT32;
            case "b1": return BOOL;
            default:
                throw new IllegalArgumentException("Npy: " + what + " has dtype '" + descr
                        + "'; supported: <f4 (float32), <f8 (float64), <i8 (int64), <i4 (int32), |b1 (bool)");
        }
    }
}
