package dev.palettizer.examples;

import java.util.SplittableRandom;

/**
 * A labelled sample set of a generated classification task: each of {@code classes} classes is a
 * mixture of a few Gaussian blobs in {@code dims} dimensions, so the classes are not linearly
 * separable. The task (blob centres) is fixed by its seed; samples of one task drawn with different
 * seeds are independent train and test sets.
 */
public record Dataset(float[][] x, int[] y, int classes) {
    /** The task: blob centres per class, and the spread of the samples around them. */
    public record Task(int dims, int classes, int blobsPerClass, double centreSpread, double noise, double scaleRange,
                       long seed) {
        /** The task the training example uses: 10 classes of 3 blobs in 24 dimensions. */
        public static Task standard() {
            return new Task(24, 10, 3, 1.0, 0.9, 10, 2026);
        }

        /** Feature d is multiplied by scale[d], log-uniform in [1/scaleRange, scaleRange]. */
        double[] scales() {
            SplittableRandom r = new SplittableRandom(seed ^ 0x5CA1E5L);
            double[] s = new double[dims];
            for (int d = 0; d < dims; d++) {
                s[d] = StrictMath.exp((2 * r.nextDouble() - 1) * StrictMath.log(scaleRange));
            }
            return s;
        }

        float[][][] centres() {
            SplittableRandom r = new SplittableRandom(seed);
            float[][][] c = new float[classes][blobsPerClass][dims];
            for (float[][] perClass : c) {
                for (float[] centre : perClass) {
                    for (int d = 0; d < dims; d++) {
                        centre[d] = (float) (centreSpread * gaussian(r));
                    }
                }
            }
            return c;
        }

        /** {@code n} samples, classes uniform, drawn with {@code sampleSeed}. */
        public Dataset sample(int n, long sampleSeed) {
            float[][][] c = centres();
            double[] scale = scales();
            SplittableRandom r = new SplittableRandom(sampleSeed);
            float[][] x = new float[n][dims];
            int[] y = new int[n];
            for (int i = 0; i < n; i++) {
                y[i] = r.nextInt(classes);
                float[] centre = c[y[i]][r.nextInt(blobsPerClass)];
                for (int d = 0; d < dims; d++) {
                    x[i][d] = (float) (scale[d] * (centre[d] + noise * gaussian(r)));
                }
            }
            return new Dataset(x, y, classes);
        }
    }

    public int size() {
        return y.length;
    }

    public int dims() {
        return x[0].length;
    }

    /** Standard normal by Box-Muller in StrictMath, so the data is the same bits on every machine. */
    static double gaussian(SplittableRandom r) {
        double u = 1 - r.nextDouble();
        return StrictMath.sqrt(-2 * StrictMath.log(u)) * StrictMath.cos(2 * Math.PI * r.nextDouble());
    }
}
