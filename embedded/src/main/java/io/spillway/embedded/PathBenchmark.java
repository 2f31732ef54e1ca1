package io.spillway.embedded;

import io.spillway.engine.chat.ChatMessage;
import io.spillway.engine.chat.ChatTemplate;
import io.spillway.engine.generate.ContinuousBatcher;
import io.spillway.engine.generate.EngineLoop;
import io.spillway.engine.generate.FinishReason;
import io.spillway.engine.generate.GenerationListener;
import io.spillway.engine.generate.GenerationRequest;
import io.spillway.engine.kv.KvCacheFactory;
import io.spillway.engine.runtime.LlamaModel;
import io.spillway.engine.sampling.SamplingParams;
import io.spillway.engine.tokenizer.Tokenizer;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;

/**
 * Time to first token and decode speed of the same chat requests through the whole Kafka path
 * (HTTP streaming to the gateway, Kafka, worker, Kafka, SSE) and with the engine called directly in
 * this JVM, one after the other, same model, KV method and concurrency: {@code bin/spillway bench-path}.
 */
public final class PathBenchmark {
    private record Sample(double ttftMs, double tokensPerSecond, int tokens) {
    }

    public static void main(String[] args) throws Exception {
        int requests = 200;
        int concurrency = 4;
        int maxTokens = 32;
        String kv = "rotatekv2";
        if (args.length % 2 != 0) {
            System.err.println("usage: bin/spillway bench-path [--requests N] [--concurrency N] [--max-tokens N] [--kv METHOD]");
            System.exit(2);
        }
        for (int i = 0; i + 1 < args.length; i += 2) {
            switch (args[i]) {
                case "--requests" -> requests = Integer.parseInt(args[i + 1]);
                case "--concurrency" -> concurrency = Integer.parseInt(args[i + 1]);
                case "--max-tokens" -> maxTokens = Integer.parseInt(args[i + 1]);
                case "--kv" -> kv = args[i + 1];
                default -> throw new IllegalArgumentException("unknown option " + args[i] + " (--requests, --concurrency, --max-tokens, --kv)");
            }
        }
        var model = EmbeddedSpillway.home().resolve("models/tiny-llama");
        System.out.printf("bench-path: %d chat requests, %d at a time, %d tokens each, kv %s, %d cores%n", requests, concurrency,
                maxTokens, kv, Runtime.getRuntime().availableProcessors());
        List<Sample> direct;
        try (LlamaModel m = LlamaModel.load(model);
             EngineLoop engine = new EngineLoop(new ContinuousBatcher(m, Tokenizer.load(model),
                     new KvCacheFactory(m, kv, KvCacheFactory.Mode.DECODE), 8, 256), "bench-engine")) {
            Tokenizer tokenizer = Tokenizer.load(model);
            ChatTemplate template = ChatTemplate.load(model).orElseThrow();
            int n = maxTokens;
            run(4, concurrency, i -> direct(engine, tokenizer, template, i, n));
            direct = run(requests, concurrency, i -> direct(engine, tokenizer, template, i, n));
        }
        List<Sample> kafka;
        var data = Files.createTempDirectory("spillway-bench");
        try (EmbeddedSpillway spillway = EmbeddedSpillway.start(new EmbeddedOptions(0, 0, 0, 0, 6, model, kv, data, "sk-bench"))) {
            HttpClient http = HttpClient.newHttpClient();
            int n = maxTokens;
            run(4, concurrency, i -> http(http, spillway.apiUrl(), i, n));
            kafka = run(requests, concurrency, i -> http(http, spillway.apiUrl(), i, n));
        }
        System.out.printf("%-22s %10s %10s %14s %14s%n", "path", "TTFT p50", "TTFT p99", "tok/s p50", "tok/s p1");
        print("engine, direct", direct);
        print("gateway -> Kafka", kafka);
        System.out.printf("ratio (Kafka / direct): TTFT p50 %.2fx, p99 %.2fx; tok/s p50 %.2fx%n",
                pct(kafka, Sample::ttftMs, 50) / pct(direct, Sample::ttftMs, 50), pct(kafka, Sample::ttftMs, 99) / pct(direct, Sample::ttftMs, 99),
                pct(kafka, Sample::tokensPerSecond, 50) / pct(direct, Sample::tokensPerSecond, 50));
    }

    private interface Call {
        Sample call(int i) throws Exception;
    }

    private static List<Sample> run(int requests, int concurrency, Call call) throws Exception {
        Semaphore slots = new Semaphore(concurrency);
        List<CompletableFuture<Sample>> all = new ArrayList<>();
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int i = 0; i < requests; i++) {
                int n = i;
                slots.acquire();
                all.add(CompletableFuture.supplyAsync(() -> {
                    try {
                        return call.call(n);
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    } finally {
                        slots.release();
                    }
                }, pool));
            }
        }
        return all.stream().map(CompletableFuture::join).toList();
    }

    private static String question(int i) {
        return "Tell me about the whale number " + i + ".";
    }

    private static Sample direct(EngineLoop engine, Tokenizer tokenizer, ChatTemplate template, int i, int maxTokens) throws Exception {
        int[] prompt = tokenizer.encode(template.render(List.of(new ChatMessage("user", question(i))), true), false);
        long start = System.nanoTime();
        long[] first = {0};
        int[] tokens = {0};
        CompletableFuture<Long> done = new CompletableFuture<>();
        engine.submit(new GenerationRequest(prompt, SamplingParams.greedy(maxTokens), Set.of()), new GenerationListener() {
            @Override
            public void onToken(int tokenId, String text) {
                if (first[0] == 0) {
                    first[0] = System.nanoTime();
                }
                if (tokenId >= 0) {
                    tokens[0]++;
                }
            }

            @Override
            public void onFinish(FinishReason reason, Usage usage) {
                done.complete(System.nanoTime());
            }

            @Override
            public void onFailure(RuntimeException cause) {
                done.completeExceptionally(cause);
            }
        });
        long end = done.get();
        return sample(start, first[0] == 0 ? end : first[0], end, tokens[0]);
    }

    private static Sample http(HttpClient http, String api, int i, int maxTokens) throws Exception {
        String body = "{\"model\":\"tiny-llama\",\"stream\":true,\"temperature\":0,\"max_tokens\":" + maxTokens
                + ",\"messages\":[{\"role\":\"user\",\"content\":\"" + question(i) + "\"}]}";
        HttpRequest req = HttpRequest.newBuilder(URI.create(api + "/chat/completions")).header("Authorization", "Bearer sk-bench")
                .header("Content-Type", "application/json").header("X-Session-Id", "bench-" + i)
                .POST(HttpRequest.BodyPublishers.ofString(body)).build();
        long start = System.nanoTime();
        long first = 0;
        int chunks = 0;
        HttpResponse<java.io.InputStream> resp = http.send(req, HttpResponse.BodyHandlers.ofInputStream());
        if (resp.statusCode() != 200) {
            throw new IllegalStateException("HTTP " + resp.statusCode() + ": " + new String(resp.body().readAllBytes(), StandardCharsets.UTF_8));
        }
        try (BufferedReader r = new BufferedReader(new InputStreamReader(resp.body(), StandardCharsets.UTF_8))) {
            for (String line; (line = r.readLine()) != null; ) {
                if (line.startsWith("data: {") && line.contains("\"content\":\"") && !line.contains("\"content\":\"\"")) {
                    if (first == 0) {
                        first = System.nanoTime();
                    }
                    chunks++;
                }
            }
        }
        return sample(start, first, System.nanoTime(), chunks);
    }

    private static Sample sample(long start, long first, long end, int tokens) {
        double decodeSeconds = (end - first) / 1e9;
        return new Sample((first - start) / 1e6, tokens > 1 && decodeSeconds > 0 ? (tokens - 1) / decodeSeconds : 0, tokens);
    }

    private static double pct(List<Sample> s, java.util.function.ToDoubleFunction<Sample> f, int p) {
        double[] v = s.stream().mapToDouble(f).sorted().toArray();
        return v[Math.min(v.length - 1, (int) Math.ceil(p / 100.0 * v.length) - 1)];
    }

    private static void print(String name, List<Sample> s) {
        System.out.printf("%-22s %8.1fms %8.1fms %14.1f %14.1f%n", name, pct(s, Sample::ttftMs, 50), pct(s, Sample::ttftMs, 99),
                pct(s, Sample::tokensPerSecond, 50), pct(s, Sample::tokensPerSecond, 1));
        // tok/s p1: the slowest 1 % of requests, the decode-speed counterpart of TTFT p99.
        System.out.printf("%-22s %d requests, %d tokens, mean %.1f tokens%n", "", s.size(), s.stream().mapToInt(Sample::tokens).sum(),
                Arrays.stream(s.stream().mapToInt(Sample::tokens).toArray()).average().orElse(0));
    }
}
