package io.jnorm.backend.cuda;

import io.jnorm.tensor.DType;
import io.jnorm.tensor.Device;
import java.lang.ref.Cleaner;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;

/**
 * Reports device memory that leaked: a {@link CudaBuffer} that became unreachable (every tensor
 * using it was garbage-collected) without being freed by a close or a Scope.
 *
 * <p>Report only, never free: the cleaner thread has no CUDA context to free with, and handing
 * the block back to the allocator later is not safe either, because an op may have read a
 * buffer's device pointer for a launch it has not issued yet when the JIT already considers the
 * tensor unreachable. The leaked block stays counted in {@link CudaBackend#bytesInUse()} until
 * the backend closes. The first leak of a backend is logged with the usual cause and its fix;
 * every leak is counted ({@link CudaBackend#leakedBuffers()}, {@link CudaBackend#leakedBytes()}).
 *
 * <p>The usual cause: tensors made with no {@link io.jnorm.tensor.Scope} open, in particular the
 * tensors an op saves for backward (they live in its autograd node's closure; backward() drops
 * the closure but does not free them, as other tensors may share them).
 */
final class DeviceLeaks {
    private static final System.Logger LOG = System.getLogger(DeviceLeaks.class.getName());
    /** One daemon thread for every backend; its work per buffer is a flag check. */
    private static final Cleaner CLEANER = Cleaner.create();

    private final Device device;
    private final LongAdder buffers = new LongAdder();
    private final LongAdder bytes = new LongAdder();
    private final AtomicBoolean logged = new AtomicBoolean();

    DeviceLeaks(Device device) {
        this.device = device;
    }

    /** Watches {@code buffer}; the returned watch must be told when the buffer frees its memory. */
    Watch watch(CudaBuffer buffer, DType dtype, long numel, long blockBytes) {
        Watch w = new Watch(this, dtype, numel, blockBytes);
        w.cleanable = CLEANER.register(buffer, w);
        return w;
    }

    long buffers() {
        return buffers.sum();
    }

    long bytes() {
        return bytes.sum();
    }

    private void leaked(DType dtype, long numel, long blockBytes) {
        buffers.increment();
        bytes.add(blockBytes);
        if (logged.compareAndSet(false, true)) {
            LOG.log(System.Logger.Level.WARNING, "device memory leak on " + device + ": a buffer of " + numel + " "
                    + dtype + " (" + blockBytes + " bytes) was garbage-collected without being closed; its memory "
                    + "stays in use until the backend closes. Create tensors inside a Scope (the tensors autograd "
                    + "saves for backward are freed by the Scope they were made in, not by backward()) or close "
                    + "them. Later leaks are only counted: CudaBackend.leakedBuffers() / leakedBytes().");
        }
    }

    /**
     * The cleaning action of one buffer. It must not reference the buffer (that would keep it
     * reachable), so it carries what the report needs.
     */
    static final class Watch implements Runnable {
        private final DeviceLeaks owner;
        private final DType dtype;
        private final long numel;
        private final long blockBytes;
        private volatile boolean freed;
        private Cleaner.Cleanable cleanable;

        private Watch(DeviceLeaks owner, DType dtype, long numel, long blockBytes) {
            this.owner = owner;
            this.dtype = dtype;
            this.numel = numel;
            this.blockBytes = blockBytes;
        }

        /** The buffer freed its memory: nothing to report, and the cleaner can forget it now. */
        void freed() {
            freed = true;
            cleanable.clean();
        }

        @Override
        public void run() {
            if (!freed) {
                owner.leaked(dtype, numel, blockBytes);
            }
        }
    }
}
