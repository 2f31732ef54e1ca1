package io.spillway.engine.kv;

import java.util.PriorityQueue;

/**
 * Attention-sink detection as RotateKV does it: the {@code k} hidden-state activations of largest
 * magnitude seen so far in a layer's input; the tokens owning any of them are the sinks. A token's
 * activations are fixed when it is written, so a token that is not among them then never becomes one.
 */
final class SinkTracker {
    private record Activation(float magnitude, int position) {
    }

    private final int k;
    private final PriorityQueue<Activation> top;
    private final java.util.Map<Integer, Integer> owned = new java.util.HashMap<>();

    SinkTracker(int k) {
        this.k = k;
        this.top = new PriorityQueue<>(Math.max(1, k), (a, b) -> Float.compare(a.magnitude, b.magnitude));
    }

    /** Offers the activations of the token at {@code position}. */
    void offer(int position, float[] hidden, int off, int width) {
        if (k == 0) {
            return;
        }
        for (int i = 0; i < width; i++) {
            float m = Math.abs(hidden[off + i]);
            if (top.size() < k) {
                add(new Activation(m, position));
            } else if (m > top.peek().magnitude) {
                Activation evicted = top.poll();
                owned.computeIfPresent(evicted.position, (p, n) -> n == 1 ? null : n - 1);
                add(new Activation(m, position));
            }
        }
    }

    private void add(Activation a) {
        top.add(a);
        owned.merge(a.position, 1, Integer::sum);
    }

    boolean isSink(int position) {
        return owned.containsKey(position);
    }

    /** The activations held, strongest last: what {@link #restore} needs to rebuild this tracker. */
    void writeTo(java.io.DataOutput out) throws java.io.IOException {
        java.util.List<Activation> all = new java.util.ArrayList<>(top);
        all.sort((a, b) -> Float.compare(a.magnitude, b.magnitude));
        out.writeInt(all.size());
        for (Activation a : all) {
            out.writeFloat(a.magnitude);
            out.writeInt(a.position);
        }
    }

    void restore(java.io.DataInput in, int tokens) throws java.io.IOException {
        int n = in.readInt();
        if (n < 0 || n > k) {
            throw new java.io.IOException("corrupt sink state: " + n + " activations, at most " + k + " kept");
        }
        top.clear();
        owned.clear();
        for (int i = 0; i < n; i++) {
            float m = in.readFloat();
            int position = in.readInt();
            if (position < 0 || position >= tokens || !(m >= 0)) {
                throw new java.io.IOException("corrupt sink state: activation " + m + " at position " + position);
            }
            add(new Activation(m, position));
        }
    }

    void dropFrom(int position) {
        top.removeIf(a -> a.position >= position);
        owned.keySet().removeIf(p -> p >= position);
    }
}
