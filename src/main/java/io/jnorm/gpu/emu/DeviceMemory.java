package io.jnorm.gpu.emu;

import io.jnorm.gpu.GpuException;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The emulated device heap: a flat 64-bit address space where each allocation has its own
 * little-endian backing array. Addresses are never reused, and every allocation is followed by
 * a red zone of unmapped addresses, so an access past the end, after a free, or through a null
 * or small pointer finds no live allocation and is reported instead of reading someone else's
 * data. Optional shadow bits record which bytes were ever written (uninitialised-read check).
 */
final class DeviceMemory {
    static final long HEAP_BASE = 0x7F00_0000_0000L;
    /** Generic-address windows of a block's shared memory and a thread's local memory (cvta). */
    static final long SHARED_WINDOW = 0x7E00_0000_0000L;
    static final long LOCAL_WINDOW = 0x7D00_0000_0000L;
    static final long WINDOW_SIZE = 1L << 32;
    static final int RED_ZONE = 1024;

    static final VarHandle I16 = MethodHandles.byteArrayViewVarHandle(short[].class, ByteOrder.LITTLE_ENDIAN);
    static final VarHandle I32 = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);
    static final VarHandle I64 = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

    /** One allocation. {@code init} holds one bit per byte, or is null when not tracked. */
    static final class Allocation {
        final long base;
        final int size;
        final byte[] data;
        final long[] init;
        volatile boolean freed;

        Allocation(long base, int size, boolean trackInit) {
            this.base = base;
            this.size = size;
            this.data = new byte[size];
            this.init = trackInit ? new long[(size + 63) / 64] : null;
        }

        void markInit(long off, int len) {
            if (init == null) {
                return;
            }
            for (long i = off; i < off + len; i++) {
                init[(int) (i >>> 6)] |= 1L << i;
            }
        }

        /** Offset of the first never-written byte in [off, off+len), or -1. */
        long firstUninit(long off, int len) {
            if (init == null) {
                return -1;
            }
            for (long i = off; i < off + len; i++) {
                if ((init[(int) (i >>> 6)] & (1L << i)) == 0) {
                    return i;
                }
            }
            return -1;
        }

        void markAllInit() {
            if (init != null) {
                Arrays.fill(init, -1L);
            }
        }
    }

    private final List<Allocation> allocations = new ArrayList<>();
    private long next = HEAP_BASE;
    private long inUse;
    private final long capacity;
    final boolean trackInit;

    DeviceMemory(long capacity, boolean trackInit) {
        this.capacity = capacity;
        this.trackInit = trackInit;
    }

    synchronized Allocation allocate(long bytes) {
        if (bytes < 0 || bytes > Integer.MAX_VALUE - 64 || inUse + bytes > capacity) {
            throw new GpuException("CUDA_ERROR_OUT_OF_MEMORY", String.format(
                    "alloc of %d bytes: the emulator has %d of %d bytes in use and allocations are limited to 2 GiB",
                    bytes, inUse, capacity));
        }
        Allocation a = new Allocation(next, (int) bytes, trackInit);
        allocations.add(a);
        next = (next + Math.max(bytes, 1) + RED_ZONE + 255) & ~255L;
        inUse += bytes;
        return a;
    }

    synchronized void free(long address) {
        Allocation a = find(address);
        if (a == null || a.base != address) {
            throw new GpuException("CUDA_ERROR_INVALID_VALUE",
                    String.format("free of 0x%x: not the start of an allocation", address));
        }
        if (a.freed) {
            throw new GpuException("EMU_DOUBLE_FREE", String.format(
                    "free of 0x%x (%d bytes): the allocation was already freed", address, a.size));
        }
        a.freed = true;
        inUse -= a.size;
    }

    synchronized long bytesInUse() {
        return inUse;
    }

    /** The allocation whose [base, base + size + red zone) contains address, freed or not; else null. */
    Allocation find(long address) {
        int i = lastAtOrBelow(address);
        if (i < 0) {
            return null;
        }
        Allocation a = allocations.get(i);
        return address - a.base < (long) a.size + RED_ZONE ? a : null;
    }

    /**
     * Checks a host-side copy range and returns its allocation; host copies use the same
     * bounds and liveness rules as kernel accesses.
     */
    Allocation hostRange(long address, long bytes, String what) {
        Allocation a = find(address);
        if (a == null || address - a.base + bytes > a.size || bytes < 0) {
            throw new GpuException("CUDA_ERROR_INVALID_VALUE", String.format(
                    "%s of %d bytes at 0x%x is outside every allocation%s", what, bytes, address,
                    a == null ? "" : String.format(" (allocation 0x%x has %d bytes)", a.base, a.size)));
        }
        if (a.freed) {
            throw new GpuException("EMU_USE_AFTER_FREE", String.format(
                    "%s at 0x%x: allocation 0x%x (%d bytes) was freed", what, address, a.base, a.size));
        }
        return a;
    }

    /**
     * Resolves a kernel access of {@code size} bytes, or throws a fault that says what is wrong:
     * the address is checked for alignment, liveness and bounds.
     */
    Allocation access(long address, int size, boolean write, Allocation hint, String space) {
        if ((address & (size - 1)) != 0) {
            throw new Fault(Fault.MISALIGNED, String.format("misaligned %s %s of size %d at 0x%x", space,
                    write ? "write" : "read", size, address), -1);
        }
        Allocation a = hint != null && address >= hint.base && address - hint.base < hint.size ? hint : find(address);
        if (a == null || address - a.base + size > a.size) {
            throw new Fault(Fault.OUT_OF_BOUNDS, describeMiss(address, size, write, space), -1);
        }
        if (a.freed) {
            throw new Fault(Fault.USE_AFTER_FREE, String.format(
                    "%s %s of size %d at 0x%x: allocation 0x%x (%d bytes) was freed", space,
                    write ? "write" : "read", size, address, a.base, a.size), -1);
        }
        return a;
    }

    /**
     * What an out-of-bounds access hit: it straddles the end of an allocation, or lies before or
     * after the nearest allocation (freed ones included, since their addresses are never reused).
     */
    private String describeMiss(long address, int size, boolean write, String space) {
        String what = String.format("invalid %s %s of size %d at 0x%x", space, write ? "write" : "read", size,
                address);
        if (address >= 0 && address < HEAP_BASE && address < 1 << 20) {
            return what + " (a null or small pointer)";
        }
        int i = lastAtOrBelow(address);
        Allocation prev = i >= 0 ? allocations.get(i) : null;
        Allocation next = i + 1 < allocations.size() ? allocations.get(i + 1) : null;
        if (prev != null && address - prev.base < prev.size) {
            return what + String.format(", which runs %d bytes past the end of allocation 0x%x (%d bytes%s)",
                    address + size - prev.base - prev.size, prev.base, prev.size, freed(prev));
        }
        long after = prev == null ? Long.MAX_VALUE : address - prev.base - prev.size;
        long before = next == null ? Long.MAX_VALUE : next.base - address;
        if (Math.min(after, before) > NEAR) {
            return what + " (no allocation within 1 MiB)";
        }
        if (before < after) {
            return what + String.format(", %d bytes before the start of allocation 0x%x (%d bytes%s)", before,
                    next.base, next.size, freed(next));
        }
        return what + String.format(", %d bytes past the end of allocation 0x%x (%d bytes%s)", after, prev.base,
                prev.size, freed(prev));
    }

    /** How far from an allocation a stray address is still described relative to it. */
    private static final long NEAR = 1L << 20;

    private static String freed(Allocation a) {
        return a.freed ? ", freed" : "";
    }

    /** Index of the last allocation whose base is at or below {@code address}, or -1. */
    private int lastAtOrBelow(long address) {
        int lo = 0;
        int hi = allocations.size() - 1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            if (allocations.get(mid).base <= address) {
                lo = mid + 1;
            } else {
                hi = mid - 1;
            }
        }
        return hi;
    }

    static long load(byte[] data, int off, int size) {
        switch (size) {
            case 1: return data[off] & 0xFFL;
            case 2: return (short) I16.get(data, off) & 0xFFFFL;
            case 4: return (int) I32.get(data, off) & 0xFFFFFFFFL;
            default: return (long) I64.get(data, off);
        }
    }

    static void store(byte[] data, int off, int size, long v) {
        switch (size) {
            case 1: data[off] = (byte) v; break;
            case 2: I16.set(data, off, (short) v); break;
            case 4: I32.set(data, off, (int) v); break;
            default: I64.set(data, off, v); break;
        }
    }
}
