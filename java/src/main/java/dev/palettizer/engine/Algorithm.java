package dev.palettizer.engine;

/** How initial centroids are found: AUTO is OPTIMAL for scalars and KMEANS_PLUS_PLUS for vectors. */
public enum Algorithm {
    AUTO,
    /** Optimal weighted 1-D k-means (dynamic program) on the value histogram, then one Lloyd step. */
    OPTIMAL,
    /** Seeded k-means++ on a sample, then Lloyd iterations on all values. */
    KMEANS_PLUS_PLUS
}
