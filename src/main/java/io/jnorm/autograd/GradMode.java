package io.jnorm.autograd;

/**
 * Whether ops record autograd nodes on this thread. {@code try (var g = GradMode.noGrad())}
 * turns recording off inside the block (evaluation, optimizer updates, backward itself).
 */
public final class GradMode {
    private static final ThreadLocal<boolean[]> ENABLED = ThreadLocal.withInitial(() -> new boolean[] {true});

    private GradMode() {
    }

    public static boolean isEnabled() {
        return ENABLED.get()[0];
    }

    /** Disables recording until the returned guard is closed. */
    public static Guard noGrad() {
        boolean[] flag = ENABLED.get();
        Guard g = new Guard(flag, flag[0]);
        flag[0] = false;
        return g;
    }

    /** Restores the previous mode when closed. */
    public static final class Guard implements AutoCloseable {
        private final boolean[] flag;
        private final boolean previous;

        private Guard(boolean[] flag, boolean previous) {
            this.flag = flag;
            this.previous = previous;
        }

        @Override
        public void close() {
            flag[0] = previous;
        }
    }
}
