package io.jnorm.gpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.lang.reflect.Method;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Runs every kernel of emulator_selftest.ptx on the driver {@link GpuDrivers#open()} picks (the
 * PTX emulator by default, the GPU with -Djnorm.gpu=cuda) against a CPU result, in float and
 * double, and checks the emulator's counters against the counts the access patterns must give.
 *
 * <p>CPU results mirror the kernel's arithmetic where it is fixed (fma in axpy and affine2d, a
 * sequential float sum in smem_rowsum), so those compare bit for bit; reductions whose order the
 * kernel chooses compare within a tolerance that scales with the number of terms.
 */
class SelfTestKernelsTest {

    enum DType {
        F32(4), F64(8);

        final int bytes;

        DType(int bytes) {
            this.bytes = bytes;
        }

        String suffix() {
            return this == F32 ? "_f32" : "_f64";
        }

        /** Unit roundoff. */
        double eps() {
            return this == F32 ? 0x1p-24 : 0x1p-53;
        }
    }

    private static final String MODULE = "emulator_selftest";
    private static GpuDriver driver;
    private static GpuModule module;
    private static final LaunchRecorder RECORDER = new LaunchRecorder();

    private final List<DevicePointer> buffers = new ArrayList<>();
    private Method currentTest;

    @BeforeAll
    static void open() {
        driver = GpuDrivers.open();
        module = driver.loadModule(MODULE + ".ptx", PtxResources.load(MODULE));
    }

    @AfterAll
    static void close() {
        if (driver != null) {
            driver.close();
        }
        RECORDER.assertClaimsMatchLaunches();
    }

    @BeforeEach
    void remember(TestInfo info) {
        currentTest = info.getTestMethod().orElseThrow();
    }

    @AfterEach
    void freeBuffers() {
        buffers.forEach(driver::free);
        buffers.clear();
        assertEquals(0, driver.bytesInUse(), "device memory leaked by the test");
    }

    // ---- numeric kernels ----------------------------------------------------------------------

    @ParameterizedTest(name = "{0} rows={1} rowLen={2} block={3}")
    @CsvSource({"F32, 5, 1000, 256", "F64, 5, 1000, 256", "F32, 3, 37, 64", "F64, 1, 4096, 1024", "F32, 2, 1, 32"})
    @CoversKernels(module = MODULE, value = {"block_reduce_sum_f32", "block_reduce_sum_f64"})
    void blockReduceSum(DType t, int rows, int rowLen, int block) {
        double[] x = uniform(rows * rowLen, 1);
        DevicePointer dx = upload(t, x);
        DevicePointer out = alloc(t, rows);
        launch("block_reduce_sum" + t.suffix(), LaunchConfig.of1d(rows, block), KernelArgs.of().ptr(dx).ptr(out).i32(rowLen));

        double[] ref = new double[rows];
        double[] bound = new double[rows];
        for (int r = 0; r < rows; r++) {
            for (int i = 0; i < rowLen; i++) {
                ref[r] += x[r * rowLen + i];
                bound[r] += Math.abs(x[r * rowLen + i]);
            }
        }
        assertClose(t, ref, download(t, out, rows), bound, rowLen);
    }

    @ParameterizedTest
    @EnumSource(DType.class)
    @CoversKernels(module = MODULE, value = {"axpy_f32", "axpy_f64"})
    void axpyWithAGridSmallerThanTheData(DType t) {
        int n = 10_007;  // 8 blocks of 128 threads: about 10 grid-stride iterations per thread
        double a = 1.5;
        double[] x = uniform(n, 2);
        double[] y = uniform(n, 3);
        DevicePointer dx = upload(t, x);
        DevicePointer dy = upload(t, y);
        KernelArgs args = KernelArgs.of().i32(n);
        args = t == DType.F32 ? args.f32((float) a) : args.f64(a);
        launch("axpy" + t.suffix(), LaunchConfig.of1d(8, 128), args.ptr(dx).ptr(dy));

        double[] got = download(t, dy, n);
        for (int i = 0; i < n; i++) {
            // The kernel computes fma(a, x, y): compare exactly.
            double ref = t == DType.F32
                    ? Math.fma((float) a, (float) x[i], (float) y[i])
                    : Math.fma(a, x[i], y[i]);
            if (ref != got[i]) {
                fail(String.format("axpy%s: y[%d] = %s, expected fma(%s, %s, %s) = %s", t.suffix(), i, got[i], a, x[i], y[i], ref));
            }
        }
    }

    @ParameterizedTest
    @EnumSource(DType.class)
    @CoversKernels(module = MODULE, value = {"reduce_sum_atomic_f32", "reduce_sum_atomic_f64"})
    void reduceSumAcrossBlocksWithAtomics(DType t) {
        int n = 50_000;
        int grid = 20;
        double[] x = uniform(n, 4);
        DevicePointer dx = upload(t, x);
        DevicePointer out = alloc(t, 1);
        driver.memsetZero(out, 0, t.bytes);
        launch("reduce_sum_atomic" + t.suffix(), LaunchConfig.of1d(grid, 256), KernelArgs.of().ptr(dx).ptr(out).i32(n));

        double ref = 0;
        double bound = 0;
        for (double v : x) {
            ref += v;
            bound += Math.abs(v);
        }
        assertClose(t, new double[] {ref}, download(t, out, 1), new double[] {bound}, n);
        counters().ifPresent(c -> assertEquals(grid, c.atomics(), "one atomicAdd per block"));
    }

    @ParameterizedTest(name = "{0} {1}x{2}x{3}")
    @CsvSource({"F32, 37, 29, 45", "F64, 37, 29, 45", "F32, 32, 32, 32", "F64, 16, 48, 1"})
    @CoversKernels(module = MODULE, value = {"matmul_tiled_f32", "matmul_tiled_f64"})
    void matmulTiledMatchesTheTripleLoop(DType t, int m, int n, int k) {
        double[] a = uniform(m * k, 5);
        double[] b = uniform(k * n, 6);
        DevicePointer da = upload(t, a);
        DevicePointer db = upload(t, b);
        DevicePointer dc = alloc(t, m * n);
        LaunchConfig config = new LaunchConfig((n + 15) / 16, (m + 15) / 16, 1, 16, 16, 1, 0);
        launch("matmul_tiled" + t.suffix(), config, KernelArgs.of().ptr(da).ptr(db).ptr(dc).i32(m).i32(n).i32(k));

        double[] ref = new double[m * n];
        double[] bound = new double[m * n];
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                for (int p = 0; p < k; p++) {
                    ref[i * n + j] += a[i * k + p] * b[p * n + j];
                    bound[i * n + j] += Math.abs(a[i * k + p] * b[p * n + j]);
                }
            }
        }
        assertClose(t, ref, download(t, dc, m * n), bound, k);
    }

    @ParameterizedTest
    @EnumSource(DType.class)
    @CoversKernels(module = MODULE, value = {"affine2d_struct_f32", "affine2d_struct_f64"})
    void affineOnAStridedViewWithAStructParameter(DType t) {
        int rows = 13;
        int cols = 50;
        int ldX = 64;
        int ldY = 56;
        double scale = 2.0;
        double shift = -0.75;
        double[] x = uniform(rows * ldX, 7);
        double[] sentinel = new double[rows * ldY];
        java.util.Arrays.fill(sentinel, -7.0);
        DevicePointer dx = upload(t, x);
        DevicePointer dy = upload(t, sentinel);

        // Affine2d<T>{const T* x; T* y; int rows, cols, ld_x, ld_y; T scale, shift;}
        ByteBuffer s = ByteBuffer.allocate(t == DType.F32 ? 40 : 48).order(ByteOrder.LITTLE_ENDIAN);
        s.putLong(dx.address()).putLong(dy.address()).putInt(rows).putInt(cols).putInt(ldX).putInt(ldY);
        if (t == DType.F32) {
            s.putFloat((float) scale).putFloat((float) shift);
        } else {
            s.putDouble(scale).putDouble(shift);
        }
        LaunchConfig config = new LaunchConfig((cols + 15) / 16, (rows + 7) / 8, 1, 16, 8, 1, 0);
        launch("affine2d_struct" + t.suffix(), config, KernelArgs.of().bytes(s.array()));

        double[] got = download(t, dy, rows * ldY);
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < ldY; c++) {
                double want = c >= cols ? -7.0
                        : t == DType.F32 ? Math.fma((float) scale, (float) x[r * ldX + c], (float) shift)
                        : Math.fma(scale, x[r * ldX + c], shift);
                assertEquals(want, got[r * ldY + c], 0.0, "y[" + r + ", " + c + "]" + (c >= cols ? " (outside the view)" : ""));
            }
        }
    }

    // ---- counter kernels ----------------------------------------------------------------------

    @Test
    @CoversKernels(module = MODULE, value = "copy_coalesced_f32")
    void coalescedCopyTouchesFourSectorsPerRequest() {
        int n = 4096;
        float[] in = uniformF(n, 8);
        DevicePointer din = uploadF(in);
        DevicePointer dout = alloc(DType.F32, n);
        launch("copy_coalesced_f32", LaunchConfig.of1d(n / 256, 256), KernelArgs.of().ptr(din).ptr(dout).i32(n));
        assertArrayEqualsF(in, downloadF(dout, n));
        counters().ifPresent(c -> {
            assertEquals(n / 32, c.globalLoadRequests(), "one load request per warp");
            assertEquals(4.0, c.loadSectorsPerRequest(), 0.0, "sectors per load request");
            assertEquals(4.0, c.storeSectorsPerRequest(), 0.0, "sectors per store request");
            assertEquals(4L * n, c.globalLoadBytes());
            assertEquals(4L * n, c.globalStoreBytes());
        });
    }

    @Test
    @CoversKernels(module = MODULE, value = "copy_float4_f32")
    void float4CopyTouchesSixteenSectorsPerRequest() {
        int n4 = 1024;
        float[] in = uniformF(4 * n4, 9);
        DevicePointer din = uploadF(in);
        DevicePointer dout = alloc(DType.F32, 4 * n4);
        launch("copy_float4_f32", LaunchConfig.of1d(n4 / 256, 256), KernelArgs.of().ptr(din).ptr(dout).i32(n4));
        assertArrayEqualsF(in, downloadF(dout, 4 * n4));
        counters().ifPresent(c -> {
            assertEquals(n4 / 32, c.globalLoadRequests(), "one 16-byte-per-lane load per warp");
            assertEquals(16.0, c.loadSectorsPerRequest(), 0.0, "sectors per load request");
            assertEquals(16.0, c.storeSectorsPerRequest(), 0.0, "sectors per store request");
            assertEquals(16L * n4, c.globalLoadBytes());
        });
    }

    @Test
    @CoversKernels(module = MODULE, value = "copy_stride32_f32")
    void stride32CopyTouchesOneSectorPerLane() {
        int n = 2048;
        float[] in = uniformF(32 * n, 10);
        DevicePointer din = uploadF(in);
        DevicePointer dout = alloc(DType.F32, n);
        launch("copy_stride32_f32", LaunchConfig.of1d(n / 256, 256), KernelArgs.of().ptr(din).ptr(dout).i32(n));
        float[] got = downloadF(dout, n);
        for (int i = 0; i < n; i++) {
            assertEquals(in[32 * i], got[i], 0.0f, "out[" + i + "]");
        }
        counters().ifPresent(c -> {
            assertEquals(32.0, c.loadSectorsPerRequest(), 0.0, "sectors per load request");
            assertEquals(4.0, c.storeSectorsPerRequest(), 0.0, "stores stay coalesced");
        });
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({"smem_rowsum_conflict_f32, 32", "smem_rowsum_padded_f32, 1"})
    @CoversKernels(module = MODULE, value = {"smem_rowsum_conflict_f32", "smem_rowsum_padded_f32"})
    void sharedMemoryBankConflicts(String kernel, double wavefrontsPerRequest) {
        int tiles = 4;
        float[] in = uniformF(tiles * 1024, 11);
        DevicePointer din = uploadF(in);
        DevicePointer dout = alloc(DType.F32, tiles * 32);
        launch(kernel, LaunchConfig.of1d(tiles, 32), KernelArgs.of().ptr(din).ptr(dout));

        float[] got = downloadF(dout, tiles * 32);
        for (int b = 0; b < tiles; b++) {
            for (int lane = 0; lane < 32; lane++) {
                float sum = 0f;  // the kernel's order: rows 0..31 of the neighbour's column
                for (int r = 0; r < 32; r++) {
                    sum += in[b * 1024 + r * 32 + (lane + 1) % 32];
                }
                assertEquals(sum, got[b * 32 + lane], 0.0f, kernel + " out[" + b + ", " + lane + "]");
            }
        }
        counters().ifPresent(c -> {
            assertEquals(64L * tiles, c.sharedRequests(), "32 stores and 32 loads per warp");
            assertEquals(wavefrontsPerRequest, c.sharedWavefrontsPerRequest(), 0.0, "shared wavefronts per request");
            assertEquals(tiles, c.barriers(), "one bar.sync per warp");
        });
    }

    // ---- helpers ------------------------------------------------------------------------------

    private void launch(String entry, LaunchConfig config, KernelArgs args) {
        GpuKernel kernel = driver.kernel(module, entry);
        RECORDER.launched(currentTest, kernel);
        driver.launch(kernel, config, args);
        driver.synchronize();
    }

    /**
     * The last launch's counters: always present on the emulator (its counters are part of what
     * these tests check), absent on a real GPU, where the counter assertions are skipped.
     */
    private static Optional<KernelCounters> counters() {
        Optional<KernelCounters> c = driver.lastLaunchCounters();
        if (GpuDrivers.selected() == GpuDrivers.Kind.EMULATOR && c.isEmpty()) {
            fail("the emulator reported no counters for the last launch");
        }
        return c;
    }

    private DevicePointer alloc(DType t, int count) {
        DevicePointer p = driver.alloc((long) count * t.bytes);
        buffers.add(p);
        return p;
    }

    private DevicePointer upload(DType t, double[] values) {
        DevicePointer p = alloc(t, values.length);
        if (t == DType.F64) {
            driver.copyToDevice(p, 0, values, 0, values.length);
        } else {
            float[] f = new float[values.length];
            for (int i = 0; i < f.length; i++) {
                f[i] = (float) values[i];
            }
            driver.copyToDevice(p, 0, f, 0, f.length);
        }
        return p;
    }

    private DevicePointer uploadF(float[] values) {
        DevicePointer p = alloc(DType.F32, values.length);
        driver.copyToDevice(p, 0, values, 0, values.length);
        return p;
    }

    private static double[] download(DType t, DevicePointer p, int count) {
        double[] out = new double[count];
        if (t == DType.F64) {
            driver.copyToHost(out, 0, p, 0, count);
        } else {
            float[] f = new float[count];
            driver.copyToHost(f, 0, p, 0, count);
            for (int i = 0; i < count; i++) {
                out[i] = f[i];
            }
        }
        return out;
    }

    private static float[] downloadF(DevicePointer p, int count) {
        float[] out = new float[count];
        driver.copyToHost(out, 0, p, 0, count);
        return out;
    }

    /** Values in [-1, 1) that are exact in float, so both dtypes see the same inputs. */
    private static double[] uniform(int n, long seed) {
        Random r = new Random(seed);
        double[] v = new double[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (2 * r.nextDouble() - 1);
        }
        return v;
    }

    private static float[] uniformF(int n, long seed) {
        double[] d = uniform(n, seed);
        float[] f = new float[n];
        for (int i = 0; i < n; i++) {
            f[i] = (float) d[i];
        }
        return f;
    }

    /**
     * |got - ref| <= terms * eps * sum|terms| + tiny: the standard bound for a sum of {@code terms}
     * terms in any order (plus the f32 rounding of each product for matmul, covered by the same
     * factor). The message shows the worst elements.
     */
    private static void assertClose(DType t, double[] ref, double[] got, double[] absSum, int terms) {
        assertEquals(ref.length, got.length);
        int worst = -1;
        double worstExcess = 0;
        int bad = 0;
        for (int i = 0; i < ref.length; i++) {
            double tol = (terms + 2) * t.eps() * absSum[i] + 1e-300;
            double err = Math.abs(got[i] - ref[i]);
            if (!(err <= tol)) {
                bad++;
                if (worst < 0 || err / tol > worstExcess) {
                    worst = i;
                    worstExcess = err / tol;
                }
            }
        }
        if (bad > 0) {
            fail(String.format("%d of %d elements out of tolerance; worst [%d]: got %s, expected %s (error %.3g, %.1f x the tolerance)",
                    bad, ref.length, worst, got[worst], ref[worst], Math.abs(got[worst] - ref[worst]), worstExcess));
        }
    }

    private static void assertArrayEqualsF(float[] want, float[] got) {
        assertEquals(want.length, got.length);
        for (int i = 0; i < want.length; i++) {
            if (Float.floatToRawIntBits(want[i]) != Float.floatToRawIntBits(got[i])) {
                fail("element " + i + ": got " + got[i] + ", expected " + want[i]);
            }
        }
        assertTrue(want.length > 0);
    }
}
