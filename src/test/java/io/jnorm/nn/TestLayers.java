package io.jnorm.nn;

import io.jnorm.ops.Ops;
import io.jnorm.tensor.DType;
import io.jnorm.tensor.Device;
import io.jnorm.tensor.Rng;
import io.jnorm.tensor.Shape;
import io.jnorm.tensor.Tensor;

/** Small modules for state-dictionary tests (the real layers live in their own tests). */
final class TestLayers {
    private TestLayers() {
    }

    /** y = x * scale + shift per feature, with running statistics, a counter and a hook. */
    static final class Stats extends Module {
        String rejectReason;

        Stats(int features, DType dtype, long seed) {
            Rng rng = new Rng(seed);
            registerParameter("scale", Tensor.randn(rng, Shape.of(features), dtype, Device.CPU));
            registerParameter("shift", Tensor.randn(rng, Shape.of(features), dtype, Device.CPU));
            registerBuffer("running_mean", Tensor.randn(rng, Shape.of(features), dtype, Device.CPU));
            registerBuffer("moving_var", Tensor.rand(rng, 0.5, 2, Shape.of(features), dtype, Device.CPU));
            registerBuffer("num_batches_tracked", Tensor.scalar(seed, DType.F64, Device.CPU), true);
        }

        @Override
        public Tensor forward(Tensor x) {
            return Ops.add(Ops.mul(x, parameter("scale")), parameter("shift"));
        }

        @Override
        protected void validateLoadedBuffer(String name, Tensor value) {
            if (rejectReason != null && name.equals("moving_var")) {
                throw new IllegalArgumentException(rejectReason);
            }
        }

        void setCounter(double v) {
            setBuffer("num_batches_tracked", Tensor.scalar(v, DType.F64, Device.CPU));
        }
    }

    /** A parent with its own parameter and buffer before its children, to pin the key order. */
    static final class Block extends Module {
        Block(DType dtype, long seed) {
            Rng rng = new Rng(seed);
            registerParameter("gain", Tensor.randn(rng, Shape.of(2, 3), dtype, Device.CPU));
            registerBuffer("mask", Tensor.rand(rng, 0, 1, Shape.of(3), dtype, Device.CPU));
            registerModule("inner", new Stats(3, dtype, seed + 1));
            registerModule("tail", new Sequential(new Stats(3, dtype, seed + 2), new ReLU()));
        }

        @Override
        public Tensor forward(Tensor x) {
            return children().get("tail").forward(children().get("inner").forward(x));
        }
    }
}
