package dev.palettizer.quality;

/**
 * How closely a model's embeddings follow the reference's on the same texts.
 *
 * @param meanCosine mean over texts of cos(reference_i, candidate_i)
 * @param minCosine the worst text's cosine
 * @param neighboursKept share of texts whose nearest neighbour among the other texts (by cosine)
 *     is the same under both models
 * @param maxAbsDifference largest |reference - candidate| over all components
 */
record Agreement(double meanCosine, double minCosine, double neighboursKept, double maxAbsDifference) {

    static Agreement of(float[][] reference, float[][] candidate) {
        if (reference.length != candidate.length || reference.length < 2) {
            throw new IllegalArgumentException("need the same texts (at least two) under both models, got "
                    + reference.length + " and " + candidate.length);
        }
        int n = reference.length;
        double sum = 0;
        double min = Double.POSITIVE_INFINITY;
        double maxDiff = 0;
        int kept = 0;
        for (int i = 0; i < n; i++) {
            double c = cosine(reference[i], candidate[i]);
            sum += c;
            min = Math.min(min, c);
            for (int d = 0; d < reference[i].length; d++) {
                maxDiff = Math.max(maxDiff, Math.abs(reference[i][d] - candidate[i][d]));
            }
            if (nearest(reference, i) == nearest(candidate, i)) {
                kept++;
            }
        }
        return new Agreement(sum / n, min, (double) kept / n, maxDiff);
    }

    /** The other text closest to text i (first on ties). */
    private static int nearest(float[][] e, int i) {
        int best = -1;
        double bestCos = Double.NEGATIVE_INFINITY;
        for (int j = 0; j < e.length; j++) {
            double c = j == i ? Double.NEGATIVE_INFINITY : cosine(e[i], e[j]);
            if (c > bestCos) {
                bestCos = c;
                best = j;
            }
        }
        return best;
    }

    static double cosine(float[] a, float[] b) {
        double dot = 0;
        double na = 0;
        double nb = 0;
        for (int k = 0; k < a.length; k++) {
            dot += (double) a[k] * b[k];
            na += (double) a[k] * a[k];
            nb += (double) b[k] * b[k];
        }
        return dot / Math.sqrt(na * nb);
    }
}
