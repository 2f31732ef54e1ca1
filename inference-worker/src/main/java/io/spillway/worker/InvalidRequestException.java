package io.spillway.worker;

/** A request the worker will not run; {@code code} goes into the requester's error event. */
final class InvalidRequestException extends RuntimeException {
    @java.io.Serial
    private static final long serialVersionUID = 1L;

    private final String code;

    InvalidRequestException(String code, String message) {
        super(message);
        this.code = code;
    }

    String code() {
        return code;
    }
}
