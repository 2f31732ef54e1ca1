package io.spillway.engine.generate;

/** A handle on a submitted request. */
public interface Generation {

    /** Stops the generation at the next engine step; its listener gets {@link FinishReason#CANCELLED}. */
    void cancel();

    boolean isDone();
}
