package io.jnorm.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.junit.jupiter.api.Test;

/** Coalescing and the byte layout of jnorm::StridedMap&lt;K&gt; (common/strided.cuh). */
class StridedMapsTest {

    @Test
    void aBiasAddCoalescesToThreeAxesInnermostFirst() {
        int[] out = {2, 3, 5, 7};
        StridedMaps.Layout l = StridedMaps.coalesce(out, StridedMaps.broadcastStrides(out, out),
                StridedMaps.broadcastStrides(new int[] {1, 3, 1, 1}, out));
        assertArrayEquals(new int[] {35, 3, 2}, l.dims());
        assertArrayEquals(new long[] {1, 35, 105}, l.strides()[0]);
        assertArrayEquals(new long[] {0, 1, 0}, l.strides()[1]);
    }

    @Test
    void sameShapeOperandsCoalesceToOneAxisAndSizeOneAxesVanish() {
        int[] out = {4, 1, 6, 1};
        StridedMaps.Layout l = StridedMaps.coalesce(out, StridedMaps.broadcastStrides(out, out));
        assertArrayEquals(new int[] {24}, l.dims());
        assertArrayEquals(new long[] {1}, l.strides()[0]);
        StridedMaps.Layout scalar = StridedMaps.coalesce(new int[0], new long[0]);
        assertEquals(0, scalar.rank());
    }

    @Test
    void aTransposeDoesNotCoalesce() {
        // out [3, 2] reading x [2, 3] with permuted strides (1, 3)
        StridedMaps.Layout l = StridedMaps.coalesce(new int[] {3, 2}, new long[] {1, 3});
        assertArrayEquals(new int[] {2, 3}, l.dims());
        assertArrayEquals(new long[] {3, 1}, l.strides()[0]);
    }

    @Test
    void theStructIsRankThenEightDimsThenEightStridesPerOperand() {
        StridedMaps.Layout l = StridedMaps.coalesce(new int[] {5, 1, 7}, new long[] {0, 0, 1}, new long[] {7, 7, 1});
        byte[] b = StridedMaps.encode(l, "test");
        assertEquals(StridedMaps.bytes(2), b.length);
        assertEquals(100, b.length, "matches .b8[100] of ew_binary_bcast's map parameter");
        ByteBuffer bb = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(2, bb.getInt(0), "rank");
        assertEquals(7, bb.getInt(4));
        assertEquals(5, bb.getInt(8));
        assertEquals(1, bb.getInt(12), "unused dims are 1");
        assertEquals(1, bb.getInt(36), "operand 0, axis 0");
        assertEquals(0, bb.getInt(40), "operand 0, axis 1 (broadcast)");
        assertEquals(1, bb.getInt(68), "operand 1, axis 0");
        assertEquals(7, bb.getInt(72), "operand 1, axis 1");
    }

    @Test
    void moreThanEightIrreducibleAxesAreRejectedNamingTheOp() {
        int[] dims = new int[9];
        long[] strides = new long[9];
        long s = 1;
        for (int i = 8; i >= 0; i--) {
            dims[i] = 2;
            // every other axis broadcast: nothing merges
            strides[i] = i % 2 == 0 ? s : 0;
            s *= 2;
        }
        StridedMaps.Layout l = StridedMaps.coalesce(dims, strides);
        assertEquals(9, l.rank());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> StridedMaps.encode(l, "add"));
        assertTrue(e.getMessage().startsWith("add:") && e.getMessage().contains("at most 8"), e.getMessage());
    }
}
