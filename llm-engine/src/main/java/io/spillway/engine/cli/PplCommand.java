package io.spillway.engine.cli;

import io.spillway.engine.eval.Documents;
import io.spillway.engine.eval.Perplexity;
import io.spillway.engine.backend.LoadedModel;
import io.spillway.engine.runtime.Decoder;
import io.spillway.engine.tokenizer.Tokenizer;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Set;

/** {@code ppl}: perplexity over a JSON list of documents; the last stdout line is {@code ppl=<value> tokens=<count>}. */
final class PplCommand {
    private static final String HELP = """
            usage: bin/spillway ppl --data FILE [options]
              --model DIR         Hugging Face model directory (default: models/tiny-llama)
              --data FILE         JSON list of documents
              --window N          tokens per window, each with a fresh cache (default 512)
              --batch N           windows per forward pass (default 1; 16 when fed token by token)
              --limit N           only the first N windows (quick checks)
              %s
              %s
            """.formatted(KvOption.HELP, BackendOption.HELP);

    int run(String[] argv, PrintStream out, PrintStream err) {
        Args a = Args.parse("ppl", argv, 0, Set.of("model", "data", "window", "batch", "limit", "kv", "kv-mode", "backend"), Set.of("help"));
        if (a.has("help")) {
            out.print(HELP);
            return 0;
        }
        KvOption.check("ppl", a);
        BackendOption.check("ppl", a);
        if (!a.has("data")) {
            throw new UsageException("ppl: --data FILE is required\n" + HELP);
        }
        Path modelDir = a.path("model", SpillwayCli.defaultModel());
        var docs = Documents.read(a.path("data", null));
        int window = a.integer("window", 512);
        LoadedModel loaded = BackendOption.load("ppl", a, modelDir, window, err);
        try (Decoder model = loaded.model()) {
            Tokenizer tokenizer = Tokenizer.load(modelDir);
            int bos = model.config().bosTokenId();
            int eos = model.config().eosTokenId();
            if (bos < 0 || eos < 0) {
                throw new IllegalArgumentException(modelDir.resolve("config.json") + ": bos_token_id and eos_token_id are needed to build the token stream");
            }
            int[] stream = Documents.tokenStream(docs, tokenizer, bos, eos);
            int limit = a.integer("limit", Integer.MAX_VALUE);
            if (limit < Integer.MAX_VALUE) {
                stream = java.util.Arrays.copyOf(stream, Math.min(stream.length, limit * window + 1));
            }
            String method = loaded.kv();
            boolean tokenByToken = !method.equals("fp32") && a.string("kv-mode", "decode").equals("decode");
            err.printf("ppl: %d documents, %d tokens, window %d, kv %s, %s%n", docs.size(), stream.length, window,
                    method, tokenByToken ? "one token at a time" : "windows prefilled whole");
            ProgressBar bar = new ProgressBar(err, "ppl");
            var ppl = new Perplexity(model, loaded.caches(), window, a.integer("batch", tokenByToken ? 16 : 1), tokenByToken);
            Perplexity.Result r = ppl.evaluate(stream, (done, total, nll, n) ->
                    bar.update(done, total, String.format("ppl=%.3f", Math.exp(nll / n))));
            int elements = 2 * model.config().numLayers() * model.config().kvDim();
            err.printf("ppl: kv_bytes_per_token=%.1f bits_per_element=%.3f%n", r.kvBytesPerToken(), r.kvBytesPerToken() * 8 / elements);
            out.printf("ppl=%.4f tokens=%d%n", r.perplexity(), r.predictedTokens());
        }
        return 0;
    }
}
