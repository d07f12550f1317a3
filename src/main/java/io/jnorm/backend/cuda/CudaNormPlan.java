package io.jnorm.backend.cuda;

import io.jnorm.tensor.DType;

/**
 * The launch decisions of the norm kernels, as pure functions so they can be tested (and read)
 * without a device: whether a statistic fits on chip, block sizes, chunking and how many blocks
 * share one group's channels.
 *
 * <p>Why these numbers:
 * <ul>
 *   <li>"Fits on chip" means the fused kernel can cache one statistic's elements (forward: x;
 *       backward: dy and x̂) plus per-channel tables in the 48 KiB of shared memory a block gets
 *       without an opt-in; then forward moves 2 tensors and backward 3 (the minimum).</li>
 *   <li>A block stages the weights of its channels once, so all statistics a block visits must
 *       share channels: the y-grid is {@code groups·k} and a block strides by it. k trades
 *       parallelism against re-reading the weights (and, in backward, per-block dweight partials):
 *       k ≤ statsPerGroup·L/32 keeps that extra traffic under about 1/16 of a tensor.</li>
 *   <li>Streaming kernels give each block a chunk of 4 vectors per thread of 256 threads: enough
 *       bytes in flight per block, and a chunk's weight table (≤ chunk/L + 2 channels) always
 *       fits in shared memory.</li>
 * </ul>
 */
record CudaNormPlan(int sharedBudget, int maxThreads, int vectorsPerThread, int rowsPerThread) {
    /**
     * Largest per-channel table of (mean, rstd) per sample that norm_bwd_channel stages in shared
     * memory; larger batches read the statistics per vector instead.
     */
    static final int TABLE_BYTES = 16 * 1024;
    /** CUDA's limit on gridDim.y. */
    static final int MAX_GRID_Y = 65535;

    /**
     * The production plan: 48 KiB of shared memory a launch may use without an opt-in (less
     * 2 KiB for the kernels' static arrays), 256 threads, 4 vectors per thread per chunk, 64 rows per
     * row-thread in the column kernels (grid partials stay a few percent of a tensor).
     */
    static final CudaNormPlan DEFAULT = new CudaNormPlan(48 * 1024 - 2048, 256, 4, 64);

    /**
     * @param sharedBudget     dynamic shared bytes a block may use
     * @param maxThreads       threads per block, a multiple of 32
     * @param vectorsPerThread vectors each thread of a streaming block handles per chunk
     * @param rowsPerThread    rows each row-thread of a streaming column block handles per chunk
     */
    CudaNormPlan {
        if (maxThreads < 32 || maxThreads % 32 != 0 || maxThreads > 1024 || vectorsPerThread < 1
                || sharedBudget < 0 || rowsPerThread < 1) {
            throw new IllegalArgumentException("CudaNormPlan: bad tuning " + sharedBudget + ", " + maxThreads + ", "
                    + vectorsPerThread);
        }
    }

    /** Elements per 16-byte vector. */
    static int width(DType t) {
        return 16 / t.bytes();
    }

    /** The vector width the kernels will use for this geometry: 16-byte vectors, or 1 (scalar path). */
    static int vectorWidth(CudaNormGeometry g, DType t) {
        return g.vectorizable(width(t)) ? width(t) : 1;
    }

    /** Dynamic shared memory of the fused forward: x cached, weight and bias tables. */
    static long fusedForwardBytes(CudaNormGeometry g, DType t) {
        return ((long) g.m() + 2L * g.cg()) * t.bytes();
    }

    /** Dynamic shared memory of the fused backward: dy and x̂ cached, weight, dweight and dbias tables. */
    static long fusedBackwardBytes(CudaNormGeometry g, DType t) {
        return (2L * g.m() + 3L * g.cg()) * t.bytes();
    }

    boolean forwardFits(CudaNormGeometry g, DType t) {
        return fusedForwardBytes(g, t) <= sharedBudget && g.groups() <= MAX_GRID_Y;
    }

    boolean backwardFits(CudaNormGeometry g, DType t) {
        return fusedBackwardBytes(g, t) <= sharedBudget && g.groups() <= MAX_GRID_Y;
    }

    /** Blocks per group of channels (k): see the class comment. */
    static int blocksPerGroup(CudaNormGeometry g) {
        long k = (long) g.statsPerGroup() * g.l() / 32;
        k = Math.max(1, Math.min(k, g.statsPerGroup()));
        k = Math.min(k, Math.max(1, MAX_GRID_Y / g.groups()));
        return (int) k;
    }

    /** The y-grid of kernels that stage per-channel tables: a multiple of {@code groups}. */
    static int stagedGridY(CudaNormGeometry g) {
        return g.groups() * blocksPerGroup(g);
    }

    /** The y-grid of kernels that need no table: one block row per statistic, capped. */
    static int plainGridY(CudaNormGeometry g) {
        return Math.min(g.stats(), MAX_GRID_Y);
    }

    /** Threads for a block that processes {@code vectors} vectors: a multiple of 32 in [32, 256]. */
    int threads(long vectors) {
        long t = (vectors + 31) / 32 * 32;
        return (int) Math.max(32, Math.min(maxThreads, t));
    }

    /** Elements of one statistic handled by one streaming block (a multiple of the vector width). */
    int chunk(DType t) {
        return maxThreads * vectorsPerThread * width(t);
    }

    /**
     * Elements of one statistic per streaming backward block: half the forward chunk, so the
     * chunk's dy and x̂ (cached for per-channel sums) and three channel tables fit in shared memory.
     */
    int backwardChunk(DType t) {
        return Math.max(32 * width(t), chunk(t) / 2) / width(t) * width(t);
    }

    /** Per-channel slots of a streaming backward block: the channels its chunk can touch. */
    int backwardSlots(CudaNormGeometry g, DType t) {
        return g.cg() == 1 ? 1 : backwardChunk(t) / g.l() + 2;
    }

    /** Streaming blocks per statistic of {@code m} elements, {@code chunk} each. */
    int chunks(long m, int chunk) {
        return (int) ((m + chunk - 1) / chunk);
    }

    /** Bytes of the weight (and bias) table of a streaming block: its chunk's channels. */
    int chunkTableBytes(CudaNormGeometry g, DType t, int tables) {
        int entries = g.cg() == 1 ? 1 : chunk(t) / g.l() + 2;
        return tables * entries * t.bytes();
    }

    // ---- column layout (per-channel statistics of short channels) ----------------------------

    /** Channels shorter than a warp read as [N rows, C·L columns] (norm_col_* kernels). */
    static boolean columnLayout(io.jnorm.backend.NormLayout layout) {
        return layout.reduction() == io.jnorm.backend.NormLayout.Reduction.PER_CHANNEL && layout.l() < 32;
    }

    /**
     * One column-kernel launch shape.
     *
     * @param tileCols     columns per block (whole channels: a multiple of L)
     * @param rowThreads   blockDim.y
     * @param rowsPerChunk rows per block (gridDim.y = ceil(N / rowsPerChunk))
     */
    record ColumnShape(int tileCols, int rowThreads, int rowsPerChunk) {
        int tiles(int c, int l) {
            int perTile = tileCols / l;
            return (c + perTile - 1) / perTile;
        }

        int chunks(int n) {
            return (n + rowsPerChunk - 1) / rowsPerChunk;
        }

        int threads() {
            return tileCols * rowThreads;
        }
    }

    /** Fused column kernels: 32-column tiles (one full row slice per warp), all rows in one block. */
    ColumnShape columnFused(int n, int c, int l) {
        int tile = l * Math.max(1, Math.min(32, (c * l + 31) / 32 * 32) / l);
        return new ColumnShape(tile, Math.max(1, Math.min(maxThreads, 256) / tile), n);
    }

    /** Streaming column kernels: about half a block of columns, two or more row threads, rowsPerThread rows each. */
    ColumnShape columnStreaming(int c, int l) {
        // about half a block of columns, but no wider than the tensor's row (rounded to a warp)
        int cols = Math.min(maxThreads / 2, (c * l + 31) / 32 * 32);
        int tile = l * Math.max(1, cols / l);
        int ry = Math.max(1, maxThreads / tile);
        return new ColumnShape(tile, ry, ry * rowsPerThread);
    }

    /** Dynamic shared memory of norm_col_fused: per-thread partials, channel table, cached rows. */
    static long columnFusedBytes(ColumnShape s, int n, int l, DType t, boolean backward) {
        long cached = (long) n * s.tileCols() * (backward ? 2 : 1);
        return ((long) s.threads() * 3 + 4L * (s.tileCols() / l) + cached) * t.bytes();
    }
}
