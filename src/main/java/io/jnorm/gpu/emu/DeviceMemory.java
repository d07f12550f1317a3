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
 *
 * <p>A free drops the backing array and shadow bits at once and leaves a tombstone (base, size,
 * freed) in the sorted list, so long runs keep only live data on the host heap while a later
 * access or free of that address is still reported exactly. Tombstones are a few dozen bytes,
 * but a training loop frees millions of buffers, so they are bounded too: once there are more
 * than twice {@link #tombstoneCap} of them, runs of adjacent tombstones freed before the last
 * {@code tombstoneCap} frees are merged into one entry covering their address range. An access
 * or free there is still a use-after-free or double free, reported with the range instead of
 * the exact allocation; the most recent {@code tombstoneCap} frees always keep exact reports.
 */
final class DeviceMemory {
    static final long HEAP_BASE = 0x7F00_0000_0000L;
    /** Generic-address windows of a block's shared memory and a thread's local memory (cvta). */
    static final long SHARED_WINDOW = 0x7E00_0000_0000L;
    static final long LOCAL_WINDOW = 0x7D00_0000_0000L;
    static final long WINDOW_SIZE = 1L << 32;
    static final int RED_ZONE = 1024;
    /** Frees whose tombstones are never merged; older ones may be (see the class comment). */
    static final int DEFAULT_TOMBSTONE_CAP = 1 << 16;

    static final VarHandle I16 = MethodHandles.byteArrayViewVarHandle(short[].class, ByteOrder.LITTLE_ENDIAN);
    static final VarHandle I32 = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);
    static final VarHandle I64 = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

    /**
     * One allocation, or after its free a tombstone: {@code data} and {@code init} are null once
     * freed. {@code init} holds one bit per byte, or is null when not tracked. A merged entry
     * ({@code merged > 0}) stands for that many old tombstones spanning [base, base + extent).
     */
    static final class Allocation {
        final long base;
        final int size;
        byte[] data;
        long[] init;
        volatile boolean freed;
        /** Sequence number of the free that made this a tombstone. */
        long freeSeq;
        final long extent;
        final int merged;

        Allocation(long base, int size, boolean trackInit) {
            this.base = base;
            this.size = size;
            this.data = new byte[size];
            this.init = trackInit ? new long[(size + 63) / 64] : null;
            this.extent = size;
            this.merged = 0;
        }

        private Allocation(long base, long extent, int merged) {
            this.base = base;
            this.size = 0;
            this.extent = extent;
            this.merged = merged;
            this.freed = true;
        }

        void markInit(long off, int len) {
            long[] bits = init;
            if (bits == null) {
                return;
            }
            for (long i = off; i < off + len; i++) {
                bits[(int) (i >>> 6)] |= 1L << i;
            }
        }

        /** Offset of the first never-written byte in [off, off+len), or -1. */
        long firstUninit(long off, int len) {
            long[] bits = init;
            if (bits == null) {
                return -1;
            }
            for (long i = off; i < off + len; i++) {
                if ((bits[(int) (i >>> 6)] & (1L << i)) == 0) {
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

        /** How reports name this entry: the allocation, or the merged range of old tombstones. */
        String describe() {
            if (merged > 0) {
                return String.format("the %d allocations freed long ago in [0x%x, 0x%x), whose exact bounds are no longer kept",
                        merged, base, base + extent);
            }
            return String.format("allocation 0x%x (%d bytes%s)", base, size, freed ? ", freed" : "");
        }
    }

    /** Sorted by base (addresses only grow); replaced whole when tombstones are merged. */
    private volatile List<Allocation> allocations = new ArrayList<>();
    private long next = HEAP_BASE;
    private long inUse;
    private final long capacity;
    final boolean trackInit;
    private final int tombstoneCap;
    private long frees;
    /** Unmerged tombstones in the list, and the count at which the next merge pass runs. */
    private int tombstones;
    private int mergeAt;

    DeviceMemory(long capacity, boolean trackInit) {
        this(capacity, trackInit, DEFAULT_TOMBSTONE_CAP);
    }

    DeviceMemory(long capacity, boolean trackInit, int tombstoneCap) {
        if (tombstoneCap < 1) {
            throw new IllegalArgumentException("DeviceMemory: tombstoneCap must be positive, got " + tombstoneCap);
        }
        this.capacity = capacity;
        this.trackInit = trackInit;
        this.tombstoneCap = tombstoneCap;
        this.mergeAt = 2 * tombstoneCap;
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
        if (a != null && a.merged > 0) {
            throw new GpuException("EMU_DOUBLE_FREE", String.format(
                    "free of 0x%x: the address lies in %s, so this frees an allocation again (or frees inside one)",
                    address, a.describe()));
        }
        if (a == null || a.base != address) {
            throw new GpuException("CUDA_ERROR_INVALID_VALUE",
                    String.format("free of 0x%x: not the start of an allocation", address));
        }
        if (a.freed) {
            throw new GpuException("EMU_DOUBLE_FREE", String.format(
                    "free of 0x%x (%d bytes): the allocation was already freed", address, a.size));
        }
        // freed is published first, so a reader that still sees the data also sees it freed
        a.freed = true;
        a.freeSeq = ++frees;
        a.data = null;
        a.init = null;
        inUse -= a.size;
        if (++tombstones > mergeAt) {
            mergeOldTombstones();
        }
    }

    /**
     * Merges each run of two or more adjacent entries that are merged ranges or tombstones older
     * than the last {@link #tombstoneCap} frees. Runs are separated only by live allocations and
     * recent tombstones, so the list keeps at most 2 (live + cap) + 1 entries; the next pass runs
     * after another {@code tombstoneCap} frees, so the work per free stays constant on average.
     */
    private void mergeOldTombstones() {
        long oldBefore = frees - tombstoneCap;
        List<Allocation> src = allocations;
        List<Allocation> out = new ArrayList<>();
        int kept = 0;
        int i = 0;
        while (i < src.size()) {
            int j = i;
            while (j < src.size() && isOld(src.get(j), oldBefore)) {
                j++;
            }
            if (j - i >= 2) {
                Allocation first = src.get(i);
                Allocation last = src.get(j - 1);
                int count = 0;
                for (int k = i; k < j; k++) {
                    count += Math.max(1, src.get(k).merged);
                }
                out.add(new Allocation(first.base, last.base + last.extent - first.base, count));
                i = j;
                continue;
            }
            Allocation a = src.get(i);
            out.add(a);
            if (a.freed && a.merged == 0) {
                kept++;
            }
            i++;
        }
        allocations = out;
        tombstones = kept;
        mergeAt = kept + tombstoneCap;
    }

    private static boolean isOld(Allocation a, long oldBefore) {
        return a.merged > 0 || (a.freed && a.freeSeq <= oldBefore);
    }

    synchronized long bytesInUse() {
        return inUse;
    }

    /**
     * Bytes of host memory the heap's backing arrays and shadow bits hold, summed over the list,
     * so a freed allocation whose data were still referenced would count here.
     */
    synchronized long retainedBytes() {
        long sum = 0;
        for (Allocation a : allocations) {
            byte[] d = a.data;
            long[] bits = a.init;
            sum += (d == null ? 0 : d.length) + (bits == null ? 0 : 8L * bits.length);
        }
        return sum;
    }

    /** Entries in the address list: live allocations, tombstones and merged ranges. */
    synchronized int entries() {
        return allocations.size();
    }

    /** The entry whose [base, base + extent + red zone) contains address, freed or not; else null. */
    Allocation find(long address) {
        List<Allocation> list = allocations;
        int i = lastAtOrBelow(list, address);
        if (i < 0) {
            return null;
        }
        Allocation a = list.get(i);
        return address - a.base < a.extent + RED_ZONE ? a : null;
    }

    /**
     * Checks a host-side copy range and returns its allocation; host copies use the same
     * bounds and liveness rules as kernel accesses.
     */
    Allocation hostRange(long address, long bytes, String what) {
        Allocation a = find(address);
        if (a != null && a.merged > 0) {
            throw new GpuException("EMU_USE_AFTER_FREE", String.format(
                    "%s at 0x%x: the address lies in %s", what, address, a.describe()));
        }
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
     * the address is checked for alignment, liveness and bounds. The hint (an allocation the
     * instruction used before, possibly freed since) only saves the search; it passes the same
     * checks, so a freed one is reported, never read.
     */
    Allocation access(long address, int size, boolean write, Allocation hint, String space) {
        if ((address & (size - 1)) != 0) {
            throw new Fault(Fault.MISALIGNED, String.format("misaligned %s %s of size %d at 0x%x", space,
                    write ? "write" : "read", size, address), -1);
        }
        Allocation a = hint != null && address >= hint.base && address - hint.base < hint.size ? hint : find(address);
        if (a != null && a.merged > 0) {
            throw new Fault(Fault.USE_AFTER_FREE, String.format("%s %s of size %d at 0x%x: the address lies in %s",
                    space, write ? "write" : "read", size, address, a.describe()), -1);
        }
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
     * The backing array of an allocation {@link #access} accepted. It is null only when another
     * thread freed the allocation since (a host race with a running launch), reported as the
     * use-after-free it is rather than as a NullPointerException.
     */
    static byte[] data(Allocation a, long address, int size, boolean write, String space) {
        byte[] d = a.data;
        if (d == null) {
            throw new Fault(Fault.USE_AFTER_FREE, String.format(
                    "%s %s of size %d at 0x%x: allocation 0x%x (%d bytes) was freed", space,
                    write ? "write" : "read", size, address, a.base, a.size), -1);
        }
        return d;
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
        List<Allocation> list = allocations;
        int i = lastAtOrBelow(list, address);
        Allocation prev = i >= 0 ? list.get(i) : null;
        Allocation next = i + 1 < list.size() ? list.get(i + 1) : null;
        if (prev != null && prev.merged == 0 && address - prev.base < prev.size) {
            return what + String.format(", which runs %d bytes past the end of %s",
                    address + size - prev.base - prev.size, prev.describe());
        }
        long after = prev == null ? Long.MAX_VALUE : address - prev.base - prev.extent;
        long before = next == null ? Long.MAX_VALUE : next.base - address;
        if (Math.min(after, before) > NEAR) {
            return what + " (no allocation within 1 MiB)";
        }
        if (before < after) {
            return what + String.format(", %d bytes before the start of %s", before, next.describe());
        }
        return what + String.format(", %d bytes past the end of %s", after, prev.describe());
    }

    /** How far from an allocation a stray address is still described relative to it. */
    private static final long NEAR = 1L << 20;

    /** Index of the last entry of {@code list} whose base is at or below {@code address}, or -1. */
    private static int lastAtOrBelow(List<Allocation> list, long address) {
        int lo = 0;
        int hi = list.size() - 1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            if (list.get(mid).base <= address) {
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
