package io.spillway.engine.backend;

import java.util.Locale;

/** Which device runs the forward pass: the CPU, a CUDA GPU, or a GPU where one is usable and the CPU otherwise. */
public enum Backend {
    CPU, CUDA, AUTO;

    /** {@code cpu}, {@code cuda} or {@code auto}, or an error naming them. */
    public static Backend parse(String name) {
        try {
            return valueOf(name.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("backend must be cpu, cuda or auto, got '" + name + "'");
        }
    }
}
