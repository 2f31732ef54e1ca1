package io.spillway.engine.runtime;

import io.spillway.engine.model.ModelConfig;

import java.util.List;

/** A forward pass over batched steps, on whichever backend holds the weights (CPU or CUDA). */
public interface Decoder extends AutoCloseable {

    ModelConfig config();

    /** See {@link LlamaModel#forward}: the same contract for every backend. */
    float[][] forward(List<LlamaModel.Step> steps);

    @Override
    void close();
}
