package io.jnorm.tensor;

import java.util.Objects;

/**
 * Where a tensor's memory lives. The CPU always exists; GPU devices (a real CUDA GPU, or the
 * PTX emulator standing in for one) are made available by the cuda backend.
 */
public final class Device {

    /** The kinds of device jnorm knows. */
    public enum Kind { CPU, CUDA, EMULATED_GPU }

    public static final Device CPU = new Device(Kind.CPU, 0);

    private final Kind kind;
    private final int index;

    private Device(Kind kind, int index) {
        this.kind = kind;
        this.index = index;
    }

    /** A real CUDA GPU by ordinal. */
    public static Device cuda(int index) {
        if (index < 0) {
            throw new IllegalArgumentException("Device.cuda: negative index " + index);
        }
        return new Device(Kind.CUDA, index);
    }

    /** The PTX emulator, a GPU that runs anywhere (slowly). */
    public static Device emulatedGpu() {
        return new Device(Kind.EMULATED_GPU, 0);
    }

    public Kind kind() {
        return kind;
    }

    public int index() {
        return index;
    }

    public boolean isGpu() {
        return kind != Kind.CPU;
    }

    /**
     * Parses "cpu", "cuda", "cuda:1" or "emulated".
     *
     * @throws IllegalArgumentException listing the accepted spellings
     */
    public static Device parse(String s) {
        String t = s.trim().toLowerCase(java.util.Locale.ROOT);
        if (t.equals("cpu")) {
            return CPU;
        }
        if (t.equals("emulated") || t.equals("emu") || t.equals("emulated-gpu")) {
            return emulatedGpu();
        }
        if (t.equals("cuda")) {
            return cuda(0);
        }
        if (t.startsWith("cuda:")) {
            try {
                return cuda(Integer.parseInt(t.substring(5)));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("Device.parse: bad device index in '" + s + "'");
            }
        }
        throw new IllegalArgumentException("Device.parse: unknown device '" + s
                + "'; expected cpu, cuda, cuda:N or emulated");
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Device d && d.kind == kind && d.index == index;
    }

    @Override
    public int hashCode() {
        return Objects.hash(kind, index);
    }

    @Override
    public String toString() {
        return switch (kind) {
            case CPU -> "cpu";
            case CUDA -> "cuda:" + index;
            case EMULATED_GPU -> "emulated-gpu";
        };
    }
}
