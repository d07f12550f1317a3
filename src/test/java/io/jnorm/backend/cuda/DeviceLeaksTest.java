package io.jnorm.backend.cuda;

import static io.jnorm.backend.cuda.CudaTestSupport.backend;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jnorm.gpu.DevicePointer;
import io.jnorm.ops.Ops;
import io.jnorm.ops.norm.NormOps;
import io.jnorm.tensor.DType;
import io.jnorm.tensor.Device;
import io.jnorm.tensor.Rng;
import io.jnorm.tensor.Scope;
import io.jnorm.tensor.Shape;
import io.jnorm.tensor.Tensor;
import org.junit.jupiter.api.Test;

/**
 * The lifetime hazard the Scope documentation warns about, made visible: a forward and backward
 * pass on the GPU with no Scope open leaves its intermediates and the tensors autograd saved for
 * backward in device memory even after every tensor the user holds is closed; the garbage
 * collector does not free them, but {@link DeviceLeaks} reports them once they are unreachable.
 * The same pass inside a Scope leaves nothing.
 */
class DeviceLeaksTest {
    /** A group-norm + ReLU + sum pass and its backward; closes every tensor the caller made. */
    private static void forwardBackward(Device d) {
        Rng rng = new Rng(12);
        Tensor x = Tensor.randn(rng, Shape.of(2, 4, 3, 3), DType.F64, d).requiresGrad(true);
        Tensor w = Tensor.randn(rng, Shape.of(4), DType.F64, d).requiresGrad(true);
        Tensor b = Tensor.randn(rng, Shape.of(4), DType.F64, d).requiresGrad(true);
        Tensor loss = Ops.sum(Ops.relu(NormOps.groupNorm(x, 2, w, b, 1e-5)));
        loss.backward();
        for (Tensor t : new Tensor[] {x, w, b, loss}) {
            t.close();  // also frees x's, w's and b's gradients
        }
    }

    /**
     * On a private allocator and report, so nothing else in the JVM is counted: of two buffers,
     * the one closed is never reported and the one dropped is reported exactly once, with its
     * block's bytes, and its block stays in use.
     */
    @Test
    void onlyTheBufferDroppedWithoutACloseIsReported() throws InterruptedException {
        Device d = CudaTestSupport.device();
        CachingAllocator allocator = new CachingAllocator(backend().driver(), true);
        DeviceLeaks leaks = new DeviceLeaks(d);
        Tensor.wrap(new CudaBuffer(d, DType.F32, 10, allocator.allocate(40), allocator, leaks), Shape.of(10)).close();
        // The pointer alone does not keep the buffer reachable; it lets the test return the block.
        DevicePointer dropped = allocator.allocate(24);
        Tensor.wrap(new CudaBuffer(d, DType.F64, 3, dropped, allocator, leaks), Shape.of(3));
        assertEquals(24, allocator.bytesInUse(), "the dropped buffer's block is still in use");
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (leaks.buffers() == 0 && System.nanoTime() < deadline) {
            System.gc();
            Thread.sleep(20);
        }
        for (int i = 0; i < 5; i++) {  // give a wrong second report the chance to show up
            System.gc();
            Thread.sleep(20);
        }
        assertEquals(1, leaks.buffers(), "one leaked buffer");
        assertEquals(24, leaks.bytes(), "its block's bytes");
        assertEquals(24, allocator.bytesInUse(), "reported, not freed");
        allocator.emptyCache();
        backend().driver().free(dropped);  // the driver is shared: leave it holding only the backend's blocks
    }

    @Test
    void insideAScopeTheSavedTensorsAreFreed() {
        CudaBackend backend = backend();
        long before = backend.bytesInUse();
        try (Scope scope = Scope.open()) {
            forwardBackward(CudaTestSupport.device());
        }
        assertEquals(before, backend.bytesInUse(), "a scope frees the intermediates and the saved tensors");
    }

    @Test
    void withoutAScopeTheyStayInUseAndAreReportedOnceCollected() throws InterruptedException {
        CudaBackend backend = backend();
        long before = backend.bytesInUse();
        long reportedBefore = backend.leakedBytes();
        forwardBackward(CudaTestSupport.device());
        long leaked = backend.bytesInUse() - before;
        assertTrue(leaked > 0, "with no scope open, the pass's intermediates and saved tensors stay in device memory");
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (backend.leakedBytes() - reportedBefore < leaked && System.nanoTime() < deadline) {
            System.gc();
            Thread.sleep(20);
        }
        // At least: other tests' unclosed tensors may be collected in the same window.
        assertTrue(backend.leakedBytes() - reportedBefore >= leaked, "the leak report covers the " + leaked
                + " bytes left behind; reported " + (backend.leakedBytes() - reportedBefore));
        assertEquals(before + leaked, backend.bytesInUse(),
                "the collector only reports: leaked device memory is never freed behind the stream's back");
    }
}
