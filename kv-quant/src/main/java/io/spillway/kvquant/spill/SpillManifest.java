package io.spillway.kvquant.spill;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Collections;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * What a spilled cache was made for and how it is shaped: the header of every spill blob. A reader
 * compares it with its own {@link SpillExpectation} before it hands out a single byte of cache content.
 *
 * @param formatVersion    the container format version; writers write {@link #FORMAT_VERSION}
 * @param modelFingerprint identifies the model weights the KV values came from
 * @param method           the KV method spec, e.g. {@code rotatekv2} or {@code rotatekv2:group=64}
 * @param keyBits          bits per key code (0 where the method does not quantize)
 * @param valueBits        bits per value code
 * @param groupSize        quantization group size
 * @param calibrationId    {@code Calibration.id()} of the channel orders used, {@code ""} for none
 * @param layers           transformer layers in the cache
 * @param kvDim            KV channels per token and layer (KV heads x head dim)
 * @param blockTokens      tokens per paged block
 * @param tokenCount       tokens in the cache
 * @param extra            free-form attributes for the cache class (e.g. its own content layout version);
 *                         stored sorted by key so equal manifests encode to equal bytes
 */
public record SpillManifest(int formatVersion, String modelFingerprint, String method, int keyBits, int valueBits,
                            int groupSize, String calibrationId, int layers, int kvDim, int blockTokens, int tokenCount,
                            Map<String, String> extra) {

    /** The container format this code writes, and the newest it reads. */
    public static final int FORMAT_VERSION = 1;

    public SpillManifest {
        if (formatVersion < 1) {
            throw new IllegalArgumentException("format version must be at least 1, got " + formatVersion);
        }
        requireText(modelFingerprint, "modelFingerprint");
        requireText(method, "method");
        Objects.requireNonNull(calibrationId, "calibrationId (use \"\" for none)");
        nonNegative(keyBits, "keyBits");
        nonNegative(valueBits, "valueBits");
        nonNegative(groupSize, "groupSize");
        nonNegative(layers, "layers");
        nonNegative(kvDim, "kvDim");
        nonNegative(blockTokens, "blockTokens");
        nonNegative(tokenCount, "tokenCount");
        Objects.requireNonNull(extra, "extra");
        TreeMap<String, String> sorted = new TreeMap<>();
        extra.forEach((k, v) -> {
            if (k == null || k.isEmpty() || v == null) {
                throw new IllegalArgumentException("extra entries need a non-empty key and a non-null value: " + k + "=" + v);
            }
            sorted.put(k, v);
        });
        extra = Collections.unmodifiableMap(sorted);
    }

    /** A manifest of the current {@link #FORMAT_VERSION}. */
    public SpillManifest(String modelFingerprint, String method, int keyBits, int valueBits, int groupSize,
                         String calibrationId, int layers, int kvDim, int blockTokens, int tokenCount,
                         Map<String, String> extra) {
        this(FORMAT_VERSION, modelFingerprint, method, keyBits, valueBits, groupSize, calibrationId, layers, kvDim,
                blockTokens, tokenCount, extra);
    }

    private static void requireText(String s, String field) {
        if (s == null || s.isEmpty()) {
            throw new IllegalArgumentException(field + " must be a non-empty string");
        }
    }

    private static void nonNegative(int v, String field) {
        if (v < 0) {
            throw new IllegalArgumentException(field + " must not be negative, got " + v);
        }
    }

    /** Format-1 encoding: big-endian ints, strings as an int byte length then UTF-8. */
    byte[] encode() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeInt(formatVersion);
            writeString(out, modelFingerprint, "modelFingerprint");
            writeString(out, method, "method");
            out.writeInt(keyBits);
            out.writeInt(valueBits);
            out.writeInt(groupSize);
            writeString(out, calibrationId, "calibrationId");
            out.writeInt(layers);
            out.writeInt(kvDim);
            out.writeInt(blockTokens);
            out.writeInt(tokenCount);
            out.writeInt(extra.size());
            for (var e : extra.entrySet()) {
                writeString(out, e.getKey(), "extra key");
                writeString(out, e.getValue(), "extra value");
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e); // a ByteArrayOutputStream does not fail
        }
        if (bytes.size() > SpillFormat.MAX_MANIFEST_BYTES) {
            throw new IllegalArgumentException("manifest of " + bytes.size() + " bytes exceeds the limit of "
                    + SpillFormat.MAX_MANIFEST_BYTES + " bytes");
        }
        return bytes.toByteArray();
    }

    private static void writeString(DataOutputStream out, String s, String what) throws IOException {
        byte[] b = SpillFormat.utf8(s, what);
        out.writeInt(b.length);
        out.write(b);
    }

    /**
     * Decodes {@link #encode}'s bytes. They passed their CRC already, so a failure here means a writer
     * bug or damage the CRC missed: either way corrupt, and never an exception of another type.
     */
    static SpillManifest decode(byte[] bytes) throws SpillCorruptException {
        DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes));
        try {
            int version = in.readInt();
            String model = readString(in, "modelFingerprint");
            String method = readString(in, "method");
            int keyBits = in.readInt();
            int valueBits = in.readInt();
            int groupSize = in.readInt();
            String calibration = readString(in, "calibrationId");
            int layers = in.readInt();
            int kvDim = in.readInt();
            int blockTokens = in.readInt();
            int tokenCount = in.readInt();
            int extras = in.readInt();
            // Each entry takes at least 8 bytes (two lengths): bounds the count before any allocation.
            if (extras < 0 || extras > in.available() / 8) {
                throw new SpillCorruptException("corrupt spill manifest: " + extras + " extra entries in "
                        + in.available() + " remaining bytes");
            }
            TreeMap<String, String> extra = new TreeMap<>();
            for (int i = 0; i < extras; i++) {
                extra.put(readString(in, "extra key"), readString(in, "extra value"));
            }
            if (in.available() > 0) {
                throw new SpillCorruptException("corrupt spill manifest: " + in.available() + " bytes after its last field");
            }
            return new SpillManifest(version, model, method, keyBits, valueBits, groupSize, calibration, layers, kvDim,
                    blockTokens, tokenCount, extra);
        } catch (EOFException e) {
            throw new SpillCorruptException("corrupt spill manifest: its fields run past its " + bytes.length + " bytes", e);
        } catch (IllegalArgumentException e) {
            throw new SpillCorruptException("corrupt spill manifest: " + e.getMessage(), e);
        } catch (SpillCorruptException e) {
            throw e;
        } catch (IOException e) {
            throw new SpillCorruptException("corrupt spill manifest: " + e.getMessage(), e);
        }
    }

    private static String readString(DataInputStream in, String what) throws IOException {
        int n = in.readInt();
        if (n < 0 || n > in.available()) {
            throw new SpillCorruptException("corrupt spill manifest: " + what + " length " + n + " with "
                    + in.available() + " bytes left");
        }
        byte[] b = in.readNBytes(n);
        String s = SpillFormat.utf8OrNull(b);
        if (s == null) {
            throw new SpillCorruptException("corrupt spill manifest: " + what + " is not UTF-8");
        }
        return s;
    }
}
