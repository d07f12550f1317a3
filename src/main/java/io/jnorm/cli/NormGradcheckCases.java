package io.jnorm.cli;

import io.jnorm.cli.GradcheckSuite.Case;
import io.jnorm.cli.GradcheckSuite.Domain;
import io.jnorm.cli.GradcheckSuite.Input;
import io.jnorm.ops.norm.BatchChannelNormOp;
import io.jnorm.ops.norm.BatchRenormOp;
import io.jnorm.ops.norm.NormOps;
import io.jnorm.ops.norm.SwitchableNormOps;
import io.jnorm.ops.norm.UnifiedBatchNormOps;
import io.jnorm.ops.norm.WeightStandardization;
import io.jnorm.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;

/**
 * The gradient checks of the normalization ops (io.jnorm.ops.norm), one or more cases per op
 * and mode, for {@link GradcheckSuite#standard()}.
 *
 * <p>A case function must not change its inputs, because finite differences call it many
 * times: training-mode batch norm therefore gets fresh running statistics on every call (so the
 * in-place update runs but touches nothing the check reuses), and the statistics a method
 * defines as constants (running statistics in evaluation, Batch Renorm's r and d, EstBN's
 * estimates, UBN's running statistics when its gate is closed) are constant inputs whose
 * gradient is not checked.
 */
final class NormGradcheckCases {
    private static final double EPS = 1e-5;

    private NormGradcheckCases() {
    }

    static List<Case> all() {
        List<Case> c = new ArrayList<>();
        Input c3 = Input.of(3);
        Input meanConst = Input.of(3).constant();
        Input varConst = Input.of(3).in(Domain.POSITIVE).constant();

        // Batch norm: batch statistics (gradient through them), and running statistics as constants.
        c.add(Case.of("batch_norm", "%s w%s b%s train", x -> NormOps.batchNorm(x[0], null, null, x[1], x[2], true,
                0.1, EPS), Input.of(4, 3), c3, c3));
        c.add(Case.of("batch_norm", "%s w%s b%s train, updates running",
                x -> NormOps.batchNorm(x[0], Tensor.zeros(x[1].shape(), x[0].dtype(), x[0].device()),
                        Tensor.full(1.0, x[1].shape(), x[0].dtype(), x[0].device()), x[1], x[2], true, 0.1, EPS),
                Input.of(2, 3, 2, 2), c3, c3));
        c.add(Case.of("batch_norm", "%s train, no affine", x -> NormOps.batchNorm(x[0], null, null, null, null, true,
                0.1, EPS), Input.of(2, 3, 1, 3)));
        c.add(Case.of("batch_norm", "%s w%s b%s eval",
                x -> NormOps.batchNorm(x[0], x[3], x[4], x[1], x[2], false, 0.1, EPS),
                Input.of(2, 3, 2, 2), c3, c3, meanConst, varConst));

        c.add(Case.of("group_norm", "%s G2 w%s b%s", x -> NormOps.groupNorm(x[0], 2, x[1], x[2], EPS),
                Input.of(2, 4, 3), Input.of(4), Input.of(4)));
        c.add(Case.of("group_norm", "%s G3 no affine", x -> NormOps.groupNorm(x[0], 3, null, null, EPS),
                Input.of(1, 6, 2, 2)));

        c.add(Case.of("layer_norm", "%s over [4] w%s b%s",
                x -> NormOps.layerNorm(x[0], new int[] {4}, x[1], x[2], EPS), Input.of(2, 3, 4), Input.of(4),
                Input.of(4)));
        c.add(Case.of("layer_norm", "%s over [3,2,2] no affine",
                x -> NormOps.layerNorm(x[0], new int[] {3, 2, 2}, null, null, EPS), Input.of(2, 3, 2, 2)));

        c.add(Case.of("instance_norm", "%s w%s b%s input stats", x -> NormOps.instanceNorm(x[0], null, null, x[1],
                x[2], true, 0.1, EPS), Input.of(2, 3, 4), c3, c3));
        c.add(Case.of("instance_norm", "%s w%s b%s running stats",
                x -> NormOps.instanceNorm(x[0], x[3], x[4], x[1], x[2], false, 0.1, EPS),
                Input.of(2, 3, 2, 2), c3, c3, meanConst, varConst));

        // Weight standardization: the three presets and a general form, through mean and variance.
        c.add(Case.of("weight_standardize", "%s OFFICIAL",
                x -> WeightStandardization.weightStandardize(x[0], 0, 1e-5, true), Input.of(3, 2, 2, 2)));
        c.add(Case.of("weight_standardize", "%s BCN_REPO",
                x -> WeightStandardization.weightStandardize(x[0], 1e-5, 0, true), Input.of(3, 2, 2, 2)));
        c.add(Case.of("weight_standardize", "%s BIASED",
                x -> WeightStandardization.weightStandardize(x[0], 1e-5, 0, false), Input.of(4, 3, 1, 1)));
        c.add(Case.of("weight_standardize", "%s biased, epsIn 1e-3, epsOut 1e-2",
                x -> WeightStandardization.weightStandardize(x[0], 1e-3, 1e-2, false), Input.of(2, 5)));

        // Batch Renorm: r and d are constants of the training backward; eval uses the moving statistics.
        c.add(Case.of("batch_renorm", "%s w%s b%s train, r d fixed",
                x -> BatchRenormOp.trainWithCorrection(x[0], x[1], x[2], x[3], x[4], EPS),
                Input.of(2, 3, 2, 2), c3, c3, varConst, meanConst));
        c.add(Case.of("batch_renorm", "%s w%s b%s eval",
                x -> BatchRenormOp.eval(x[0], x[1], x[2], x[3], x[4], EPS),
                Input.of(2, 3, 2, 2), c3, c3, meanConst, varConst));

        // Batch-Channel Norm: per-channel BN then group norm with a per-group affine.
        c.add(Case.of("batch_channel_norm", "%s BN w%s b%s, G2 w%s b%s", x -> BatchChannelNormOp
                .groupNormGroupAffine(NormOps.batchNorm(x[0], null, null, x[1], x[2], true, 0.1, EPS), 2, x[3],
                        x[4], EPS), Input.of(2, 4, 2, 2), Input.of(4), Input.of(4), Input.of(2), Input.of(2)));
        c.add(Case.of("batch_channel_norm", "%s EstBN w%s b%s fixed, G2 w%s b%s",
                x -> BatchChannelNormOp.groupNormGroupAffine(BatchChannelNormOp.estimatedBatchNorm(x[0], x[1], x[2],
                        x[5], x[6], 0.1, false, EPS), 2, x[3], x[4], EPS),
                Input.of(1, 4, 2, 2), Input.of(4), Input.of(4), Input.of(2), Input.of(2), Input.of(4).constant(),
                Input.of(4).in(Domain.POSITIVE).constant()));

        // Switchable Norm: logits get gradient in every mode; eval uses the running BN statistics.
        Input l3 = Input.of(3);
        Input l2 = Input.of(2);
        c.add(Case.of("switchable_norm", "%s IN/LN/BN train logits%s%s w%s b%s",
                x -> SwitchableNormOps.switchableNorm2d(x[0], x[1], x[2], x[3], x[4], null, null, true, EPS).y(),
                Input.of(2, 3, 2, 2), l3, l3, c3, c3));
        c.add(Case.of("switchable_norm", "%s IN/LN/BN eval logits%s%s w%s b%s",
                x -> SwitchableNormOps.switchableNorm2d(x[0], x[1], x[2], x[3], x[4], x[5], x[6], false, EPS).y(),
                Input.of(2, 3, 2, 2), l3, l3, c3, c3, meanConst, varConst));
        c.add(Case.of("switchable_norm", "%s IN/LN train logits%s%s w%s b%s",
                x -> SwitchableNormOps.switchableNorm2d(x[0], x[1], x[2], x[3], x[4], null, null, true, EPS).y(),
                Input.of(2, 3, 1, 3), l2, l2, c3, c3));
        c.add(Case.of("switchable_norm", "%s IN/LN eval logits%s%s w%s b%s",
                x -> SwitchableNormOps.switchableNorm2d(x[0], x[1], x[2], x[3], x[4], null, null, false, EPS).y(),
                Input.of(2, 3, 2, 2), l2, l2, c3, c3));

        // Unified BN: the gate is a constant; open = batch statistics, closed = running statistics.
        c.add(Case.of("unified_batch_norm", "%s gate open c%s s%s%s conv%s%s",
                x -> UnifiedBatchNormOps.unifiedBatchNorm2d(x[0], x[1], x[2], x[3], x[4], x[5], null, null, true,
                        EPS).y(), Input.of(2, 3, 3, 3), c3, c3, c3, Input.of(3, 1, 3, 3), c3));
        c.add(Case.of("unified_batch_norm", "%s gate closed c%s s%s%s conv%s%s",
                x -> UnifiedBatchNormOps.unifiedBatchNorm2d(x[0], x[1], x[2], x[3], x[4], x[5], x[6], x[7], false,
                        EPS).y(), Input.of(2, 3, 3, 3), c3, c3, c3, Input.of(3, 1, 3, 3), c3, meanConst, varConst));
        c.add(Case.of("unified_batch_norm", "%s gate open c%s s%s%s, no conv",
                x -> UnifiedBatchNormOps.unifiedBatchNorm2d(x[0], x[1], x[2], x[3], null, null, null, null, true,
                        EPS).y(), Input.of(2, 3, 2, 2), c3, c3, c3));
        return c;
    }
}
