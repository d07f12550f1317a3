package io.jnorm.io;

import io.jnorm.tensor.Tensor;
import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Enumeration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;

/**
 * Reads and writes NumPy {@code .npz} archives: a zip of {@code <name>.npy} members, as
 * {@code numpy.savez} / {@code savez_compressed} write them and {@code numpy.load} reads them.
 * This is jnorm's state-dictionary format: names such as {@code "layer1.running_mean"} map to
 * arrays, in the order given.
 *
 * <p>Members may be stored or deflated (ZIP64 included, as NumPy writes it). Names are the member
 * names without their {@code .npy} suffix; members that are not {@code .npy} are an error.
 */
public final class Npz {
    private static final String SUFFIX = ".npy";

    private Npz() {
    }

    /**
     * Every array of an archive, in archive order.
     *
     * @throws IllegalArgumentException for a member that is not a supported .npy image
     */
    public static Map<String, NpyArray> readArrays(Path path) {
        Map<String, NpyArray> out = new LinkedHashMap<>();
        try (ZipFile zip = new ZipFile(path.toFile())) {
            Enumeration<? extends ZipEntry> entries = zip.entries();
            while (entries.hasMoreElements()) {
                ZipEntry e = entries.nextElement();
                if (e.isDirectory()) {
                    continue;
                }
                String member = e.getName();
                if (!member.endsWith(SUFFIX)) {
                    throw new IllegalArgumentException("Npz: " + path + " holds member '" + member
                            + "', which is not a .npy array");
                }
                String name = member.substring(0, member.length() - SUFFIX.length());
                try (InputStream in = zip.getInputStream(e)) {
                    out.put(name, Npy.decode(in, path + "[" + member + "]"));
                }
            }
        } catch (ZipException e) {
            throw new IllegalArgumentException("Npz: " + path + " is not a readable zip archive: " + e.getMessage(), e);
        } catch (IOException e) {
            throw new UncheckedIOException("Npz: cannot read " + path + ": " + e.getMessage(), e);
        }
        return out;
    }

    /**
     * Every array as a CPU tensor (float32 stays float32, others become float64), in archive
     * order. The caller owns the tensors.
     */
    public static Map<String, Tensor> read(Path path) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        try {
            for (Map.Entry<String, NpyArray> e : readArrays(path).entrySet()) {
                out.put(e.getKey(), e.getValue().toTensor());
            }
        } catch (RuntimeException e) {
            out.values().forEach(Tensor::close);
            throw e;
        }
        return out;
    }

    /** Writes tensors as a deflated archive ({@code numpy.savez_compressed} layout). */
    public static void write(Path path, Map<String, Tensor> tensors) {
        Map<String, NpyArray> arrays = new LinkedHashMap<>();
        for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
            arrays.put(e.getKey(), NpyArray.of(e.getValue()));
        }
        writeArrays(path, arrays, true);
    }

    /**
     * Writes arrays, deflated when {@code compress} is true, stored otherwise
     * ({@code numpy.savez} layout).
     *
     * @throws IllegalArgumentException for an empty name or one NumPy could not round-trip
     */
    public static void writeArrays(Path path, Map<String, NpyArray> arrays, boolean compress) {
        for (String name : arrays.keySet()) {
            if (name.isEmpty() || name.startsWith("/") || name.contains("\\")) {
                throw new IllegalArgumentException("Npz: array name '" + name
                        + "' must be non-empty, relative and without backslashes");
            }
        }
        try (OutputStream file = new BufferedOutputStream(Files.newOutputStream(path));
             ZipOutputStream zip = new ZipOutputStream(file)) {
            for (Map.Entry<String, NpyArray> e : arrays.entrySet()) {
                ByteArrayOutputStream bytes = new ByteArrayOutputStream();
                Npy.encode(e.getValue(), bytes);
                ZipEntry entry = new ZipEntry(e.getKey() + SUFFIX);
                if (compress) {
                    entry.setMethod(ZipEntry.DEFLATED);
                } else {
                    // A stored entry needs its size and CRC up front (no data descriptor).
                    CRC32 crc = new CRC32();
                    crc.update(bytes.toByteArray());
                    entry.setMethod(ZipEntry.STORED);
                    entry.setSize(bytes.size());
                    entry.setCompressedSize(bytes.size());
                    entry.setCrc(crc.getValue());
                }
                zip.putNextEntry(entry);
                bytes.writeTo(zip);
                zip.closeEntry();
            }
        } catch (IOException e) {
            throw new UncheckedIOException("Npz: cannot write " + path + ": " + e.getMessage(), e);
        }
    }
}
