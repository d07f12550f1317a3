package io.jnorm.gpu;

/**
 * One {@code .param} of a kernel's {@code .entry}: its PTX type ({@code u64}, {@code f32},
 * {@code b8} for byte arrays ...), its size in bytes and alignment, and whether it is a
 * pointer (declared {@code .ptr} or passed as u64 for a pointer argument).
 */
public record KernelParam(String name, String ptxType, int sizeBytes, int align) {
}
