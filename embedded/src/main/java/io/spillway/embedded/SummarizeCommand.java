package io.spillway.embedded;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.spillway.engine.cli.ProgressBar;

import java.io.IOException;
import java.io.PrintStream;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * {@code bin/spillway summarize FILE}: submits the file as a summarization job to a gateway
 * ({@code POST /v1/jobs}), draws its progress until it ends, and prints the summary.
 */
public final class SummarizeCommand {
    private static final String HELP = """
            usage: bin/spillway summarize FILE [options]
              --url URL            the gateway (default http://localhost:8080, or SPILLWAY_URL)
              --api-key KEY        its API key (default SPILLWAY_API_KEY, else sk-spillway-local)
              --target-words N     length of the summary (default 150)
              --instructions TEXT  extra guidance (focus, style)
              --timeout SECONDS    give up after this long (default 3600)
            """;
    private static final ObjectMapper JSON = new ObjectMapper();

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
    private final PrintStream out;
    private final PrintStream err;

    SummarizeCommand(PrintStream out, PrintStream err) {
        this.out = out;
        this.err = err;
    }

    public static void main(String[] argv) {
        System.exit(new SummarizeCommand(System.out, System.err).run(argv));
    }

    /** Runs the command; the exit status: 0 done, 1 the job or the gateway failed, 2 a usage error. */
    int run(String[] argv) {
        Map<String, String> o = new LinkedHashMap<>();
        String file = null;
        for (int i = 0; i < argv.length; i++) {
            String a = argv[i];
            if (a.equals("--help") || a.equals("-h")) {
                out.print(HELP);
                return 0;
            }
            if (a.startsWith("--")) {
                if (!Map.of("--url", 1, "--api-key", 1, "--target-words", 1, "--instructions", 1, "--timeout", 1).containsKey(a)) {
                    return usage("unknown option " + a);
                }
                if (i + 1 >= argv.length) {
                    return usage(a + " needs a value");
                }
                o.put(a, argv[++i]);
            } else if (file == null) {
                file = a;
            } else {
                return usage("one FILE only, got '" + file + "' and '" + a + "'");
            }
        }
        if (file == null) {
            return usage("name the FILE to summarize");
        }
        String document;
        try {
            document = Files.readString(Path.of(file), StandardCharsets.UTF_8);
        } catch (IOException e) {
            err.println("spillway summarize: cannot read " + file + ": " + e.getMessage());
            return 1;
        }
        String url = o.getOrDefault("--url", env("SPILLWAY_URL", "http://localhost:8080")).replaceAll("/+$", "");
        String key = o.getOrDefault("--api-key", env("SPILLWAY_API_KEY", EmbeddedOptions.DEFAULT_API_KEY));
        int words;
        long timeoutSeconds;
        try {
            words = Integer.parseInt(o.getOrDefault("--target-words", "150"));
            timeoutSeconds = Long.parseLong(o.getOrDefault("--timeout", "3600"));
        } catch (NumberFormatException e) {
            return usage("--target-words and --timeout take whole numbers");
        }
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("document", document);
        body.put("target_words", words);
        if (o.containsKey("--instructions")) {
            body.put("instructions", o.get("--instructions"));
        }
        try {
            return follow(url, key, body, Duration.ofSeconds(timeoutSeconds), file);
        } catch (ConnectException e) {
            err.println("spillway summarize: no gateway at " + url + " (start one with bin/spillway up, or pass --url)");
            return 1;
        } catch (IOException e) {
            err.println("spillway summarize: " + e.getMessage());
            return 1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return 1;
        }
    }

    private int follow(String url, String key, Map<String, Object> body, Duration timeout, String file) throws IOException, InterruptedException {
        HttpResponse<String> submitted = send(HttpRequest.newBuilder(URI.create(url + "/v1/jobs")).header("Authorization", "Bearer " + key)
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(body))));
        if (submitted.statusCode() != 202) {
            return refused(submitted);
        }
        String id = JSON.readTree(submitted.body()).path("id").asText();
        err.println("spillway summarize: job " + id);
        ProgressBar bar = new ProgressBar(err, Path.of(file).getFileName().toString());
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            HttpResponse<String> r = send(HttpRequest.newBuilder(URI.create(url + "/v1/jobs/" + id)).header("Authorization", "Bearer " + key).GET());
            // 404 until the job flow has read the job; 503 while its store restores.
            if (r.statusCode() == 200) {
                JsonNode job = JSON.readTree(r.body());
                String status = job.path("status").asText();
                int total = Math.max(1, job.path("chunks_total").asInt());
                bar.update(status.equals("running") ? Math.min(job.path("chunks_done").asInt(), total - 1) : total, total, status);
                if (status.equals("done")) {
                    out.println(job.path("summary").asText());
                    return 0;
                }
                if (status.equals("failed")) {
                    err.println("spillway summarize: job " + id + " failed: " + job.path("error").asText());
                    return 1;
                }
            } else if (r.statusCode() != 404 && r.statusCode() != 503) {
                return refused(r);
            }
            Thread.sleep(250);
        }
        err.println("spillway summarize: job " + id + " still running after " + timeout.toSeconds() + " s; follow it with GET /v1/jobs/" + id);
        return 1;
    }

    private HttpResponse<String> send(HttpRequest.Builder request) throws IOException, InterruptedException {
        return http.send(request.timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private int refused(HttpResponse<String> r) throws IOException {
        String message = r.body().isBlank() ? "" : JSON.readTree(r.body()).path("error").path("message").asText(r.body());
        err.println("spillway summarize: the gateway answered " + r.statusCode() + ": " + message);
        return 1;
    }

    private int usage(String message) {
        err.println("spillway summarize: " + message + " (see --help)");
        return 2;
    }

    private static String env(String name, String otherwise) {
        String v = System.getenv(name);
        return v == null || v.isBlank() ? otherwise : v;
    }
}
