package io.spillway.worker;

import io.spillway.engine.generate.FinishReason;
import io.spillway.engine.generate.GenerationListener;

/** The listener of a generation whose output a test does not read; the engine failing on it fails the test. */
final class UnreadOutput implements GenerationListener {
    @Override
    public void onToken(int tokenId, String text) {
    }

    @Override
    public void onFinish(FinishReason reason, Usage usage) {
    }

    @Override
    public void onFailure(RuntimeException cause) {
        throw new AssertionError("the generation failed", cause);
    }
}
