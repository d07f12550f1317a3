package io.jnorm.ops;

import static io.jnorm.ops.OpTestSupport.leaf;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jnorm.autograd.GradMode;
import io.jnorm.autograd.Gradcheck;
import io.jnorm.tensor.DType;
import io.jnorm.tensor.Rng;
import io.jnorm.tensor.Scope;
import io.jnorm.tensor.Tensor;
import org.junit.jupiter.api.Test;

/** The ops together, as a small CNN uses them, and their interaction with scopes and no-grad. */
class ComposedOpsTest {

    private static Tensor smallCnn(Tensor x, Tensor w1, Tensor b1, Tensor w2, Tensor b2, int[] targets) {
        Tensor h = Ops.relu(Ops.conv2d(x, w1, b1, 1, 1));
        Tensor p = Ops.avgPool2d(Ops.maxPool2d(h, 2, 1, 0), 2, 2, 0);
        Tensor logits = Ops.linear(Ops.flatten(p, 1), w2, b2);
        return Ops.crossEntropy(logits, targets);
    }

    @Test
    void smallCnnLossGradchecksThroughEveryLayer() {
        Rng rng = new Rng(91);
        int[] targets = {2, 0};
        // conv 1->3 channels on 5x5, max 2/1 -> 4x4, avg 2/2 -> 2x2, linear 12 -> 3 classes
        Gradcheck.assertPasses(in -> smallCnn(in[0], in[1], in[2], in[3], in[4], targets),
                leaf(rng, 2, 1, 5, 5), leaf(rng, 3, 1, 3, 3), leaf(rng, 3), leaf(rng, 3, 12), leaf(rng, 3));
    }

    @Test
    void noGradRecordsNothingAndAScopeFreesEveryIntermediate() {
        Rng rng = new Rng(92);
        Tensor x = leaf(rng, 2, 1, 5, 5);
        Tensor w1 = leaf(rng, 3, 1, 3, 3);
        Tensor b1 = leaf(rng, 3);
        Tensor w2 = leaf(rng, 3, 12);
        Tensor b2 = leaf(rng, 3);
        Tensor kept;
        Tensor intermediate;
        try (Scope scope = Scope.open()) {
            try (GradMode.Guard g = GradMode.noGrad()) {
                Tensor loss = smallCnn(x, w1, b1, w2, b2, new int[] {1, 1});
                assertNull(loss.gradFn());
            }
            intermediate = Ops.conv2d(x, w1, b1, 1, 1);
            Tensor loss = smallCnn(x, w1, b1, w2, b2, new int[] {1, 1});
            loss.backward();
            kept = scope.keep(loss.detach());
        }
        assertTrue(intermediate.isClosed());
        assertFalse(kept.isClosed());
        assertTrue(Double.isFinite(kept.item()) && kept.item() > 0);
        assertEquals(w1.shape(), w1.grad().shape());
        assertFalse(w1.grad().isClosed());
        assertEquals(DType.F64, b2.grad().dtype());
    }
}
