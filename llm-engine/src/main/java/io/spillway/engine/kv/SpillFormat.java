package io.spillway.engine.kv;

/**
 * The shape and encoding of a cache's stored bits: what a spill manifest records and a restoring
 * worker must match.
 *
 * @param method        KV method name, e.g. {@code rotatekv2} or {@code fp16}
 * @param keyBits       bits per stored key element
 * @param valueBits     bits per stored value element
 * @param groupSize     quantization group size, 0 when not quantized
 * @param calibrationId the channel orders used, {@code ""} for none
 * @param layout        layers and KV width
 * @param blockTokens   tokens per paged block
 */
public record SpillFormat(String method, int keyBits, int valueBits, int groupSize, String calibrationId, KvLayout layout,
                          int blockTokens) {
}
