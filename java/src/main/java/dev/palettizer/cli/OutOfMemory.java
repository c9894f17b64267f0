package dev.palettizer.cli;

import dev.palettizer.engine.TensorMemoryError;

/** What the command line says when the Java heap runs out: where, how much there was, and what to change. */
final class OutOfMemory {
    private OutOfMemory() {}

    static String describe(OutOfMemoryError e) {
        // ForkJoinPool may rethrow a copy whose cause is the original: look down the chain.
        String where = null;
        for (Throwable t = e; t != null && where == null; t = t.getCause()) {
            if (t instanceof TensorMemoryError) {
                where = t.getMessage();
            }
        }
        long maxGiB = Math.max(1, (long) Math.ceil(Runtime.getRuntime().maxMemory() / (double) (1L << 30)));
        if (where == null) {
            where = "the " + TensorMemoryError.heap() + " Java heap was not enough (" + e.getMessage() + ")";
        }
        return where + "; give the JVM more heap (PALETTIZER_JAVA_OPTS=-Xmx" + 2 * maxGiB + "g ./palettizer ..., or"
                + " java -Xmx" + 2 * maxGiB + "g -jar ...), or ask for less memory: keep fast mode (drop --no-fast),"
                + " or use smaller groups (--granularity per-grouped-channel --group-size 32)";
    }
}
