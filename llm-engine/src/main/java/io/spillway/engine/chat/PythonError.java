package io.spillway.engine.chat;

import java.io.Serial;

/**
 * What Python raises as a TypeError or ValueError in a template, e.g. {@code 'a'.split('')}.
 * Not an IllegalArgumentException: Jinjava takes that, from a method call, for "no such method".
 */
final class PythonError extends RuntimeException {

    @Serial
    private static final long serialVersionUID = 1L;

    PythonError(String message) {
        super(message);
    }
}
