package dev.palettizer.cli;

import dev.palettizer.engine.Progress;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/** A terminal progress bar over the elements to palettize (stderr, so stdout stays parseable). */
final class ConsoleProgress implements Progress, AutoCloseable {
    /** What the progress bar library renders into when its terminal probe finds no terminal (80 columns less 1). */
    private static final int PLAIN_WIDTH = 79;

    private ProgressBar bar;

    @Override
    public synchronized void start(long totalElements) {
        ProgressBarBuilder builder = new ProgressBarBuilder().setTaskName("Palettizing")
                .setInitialMax(Math.max(1, totalElements)).setStyle(ProgressBarStyle.ASCII).setUnit(" M weights", 1_000_000).setUpdateIntervalMillis(250)
                .continuousUpdate();
        if (stderrIsNotATerminal()) {
            // The library's terminal probe runs tty and test -t three times each as child processes (about
            // 0.1 s of a cold start) only to learn that there is no terminal: say so up front. Same output, on
            // fd 2 itself as the library writes it (not System.err, which a caller may have replaced).
            builder.setConsumer(new ConsoleProgressBarConsumer(
                    new PrintStream(new FileOutputStream(FileDescriptor.err)), PLAIN_WIDTH));
        }
        bar = builder.build();
    }

    /** On Linux, fd 2 links to /dev/pts/N or /dev/ttyN exactly when it is a terminal; elsewhere: don't know. */
    private static boolean stderrIsNotATerminal() {
        try {
            String target = Files.readSymbolicLink(Path.of("/proc/self/fd/2")).toString();
            return !target.startsWith("/dev/pts/") && !target.startsWith("/dev/tty");
        } catch (IOException | UnsupportedOperationException e) {
            return false;
        }
    }

    @Override
    public synchronized void done(String tensor, long elements) {
        bar.stepBy(elements);
        bar.setExtraMessage(tensor);
    }

    @Override
    public synchronized void close() {
        if (bar != null) {
            bar.close();
        }
    }
}
