package dev.palettizer.examples;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * A multilayer perceptron with ReLU hidden layers and a softmax output, written out by hand: forward
 * pass, cross-entropy loss gradients by backpropagation, and Adam training. Layer {@code fcN} holds
 * {@code fcN.weight} [out, in] (row-major, as PyTorch's Linear) and {@code fcN.bias} [out]; the arrays
 * are the model's own and are handed to the palettizer as they are. Single-threaded and in
 * StrictMath, so the same seeds give the same bits everywhere.
 */
public final class Mlp {
    private final int[] sizes;
    private final float[][] weights;
    private final float[][] biases;

    private Mlp(int[] sizes, float[][] weights, float[][] biases) {
        this.sizes = sizes.clone();
        this.weights = weights;
        this.biases = biases;
    }

    /** He-initialised weights and zero biases for layer sizes {@code [in, hidden..., out]}. */
    public static Mlp initialized(long seed, int... sizes) {
        SplittableRandom r = new SplittableRandom(seed);
        int layers = sizes.length - 1;
        float[][] w = new float[layers][];
        float[][] b = new float[layers][];
        for (int l = 0; l < layers; l++) {
            w[l] = new float[sizes[l + 1] * sizes[l]];
            b[l] = new float[sizes[l + 1]];
            double std = Math.sqrt(2.0 / sizes[l]);
            for (int i = 0; i < w[l].length; i++) {
                w[l][i] = (float) (std * Dataset.gaussian(r));
            }
        }
        return new Mlp(sizes, w, b);
    }

    public int layers() {
        return sizes.length - 1;
    }

    public static String weightName(int layer) {
        return "fc" + (layer + 1) + ".weight";
    }

    public static String biasName(int layer) {
        return "fc" + (layer + 1) + ".bias";
    }

    /** Every parameter by name, weights then bias per layer: the model's own arrays, not copies. */
    public Map<String, float[]> parameters() {
        Map<String, float[]> p = new LinkedHashMap<>();
        for (int l = 0; l < layers(); l++) {
            p.put(weightName(l), weights[l]);
            p.put(biasName(l), biases[l]);
        }
        return p;
    }

    /** A parameter's shape: [out, in] for weights, [out] for biases. */
    public long[] shape(String name) {
        for (int l = 0; l < layers(); l++) {
            if (name.equals(weightName(l))) {
                return new long[] {sizes[l + 1], sizes[l]};
            }
            if (name.equals(biasName(l))) {
                return new long[] {sizes[l + 1]};
            }
        }
        throw new IllegalArgumentException("no parameter named '" + name + "'; the model has " + parameters().keySet());
    }

    /** A copy of this model whose parameters are replaced by those in {@code replacement} (copied), the rest copied from this one. */
    public Mlp withParameters(Map<String, float[]> replacement) {
        float[][] w = new float[layers()][];
        float[][] b = new float[layers()][];
        for (int l = 0; l < layers(); l++) {
            w[l] = replacement.getOrDefault(weightName(l), weights[l]).clone();
            b[l] = replacement.getOrDefault(biasName(l), biases[l]).clone();
            if (w[l].length != weights[l].length || b[l].length != biases[l].length) {
                throw new IllegalArgumentException("layer fc" + (l + 1) + ": replacement has the wrong length");
            }
        }
        return new Mlp(sizes, w, b);
    }

    /** Share of samples whose most probable class is the label. */
    public double accuracy(Dataset data) {
        Activations a = new Activations();
        int correct = 0;
        for (int i = 0; i < data.size(); i++) {
            forward(data.x()[i], a);
            if (argmax(a.out[layers()]) == data.y()[i]) {
                correct++;
            }
        }
        return (double) correct / data.size();
    }

    /** Mean cross-entropy loss over the samples. */
    public double loss(Dataset data) {
        Activations a = new Activations();
        double sum = 0;
        for (int i = 0; i < data.size(); i++) {
            forward(data.x()[i], a);
            sum -= StrictMath.log(Math.max(a.out[layers()][data.y()[i]], Float.MIN_NORMAL));
        }
        return sum / data.size();
    }

    /**
     * Gradients of the mean cross-entropy loss over samples {@code from..to-1} with respect to every
     * parameter, by name, laid out as the parameters.
     */
    public Map<String, float[]> gradients(Dataset data, int from, int to) {
        float[][] gw = new float[layers()][];
        float[][] gb = new float[layers()][];
        for (int l = 0; l < layers(); l++) {
            gw[l] = new float[weights[l].length];
            gb[l] = new float[biases[l].length];
        }
        Activations a = new Activations();
        float scale = 1f / (to - from);
        for (int i = from; i < to; i++) {
            forward(data.x()[i], a);
            backward(data.y()[i], a, gw, gb, scale);
        }
        Map<String, float[]> g = new LinkedHashMap<>();
        for (int l = 0; l < layers(); l++) {
            g.put(weightName(l), gw[l]);
            g.put(biasName(l), gb[l]);
        }
        return g;
    }

    /** The loss gradients of one mini-batch (samples {@code from..to-1}), by parameter name. */
    @FunctionalInterface
    public interface BatchGradients {
        Map<String, float[]> of(Dataset data, int from, int to);
    }

    /** Trains with Adam on mini-batches in an order shuffled by {@code seed}. */
    public void train(Dataset data, int epochs, int batch, double learningRate, long seed) {
        train(data, epochs, batch, learningRate, seed, this::gradients);
    }

    /**
     * Trains this model's parameters with Adam, taking each mini-batch's gradients from {@code gradients}
     * (a trainer that computes the loss at other weights, e.g. palettized ones, and maps the gradient back).
     */
    public void train(Dataset data, int epochs, int batch, double learningRate, long seed, BatchGradients gradients) {
        Adam adam = new Adam(learningRate);
        SplittableRandom r = new SplittableRandom(seed);
        int[] order = new int[data.size()];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        for (int e = 0; e < epochs; e++) {
            for (int i = order.length - 1; i > 0; i--) {
                int j = r.nextInt(i + 1);
                int t = order[i];
                order[i] = order[j];
                order[j] = t;
            }
            Dataset shuffled = reorder(data, order);
            for (int from = 0; from < data.size(); from += batch) {
                Map<String, float[]> g = gradients.of(shuffled, from, Math.min(data.size(), from + batch));
                adam.step(parameters(), g);
            }
        }
    }

    private static Dataset reorder(Dataset d, int[] order) {
        float[][] x = new float[order.length][];
        int[] y = new int[order.length];
        for (int i = 0; i < order.length; i++) {
            x[i] = d.x()[order[i]];
            y[i] = d.y()[order[i]];
        }
        return new Dataset(x, y, d.classes());
    }

    /** Layer outputs of one sample: out[0] is the input, out[l+1] layer l's (after ReLU, or the softmax at the end). */
    private final class Activations {
        final float[][] out = new float[sizes.length][];
        final float[][] delta = new float[sizes.length][];

        Activations() {
            for (int l = 1; l < sizes.length; l++) {
                out[l] = new float[sizes[l]];
                delta[l] = new float[sizes[l]];
            }
        }
    }

    private void forward(float[] x, Activations a) {
        a.out[0] = x;
        for (int l = 0; l < layers(); l++) {
            float[] in = a.out[l];
            float[] out = a.out[l + 1];
            int nIn = sizes[l];
            for (int o = 0; o < out.length; o++) {
                float s = biases[l][o];
                int row = o * nIn;
                for (int i = 0; i < nIn; i++) {
                    s += weights[l][row + i] * in[i];
                }
                out[o] = l < layers() - 1 ? Math.max(0f, s) : s;
            }
        }
        softmax(a.out[layers()]);
    }

    /** Adds scale * dLoss/dparams of one sample (after {@link #forward}) to the gradient sums. */
    private void backward(int label, Activations a, float[][] gw, float[][] gb, float scale) {
        float[] top = a.delta[layers()];
        float[] p = a.out[layers()];
        for (int o = 0; o < top.length; o++) {
            top[o] = p[o] - (o == label ? 1f : 0f);
        }
        for (int l = layers() - 1; l >= 0; l--) {
            float[] d = a.delta[l + 1];
            float[] in = a.out[l];
            int nIn = sizes[l];
            for (int o = 0; o < d.length; o++) {
                float g = d[o] * scale;
                gb[l][o] += g;
                int row = o * nIn;
                for (int i = 0; i < nIn; i++) {
                    gw[l][row + i] += g * in[i];
                }
            }
            if (l > 0) {
                float[] below = a.delta[l];
                for (int i = 0; i < nIn; i++) {
                    float s = 0;
                    for (int o = 0; o < d.length; o++) {
                        s += weights[l][o * nIn + i] * d[o];
                    }
                    below[i] = in[i] > 0 ? s : 0f; // ReLU passes gradient only where it was active
                }
            }
        }
    }

    private static void softmax(float[] z) {
        float max = z[argmax(z)];
        double sum = 0;
        for (int i = 0; i < z.length; i++) {
            z[i] = (float) StrictMath.exp(z[i] - max);
            sum += z[i];
        }
        for (int i = 0; i < z.length; i++) {
            z[i] /= (float) sum;
        }
    }

    private static int argmax(float[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) {
            if (v[i] > v[best]) {
                best = i;
            }
        }
        return best;
    }

    /** Adam (Kingma and Ba) with the usual betas, one moment pair per parameter array. */
    private static final class Adam {
        private static final double BETA1 = 0.9;
        private static final double BETA2 = 0.999;
        private static final double EPS = 1e-8;
        private final double lr;
        private final Map<String, float[]> m = new LinkedHashMap<>();
        private final Map<String, float[]> v = new LinkedHashMap<>();
        private int t;

        Adam(double lr) {
            this.lr = lr;
        }

        void step(Map<String, float[]> params, Map<String, float[]> grads) {
            t++;
            double c1 = 1 - StrictMath.pow(BETA1, t);
            double c2 = 1 - StrictMath.pow(BETA2, t);
            for (String name : List.copyOf(params.keySet())) {
                float[] p = params.get(name);
                float[] g = grads.get(name);
                float[] mm = m.computeIfAbsent(name, k -> new float[p.length]);
                float[] vv = v.computeIfAbsent(name, k -> new float[p.length]);
                for (int i = 0; i < p.length; i++) {
                    mm[i] = (float) (BETA1 * mm[i] + (1 - BETA1) * g[i]);
                    vv[i] = (float) (BETA2 * vv[i] + (1 - BETA2) * g[i] * g[i]);
                    p[i] -= (float) (lr * (mm[i] / c1) / (StrictMath.sqrt(vv[i] / c2) + EPS));
                }
            }
        }
    }
}
