package io.spillway.engine.cli;

import io.spillway.engine.CheckpointException;

import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Arrays;

/** Entry point of {@code bin/spillway}'s engine subcommands. Errors print as one line, no stack trace. */
public final class SpillwayCli {
    private SpillwayCli() {
    }

    public static void main(String[] argv) {
        System.exit(run(argv, System.out, System.err));
    }

    static int run(String[] argv, PrintStream out, PrintStream err) {
        if (argv.length == 0) {
            err.println("spillway: name a command: generate, ppl, bench, calibrate, spill-bench, reference, gpu-bench, gpu-spill-bench");
            return 2;
        }
        String[] rest = Arrays.copyOfRange(argv, 1, argv.length);
        try {
            return switch (argv[0]) {
                case "generate" -> new GenerateCommand().run(rest, out, err);
                case "ppl" -> new PplCommand().run(rest, out, err);
                case "bench" -> new BenchCommand().run(rest, out, err);
                case "calibrate" -> new CalibrateCommand().run(rest, out, err);
                case "spill-bench" -> new SpillBenchCommand().run(rest, out, err);
                case "reference" -> new ReferenceCommand().run(rest, out, err);
                case "gpu-bench" -> new GpuBenchCommand().run(rest, out, err);
                case "gpu-spill-bench" -> new GpuSpillBenchCommand().run(rest, out, err);
                default -> throw new UsageException("unknown command '" + argv[0] + "' (generate, ppl, bench, calibrate, spill-bench, reference, gpu-bench, gpu-spill-bench)");
            };
        } catch (UsageException e) {
            err.println("spillway: " + e.getMessage());
            return 2;
        } catch (CheckpointException | IllegalArgumentException | IllegalStateException | UncheckedIOException e) {
            err.println("spillway: error: " + e.getMessage());
            if (System.getenv("SPILLWAY_DEBUG") != null) {
                e.printStackTrace(err);
            }
            return 1;
        }
    }

    /** The shipped tiny model, found from the launcher's home so commands work from any directory. */
    static Path defaultModel() {
        return home().resolve("models/tiny-llama");
    }

    static Path home() {
        return Path.of(System.getProperty("spillway.home", "."));
    }
}
