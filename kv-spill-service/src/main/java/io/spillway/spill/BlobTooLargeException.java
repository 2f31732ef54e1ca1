package io.spillway.spill;

/** A blob that grew past the configured maximum while it was streamed in. */
public class BlobTooLargeException extends RuntimeException {
    private final long maxBytes;

    public BlobTooLargeException(long maxBytes) {
        super("blob larger than the limit of " + maxBytes + " bytes");
        this.maxBytes = maxBytes;
    }

    public long maxBytes() {
        return maxBytes;
    }
}
