package io.spillway.kvquant;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Collectors;

/**
 * The outcome of a calibration pass: per layer, the order of the rotated key channels. Stored as a
 * small versioned text file next to the model; its {@link #id} (a digest of the content) goes into
 * every spilled cache so a cache is never decoded with another calibration.
 */
public record Calibration(String modelFingerprint, int rotationSize, int groupSize, List<ChannelOrdering> orderings,
                          int[][] orders) {
    public static final String FILE_NAME = "spillway-kv-calibration.txt";

    /**
     * Where a model directory keeps the calibration of a rotation size other than its default method's,
     * so that methods of both sizes run from one directory ({@link #FILE_NAME} holds the default's).
     */
    public static String fileName(int rotationSize) {
        return "spillway-kv-calibration-r" + rotationSize + ".txt";
    }
    public static final int FORMAT = 1;
    private static final String MAGIC = "spillway-kv-calibration";

    public Calibration {
        if (orderings.size() != orders.length) {
            throw new IllegalArgumentException("one ordering per layer is needed");
        }
        for (int[] o : orders) {
            ChannelRotation.checkPermutation(o, orders[0].length);
        }
        orderings = List.copyOf(orderings);
    }

    public int layers() {
        return orders.length;
    }

    public int[] order(int layer) {
        return orders[layer].clone();
    }

    /** A digest of the content: equal calibrations have equal ids. */
    public String id() {
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest(body().getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(d, 0, 8);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private String body() {
        StringBuilder b = new StringBuilder();
        b.append("model ").append(modelFingerprint).append('\n');
        b.append("rotation-size ").append(rotationSize).append('\n');
        b.append("group-size ").append(groupSize).append('\n');
        for (int l = 0; l < orders.length; l++) {
            b.append("layer ").append(l).append(' ').append(orderings.get(l).name().toLowerCase().replace('_', '-')).append(' ')
                    .append(Arrays.stream(orders[l]).mapToObj(Integer::toString).collect(Collectors.joining(","))).append('\n');
        }
        return b.toString();
    }

    public void write(Path file) throws IOException {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.writeString(tmp, MAGIC + " " + FORMAT + "\n" + body(), StandardCharsets.UTF_8);
        Files.move(tmp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }

    /** Reads a calibration file, refusing other formats and malformed lines with the line number. */
    public static Calibration read(Path file) throws IOException {
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new IOException(file + ": calibration file not found", e);
        }
        if (lines.isEmpty() || !lines.getFirst().equals(MAGIC + " " + FORMAT)) {
            throw new IOException(file + ": not a Spillway KV calibration file of format " + FORMAT
                    + " (first line: '" + (lines.isEmpty() ? "" : lines.getFirst()) + "')");
        }
        String model = null;
        int rotation = -1;
        int group = -1;
        List<ChannelOrdering> orderings = new ArrayList<>();
        List<int[]> orders = new ArrayList<>();
        for (int i = 1; i < lines.size(); i++) {
            String[] f = lines.get(i).trim().split(" ");
            try {
                switch (f[0]) {
                    case "model" -> model = f[1];
                    case "rotation-size" -> rotation = Integer.parseInt(f[1]);
                    case "group-size" -> group = Integer.parseInt(f[1]);
                    case "layer" -> {
                        if (Integer.parseInt(f[1]) != orders.size()) {
                            throw new IllegalArgumentException("layers out of order");
                        }
                        orderings.add(ChannelOrdering.parse(f[2]));
                        orders.add(Arrays.stream(f[3].split(",")).mapToInt(Integer::parseInt).toArray());
                    }
                    case "" -> {
                    }
                    default -> throw new IllegalArgumentException("unknown entry '" + f[0] + "'");
                }
            } catch (RuntimeException e) {
                throw new IOException(file + ": line " + (i + 1) + ": " + e.getMessage(), e);
            }
        }
        if (model == null || rotation < 1 || group < 1 || orders.isEmpty()) {
            throw new IOException(file + ": incomplete calibration (model, rotation-size, group-size and layers are required)");
        }
        try {
            return new Calibration(model, rotation, group, orderings, orders.toArray(int[][]::new));
        } catch (IllegalArgumentException e) {
            throw new IOException(file + ": " + e.getMessage(), e);
        }
    }
}
