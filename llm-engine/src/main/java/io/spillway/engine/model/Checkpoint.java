package io.spillway.engine.model;

import com.fasterxml.jackson.databind.JsonNode;
import io.spillway.engine.CheckpointException;

import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The tensors of a Hugging Face checkpoint directory: {@code model.safetensors}, or the shards named by
 * {@code model.safetensors.index.json}, all memory-mapped for as long as the checkpoint is open.
 */
public final class Checkpoint implements AutoCloseable {
    static final String SINGLE = "model.safetensors";
    static final String INDEX = "model.safetensors.index.json";

    private final Path dir;
    private final Arena arena;
    private final Map<String, Tensor> tensors;

    private Checkpoint(Path dir, Arena arena, Map<String, Tensor> tensors) {
        this.dir = dir;
        this.arena = arena;
        this.tensors = tensors;
    }

    public static Checkpoint open(Path dir) {
        if (!Files.isDirectory(dir)) {
            throw new CheckpointException(dir, "not a model directory");
        }
        Arena arena = Arena.ofShared();
        try {
            return new Checkpoint(dir, arena, load(dir, arena));
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    private static Map<String, Tensor> load(Path dir, Arena arena) {
        Path index = dir.resolve(INDEX);
        if (Files.exists(index)) {
            return loadSharded(index, arena);
        }
        Path single = dir.resolve(SINGLE);
        if (!Files.exists(single)) {
            throw new CheckpointException(single, "file not found (nor " + INDEX + "): only safetensors checkpoints are supported");
        }
        return new HashMap<>(SafetensorsFile.open(single, arena).tensors());
    }

    private static Map<String, Tensor> loadSharded(Path index, Arena arena) {
        JsonNode weightMap = Json.read(index).get("weight_map");
        if (weightMap == null || !weightMap.isObject() || weightMap.isEmpty()) {
            throw new CheckpointException(index, "weight_map", "missing or empty");
        }
        Set<String> shards = new LinkedHashSet<>();
        for (var e : weightMap.properties()) {
            if (!e.getValue().isTextual()) {
                throw new CheckpointException(index, "weight_map." + e.getKey(), "expected a shard file name");
            }
            shards.add(e.getValue().asText());
        }
        Map<String, Tensor> tensors = new HashMap<>();
        for (String shard : shards) {
            Path shardPath = index.resolveSibling(shard).normalize();
            if (!shardPath.getParent().equals(index.getParent().normalize())) {
                throw new CheckpointException(index, "weight_map", "shard '" + shard + "' lies outside the model directory");
            }
            tensors.putAll(SafetensorsFile.open(shardPath, arena).tensors());
        }
        for (var e : weightMap.properties()) {
            Tensor t = tensors.get(e.getKey());
            if (t == null || !t.file().getFileName().toString().equals(e.getValue().asText())) {
                throw new CheckpointException(index, "weight_map." + e.getKey(),
                        "tensor not found in shard " + e.getValue().asText());
            }
        }
        return tensors;
    }

    public Path dir() {
        return dir;
    }

    /** See {@link ModelFingerprint}. */
    public String fingerprint() {
        return ModelFingerprint.of(tensors);
    }

    public Optional<Tensor> find(String name) {
        return Optional.ofNullable(tensors.get(name));
    }

    /** The tensor {@code name} with exactly {@code shape}; a clear error naming the file otherwise. */
    public Tensor require(String name, long... shape) {
        Tensor t = tensors.get(name);
        if (t == null) {
            throw new CheckpointException(dir, "tensor '" + name + "' is missing from the checkpoint");
        }
        if (!java.util.Arrays.equals(t.shape(), shape)) {
            throw new CheckpointException(t.file(), name + ".shape", "expected " + java.util.Arrays.toString(shape)
                    + " from config.json, found " + java.util.Arrays.toString(t.shape()));
        }
        return t;
    }

    @Override
    public void close() {
        arena.close();
    }
}
