package io.spillway.engine.model;

import java.util.Optional;

/** Tensor element types the engine reads; names as safetensors writes them. */
public enum DType {
    BF16(2), F16(2), F32(4);

    private final int bytes;

    DType(int bytes) {
        this.bytes = bytes;
    }

    public int bytes() {
        return bytes;
    }

    public static Optional<DType> fromSafetensors(String name) {
        return switch (name) {
            case "BF16" -> Optional.of(BF16);
            case "F16" -> Optional.of(F16);
            case "F32" -> Optional.of(F32);
            default -> Optional.empty();
        };
    }
}
