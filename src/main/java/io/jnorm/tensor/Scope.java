package io.jnorm.tensor;

import java.util.ArrayDeque;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Set;

/**
 * Frees, when closed, every tensor created inside it except those the caller keeps.
 *
 * <pre>{@code
 * try (Scope scope = Scope.open()) {
 *     Tensor y = model.forward(x);
 *     Tensor loss = ...;
 *     loss.backward();
 *     return scope.keep(loss.detach());
 * } // every other intermediate (device memory included) is freed here
 * }</pre>
 *
 * Scopes nest per thread; a kept tensor moves to the enclosing scope (or becomes unmanaged at
 * the outermost one). Tensors made outside any scope are the caller's to close. Gradients of
 * leaves and module parameters are owned by their tensor or module, never by a scope.
 *
 * <h2>Saved tensors of autograd need a scope</h2>
 * The tensors an op keeps for its backward (inputs, masks, a norm's mean and rstd) belong to the
 * scope that was open when the op ran, like any other tensor it made. {@code backward()} drops
 * each node's closure after using it but does not free what the closure held (the same tensors
 * may still be in the caller's hands), and the garbage collector never frees device memory. So
 * on a GPU, run forward and backward inside a scope: with none open, every intermediate and
 * saved tensor of the pass stays in device memory until the backend closes. The cuda backend
 * reports such buffers once they are unreachable ({@code CudaBackend.leakedBuffers()},
 * {@code leakedBytes()}, and a warning for the first), but does not free them.
 */
public final class Scope implements AutoCloseable {
    private static final ThreadLocal<ArrayDeque<Scope>> STACK = ThreadLocal.withInitial(ArrayDeque::new);

    private final Set<Tensor> owned = Collections.newSetFromMap(new IdentityHashMap<>());
    private final Thread thread = Thread.currentThread();
    private boolean closed;

    private Scope() {
    }

    /** Opens a scope on this thread; close it with try-with-resources. */
    public static Scope open() {
        Scope s = new Scope();
        STACK.get().push(s);
        return s;
    }

    static void adopt(Tensor t) {
        Scope top = STACK.get().peek();
        if (top != null) {
            top.owned.add(t);
            t.owner = top;
        }
    }

    /**
     * Keeps a tensor alive past this scope: it moves to the enclosing scope, or becomes the
     * caller's to close when this is the outermost one.
     */
    public <T extends Tensor> T keep(T t) {
        if (t.owner == this) {
            owned.remove(t);
            t.owner = null;
            ArrayDeque<Scope> stack = STACK.get();
            boolean passed = false;
            for (Scope s : stack) {
                if (passed) {
                    s.owned.add(t);
                    t.owner = s;
                    break;
                }
                passed = s == this;
            }
        }
        return t;
    }

    /**
     * Takes a tensor out of whatever scope owns it; from now on its owner (a module holding a
     * parameter, a leaf holding its gradient, or the user) closes it.
     */
    public static <T extends Tensor> T escape(T t) {
        Scope s = t.owner;
        if (s != null) {
            s.owned.remove(t);
            t.owner = null;
        }
        return t;
    }

    static void forget(Scope s, Tensor t) {
        if (!s.closed) {
            s.owned.remove(t);
        }
    }

    /** Number of tensors this scope will free. */
    public int size() {
        return owned.size();
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        if (Thread.currentThread() != thread) {
            throw new IllegalStateException("Scope closed on thread " + Thread.currentThread().getName()
                    + " but opened on " + thread.getName());
        }
        ArrayDeque<Scope> stack = STACK.get();
        if (stack.peek() != this) {
            throw new IllegalStateException("Scope closed out of order: close inner scopes first");
        }
        stack.pop();
        closed = true;
        Tensor[] toFree = owned.toArray(new Tensor[0]);
        owned.clear();
        for (Tensor t : toFree) {
            t.owner = null;
            t.close();
        }
    }
}
