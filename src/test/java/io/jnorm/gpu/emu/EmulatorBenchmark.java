package io.jnorm.gpu.emu;

import io.jnorm.gpu.DevicePointer;
import io.jnorm.gpu.GpuKernel;
import io.jnorm.gpu.GpuModule;
import io.jnorm.gpu.KernelArgs;
import io.jnorm.gpu.KernelCounters;
import io.jnorm.gpu.LaunchConfig;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.concurrent.TimeUnit;

/**
 * Emulator throughput on one core, sanitizer off. Each benchmark op is one launch; the warp
 * instructions of a launch are printed at set-up, so warp-instructions/s = that number times
 * ops/s (tools/bench-emulator does the multiplication). Each iteration also prints the rate per
 * second of the benchmark thread's CPU time ({@code CPU_WARP_INSTRUCTIONS_PER_SECOND}), which a
 * machine shared with other work disturbs far less than the wall-clock score.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class EmulatorBenchmark {

    @Param({"reduce_f32", "matmul_f32"})
    public String kernel;

    private PtxEmulator emu;
    private GpuKernel k;
    private LaunchConfig cfg;
    private KernelArgs args;
    private DevicePointer out;
    private long warpInstructions;
    private Thread worker;
    private long workerCpu0;
    private long launches;

    @Setup(Level.Trial)
    public void setUp() {
        emu = new PtxEmulator(EmulatorOptions.fast());
        GpuModule m = emu.loadModule("kernels.ptx", EmuTestSupport.resource("kernels.ptx"));
        k = emu.kernel(m, kernel);
        if (kernel.equals("reduce_f32")) {
            int n = 1 << 16;
            DevicePointer in = emu.alloc(4L * n);
            emu.copyToDevice(in, 0, new float[n], 0, n);
            out = emu.alloc(4);
            emu.memsetZero(out, 0, 4);
            cfg = LaunchConfig.of1d(32, 256);
            args = KernelArgs.of().ptr(in).ptr(out).i32(n);
        } else {
            int s = 64;
            DevicePointer a = emu.alloc(4L * s * s);
            DevicePointer b = emu.alloc(4L * s * s);
            emu.memsetZero(a, 0, 4L * s * s);
            emu.memsetZero(b, 0, 4L * s * s);
            out = emu.alloc(4L * s * s);
            cfg = new LaunchConfig(s / 16, s / 16, 1, 16, 16, 1, 0);
            args = KernelArgs.of().ptr(a).ptr(b).ptr(out).i32(s).i32(s).i32(s);
        }
        emu.launch(k, cfg, args);
        KernelCounters c = emu.lastLaunchCounters().orElseThrow();
        warpInstructions = c.warpInstructions();
        System.out.println("WARP_INSTRUCTIONS_PER_LAUNCH " + kernel + " " + warpInstructions);
    }

    @Benchmark
    public long launch() {
        if (worker == null) {
            worker = Thread.currentThread();
            workerCpu0 = CPU.getCurrentThreadCpuTime();
            launches = 0;
        }
        emu.launch(k, cfg, args);
        launches++;
        return out.address();
    }

    @TearDown(Level.Iteration)
    public void cpuRate() {
        if (worker != null && launches > 0) {
            long cpu = CPU.getThreadCpuTime(worker.getId()) - workerCpu0;
            System.out.printf("CPU_WARP_INSTRUCTIONS_PER_SECOND %s %.0f ", kernel,
                    launches * (double) warpInstructions / (cpu * 1e-9));
        }
        worker = null;
    }

    private static final ThreadMXBean CPU = ManagementFactory.getThreadMXBean();

    @TearDown(Level.Trial)
    public void tearDown() {
        emu.close();
    }
}
