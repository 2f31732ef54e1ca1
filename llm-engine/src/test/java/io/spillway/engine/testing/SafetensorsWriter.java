package io.spillway.engine.testing;

import io.spillway.engine.model.DType;
import io.spillway.engine.model.Json;
import io.spillway.engine.model.Tensor;
import io.spillway.engine.tensor.WeightMatrix;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/** Writes safetensors files for tests: re-typed or re-sharded copies of a real checkpoint, or hand-made tensors. */
public final class SafetensorsWriter {
    private final Map<String, long[]> shapes = new LinkedHashMap<>();
    private final Map<String, float[]> values = new LinkedHashMap<>();

    public SafetensorsWriter add(String name, long[] shape, float[] data) {
        shapes.put(name, shape);
        values.put(name, data);
        return this;
    }

    public SafetensorsWriter add(Tensor t) {
        float[] v = new float[(int) t.elements()];
        new WeightMatrix(t.data(), t.dtype(), 1, v.length).rowsToFloat(0, 1, v, 0);
        return add(t.name(), t.shape(), v);
    }

    public void write(Path file, DType dtype) throws IOException {
        Map<String, Object> header = new LinkedHashMap<>();
        long offset = 0;
        for (var e : shapes.entrySet()) {
            long bytes = (long) values.get(e.getKey()).length * dtype.bytes();
            header.put(e.getKey(), Map.of("dtype", dtype.name(), "shape", e.getValue(), "data_offsets", new long[] {offset, offset + bytes}));
            offset += bytes;
        }
        byte[] json = Json.mapper().writeValueAsString(header).getBytes(StandardCharsets.UTF_8);
        ByteBuffer buf = ByteBuffer.allocate((int) (8 + json.length + offset)).order(ByteOrder.LITTLE_ENDIAN);
        buf.putLong(json.length).put(json);
        for (float[] v : values.values()) {
            for (float f : v) {
                switch (dtype) {
                    case F32 -> buf.putFloat(f);
                    case F16 -> buf.putShort(Float.floatToFloat16(f));
                    case BF16 -> buf.putShort((short) (Float.floatToRawIntBits(f) >>> 16));
                }
            }
        }
        Files.write(file, buf.array());
    }
}
