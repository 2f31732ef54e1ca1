package io.spillway.kvquant;

/**
 * RotateKV's transform of one layer's KV rows: a normalized Walsh-Hadamard over each group of
 * {@code rotationSize} channels (a group of heads for keys, one head for values), then an optional
 * gather {@code out[i] = rotated[order[i]]} that puts channels of like magnitude into the same
 * quantization group. Both steps are orthogonal, so {@link #inverse} undoes {@link #forward} exactly
 * up to rounding.
 */
public final class ChannelRotation {
    private static final ThreadLocal<float[]> SCRATCH = ThreadLocal.withInitial(() -> new float[0]);

    private final int dim;
    private final int rotationSize;
    private final int[] order;

    /**
     * @param rotationSize channels per Hadamard group (a power of two dividing {@code dim}); 1 = no rotation
     * @param order        channel gather order, a permutation of {@code [0, dim)}; null = none
     */
    public ChannelRotation(int dim, int rotationSize, int[] order) {
        if (rotationSize < 1 || dim % rotationSize != 0 || (rotationSize > 1 && !Hadamard.supports(rotationSize))) {
            throw new IllegalArgumentException("rotation size " + rotationSize + " must be a power of two dividing " + dim);
        }
        if (order != null) {
            checkPermutation(order, dim);
        }
        this.dim = dim;
        this.rotationSize = rotationSize;
        this.order = order == null ? null : order.clone();
    }

    static void checkPermutation(int[] order, int dim) {
        if (order.length != dim) {
            throw new IllegalArgumentException("channel order has " + order.length + " entries, expected " + dim);
        }
        boolean[] seen = new boolean[dim];
        for (int o : order) {
            if (o < 0 || o >= dim || seen[o]) {
                throw new IllegalArgumentException("channel order is not a permutation of [0, " + dim + ")");
            }
            seen[o] = true;
        }
    }

    public int dim() {
        return dim;
    }

    public void forward(float[] x, int off) {
        if (rotationSize > 1) {
            for (int g = 0; g < dim; g += rotationSize) {
                Hadamard.transform(x, off + g, rotationSize);
            }
        }
        if (order != null) {
            float[] tmp = scratch();
            System.arraycopy(x, off, tmp, 0, dim);
            for (int i = 0; i < dim; i++) {
                x[off + i] = tmp[order[i]];
            }
        }
    }

    public void inverse(float[] x, int off) {
        if (order != null) {
            float[] tmp = scratch();
            System.arraycopy(x, off, tmp, 0, dim);
            for (int i = 0; i < dim; i++) {
                x[off + order[i]] = tmp[i];
            }
        }
        if (rotationSize > 1) {
            for (int g = 0; g < dim; g += rotationSize) {
                Hadamard.transform(x, off + g, rotationSize);
            }
        }
    }

    private float[] scratch() {
        float[] s = SCRATCH.get();
        if (s.length < dim) {
            s = new float[dim];
            SCRATCH.set(s);
        }
        return s;
    }
}
