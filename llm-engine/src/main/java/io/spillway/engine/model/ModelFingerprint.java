package io.spillway.engine.model;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import java.util.TreeMap;

/**
 * A short digest that tells checkpoints apart: every tensor's name, dtype and shape, and a sample of
 * its bytes (the first and last 4 KiB), so a fine-tune with the same shapes differs too. Cheap on a
 * memory-mapped checkpoint: nothing is read in full. Calibrations and spilled caches carry it.
 */
public final class ModelFingerprint {
    private static final long SAMPLE = 4096;

    private ModelFingerprint() {
    }

    public static String of(Map<String, Tensor> tensors) {
        MessageDigest sha;
        try {
            sha = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        for (Tensor t : new TreeMap<>(tensors).values()) {
            sha.update((t.name() + ' ' + t.dtype() + ' ' + java.util.Arrays.toString(t.shape()) + '\n').getBytes(StandardCharsets.UTF_8));
            MemorySegment d = t.data();
            long head = Math.min(SAMPLE, d.byteSize());
            sha.update(d.asSlice(0, head).toArray(ValueLayout.JAVA_BYTE));
            long tail = Math.min(SAMPLE, d.byteSize() - head);
            sha.update(d.asSlice(d.byteSize() - tail, tail).toArray(ValueLayout.JAVA_BYTE));
        }
        return HexFormat.of().formatHex(sha.digest(), 0, 12);
    }
}
