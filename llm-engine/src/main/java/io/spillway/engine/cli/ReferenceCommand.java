package io.spillway.engine.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.spillway.engine.kv.KvCache;
import io.spillway.engine.model.Json;
import io.spillway.engine.backend.LoadedModel;
import io.spillway.engine.runtime.Decoder;
import io.spillway.engine.runtime.LlamaModel;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;

/**
 * {@code reference}: greedy continuations of the prompts in the model's {@code reference.json}
 * (transformers' outputs), each alone and all batched together, compared id for id. Exit status 1 on
 * any difference: the parity check for a backend on a machine without Maven (the GPU host).
 */
final class ReferenceCommand {
    private static final String HELP = """
            usage: bin/spillway reference [options]
              --model DIR         model directory with reference.json (default: models/tiny-llama)
              %s
            """.formatted(BackendOption.HELP);

    int run(String[] argv, PrintStream out, PrintStream err) {
        Args a = Args.parse("reference", argv, 0, Set.of("model", "backend", "kv"), Set.of("help"));
        if (a.has("help")) {
            out.print(HELP);
            return 0;
        }
        BackendOption.check("reference", a);
        Path modelDir = a.path("model", SpillwayCli.defaultModel());
        JsonNode prompts;
        try {
            prompts = Json.mapper().readTree(modelDir.resolve("reference.json").toFile()).get("prompts");
        } catch (IOException e) {
            throw new UncheckedIOException(modelDir.resolve("reference.json") + ": " + e.getMessage(), e);
        }
        LoadedModel loaded = BackendOption.load("reference", a, modelDir, Integer.MAX_VALUE, err);
        int failures = 0;
        try (Decoder model = loaded.model()) {
            int n = prompts.size();
            int[][] inputs = new int[n][];
            int[][] expected = new int[n][];
            for (int i = 0; i < n; i++) {
                inputs[i] = ints(prompts.get(i).get("input_ids"));
                expected[i] = ints(prompts.get(i).get("greedy_ids"));
                int[] alone = greedy(model, loaded, List.of(inputs[i]), expected[i].length)[0];
                failures += report(out, "alone", i, expected[i], alone);
            }
            int longest = Arrays.stream(expected).mapToInt(e -> e.length).max().orElse(0);
            int[][] batched = greedy(model, loaded, Arrays.asList(inputs), longest);
            for (int i = 0; i < n; i++) {
                failures += report(out, "batched", i, expected[i], Arrays.copyOf(batched[i], expected[i].length));
            }
        }
        out.println(failures == 0 ? "reference: all greedy ids equal" : "reference: " + failures + " mismatches");
        return failures == 0 ? 0 : 1;
    }

    private static int report(PrintStream out, String how, int prompt, int[] expected, int[] got) {
        boolean same = Arrays.equals(expected, got);
        out.printf("prompt %d %s: %s%n", prompt, how, same ? "equal" : "DIFFERENT expected=" + Arrays.toString(expected) + " got=" + Arrays.toString(got));
        return same ? 0 : 1;
    }

    private static int[][] greedy(Decoder model, LoadedModel loaded, List<int[]> prompts, int count) {
        int n = prompts.size();
        List<KvCache> caches = new ArrayList<>();
        int[][] next = prompts.toArray(new int[0][]);
        int[][] out = new int[n][count];
        try {
            for (int i = 0; i < n; i++) {
                caches.add(loaded.caches().get());
            }
            for (int step = 0; step < count; step++) {
                List<LlamaModel.Step> steps = new ArrayList<>();
                for (int i = 0; i < n; i++) {
                    steps.add(new LlamaModel.Step(caches.get(i), next[i], false));
                }
                float[][] logits = model.forward(steps);
                for (int i = 0; i < n; i++) {
                    out[i][step] = argmax(logits[i]);
                    next[i] = new int[] {out[i][step]};
                }
            }
        } finally {
            caches.forEach(KvCache::close);
        }
        return out;
    }

    private static int argmax(float[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) {
            if (v[i] > v[best]) {
                best = i;
            }
        }
        return best;
    }

    private static int[] ints(JsonNode array) {
        int[] a = new int[array.size()];
        for (int i = 0; i < a.length; i++) {
            a[i] = array.get(i).asInt();
        }
        return a;
    }
}
