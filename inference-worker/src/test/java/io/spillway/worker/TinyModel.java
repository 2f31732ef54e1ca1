package io.spillway.worker;

import io.spillway.engine.model.ModelConfig;
import io.spillway.engine.runtime.Decoder;
import io.spillway.engine.runtime.LlamaModel;
import io.spillway.engine.tokenizer.Tokenizer;

import java.util.List;

/** The tiny model and its tokenizer, loaded once for the tests that drive the engine directly; the JVM's exit frees them. */
final class TinyModel {
    static final LlamaModel MODEL = LlamaModel.load(WorkerIntegrationTest.modelDir());
    static final Tokenizer TOKENIZER = Tokenizer.load(WorkerIntegrationTest.modelDir());

    private TinyModel() {
    }

    /** The tiny model, each forward pass running {@code beforePass} first: a wait, or a failure that throws. */
    record Hooked(Runnable beforePass) implements Decoder {
        @Override
        public ModelConfig config() {
            return MODEL.config();
        }

        @Override
        public float[][] forward(List<LlamaModel.Step> steps) {
            beforePass.run();
            return MODEL.forward(steps);
        }

        @Override
        public void close() {
        }
    }
}
