package io.jnorm.gpu;

/** Static facts about a device, as cuDeviceGetAttribute reports them. */
public record DeviceProperties(
        String name,
        int computeMajor,
        int computeMinor,
        long totalMemoryBytes,
        int multiprocessorCount,
        int maxThreadsPerBlock,
        int maxSharedMemoryPerBlock,
        int warpSize) {
}
