package io.spillway.engine.model;

import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * A named tensor as it lies in a memory-mapped checkpoint file: no copy on the Java heap.
 *
 * @param data the tensor's bytes, little-endian, row-major
 */
public record Tensor(String name, Path file, DType dtype, long[] shape, MemorySegment data) {

    public long elements() {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        return n;
    }

    public int rows() {
        return (int) shape[0];
    }

    /** Elements per row: the product of all dimensions after the first. */
    public int cols() {
        return shape.length == 1 ? 1 : (int) (elements() / shape[0]);
    }

    @Override
    public String toString() {
        return name + " " + dtype + Arrays.toString(shape);
    }
}
