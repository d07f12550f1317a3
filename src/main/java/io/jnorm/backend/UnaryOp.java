package io.jnorm.backend;

/** Elementwise functions of one tensor whose backward needs only x, y and dy. */
public enum UnaryOp {
    NEG, EXP, LOG, SQRT, RELU, SIGMOID, TANH, ABS
}
