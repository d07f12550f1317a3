package io.jnorm.backend.cuda;

import io.jnorm.tensor.Device;
import io.jnorm.tensor.Scope;
import io.jnorm.tensor.Tensor;
import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.lang.reflect.RecordComponent;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A kernel family with no CUDA kernels yet, run on the CPU reference through host copies, and
 * said so: the first call of each method logs "family.method: no CUDA kernel yet, ran on the CPU
 * reference", and every call is counted in the backend's {@link LaunchLog#fallbackCounts()}.
 *
 * <p>Why a proxy over the family interface and not hand-written adapters: the families are being
 * filled by other issues (the norm interfaces grow method by method); a proxy covers every
 * method they add without an edit here, until a CUDA implementation replaces the fallback.
 *
 * <p>A call copies every device tensor argument (also inside arrays and records such as
 * {@code SwitchableNormKernels.Stats}) to a CPU tensor, runs the reference, and copies back
 * every CPU tensor whose values changed: the outputs, and the in-place state (running
 * statistics). Arguments that are not tensors pass through unchanged. Slow, correct, honest.
 */
final class HostFallback implements InvocationHandler {
    private static final System.Logger LOG = System.getLogger(HostFallback.class.getName());

    private final String family;
    private final Object cpu;
    private final CudaBackend backend;
    private final Set<String> reported = ConcurrentHashMap.newKeySet();

    private HostFallback(String family, Object cpu, CudaBackend backend) {
        this.family = family;
        this.cpu = cpu;
        this.backend = backend;
    }

    /** {@code cpu}'s family, callable with tensors of {@code backend}'s device. */
    static <T> T of(Class<T> type, String family, T cpu, CudaBackend backend) {
        Object p = Proxy.newProxyInstance(type.getClassLoader(), new Class<?>[] {type},
                new HostFallback(family, cpu, backend));
        return type.cast(p);
    }

    @Override
    public Object invoke(Object proxy, Method method, Object[] args) throws Throwable {
        if (method.getDeclaringClass() == Object.class) {
            return switch (method.getName()) {
                case "toString" -> "HostFallback(" + family + " on " + backend.device() + ")";
                case "hashCode" -> System.identityHashCode(proxy);
                case "equals" -> proxy == args[0];
                default -> throw new IllegalStateException("unexpected Object method " + method);
            };
        }
        String op = family + "." + method.getName();
        if (reported.add(op)) {
            LOG.log(System.Logger.Level.WARNING, op + ": no CUDA kernel yet, ran on the CPU reference (host copies) on "
                    + backend.device());
        }
        backend.launchLog().fellBack(op);
        List<Tensor[]> pairs = new ArrayList<>();
        try (Scope scope = Scope.open()) {
            Object[] hostArgs = args == null ? null : new Object[args.length];
            for (int i = 0; hostArgs != null && i < args.length; i++) {
                hostArgs[i] = toHost(args[i], pairs);
            }
            double[][] before = new double[pairs.size()][];
            for (int i = 0; i < before.length; i++) {
                before[i] = pairs.get(i)[1].toDoubleArray();
            }
            Object result;
            try {
                result = method.invoke(cpu, hostArgs);
            } catch (InvocationTargetException e) {
                throw e.getCause();
            }
            for (int i = 0; i < before.length; i++) {
                double[] after = pairs.get(i)[1].toDoubleArray();
                if (!Arrays.equals(before[i], after)) {
                    backend.upload(pairs.get(i)[0], after);
                }
            }
            if (result instanceof Tensor t && t.device().equals(Device.CPU)) {
                // A family method that returns a tensor returns it on the caller's device.
                return scope.keep(Tensor.fromDoubles(t.toDoubleArray(), t.shape(), t.dtype(), backend.device()));
            }
            return result;
        }
    }

    /** The host counterpart of one argument; records (device, host) tensor pairs. */
    private Object toHost(Object arg, List<Tensor[]> pairs) throws ReflectiveOperationException {
        if (arg instanceof Tensor t) {
            if (!t.device().equals(backend.device())) {
                return t;
            }
            for (Tensor[] p : pairs) {
                if (p[0] == t) {
                    return p[1];
                }
            }
            Tensor host = Tensor.fromDoubles(t.toDoubleArray(), t.shape(), t.dtype(), Device.CPU);
            pairs.add(new Tensor[] {t, host});
            return host;
        }
        if (arg instanceof Tensor[] ts) {
            Tensor[] h = new Tensor[ts.length];
            for (int i = 0; i < ts.length; i++) {
                h[i] = ts[i] == null ? null : (Tensor) toHost(ts[i], pairs);
            }
            return h;
        }
        if (arg instanceof Record r && holdsTensors(r)) {
            RecordComponent[] rc = r.getClass().getRecordComponents();
            Object[] values = new Object[rc.length];
            Class<?>[] types = new Class<?>[rc.length];
            for (int i = 0; i < rc.length; i++) {
                types[i] = rc[i].getType();
                values[i] = toHost(rc[i].getAccessor().invoke(r), pairs);
            }
            Constructor<?> c = r.getClass().getDeclaredConstructor(types);
            c.setAccessible(true);
            return c.newInstance(values);
        }
        return arg;
    }

    private static boolean holdsTensors(Record r) {
        for (RecordComponent c : r.getClass().getRecordComponents()) {
            if (c.getType() == Tensor.class || c.getType() == Tensor[].class) {
                return true;
            }
        }
        return false;
    }
}
