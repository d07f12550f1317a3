package io.jnorm.tensor;

/** Element types. float64 exists so gradient checks can run on every device, as in PyTorch. */
public enum DType {
    F32(4, "float32"),
    F64(8, "float64");

    private final int bytes;
    private final String numpyName;

    DType(int bytes, String numpyName) {
        this.bytes = bytes;
        this.numpyName = numpyName;
    }

    /** Size of one element in bytes. */
    public int bytes() {
        return bytes;
    }

    /** The NumPy / PyTorch spelling, e.g. "float32". */
    public String numpyName() {
        return numpyName;
    }

    /** The kernel-name suffix carried by every CUDA entry point, e.g. "f32". */
    public String suffix() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }

    /** Rounds a value to what this type can hold. */
    public double round(double v) {
        return this == F32 ? (double) (float) v : v;
    }
}
