package io.jnorm.nn.norm;

import static io.jnorm.nn.norm.TorchFixture.step;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jnorm.io.NpyArray;
import io.jnorm.nn.BatchNorm1d;
import io.jnorm.nn.BatchNorm2d;
import io.jnorm.nn.GroupNorm;
import io.jnorm.nn.InstanceNorm2d;
import io.jnorm.nn.LayerNorm;
import io.jnorm.nn.Module;
import io.jnorm.tensor.DType;
import io.jnorm.tensor.Device;
import io.jnorm.tensor.Scope;
import io.jnorm.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every case of shared/fixtures/torch/{bn,gn,ln,in}_torch (PyTorch 1.13, float64) through the
 * jnorm modules: y, dx, dweight, dbias and the running state after every step to 1e-10, and the
 * error cases rejected with a message naming the layer and the input.
 */
class TorchFixtureTest {
    private static final double TOL = 1e-10;
    private static final String[] METHODS = {"bn_torch", "gn_torch", "ln_torch", "in_torch"};

    static Stream<TorchFixture> valueCases() {
        return all().filter(f -> !f.isError());
    }

    static Stream<TorchFixture> errorCases() {
        return all().filter(TorchFixture::isError);
    }

    private static Stream<TorchFixture> all() {
        List<TorchFixture> out = new ArrayList<>();
        for (String m : METHODS) {
            out.addAll(TorchFixture.cases(m));
        }
        return out.stream();
    }

    @Test
    void everyFixtureIsCovered() {
        // The README's four methods hold 45 cases; a missing folder must not pass silently.
        assertEquals(45, all().count(), "number of torch fixture cases");
        assertTrue(errorCases().count() >= 6, "error cases present");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("valueCases")
    void reproducesPyTorch(TorchFixture f) {
        try (Scope scope = Scope.open(); Module m = build(f)) {
            load(f, m, "weight", true);
            load(f, m, "bias", true);
            load(f, m, "running_mean", false);
            load(f, m, "running_var", false);
            m.train(!f.eval());
            for (int k = 0; k < f.steps(); k++) {
                String at = f + " step " + k;
                Tensor x = f.tensor(step(k, "x"), DType.F64).requiresGrad(true);
                Tensor y = m.forward(x);
                y.backward(f.tensor(step(k, "dy"), DType.F64));
                assertEquals(x.shape(), y.shape(), at + ": output shape");
                compare(at + " y", f, step(k, "y"), y);
                compare(at + " dx", f, step(k, "dx"), x.grad());
                compareOptional(at + " dweight", f, step(k, "dweight"), m.parameter("weight"), true);
                compareOptional(at + " dbias", f, step(k, "dbias"), m.parameter("bias"), true);
                compareOptional(at + " running_mean", f, step(k, "running_mean"), m.buffer("running_mean"), false);
                compareOptional(at + " running_var", f, step(k, "running_var"), m.buffer("running_var"), false);
                compareOptional(at + " num_batches_tracked", f, step(k, "num_batches_tracked"),
                        m.buffer("num_batches_tracked"), false);
                m.zeroGrad();
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("errorCases")
    void rejectsWhatPyTorchRejects(TorchFixture f) {
        try (Scope scope = Scope.open()) {
            Tensor x = f.tensor("x", DType.F64);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> {
                try (Module m = buildFromModuleString(f)) {
                    m.train(!f.eval());
                    m.forward(x);
                }
            }, f + ": expected an error like PyTorch's '" + f.string("expect_error") + "'");
            String msg = e.getMessage();
            String layer = layerName(f);
            assertTrue(msg.startsWith(layer + "("), f + ": message should name the layer " + layer + ": " + msg);
            String expected = f.string("expect_error");
            if (expected.contains("divisible")) {
                assertTrue(msg.contains("divisible") && msg.contains("4") && msg.contains("3"), msg);
            } else {
                assertTrue(msg.contains(x.shape().toString()), f + ": message should show the input shape: " + msg);
                assertTrue(msg.contains(expected.contains("spatial") ? "spatial" : "value per channel"), msg);
            }
        }
    }

    // ------------------------------------------------------------ building modules from meta.json

    private static Module build(TorchFixture f) {
        int[] in = f.ints("input_shape");
        double eps = f.number("eps");
        DType d = DType.F64;
        Device cpu = Device.CPU;
        switch (f.method) {
            case "bn_torch": {
                Double momentum = f.number("momentum");
                boolean affine = f.flag("affine");
                boolean track = f.flag("track_running_stats");
                return f.string("module").contains("BatchNorm1d")
                        ? new BatchNorm1d(in[1], eps, momentum, affine, track, d, cpu)
                        : new BatchNorm2d(in[1], eps, momentum, affine, track, d, cpu);
            }
            case "gn_torch":
                return new GroupNorm(f.number("num_groups").intValue(), in[1], eps, f.flag("affine"), d, cpu);
            case "ln_torch":
                return new LayerNorm(f.ints("normalized_shape"), eps, f.flag("elementwise_affine"), d, cpu);
            case "in_torch":
                return new InstanceNorm2d(in[1], eps, f.number("momentum"), f.flag("affine"),
                        f.flag("track_running_stats"), d, cpu);
            default:
                throw new IllegalStateException("unknown method " + f.method);
        }
    }

    /** Error cases only record the module call, e.g. "torch.nn.GroupNorm(3, 4)"; defaults otherwise. */
    private static Module buildFromModuleString(TorchFixture f) {
        Matcher m = Pattern.compile("torch\\.nn\\.(\\w+)\\(([^)]*)\\)").matcher(f.string("module"));
        if (!m.find()) {
            throw new IllegalStateException(f + ": cannot parse module " + f.string("module"));
        }
        int[] a = TorchFixture.parseInts(m.group(2));
        return switch (m.group(1)) {
            case "BatchNorm1d" -> new BatchNorm1d(a[0], DType.F64, Device.CPU);
            case "BatchNorm2d" -> new BatchNorm2d(a[0], DType.F64, Device.CPU);
            case "InstanceNorm2d" -> new InstanceNorm2d(a[0], DType.F64, Device.CPU);
            case "GroupNorm" -> new GroupNorm(a[0], a[1], 1e-5, true, DType.F64, Device.CPU);
            default -> throw new IllegalStateException(f + ": unexpected module " + m.group(1));
        };
    }

    private static String layerName(TorchFixture f) {
        Matcher m = Pattern.compile("torch\\.nn\\.(\\w+)\\(").matcher(f.string("module"));
        assertTrue(m.find());
        return m.group(1);
    }

    /** Copies a per-case constant (weight, bias, running_*_init) into the module's tensor. */
    private static void load(TorchFixture f, Module m, String name, boolean parameter) {
        String file = parameter ? name : name + "_init";
        Tensor target = parameter ? m.parameter(name) : m.buffer(name);
        assertEquals(f.has(file), target != null, f + ": fixture has " + file + " iff the module has " + name);
        if (target != null) {
            Tensor src = f.tensor(file, DType.F64);
            assertEquals(src.shape(), target.shape(), f + ": shape of " + name);
            target.backend().copy(src, target);
        }
    }

    private static void compare(String what, TorchFixture f, String file, Tensor actual) {
        assertNotNull(actual, what + ": not computed");
        NpyArray e = f.array(file);
        assertEquals(java.util.Arrays.toString(e.shape()), actual.shape().toString(), what + ": shape");
        Close.assertClose(what, e.doubles(), actual.toDoubleArray(), TOL, TOL);
    }

    /** A state or gradient that exists in the module iff the fixture stores it. */
    private static void compareOptional(String what, TorchFixture f, String file, Tensor owner, boolean gradient) {
        boolean stored = f.has(file);
        assertEquals(stored, owner != null, what + ": fixture stores it iff the module has it");
        if (stored) {
            compare(what, f, file, gradient ? owner.grad() : owner);
        }
    }
}
