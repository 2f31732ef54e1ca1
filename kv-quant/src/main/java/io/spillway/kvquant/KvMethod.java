package io.spillway.kvquant;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A KV-cache quantization method: how keys and values are transformed, grouped and quantized, and
 * which tokens stay in fp16. Named presets ({@link #NAMES}) take {@code key=value} overrides for
 * ablations, e.g. {@code rotatekv2:reorder=off,sinks=0} (see {@link #parse}).
 *
 * @param blockTokens   tokens per paged block; with a residual window the newest block stays fp16 until full
 * @param sinkActivations the hidden-state activations of largest magnitude whose tokens keep fp16 KV (RotateKV keeps 20); 0 = off
 * @param preRope       keys quantized before RoPE (RoPE applied to the decoded keys) instead of after
 * @param salientFraction AKVQ: the fraction of each block's tokens, by attention received, given {@code salientBits}; 0 = off
 */
public record KvMethod(String name, Side keys, Side values, int blockTokens, int sinkActivations, boolean preRope,
                       double salientFraction, int salientBits) {

    /** One of keys or values. {@code rotationHeads}: heads per Hadamard group (0 = no rotation); {@code groupSize} 0 = one head. */
    public record Side(int rotationHeads, boolean reorder, PackedBlock.Axis axis, int bits, int groupSize) {
    }

    public static final List<String> NAMES = List.of("fp16", "int2", "int4", "kivi2", "rotatekv2", "akvq2");

    private static final int BLOCK = 128;

    public KvMethod {
        if (keys != null) {
            PackedBlock.checkBits(keys.bits());
            PackedBlock.checkBits(values.bits());
        }
        if (blockTokens < 1 || sinkActivations < 0 || salientFraction < 0 || salientFraction > 1) {
            throw new IllegalArgumentException("invalid KV method " + name);
        }
        if (salientFraction > 0) {
            PackedBlock.checkBits(salientBits);
        }
    }

    /** fp16 has no sides: it is no quantization, the engine's dense cache. */
    public boolean quantized() {
        return keys != null;
    }

    public static KvMethod preset(String name) {
        Side perToken2 = new Side(0, false, PackedBlock.Axis.TOKEN, 2, 0);
        return switch (name) {
            case "fp16" -> new KvMethod(name, null, null, BLOCK, 0, false, 0, 0);
            case "int2" -> new KvMethod(name, perToken2, perToken2, BLOCK, 0, false, 0, 0);
            case "int4" -> new KvMethod(name, new Side(0, false, PackedBlock.Axis.TOKEN, 4, 0), new Side(0, false, PackedBlock.Axis.TOKEN, 4, 0), BLOCK, 0, false, 0, 0);
            // KIVI: keys per channel over groups of 32 tokens, values per token in groups of 32 channels, 128 fp16 residual.
            case "kivi2" -> new KvMethod(name, new Side(0, false, PackedBlock.Axis.CHANNEL, 2, 32), new Side(0, false, PackedBlock.Axis.TOKEN, 2, 32), BLOCK, 0, false, 0, 0);
            case "rotatekv2" -> new KvMethod(name, new Side(4, true, PackedBlock.Axis.TOKEN, 2, 0), new Side(1, false, PackedBlock.Axis.TOKEN, 2, 0), BLOCK, 20, true, 0, 0);
            case "akvq2" -> new KvMethod(name, new Side(4, true, PackedBlock.Axis.TOKEN, 2, 0), new Side(1, false, PackedBlock.Axis.TOKEN, 2, 0), BLOCK, 20, true, 0.125, 4);
            default -> throw new IllegalArgumentException("unknown KV method '" + name + "' (known: " + String.join(", ", NAMES) + ")");
        };
    }

    /**
     * A preset with optional overrides: {@code NAME[:key=value,...]}. Keys: {@code group} (channels per
     * group, keys and values), {@code bits}, {@code block}, {@code sinks} (activations, 0 = off),
     * {@code reorder} (on|off), {@code rotate} (on|off, both sides), {@code rotation-heads},
     * {@code prerope} (on|off), {@code salient} (fraction), {@code salient-bits}.
     */
    public static KvMethod parse(String spec) {
        int colon = spec.indexOf(':');
        KvMethod m = preset(colon < 0 ? spec : spec.substring(0, colon));
        if (colon < 0) {
            return m;
        }
        if (!m.quantized()) {
            throw new IllegalArgumentException("fp16 takes no options");
        }
        Map<String, String> opts = new LinkedHashMap<>();
        for (String kv : spec.substring(colon + 1).split(",")) {
            String[] p = kv.split("=", 2);
            if (p.length != 2 || p[0].isBlank()) {
                throw new IllegalArgumentException("KV method option '" + kv + "' must be key=value");
            }
            opts.put(p[0].trim().toLowerCase(Locale.ROOT), p[1].trim());
        }
        Side k = m.keys;
        Side v = m.values;
        int block = m.blockTokens;
        int sinks = m.sinkActivations;
        boolean preRope = m.preRope;
        double salient = m.salientFraction;
        int salientBits = m.salientBits;
        for (var e : opts.entrySet()) {
            String val = e.getValue();
            switch (e.getKey()) {
                case "group" -> {
                    int g = integer(e.getKey(), val);
                    k = new Side(k.rotationHeads(), k.reorder(), k.axis(), k.bits(), g);
                    v = new Side(v.rotationHeads(), v.reorder(), v.axis(), v.bits(), g);
                }
                case "bits" -> {
                    int b = integer(e.getKey(), val);
                    k = new Side(k.rotationHeads(), k.reorder(), k.axis(), b, k.groupSize());
                    v = new Side(v.rotationHeads(), v.reorder(), v.axis(), b, v.groupSize());
                }
                case "block" -> block = integer(e.getKey(), val);
                case "sinks" -> sinks = integer(e.getKey(), val);
                case "reorder" -> k = new Side(k.rotationHeads(), flag(e.getKey(), val), k.axis(), k.bits(), k.groupSize());
                case "rotate" -> {
                    boolean on = flag(e.getKey(), val);
                    k = new Side(on ? Math.max(1, k.rotationHeads()) : 0, k.reorder(), k.axis(), k.bits(), k.groupSize());
                    v = new Side(on ? Math.max(1, v.rotationHeads()) : 0, v.reorder(), v.axis(), v.bits(), v.groupSize());
                }
                case "rotation-heads" -> k = new Side(integer(e.getKey(), val), k.reorder(), k.axis(), k.bits(), k.groupSize());
                case "prerope" -> preRope = flag(e.getKey(), val);
                case "salient" -> salient = Double.parseDouble(val);
                case "salient-bits" -> salientBits = integer(e.getKey(), val);
                default -> throw new IllegalArgumentException("unknown KV method option '" + e.getKey()
                        + "' (group, bits, block, sinks, reorder, rotate, rotation-heads, prerope, salient, salient-bits)");
            }
        }
        return new KvMethod(spec, k, v, block, sinks, preRope, salient, salientBits);
    }

    private static int integer(String key, String val) {
        try {
            return Integer.parseInt(val);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("KV method option " + key + " expects an integer, got '" + val + "'");
        }
    }

    private static boolean flag(String key, String val) {
        return switch (val.toLowerCase(Locale.ROOT)) {
            case "on", "true", "1" -> true;
            case "off", "false", "0" -> false;
            default -> throw new IllegalArgumentException("KV method option " + key + " expects on or off, got '" + val + "'");
        };
    }
}
