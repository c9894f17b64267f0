package dev.palettizer.engine;

/**
 * Receives progress of a model job, in elements; calls may come from several threads. For each tensor,
 * the elements of its {@link #advance} calls and of its {@link #done} call add up to its element count.
 */
public interface Progress {
    Progress NONE = new Progress() {
        @Override
        public void start(long totalElements) {}

        @Override
        public void done(String tensor, long elements) {}
    };

    void start(long totalElements);

    /** Part of a large tensor's work is done: {@code elements} more of it count as finished. */
    default void advance(String tensor, long elements) {}

    /** The tensor is finished; {@code elements} are those not yet reported by {@link #advance}. */
    void done(String tensor, long elements);
}
