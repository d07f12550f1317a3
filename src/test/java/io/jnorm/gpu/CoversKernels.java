package io.jnorm.gpu;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Declares which kernels of which PTX module a test method launches.
 *
 * <p>KernelCoverageTest checks that every {@code .entry} of every committed PTX file is claimed
 * by some test, and the tests that claim kernels check (through {@link LaunchRecorder}) that they
 * really launched exactly the kernels they claim, so "every kernel is executed by a test" cannot
 * drift out of date in either direction.
 */
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.METHOD)
public @interface CoversKernels {
    /** The PTX module, as its file name without ".ptx". */
    String module();

    /** Entry names. */
    String[] value();
}
