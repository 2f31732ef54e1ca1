package io.spillway.engine.cli;

import java.io.PrintStream;

/** A one-line progress bar redrawn in place on stderr; plain lines when stderr is not a terminal. */
public final class ProgressBar {
    private static final int WIDTH = 30;
    private final PrintStream err;
    private final String label;
    private final boolean terminal;
    private final long started = System.nanoTime();
    private long lastPlainLine;

    public ProgressBar(PrintStream err, String label) {
        this.err = err;
        this.label = label;
        this.terminal = System.console() != null;
    }

    public void update(int done, int total, String status) {
        double frac = total == 0 ? 1 : (double) done / total;
        int filled = (int) Math.round(frac * WIDTH);
        double secs = (System.nanoTime() - started) / 1e9;
        double eta = done == 0 ? 0 : secs / done * (total - done);
        String line = String.format("%s [%s%s] %d/%d %3.0f%% %s  %.0fs elapsed, %.0fs left",
                label, "#".repeat(filled), ".".repeat(WIDTH - filled), done, total, frac * 100, status, secs, eta);
        if (terminal) {
            err.print("\r" + line);
            if (done == total) {
                err.println();
            }
        } else if (done == total || System.nanoTime() - lastPlainLine > 10_000_000_000L) {
            // In logs and CI a line per ten seconds is progress enough.
            lastPlainLine = System.nanoTime();
            err.println(line);
        }
        err.flush();
    }
}
