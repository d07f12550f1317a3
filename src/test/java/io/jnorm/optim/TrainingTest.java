package io.jnorm.optim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jnorm.nn.Linear;
import io.jnorm.nn.ReLU;
import io.jnorm.nn.Sequential;
import io.jnorm.ops.Ops;
import io.jnorm.tensor.DType;
import io.jnorm.tensor.Device;
import io.jnorm.tensor.Rng;
import io.jnorm.tensor.Scope;
import io.jnorm.tensor.Shape;
import io.jnorm.tensor.Tensor;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.function.Function;
import java.util.List;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * End to end: a two-layer MLP learns three Gaussian blobs in the plane with cross entropy,
 * trained by each optimizer. The task is fixed by its seed, so the loss curve is too.
 */
class TrainingTest {
    private static final int PER_CLASS = 30;
    private static final int STEPS = 40;
    @TempDir
    Path tmp;

    private static final double[][] CENTERS = {{2, 0}, {-1, 1.7}, {-1, -1.7}};

    /** Points around three centers 3.4 apart, std 0.6: separable, but not by a single axis. */
    private static Tensor points(int[] labels) {
        Rng rng = new Rng(2024);
        double[] xy = new double[3 * PER_CLASS * 2];
        for (int i = 0; i < labels.length; i++) {
            int c = i % 3;
            labels[i] = c;
            xy[2 * i] = CENTERS[c][0] + 0.6 * rng.nextGaussian();
            xy[2 * i + 1] = CENTERS[c][1] + 0.6 * rng.nextGaussian();
        }
        return Tensor.fromDoubles(xy, Shape.of(labels.length, 2), DType.F32, Device.CPU);
    }

    private static Sequential mlp() {
        Rng rng = new Rng(77);
        return new Sequential(new Linear(2, 16, rng), new ReLU(), new Linear(16, 3, rng));
    }

    private static final Function<Sequential, Optimizer> SGD_MOMENTUM =
            m -> new SGD(m.parameters(), 0.1, 0.9, 0.0, 1e-4, false);
    private static final Function<Sequential, Optimizer> ADAMW = m -> new AdamW(m.parameters(), 0.05);

    /** Trains and returns the loss before each step plus the final accuracy as the last element. */
    private static double[] train(Sequential model, Optimizer opt, Tensor x, int[] labels) {
        double[] curve = new double[STEPS + 1];
        for (int s = 0; s < STEPS; s++) {
            try (Scope scope = Scope.open()) {
                Tensor loss = Ops.crossEntropy(model.forward(x), labels);
                curve[s] = loss.item();
                model.zeroGrad();
                loss.backward();
            }
            opt.step();
        }
        try (Scope scope = Scope.open()) {
            double[] logits = model.forward(x).toDoubleArray();
            int right = 0;
            for (int i = 0; i < labels.length; i++) {
                int best = 0;
                for (int k = 1; k < 3; k++) {
                    if (logits[3 * i + k] > logits[3 * i + best]) {
                        best = k;
                    }
                }
                right += best == labels[i] ? 1 : 0;
            }
            curve[STEPS] = right / (double) labels.length;
        }
        return curve;
    }

    @ParameterizedTest
    @ValueSource(strings = {"SGD", "AdamW"})
    void lossFallsAndTheBlobsAreLearned(String which) {
        int[] labels = new int[3 * PER_CLASS];
        Tensor x = points(labels);
        Function<Sequential, Optimizer> make = which.equals("SGD") ? SGD_MOMENTUM : ADAMW;
        try (Sequential model = mlp(); Optimizer opt = make.apply(model)) {
            double[] curve = train(model, opt, x, labels);
            double first = curve[0];
            double last = curve[STEPS - 1];
            assertTrue(first > 0.5, "an untrained 3-class model starts near ln 3: " + first);
            assertTrue(last < 0.25 * first, which + ": loss only fell from " + first + " to " + last + ": "
                    + Arrays.toString(curve));
            assertTrue(curve[STEPS] >= 0.95, which + ": training accuracy " + curve[STEPS]);

            // the run is reproducible bit for bit from its seeds
            try (Sequential again = mlp(); Optimizer opt2 = make.apply(again)) {
                assertArrayEquals(curve, train(again, opt2, x, labels), 0.0);
            }

            // a trained model saved and loaded predicts exactly the same logits
            Path f = tmp.resolve(which + ".npz");
            model.save(f);
            try (Sequential fresh = new Sequential(new Linear(2, 16, new Rng(1)), new ReLU(), new Linear(16, 3, new Rng(2)))) {
                fresh.load(f);
                assertArrayEquals(model.forward(x).toDoubleArray(), fresh.forward(x).toDoubleArray(), 0.0);
            }
            List<Tensor> params = model.parameters();
            assertTrue(params.stream().allMatch(p -> p == opt.params().get(params.indexOf(p))),
                    "the optimizer updated the module's own tensors");
        }
    }
}
