package io.jnorm.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jnorm.autograd.GradMode;
import io.jnorm.tensor.DType;
import io.jnorm.tensor.Device;
import io.jnorm.tensor.Scope;
import io.jnorm.tensor.Tensor;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class GradcheckSuiteTest {

    static Stream<GradcheckSuite.Case> standardCases() {
        return GradcheckSuite.standard().cases().stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("standardCases")
    void everyCataloguedCasePassesOnTheCpu(GradcheckSuite.Case c) {
        GradcheckSuite.Outcome o = GradcheckSuite.run(c, Device.CPU, DType.F64);
        assertTrue(o.passed(), c.op() + " " + c.description() + ": " + o.message());
        assertTrue(o.maxAbsError() < 1e-5, c.op() + " max|err| " + o.maxAbsError());
    }

    /**
     * Finite differences call a case's function many times on the same inputs, so it must not
     * change them (a training-mode norm must not update statistics it was given) and must give
     * the same output every time.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("standardCases")
    void everyCaseLeavesItsInputsAloneAndRepeatsItsOutput(GradcheckSuite.Case c) {
        try (Scope scope = Scope.open(); GradMode.Guard g = GradMode.noGrad()) {
            Tensor[] in = GradcheckSuite.inputs(c, Device.CPU, DType.F64);
            double[][] before = new double[in.length][];
            for (int i = 0; i < in.length; i++) {
                before[i] = in[i].toDoubleArray();
            }
            double[] first = c.fn().apply(in).toDoubleArray();
            double[] second = c.fn().apply(in).toDoubleArray();
            assertArrayEquals(first, second, 0, c + ": a second call gives another output");
            for (int i = 0; i < in.length; i++) {
                assertArrayEquals(before[i], in[i].toDoubleArray(), 0, c + ": input " + i + " changed");
            }
        }
    }

    @Test
    void catalogueCoversTheRegisteredOpFamilies() {
        List<String> names = GradcheckSuite.standard().opNames();
        for (String op : List.of("add", "mul", "div", "exp", "log", "sum", "reshape", "conv2d", "max_pool2d",
                "avg_pool2d", "matmul", "linear", "log_softmax", "cross_entropy", "mean", "var", "permute", "concat", "slice",
                "batch_norm", "group_norm", "layer_norm", "instance_norm", "weight_standardize", "batch_renorm",
                "batch_channel_norm", "switchable_norm", "unified_batch_norm")) {
            assertTrue(names.contains(op), "catalogue lacks " + op + ": " + names);
        }
        Set<String> descriptions = new HashSet<>();
        for (GradcheckSuite.Case c : GradcheckSuite.standard().cases()) {
            assertTrue(descriptions.add(c.op() + " " + c.description()), "duplicate case " + c.op() + " " + c.description());
        }
    }

    @Test
    void descriptionsShowTheShapesActuallyChecked() {
        GradcheckSuite.Case c = GradcheckSuite.Case.of("add", "%s+%s", x -> x[0],
                GradcheckSuite.Input.of(2, 3), GradcheckSuite.Input.of(3));
        assertEquals("[2,3]+[3]", c.description());
    }

    @Test
    void aWrongGradientFailsAndAThrowingOpFailsWithoutStoppingTheSuite() {
        GradcheckSuite.Outcome wrong = GradcheckSuite.run(GradcheckSuite.Case.of("wrong_square", "%s",
                x -> CliTestSupport.wrongSquare(x[0]), GradcheckSuite.Input.of(2, 3)), Device.CPU, DType.F64);
        assertFalse(wrong.passed());
        assertTrue(wrong.message().contains("gradcheck failed"), wrong.message());

        GradcheckSuite.Outcome threw = GradcheckSuite.run(GradcheckSuite.Case.of("bad_shapes", "%s+%s",
                x -> x[0].add(x[1]), GradcheckSuite.Input.of(2, 3), GradcheckSuite.Input.of(4)), Device.CPU, DType.F64);
        assertFalse(threw.passed());
        assertTrue(threw.message().contains("[2, 3]") && threw.message().contains("[4]"), threw.message());
    }

    @Test
    void selectionByOpNameKeepsOrderAndRejectsUnknownNames() {
        GradcheckSuite s = GradcheckSuite.standard().only(List.of("conv2d", "add"));
        assertEquals(List.of("add", "conv2d"), s.opNames());
        assertTrue(s.cases().size() >= 2);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> GradcheckSuite.standard().only(List.of("add", "convolve")));
        assertTrue(e.getMessage().contains("'convolve'") && e.getMessage().contains("conv2d"), e.getMessage());
    }

    @Test
    void float32IsRejectedWithTheReason() {
        GradcheckSuite.Case c = GradcheckSuite.standard().cases().get(0);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> GradcheckSuite.run(c, Device.CPU, DType.F32));
        assertTrue(e.getMessage().contains("float64"), e.getMessage());
    }
}
