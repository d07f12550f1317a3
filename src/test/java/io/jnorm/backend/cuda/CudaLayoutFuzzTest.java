package io.jnorm.backend.cuda;

import static io.jnorm.backend.cuda.CudaTestSupport.assertClose;
import static io.jnorm.backend.cuda.CudaTestSupport.assertSame;
import static io.jnorm.backend.cuda.CudaTestSupport.cpuRandn;
import static io.jnorm.backend.cuda.CudaTestSupport.gpu;

import io.jnorm.backend.BinaryOp;
import io.jnorm.ops.Ops;
import io.jnorm.tensor.DType;
import io.jnorm.tensor.Device;
import io.jnorm.tensor.Scope;
import io.jnorm.tensor.Shape;
import io.jnorm.tensor.Tensor;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Random layouts (ranks 1 to 6, sizes 1 to 5, random reduce masks, broadcast patterns and
 * permutations) in float64 against the CPU reference: the host-side layout logic (axis
 * grouping, coalescing, kernel choice) is where a wrong stride would hide, and a fixed grid of
 * shapes cannot enumerate the combinations. Seeded, so a failure reproduces.
 */
class CudaLayoutFuzzTest {
    private static final int CASES = 40;

    private static int[] randomDims(Random r) {
        int[] d = new int[1 + r.nextInt(6)];
        for (int i = 0; i < d.length; i++) {
            d[i] = 1 + r.nextInt(5);
        }
        return d;
    }

    @Test
    void reductionsOverRandomAxisSets() {
        Random r = new Random(101);
        for (int c = 0; c < CASES; c++) {
            int[] dims = randomDims(r);
            boolean[] reduce = new boolean[dims.length];
            int[] kept = dims.clone();
            for (int a = 0; a < dims.length; a++) {
                reduce[a] = r.nextBoolean();
                kept[a] = reduce[a] ? 1 : dims[a];
            }
            try (Scope s = Scope.open()) {
                Tensor x = cpuRandn(c, DType.F64, dims);
                Tensor gx = gpu(x);
                String what = Arrays.toString(dims) + " reduce " + Arrays.toString(reduce);
                for (int k = 0; k < 3; k++) {
                    Tensor ref = Tensor.zeros(Shape.of(kept), DType.F64, Device.CPU);
                    Tensor out = Tensor.zeros(Shape.of(kept), DType.F64, gx.device());
                    if (k == 0) {
                        x.backend().reductions().sum(x, reduce, ref);
                        gx.backend().reductions().sum(gx, reduce, out);
                    } else if (k == 1) {
                        x.backend().reductions().var(x, reduce, 0, ref);
                        gx.backend().reductions().var(gx, reduce, 0, out);
                    } else {
                        Tensor dy = cpuRandn(c + 1000, DType.F64, kept);
                        ref = Tensor.zeros(x.shape(), DType.F64, Device.CPU);
                        out = Tensor.zeros(x.shape(), DType.F64, gx.device());
                        x.backend().reductions().varBackward(x, dy, reduce, 0, ref);
                        gx.backend().reductions().varBackward(gx, gpu(dy), reduce, 0, out);
                    }
                    assertClose(ref.toDoubleArray(), out.toDoubleArray(), 1e-12, 1e-12, "case " + c + " kind " + k + " " + what);
                }
            }
        }
    }

    @Test
    void binaryOpsOverRandomBroadcasts() {
        Random r = new Random(202);
        for (int c = 0; c < CASES; c++) {
            int[] out = randomDims(r);
            int[] a = out.clone();
            int[] b = Arrays.copyOfRange(out, r.nextInt(out.length), out.length);
            for (int i = 0; i < a.length; i++) {
                a[i] = r.nextInt(3) == 0 ? 1 : a[i];
            }
            for (int i = 0; i < b.length; i++) {
                b[i] = r.nextInt(3) == 0 ? 1 : b[i];
            }
            try (Scope s = Scope.open()) {
                Tensor x = cpuRandn(c, DType.F64, a);
                Tensor y = Ops.add(Ops.abs(cpuRandn(c + 500, DType.F64, b)), Ops.scalarLike(x, 0.5));
                BinaryOp op = BinaryOp.values()[c % 4];
                Tensor ref = Tensor.zeros(Shape.broadcast(x.shape(), y.shape(), "t"), DType.F64, Device.CPU);
                x.backend().elementwise().binary(op, x, y, ref);
                Tensor gx = gpu(x);
                Tensor res = Tensor.zeros(ref.shape(), DType.F64, gx.device());
                gx.backend().elementwise().binary(op, gx, gpu(y), res);
                assertSame(ref.toDoubleArray(), res.toDoubleArray(), "case " + c + " " + op + " " + x.shape() + " " + y.shape());
            }
        }
    }

    @Test
    void permutesSlicesAndExpandsOverRandomLayouts() {
        Random r = new Random(303);
        for (int c = 0; c < CASES; c++) {
            int[] dims = randomDims(r);
            int[] perm = new int[dims.length];
            for (int i = 0; i < perm.length; i++) {
                perm[i] = i;
            }
            for (int i = perm.length - 1; i > 0; i--) {
                int j = r.nextInt(i + 1);
                int t = perm[i];
                perm[i] = perm[j];
                perm[j] = t;
            }
            int axis = r.nextInt(dims.length);
            int start = r.nextInt(dims[axis]);
            int step = 1 + r.nextInt(2);
            int[] big = dims.clone();
            for (int i = 0; i < big.length; i++) {
                big[i] = dims[i] == 1 ? 1 + r.nextInt(3) : dims[i];
            }
            try (Scope s = Scope.open()) {
                Tensor x = cpuRandn(c, DType.F64, dims);
                Tensor gx = gpu(x);
                String what = "case " + c + " " + x.shape();
                assertSame(Ops.permute(x, perm).toDoubleArray(), Ops.permute(gx, perm).toDoubleArray(),
                        what + " perm " + Arrays.toString(perm));
                assertSame(Ops.slice(x, axis, start, dims[axis], step).toDoubleArray(),
                        Ops.slice(gx, axis, start, dims[axis], step).toDoubleArray(),
                        what + " slice axis " + axis + " [" + start + "::" + step + "]");
                assertSame(Ops.expand(x, Shape.of(big)).toDoubleArray(), Ops.expand(gx, Shape.of(big)).toDoubleArray(),
                        what + " expand to " + Arrays.toString(big));
            }
        }
    }
}
