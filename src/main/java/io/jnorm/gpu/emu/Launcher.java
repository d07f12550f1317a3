package io.jnorm.gpu.emu;

import io.jnorm.gpu.GpuException;
import io.jnorm.gpu.LaunchConfig;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Runs the blocks of one launch, on one thread or several. Blocks are independent in CUDA, so
 * workers simply take the next block; counters are summed (addition does not care about the
 * order) and of several faults the one of the earliest block in launch order is reported, so
 * the outcome does not depend on the number of workers. Strict mode permutes the block order.
 */
final class Launcher {
    private Launcher() {
    }

    /**
     * Runs the launch and returns its counters. {@code spare} keeps the single-worker runner of
     * the previous launch, reused when the kernel and configuration are the same (tests make
     * many small launches, for which building the warps' register files would dominate).
     */
    static Counters run(KernelImage k, LaunchConfig cfg, EmulatorOptions opts, DeviceMemory heap, byte[] params,
                        AtomicReference<BlockRunner> spare) {
        long n = cfg.blocks();
        if (n > Integer.MAX_VALUE) {
            throw new GpuException("CUDA_ERROR_INVALID_VALUE", "kernel " + k.name + ": more than 2^31 blocks");
        }
        int blocks = (int) n;
        int[] order = null;
        if (opts.strict()) {
            order = new int[blocks];
            for (int i = 0; i < blocks; i++) {
                order[i] = i;
            }
            SplittableRandom rnd = new SplittableRandom(opts.seed() ^ 0x5DEECE66DL);
            for (int i = blocks - 1; i > 0; i--) {
                int j = rnd.nextInt(i + 1);
                int t = order[i];
                order[i] = order[j];
                order[j] = t;
            }
        }
        int workers = Math.min(opts.workerThreads(), blocks);
        AtomicInteger next = new AtomicInteger();
        AtomicInteger limit = new AtomicInteger(Integer.MAX_VALUE);
        AtomicLong instructions = new AtomicLong();
        int[] finalOrder = order;
        RuntimeException[] faults = new RuntimeException[workers];
        int[] faultPos = new int[workers];
        Counters[] counters = new Counters[workers];
        List<Thread> threads = new ArrayList<>();
        for (int wi = 0; wi < workers; wi++) {
            int id = wi;
            faultPos[id] = Integer.MAX_VALUE;
            Runnable task = () -> {
                BlockRunner runner = workers == 1 ? spare.getAndSet(null) : null;
                if (runner != null && runner.fits(k, cfg, opts)) {
                    runner.startLaunch(params, instructions);
                } else {
                    runner = new BlockRunner(k, cfg, opts, heap, params, instructions);
                }
                counters[id] = runner.counters;
                if (workers == 1) {
                    spare.set(runner);
                }
                while (true) {
                    int pos = next.getAndIncrement();
                    if (pos >= blocks || pos > limit.get()) {
                        return;
                    }
                    int b = finalOrder == null ? pos : finalOrder[pos];
                    int x = b % cfg.gridX();
                    int y = (b / cfg.gridX()) % cfg.gridY();
                    int z = b / (cfg.gridX() * cfg.gridY());
                    try {
                        runner.run(x, y, z, b);
                    } catch (RuntimeException e) {
                        faults[id] = e;
                        faultPos[id] = pos;
                        // blocks after this one need not run; earlier ones still do, so the
                        // earliest fault wins whatever the number of workers
                        limit.accumulateAndGet(pos, Math::min);
                        return;
                    }
                }
            };
            if (workers == 1) {
                task.run();
            } else {
                Thread t = new Thread(task, "jnorm-emu-" + k.name + "-" + id);
                t.setDaemon(true);
                threads.add(t);
                t.start();
            }
        }
        for (Thread t : threads) {
            try {
                t.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new GpuException("EMU_INTERRUPTED", "kernel " + k.name + ": interrupted while running", e);
            }
        }
        int worst = -1;
        for (int i = 0; i < workers; i++) {
            if (faults[i] != null && (worst < 0 || faultPos[i] < faultPos[worst])) {
                worst = i;
            }
        }
        if (worst >= 0) {
            throw faults[worst];
        }
        Counters total = new Counters();
        for (Counters c : counters) {
            total.add(c);
        }
        return total;
    }
}
