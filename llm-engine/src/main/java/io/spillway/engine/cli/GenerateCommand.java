package io.spillway.engine.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.spillway.engine.chat.ChatMessage;
import io.spillway.engine.chat.ChatTemplate;
import io.spillway.engine.generate.ContinuousBatcher;
import io.spillway.engine.generate.FinishReason;
import io.spillway.engine.generate.GenerationListener;
import io.spillway.engine.generate.GenerationRequest;
import io.spillway.engine.model.Json;
import io.spillway.engine.backend.LoadedModel;
import io.spillway.engine.runtime.Decoder;
import io.spillway.engine.sampling.GenerationConfig;
import io.spillway.engine.sampling.SamplingParams;
import io.spillway.engine.tokenizer.Tokenizer;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/** {@code generate}: a raw prompt, or chat messages rendered by the model's template, to text streamed on stdout. */
final class GenerateCommand {
    private static final String HELP = """
            usage: bin/spillway generate (--prompt TEXT | --chat TEXT | --messages FILE) [options]
              --model DIR              Hugging Face model directory (default: models/tiny-llama)
              --prompt TEXT            raw text to continue (BOS is prepended)
              --chat TEXT              one user message, rendered with the model's chat template
              --system TEXT            a system message before --chat
              --messages FILE          a JSON list of {"role": ..., "content": ...} (- for stdin)
              --max-tokens N           tokens to generate at most (default 128)
              --temperature T          0 = greedy (default: generation_config.json, else 0)
              --top-k K                keep the K most likely tokens (0 = off)
              --top-p P                nucleus sampling (1 = off)
              --min-p P                drop tokens below P x the top probability (0 = off)
              --repetition-penalty R   >1 discourages repeats (1 = off)
              --seed N                 random seed for sampling (default 0)
              --stop TEXT              stop before this text; repeatable
              %s
              %s
            """.formatted(KvOption.HELP, BackendOption.HELP);

    int run(String[] argv, PrintStream out, PrintStream err) {
        Args a = Args.parse("generate", argv, 0, Set.of("model", "prompt", "chat", "system", "messages", "max-tokens",
                "temperature", "top-k", "top-p", "min-p", "repetition-penalty", "seed", "stop", "kv", "kv-mode", "backend"), Set.of("help"));
        if (a.has("help")) {
            out.print(HELP);
            return 0;
        }
        KvOption.check("generate", a);
        BackendOption.check("generate", a);
        int inputs = (a.has("prompt") ? 1 : 0) + (a.has("chat") ? 1 : 0) + (a.has("messages") ? 1 : 0);
        if (inputs != 1) {
            throw new UsageException("generate: give exactly one of --prompt, --chat or --messages\n" + HELP);
        }
        Path modelDir = a.path("model", SpillwayCli.defaultModel());
        LoadedModel loaded = BackendOption.load("generate", a, modelDir, Integer.MAX_VALUE, err);
        try (Decoder model = loaded.model()) {
            Tokenizer tokenizer = Tokenizer.load(modelDir);
            GenerationConfig gen = GenerationConfig.load(modelDir);
            int[] prompt = a.has("prompt") ? tokenizer.encode(a.string("prompt", ""), true)
                    : tokenizer.encode(chatTemplate(modelDir).render(messages(a), true), false);
            SamplingParams params = sampling(a, gen);
            var batcher = new ContinuousBatcher(model, tokenizer, loaded.caches(), 1, 512);
            long start = System.nanoTime();
            FinishReason[] reason = new FinishReason[1];
            GenerationListener.Usage[] usage = new GenerationListener.Usage[1];
            RuntimeException[] failure = new RuntimeException[1];
            batcher.submit(new GenerationRequest(prompt, params, java.util.Set.copyOf(gen.eosTokenIds())), new GenerationListener() {
                @Override
                public void onToken(int tokenId, String text) {
                    out.print(text);
                    out.flush();
                }

                @Override
                public void onFinish(FinishReason r, Usage u) {
                    reason[0] = r;
                    usage[0] = u;
                }

                @Override
                public void onFailure(RuntimeException cause) {
                    failure[0] = cause;
                }
            });
            batcher.runUntilIdle();
            if (failure[0] != null) {
                throw failure[0];
            }
            out.println();
            double secs = (System.nanoTime() - start) / 1e9;
            err.printf("generate: finish=%s prompt_tokens=%d completion_tokens=%d %.1f tok/s%n", reason[0].apiName(),
                    usage[0].promptTokens(), usage[0].completionTokens(), usage[0].completionTokens() / secs);
        }
        return 0;
    }

    private static ChatTemplate chatTemplate(Path modelDir) {
        return ChatTemplate.load(modelDir).orElseThrow(() -> new IllegalArgumentException(
                modelDir + ": the model has no chat template (chat_template.jinja or tokenizer_config.json chat_template): use --prompt"));
    }

    private static List<ChatMessage> messages(Args a) {
        List<ChatMessage> messages = new ArrayList<>();
        if (a.has("chat")) {
            if (a.has("system")) {
                messages.add(new ChatMessage("system", a.string("system", "")));
            }
            messages.add(new ChatMessage("user", a.string("chat", "")));
            return messages;
        }
        String source = a.string("messages", "-");
        JsonNode root;
        try {
            String text = source.equals("-") ? new String(System.in.readAllBytes()) : Files.readString(Path.of(source));
            root = Json.mapper().readTree(text);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalArgumentException(source + ": malformed JSON: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw new UncheckedIOException(source + ": " + e.getMessage(), e);
        }
        if (root == null || !root.isArray() || root.isEmpty()) {
            throw new IllegalArgumentException(source + ": expected a non-empty JSON list of {\"role\", \"content\"} objects");
        }
        for (int i = 0; i < root.size(); i++) {
            JsonNode m = root.get(i);
            if (!m.path("role").isTextual() || !m.path("content").isTextual()) {
                throw new IllegalArgumentException(source + ": message " + i + " needs string fields \"role\" and \"content\"");
            }
            messages.add(new ChatMessage(m.get("role").asText(), m.get("content").asText()));
        }
        return messages;
    }

    /** The model's generation_config.json defaults, then what the command line says. */
    private static SamplingParams sampling(Args a, GenerationConfig gen) {
        try {
            SamplingParams p = gen.applyTo(SamplingParams.greedy(a.integer("max-tokens", 128)));
            if (a.has("temperature")) {
                p = p.withTemperature(a.number("temperature", 0));
            }
            if (a.has("top-k")) {
                p = p.withTopK(a.integer("top-k", 0));
            }
            if (a.has("top-p")) {
                p = p.withTopP(a.number("top-p", 1));
            }
            if (a.has("min-p")) {
                p = p.withMinP(a.number("min-p", 0));
            }
            if (a.has("repetition-penalty")) {
                p = p.withRepetitionPenalty(a.number("repetition-penalty", 1));
            }
            return p.withSeed(a.longValue("seed", 0)).withStop(a.all("stop"));
        } catch (IllegalArgumentException e) {
            throw new UsageException("generate: " + e.getMessage());
        }
    }
}
