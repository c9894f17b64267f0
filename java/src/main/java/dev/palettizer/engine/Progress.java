package dev.palettizer.engine;

/** Receives progress of a model job, in elements; calls may come from several threads. */
public interface Progress {
    Progress NONE = new Progress() {
        @Override
        public void start(long totalElements) {}

        @Override
        public void done(String tensor, long elements) {}
    };

    void start(long totalElements);

    void done(String tensor, long elements);
}
