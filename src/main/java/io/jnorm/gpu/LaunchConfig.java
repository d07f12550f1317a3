package io.jnorm.gpu;

/** Grid and block dimensions plus dynamic shared memory of one launch. */
public record LaunchConfig(int gridX, int gridY, int gridZ,
                           int blockX, int blockY, int blockZ,
                           int dynamicSharedBytes) {
    public LaunchConfig {
        if (gridX < 1 || gridY < 1 || gridZ < 1 || blockX < 1 || blockY < 1 || blockZ < 1) {
            throw new IllegalArgumentException(String.format(
                    "LaunchConfig: grid (%d, %d, %d) and block (%d, %d, %d) must be >= 1 in every dimension",
                    gridX, gridY, gridZ, blockX, blockY, blockZ));
        }
        if ((long) blockX * blockY * blockZ > 1024) {
            throw new IllegalArgumentException(String.format(
                    "LaunchConfig: block (%d, %d, %d) has %d threads, more than 1024",
                    blockX, blockY, blockZ, (long) blockX * blockY * blockZ));
        }
        if (dynamicSharedBytes < 0) {
            throw new IllegalArgumentException("LaunchConfig: negative dynamic shared memory " + dynamicSharedBytes);
        }
    }

    /** A 1-D launch. */
    public static LaunchConfig of1d(int grid, int block) {
        return new LaunchConfig(grid, 1, 1, block, 1, 1, 0);
    }

    public LaunchConfig withDynamicShared(int bytes) {
        return new LaunchConfig(gridX, gridY, gridZ, blockX, blockY, blockZ, bytes);
    }

    public int threadsPerBlock() {
        return blockX * blockY * blockZ;
    }

    public long blocks() {
        return (long) gridX * gridY * gridZ;
    }
}
