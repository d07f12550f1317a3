package io.jnorm.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * Loads every PyTorch fixture with {@link Npy} and checks it against its meta.json: every listed
 * file exists with the listed shape and dtype, no .npy is left unlisted, values are finite unless
 * the file is marked {@code contains_nan} (and then a NaN is really there). Two spot checks
 * recompute stored outputs from the stored inputs with the textbook formulas, which only works
 * when every value was read correctly.
 */
class TorchFixturesTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    static Path torchRoot() {
        String shared = System.getProperty("jnorm.shared");
        if (shared == null) {
            fail("system property jnorm.shared is not set (the pom sets it to ../shared)");
        }
        Path root = Path.of(shared, "fixtures", "torch");
        if (!Files.isDirectory(root)) {
            fail("PyTorch fixtures not found at " + root.toAbsolutePath() + " (jnorm.shared=" + shared + ")");
        }
        return root;
    }

    static List<Path> caseDirs() throws IOException {
        try (Stream<Path> s = Files.walk(torchRoot(), 2)) {
            return s.filter(p -> Files.isRegularFile(p.resolve("meta.json"))).sorted().collect(Collectors.toList());
        }
    }

    static JsonNode meta(Path caseDir) throws IOException {
        return JSON.readTree(caseDir.resolve("meta.json").toFile());
    }

    @TestFactory
    Stream<DynamicTest> everyFixtureFileMatchesItsMeta() throws IOException {
        List<Path> cases = caseDirs();
        assertTrue(cases.size() >= 40, "expected the full fixture set, found " + cases.size() + " cases");
        return cases.stream().map(c -> DynamicTest.dynamicTest(torchRoot().relativize(c).toString(), () -> checkCase(c)));
    }

    private static void checkCase(Path caseDir) throws IOException {
        JsonNode files = meta(caseDir).get("files");
        assertTrue(files != null && files.size() > 0, caseDir + ": meta.json lists no files");
        Set<Path> listed = new HashSet<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = files.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> f = it.next();
            Path npy = caseDir.resolve(f.getKey() + ".npy");
            listed.add(npy);
            assertTrue(Files.isRegularFile(npy), npy + " is listed in meta.json but missing");
            NpyArray a = Npy.readArray(npy);
            int[] expected = new int[f.getValue().get("shape").size()];
            for (int i = 0; i < expected.length; i++) {
                expected[i] = f.getValue().get("shape").get(i).asInt();
            }
            assertArrayEquals(expected, a.shape(), npy + " shape");
            assertEquals(NpyDType.FLOAT64, a.dtype(), npy + " dtype");
            double[] v = a.doubles();
            assertEquals(a.numel(), v.length, npy + " element count");
            boolean nanExpected = f.getValue().path("contains_nan").asBoolean(false);
            int nonFinite = 0;
            for (double d : v) {
                if (!Double.isFinite(d)) {
                    nonFinite++;
                }
            }
            if (nanExpected) {
                assertTrue(nonFinite > 0, npy + " is marked contains_nan but every value is finite");
            } else {
                assertEquals(0, nonFinite, npy + " has non-finite values but is not marked contains_nan");
            }
        }
        try (Stream<Path> s = Files.walk(caseDir)) {
            List<Path> unlisted = s.filter(p -> p.toString().endsWith(".npy") && !listed.contains(p)).collect(Collectors.toList());
            assertTrue(unlisted.isEmpty(), "files not listed in meta.json: " + unlisted);
        }
    }

    // ------------------------------------------------------------ independent spot checks

    private static double[] read(Path caseDir, String name) {
        return Npy.readArray(caseDir.resolve(name + ".npy")).doubles();
    }

    private static void assertClose(double[] expected, double[] actual, String what) {
        assertEquals(expected.length, actual.length, what + " length");
        double worst = 0;
        int at = -1;
        for (int i = 0; i < expected.length; i++) {
            double err = Math.abs(expected[i] - actual[i]);
            if (err > 1e-12 + 1e-10 * Math.abs(expected[i]) && err > worst) {
                worst = err;
                at = i;
            }
        }
        if (at >= 0) {
            fail(what + ": worst element " + at + " expected " + expected[at] + " got " + actual[at] + " (|diff| " + worst + ")");
        }
    }

    /**
     * BatchNorm2d training: y = (x - mean_c) / sqrt(var_biased_c + eps) * w_c + b_c over (N, H, W),
     * and the running statistics follow r = (1 - momentum) r + momentum * stat with the unbiased
     * variance, step after step.
     */
    @Test
    void batchNormTrainingStepsFollowTheTextbookFormulas() throws IOException {
        for (String name : List.of("train_n2_c3_h4_w4_3steps", "train_momentum_0p3_eps1e-3_3steps", "train_n8_c4_h5_w5_3steps")) {
            Path dir = torchRoot().resolve("bn_torch").resolve(name);
            JsonNode meta = meta(dir);
            double eps = meta.get("eps").asDouble();
            double momentum = meta.get("momentum").asDouble();
            int[] in = new int[4];
            for (int i = 0; i < 4; i++) {
                in[i] = meta.get("input_shape").get(i).asInt();
            }
            int n = in[0];
            int c = in[1];
            int hw = in[2] * in[3];
            double[] w = read(dir, "weight");
            double[] b = read(dir, "bias");
            double[] runMean = read(dir, "running_mean_init");
            double[] runVar = read(dir, "running_var_init");
            int steps = meta.get("steps").asInt();
            for (int k = 0; k < steps; k++) {
                String step = String.format("step_%02d/", k);
                double[] x = read(dir, step + "x");
                double[] y = new double[x.length];
                for (int ch = 0; ch < c; ch++) {
                    double sum = 0;
                    for (int s = 0; s < n; s++) {
                        for (int p = 0; p < hw; p++) {
                            sum += x[(s * c + ch) * hw + p];
                        }
                    }
                    int m = n * hw;
                    double mean = sum / m;
                    double sq = 0;
                    for (int s = 0; s < n; s++) {
                        for (int p = 0; p < hw; p++) {
                            double d = x[(s * c + ch) * hw + p] - mean;
                            sq += d * d;
                        }
                    }
                    double rstd = 1 / Math.sqrt(sq / m + eps);
                    for (int s = 0; s < n; s++) {
                        for (int p = 0; p < hw; p++) {
                            int i = (s * c + ch) * hw + p;
                            y[i] = (x[i] - mean) * rstd * w[ch] + b[ch];
                        }
                    }
                    runMean[ch] = (1 - momentum) * runMean[ch] + momentum * mean;
                    runVar[ch] = (1 - momentum) * runVar[ch] + momentum * sq / (m - 1);
                }
                assertClose(y, read(dir, step + "y"), name + " " + step + "y");
                assertClose(runMean, read(dir, step + "running_mean"), name + " " + step + "running_mean");
                assertClose(runVar, read(dir, step + "running_var"), name + " " + step + "running_var");
                assertArrayEquals(new double[] {k + 1}, read(dir, step + "num_batches_tracked"), 0.0);
            }
        }
    }

    /** GroupNorm: statistics per (sample, group) over (C/G, H, W), then a per-channel affine. */
    @Test
    void groupNormOutputFollowsTheTextbookFormula() throws IOException {
        Path dir = torchRoot().resolve("gn_torch").resolve("n2_c6_g3_h4_w4");
        JsonNode meta = meta(dir);
        double eps = meta.get("eps").asDouble();
        int groups = meta.get("num_groups").asInt();
        List<Integer> shape = new ArrayList<>();
        meta.get("input_shape").forEach(d -> shape.add(d.asInt()));
        int n = shape.get(0);
        int c = shape.get(1);
        int hw = shape.get(2) * shape.get(3);
        int perGroup = c / groups * hw;
        double[] x = read(dir, "step_00/x");
        double[] w = read(dir, "weight");
        double[] b = read(dir, "bias");
        double[] y = new double[x.length];
        for (int s = 0; s < n; s++) {
            for (int g = 0; g < groups; g++) {
                int start = (s * c + g * (c / groups)) * hw;
                double mean = 0;
                for (int i = 0; i < perGroup; i++) {
                    mean += x[start + i];
                }
                mean /= perGroup;
                double var = 0;
                for (int i = 0; i < perGroup; i++) {
                    var += (x[start + i] - mean) * (x[start + i] - mean);
                }
                double rstd = 1 / Math.sqrt(var / perGroup + eps);
                for (int i = 0; i < perGroup; i++) {
                    int ch = (start + i) / hw % c;
                    y[start + i] = (x[start + i] - mean) * rstd * w[ch] + b[ch];
                }
            }
        }
        assertClose(y, read(dir, "step_00/y"), "gn n2_c6_g3_h4_w4 y");
        assertFalse(meta.path("files").path("step_00/y").path("contains_nan").asBoolean(false));
    }
}
