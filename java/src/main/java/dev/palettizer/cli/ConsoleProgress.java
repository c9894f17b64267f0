package dev.palettizer.cli;

import dev.palettizer.engine.Progress;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/** A terminal progress bar over the elements to palettize (stderr, so stdout stays parseable). */
final class ConsoleProgress implements Progress, AutoCloseable {
    private ProgressBar bar;

    @Override
    public synchronized void start(long totalElements) {
        bar = new ProgressBarBuilder().setTaskName("Palettizing").setInitialMax(Math.max(1, totalElements))
                .setStyle(ProgressBarStyle.ASCII).setUnit(" M weights", 1_000_000).setUpdateIntervalMillis(250)
                .continuousUpdate().build();
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
