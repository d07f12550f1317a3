package io.jnorm.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jnorm.ops.Ops;
import org.junit.jupiter.api.Test;

class TensorLifetimeTest {

    @Test
    void scopeFreesWhatItMadeExceptKeptTensors() {
        Tensor kept;
        Tensor lost;
        try (Scope s = Scope.open()) {
            Tensor a = Tensor.of(new double[] {1, 2, 3}, 3);
            lost = Ops.add(a, a);
            kept = s.keep(Ops.mul(a, a));
        }
        assertTrue(lost.isClosed());
        assertFalse(kept.isClosed());
        assertEquals(9.0, kept.get(2));
        kept.close();
        assertTrue(kept.isClosed());
        kept.close(); // idempotent
    }

    @Test
    void usingAFreedTensorNamesItsShape() {
        Tensor t = Tensor.zeros(DType.F32, 2, 3);
        t.close();
        IllegalStateException e = assertThrows(IllegalStateException.class, t::toDoubleArray);
        assertTrue(e.getMessage().contains("[2, 3]"), e.getMessage());
        assertTrue(e.getMessage().contains("freed"), e.getMessage());
        assertThrows(IllegalStateException.class, () -> Ops.add(t, t));
    }

    @Test
    void reshapeSharesMemoryUntilTheLastUserCloses() {
        Tensor a = Tensor.of(new double[] {1, 2, 3, 4}, 4);
        Tensor b = a.reshape(2, 2);
        a.close();
        assertEquals(4.0, b.get(1, 1));
        b.close();
        assertTrue(b.isClosed());
    }

    @Test
    void keptTensorMovesToTheEnclosingScope() {
        Tensor t;
        try (Scope outer = Scope.open()) {
            try (Scope inner = Scope.open()) {
                t = inner.keep(Tensor.zeros(DType.F64, 2));
            }
            assertFalse(t.isClosed());
        }
        assertTrue(t.isClosed());
    }

    @Test
    void badShapesAreRejectedWithTheirValues() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Shape.of(2, 0, 3));
        assertTrue(e.getMessage().contains("[2, 0, 3]"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Shape.of(-1));
        assertTrue(e.getMessage().contains("-1"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> Ops.add(Tensor.zeros(DType.F64, 2, 3), Tensor.zeros(DType.F64, 4)));
        assertTrue(e.getMessage().contains("add") && e.getMessage().contains("[2, 3]") && e.getMessage().contains("[4]"),
                e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> Ops.add(Tensor.zeros(DType.F64, 2), Tensor.zeros(DType.F32, 2)));
        assertTrue(e.getMessage().contains("dtype"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Ops.sum(Tensor.zeros(DType.F64, 2), new int[] {2}, false));
        assertTrue(e.getMessage().contains("axis 2"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Tensor.arange(0, DType.F64));
        assertTrue(e.getMessage().contains("arange") && e.getMessage().contains("0"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> Tensor.rand(new Rng(1), Double.NaN, 1, Shape.of(2), DType.F64, Device.CPU));
        assertTrue(e.getMessage().contains("rand") && e.getMessage().contains("NaN") && e.getMessage().contains("[2]"),
                e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> Tensor.rand(new Rng(1), 2, 1, Shape.of(2), DType.F64, Device.CPU));
        assertTrue(e.getMessage().contains("low <= high") && e.getMessage().contains("[2.0, 1.0)"), e.getMessage());
    }

    @Test
    void toStringShowsShapeDtypeDeviceAndValues() {
        String s = Tensor.of(new float[] {1.5f, 2f}, 2).toString();
        assertTrue(s.contains("[2]") && s.contains("F32") && s.contains("cpu") && s.contains("1.5"), s);
    }

    @Test
    void seededRandomIsReproducible() {
        double[] a = Tensor.randn(new Rng(7), DType.F64, 5).toDoubleArray();
        double[] b = Tensor.randn(new Rng(7), DType.F64, 5).toDoubleArray();
        org.junit.jupiter.api.Assertions.assertArrayEquals(a, b, 0);
    }
}
