package io.spillway.worker;

import io.spillway.engine.runtime.LlamaModel;
import io.spillway.engine.tokenizer.Tokenizer;

/** The tiny model and its tokenizer, loaded once for the tests that drive the engine directly; the JVM's exit frees them. */
final class TinyModel {
    static final LlamaModel MODEL = LlamaModel.load(WorkerIntegrationTest.modelDir());
    static final Tokenizer TOKENIZER = Tokenizer.load(WorkerIntegrationTest.modelDir());

    private TinyModel() {
    }
}
