package io.spillway.engine.model;

import com.fasterxml.jackson.databind.JsonNode;
import io.spillway.engine.CheckpointException;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One {@code .safetensors} file, memory-mapped: an 8-byte little-endian header length, a JSON header
 * naming each tensor's dtype, shape and byte range, then the raw data. Every range is checked against
 * the file's size up front so a truncated download fails at load, naming the tensor, not later as a crash.
 */
public final class SafetensorsFile {
    private static final long MAX_HEADER = 100L * 1024 * 1024;

    private final Path file;
    private final Map<String, Tensor> tensors;

    private SafetensorsFile(Path file, Map<String, Tensor> tensors) {
        this.file = file;
        this.tensors = tensors;
    }

    /** Maps {@code file} into {@code arena}; the tensors stay valid until the arena closes. */
    public static SafetensorsFile open(Path file, Arena arena) {
        MemorySegment all;
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            all = ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size(), arena);
        } catch (NoSuchFileException e) {
            throw new CheckpointException(file, "file not found");
        } catch (IOException e) {
            throw new CheckpointException(file, "cannot map: " + e.getMessage(), e);
        }
        if (all.byteSize() < 8) {
            throw new CheckpointException(file, "truncated: " + all.byteSize() + " bytes, too short for a safetensors header");
        }
        long headerLen = all.get(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN), 0);
        if (headerLen <= 0 || headerLen > MAX_HEADER || headerLen > all.byteSize() - 8) {
            throw new CheckpointException(file, "header length " + headerLen + " does not fit the file's "
                    + all.byteSize() + " bytes: truncated or not a safetensors file");
        }
        byte[] headerBytes = all.asSlice(8, headerLen).toArray(ValueLayout.JAVA_BYTE);
        JsonNode header = Json.parse(file, new String(headerBytes, StandardCharsets.UTF_8));
        MemorySegment data = all.asSlice(8 + headerLen);
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        for (var entry : header.properties()) {
            if (!entry.getKey().equals("__metadata__")) {
                tensors.put(entry.getKey(), tensor(file, entry.getKey(), entry.getValue(), data));
            }
        }
        return new SafetensorsFile(file, tensors);
    }

    private static Tensor tensor(Path file, String name, JsonNode node, MemorySegment data) {
        String field = name;
        JsonNode dtypeNode = node.get("dtype");
        if (dtypeNode == null || !dtypeNode.isTextual()) {
            throw new CheckpointException(file, field + ".dtype", "missing");
        }
        DType dtype = DType.fromSafetensors(dtypeNode.asText()).orElseThrow(() -> new CheckpointException(file,
                field + ".dtype", "unsupported dtype " + dtypeNode.asText() + " (supported: BF16, F16, F32)"));
        JsonNode shapeNode = node.get("shape");
        if (shapeNode == null || !shapeNode.isArray()) {
            throw new CheckpointException(file, field + ".shape", "missing");
        }
        long[] shape = new long[shapeNode.size()];
        long elements = 1;
        for (int i = 0; i < shape.length; i++) {
            if (!shapeNode.get(i).canConvertToLong() || shapeNode.get(i).asLong() < 0) {
                throw new CheckpointException(file, field + ".shape", "expected non-negative integers, found " + shapeNode);
            }
            shape[i] = shapeNode.get(i).asLong();
            elements *= shape[i];
        }
        JsonNode offsets = node.get("data_offsets");
        if (offsets == null || !offsets.isArray() || offsets.size() != 2) {
            throw new CheckpointException(file, field + ".data_offsets", "expected [begin, end]");
        }
        long begin = offsets.get(0).asLong(-1);
        long end = offsets.get(1).asLong(-1);
        if (begin < 0 || end < begin || end - begin != elements * dtype.bytes()) {
            throw new CheckpointException(file, field + ".data_offsets", "[" + begin + ", " + end + "] does not hold "
                    + elements + " " + dtype + " elements");
        }
        if (end > data.byteSize()) {
            throw new CheckpointException(file, field + ".data_offsets", "truncated file: the tensor ends at byte "
                    + end + " of the data section but only " + data.byteSize() + " bytes are present");
        }
        return new Tensor(name, file, dtype, shape, data.asSlice(begin, end - begin));
    }

    public Path file() {
        return file;
    }

    public Map<String, Tensor> tensors() {
        return tensors;
    }
}
