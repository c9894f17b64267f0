package dev.palettizer.cli;

import dev.palettizer.engine.Progress;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Locale;
import java.util.Optional;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import me.tongfei.progressbar.ProgressState;

/**
 * Progress of a palettization on stderr (stdout stays parseable): a bar when stderr is a terminal;
 * otherwise one plain line per finished tensor, so that a log holds no carriage-return frames; or
 * nothing at all ({@code --quiet}).
 */
final class ConsoleProgress implements Progress, AutoCloseable {
    /** The tensor name shown after the bar is cut or padded to this, so that the bar keeps its width. */
    private static final int NAME_WIDTH = 32;
    /** Weight of the newest estimate in the smoothed ETA: tensors finish in bursts, so one step says little. */
    private static final double ETA_SMOOTHING = 0.1;

    enum Mode { BAR, LINES, QUIET }

    private final Mode mode;
    private final PrintStream err;
    private ProgressBar bar;
    private Thread freshLineOnExit;
    private long total;
    private long done;
    private double etaSeconds = Double.NaN;

    ConsoleProgress(Mode mode, PrintStream err) {
        this.mode = mode;
        this.err = err;
    }

    /** A bar on a terminal, lines otherwise, nothing when quiet. */
    static ConsoleProgress forStderr(boolean quiet) {
        return new ConsoleProgress(quiet ? Mode.QUIET : stderrIsTerminal() ? Mode.BAR : Mode.LINES, System.err);
    }

    /** Linux names the terminal behind file descriptor 2; elsewhere, whether the JVM has an interactive console. */
    static boolean stderrIsTerminal() {
        try {
            String target = Files.readSymbolicLink(Path.of("/proc/self/fd/2")).toString();
            return target.startsWith("/dev/pts/") || target.startsWith("/dev/tty");
        } catch (IOException | UnsupportedOperationException e) {
            return System.console() != null && System.console().isTerminal();
        }
    }

    @Override
    public synchronized void start(long totalElements) {
        total = Math.max(1, totalElements);
        if (mode != Mode.BAR) {
            return;
        }
        bar = new ProgressBarBuilder().setTaskName("Palettizing").setInitialMax(total)
                .setStyle(ProgressBarStyle.ASCII).setUnit(" M weights", 1_000_000).setUpdateIntervalMillis(250)
                .setEtaFunction(this::smoothedEta).continuousUpdate().build();
        bar.setExtraMessage(fit(""));
        // After Ctrl-C the shell's prompt must start on a fresh line, not after the bar.
        freshLineOnExit = new Thread(err::println);
        Runtime.getRuntime().addShutdownHook(freshLineOnExit);
    }

    /** Moves the bar within a large tensor; a log gets its line only when the tensor is done. */
    @Override
    public synchronized void advance(String tensor, long elements) {
        done += elements;
        if (mode == Mode.BAR) {
            bar.stepBy(elements);
            bar.setExtraMessage(fit(tensor));
        }
    }

    @Override
    public synchronized void done(String tensor, long elements) {
        done += elements;
        switch (mode) {
            case BAR -> {
                bar.stepBy(elements);
                bar.setExtraMessage(fit(tensor));
            }
            case LINES -> err.printf(Locale.ROOT, "palettizer: %5.1f %% %s%n", 100.0 * done / total, tensor);
            case QUIET -> { }
        }
    }

    /** Remaining time from the rate so far, smoothed so that one large tensor does not swing it. */
    // Called by the bar's own thread only, so it needs no lock (taking ours could deadlock with done()).
    private Optional<Duration> smoothedEta(ProgressState state) {
        long current = state.getCurrent() - state.getStart();
        if (current <= 0) {
            return Optional.empty();
        }
        double elapsed = Duration.between(state.getStartInstant(), Instant.now()).toMillis() / 1e3;
        double estimate = elapsed / current * (state.getMax() - state.getCurrent());
        etaSeconds = Double.isNaN(etaSeconds) ? estimate : etaSeconds + ETA_SMOOTHING * (estimate - etaSeconds);
        return Optional.of(Duration.ofMillis((long) (1000 * etaSeconds)));
    }

    private static String fit(String name) {
        String s = name.length() > NAME_WIDTH ? "..." + name.substring(name.length() - NAME_WIDTH + 3) : name;
        return String.format(Locale.ROOT, "%-" + NAME_WIDTH + "s", s);
    }

    @Override
    public synchronized void close() {
        if (bar != null) {
            bar.close();
            try {
                Runtime.getRuntime().removeShutdownHook(freshLineOnExit);
            } catch (IllegalStateException shuttingDown) {
                // The JVM is exiting already: the hook prints the line.
            }
        }
    }
}
