package dev.palettizer.api;

import dev.palettizer.engine.Progress;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/** A stderr bar over the tensors of one palettization run, one step per finished tensor, named by the last one. */
final class TensorProgressBar implements Progress, AutoCloseable {
    private final ProgressBar bar;

    TensorProgressBar(int tensors, int workers) {
        bar = new ProgressBarBuilder().setTaskName("Palettizing tensors (workers=" + workers + ")")
                .setInitialMax(tensors).setStyle(ProgressBarStyle.ASCII).setUpdateIntervalMillis(250)
                .continuousUpdate().build();
    }

    @Override
    public void start(long totalElements) {}

    @Override
    public synchronized void done(String tensor, long elements) {
        bar.step();
        bar.setExtraMessage(tensor);
    }

    @Override
    public synchronized void close() {
        bar.close();
    }
}
