package io.jnorm.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jnorm.backend.NormLayout;
import io.jnorm.tensor.DType;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The host-side launch decisions of the norm kernels, without a device: the statistic geometry
 * visits every element exactly once with the right statistic and channel, and the plan's grids
 * respect the kernels' assumptions (a y-grid that is a multiple of the groups, whole channels per
 * column tile, shared memory within budget).
 */
class CudaNormPlanTest {

    static Stream<Arguments> layouts() {
        return Stream.of(
                Arguments.of(NormLayout.perChannel(3, 4, 5)),
                Arguments.of(NormLayout.perChannel(1, 2, 1)),
                Arguments.of(NormLayout.perGroup(2, 6, 3, 3)),
                Arguments.of(NormLayout.perGroup(2, 4, 7, 4)),
                Arguments.of(NormLayout.perGroup(5, 12, 1, 1)));
    }

    @ParameterizedTest
    @MethodSource("layouts")
    void geometryVisitsEveryElementOnceWithItsStatisticAndChannel(NormLayout layout) {
        CudaNormGeometry g = CudaNormGeometry.of(layout);
        assertEquals(layout.statCount(), g.stats());
        assertEquals(layout.elementsPerStat(), g.m());
        int[] seen = new int[layout.numel()];
        for (int s = 0; s < g.stats(); s++) {
            for (int e = 0; e < g.m(); e++) {
                long idx = (long) s * g.statStride() + (long) (e / g.runLen()) * g.runStride() + e % g.runLen();
                int channel = (s % g.groups()) * g.cg() + (e % g.runLen()) / g.l();
                int n = (int) (idx / ((long) layout.c() * layout.l()));
                int c = (int) (idx / layout.l() % layout.c());
                assertEquals(c, channel, layout + ": channel of element " + e + " of statistic " + s);
                assertEquals(s, layout.statIndex(n, c), layout + ": statistic of element " + idx);
                seen[(int) idx]++;
            }
        }
        for (int i = 0; i < seen.length; i++) {
            assertEquals(1, seen[i], layout + ": element " + i + " visited");
        }
    }

    @Test
    void vectorPathOnlyWhenRunsStartAligned() {
        assertTrue(CudaNormGeometry.of(NormLayout.perChannel(2, 3, 16)).vectorizable(4));
        assertFalse(CudaNormGeometry.of(NormLayout.perChannel(2, 3, 18)).vectorizable(4));
        assertTrue(CudaNormGeometry.of(NormLayout.perChannel(2, 3, 18)).vectorizable(2));
        assertTrue(CudaNormGeometry.of(NormLayout.perGroup(2, 6, 2, 3)).vectorizable(4), "segments of 4");
        assertFalse(CudaNormGeometry.of(NormLayout.perGroup(3, 5, 1, 1)).vectorizable(2), "rows of 5");
    }

    @ParameterizedTest
    @MethodSource("layouts")
    void stagedGridsAreMultiplesOfTheGroupsAndWithinLimits(NormLayout layout) {
        CudaNormGeometry g = CudaNormGeometry.of(layout);
        int y = CudaNormPlan.stagedGridY(g);
        assertEquals(0, y % g.groups(), "blocks of one y-row share channels");
        assertTrue(y <= Math.max(g.stats(), g.groups()) && y <= CudaNormPlan.MAX_GRID_Y);
        int k = CudaNormPlan.blocksPerGroup(g);
        assertTrue(k >= 1 && k <= g.statsPerGroup());
    }

    @Test
    void weightRereadsStayUnderASixteenthOfATensor() {
        // LayerNorm over rows of 512 with 4096 rows: k blocks per group each stage the weight once
        CudaNormGeometry g = CudaNormGeometry.of(NormLayout.perGroup(4096, 512, 1, 1));
        int k = CudaNormPlan.blocksPerGroup(g);
        assertTrue(2.0 * k * g.cg() <= g.stats() * (double) g.m() / 16, "k = " + k);
        assertTrue(k >= 64, "still enough blocks to fill a GPU: " + k);
    }

    @Test
    void fusedShapesFitTheSharedBudgetAndStreamingOnesDoNot() {
        CudaNormPlan p = CudaNormPlan.DEFAULT;
        CudaNormGeometry small = CudaNormGeometry.of(NormLayout.perGroup(2, 8, 64, 4));
        CudaNormGeometry large = CudaNormGeometry.of(NormLayout.perChannel(4, 2, 4096));
        for (DType t : DType.values()) {
            assertTrue(p.forwardFits(small, t) && p.backwardFits(small, t), t.toString());
            assertFalse(p.forwardFits(large, t) || p.backwardFits(large, t), t.toString());
            // the streaming backward's dynamic shared memory (cached chunk + three channel tables)
            CudaNormGeometry ln = CudaNormGeometry.of(NormLayout.perGroup(2, 100_000, 1, 1));
            long bytes = (2L * p.backwardChunk(t) + 3L * p.backwardSlots(ln, t)) * t.bytes();
            assertTrue(bytes <= 48 * 1024 - 1024, t + ": streaming backward uses " + bytes + " bytes");
            assertTrue(p.chunkTableBytes(ln, t, 2) <= 48 * 1024 - 1024, t + ": normalize table");
        }
    }

    @Test
    void columnTilesHoldWholeChannels() {
        CudaNormPlan p = CudaNormPlan.DEFAULT;
        for (int l = 1; l < 32; l++) {
            for (int c : new int[] {1, 3, 64, 1000}) {
                CudaNormPlan.ColumnShape f = p.columnFused(8, c, l);
                CudaNormPlan.ColumnShape s = p.columnStreaming(c, l);
                for (CudaNormPlan.ColumnShape shape : new CudaNormPlan.ColumnShape[] {f, s}) {
                    assertEquals(0, shape.tileCols() % l, "tile of " + shape.tileCols() + " columns, L = " + l);
                    assertTrue(shape.threads() <= 256 && shape.threads() >= l, shape.toString());
                    assertTrue((long) shape.tiles(c, l) * (shape.tileCols() / l) >= c, "every channel in a tile");
                }
            }
        }
        assertTrue(CudaNormPlan.columnLayout(NormLayout.perChannel(8, 4, 31)));
        assertFalse(CudaNormPlan.columnLayout(NormLayout.perChannel(8, 4, 32)));
        assertFalse(CudaNormPlan.columnLayout(NormLayout.perGroup(8, 4, 1, 1)));
    }
}
