package dev.palettizer.budget;

import dev.palettizer.spec.SpecException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Chooses one candidate per tensor to minimise the summed error within a byte budget (a
 * multiple-choice knapsack), greedily on the slopes of each tensor's convex hull.
 *
 * <p>Every tensor starts at its cheapest hull point; hull steps are taken in order of error saved per
 * byte, largest first, while they fit. The first step that does not fit ("the split step") bounds the
 * optimum from below: taking the affordable fraction of it gives the optimum of the LP relaxation (each
 * tensor mixing its hull points; Sinha and Zoltners 1979), which no integer choice beats. After it, the
 * later steps of other tensors that still fit are taken too (each only lowers the error). So the result
 * is within {@link Allocation#gap()} of the optimum, a certificate computed for every run, and optimal
 * when the gap is 0 (no split step, or the budget ends exactly on hull points).
 */
public final class Allocator {
    private Allocator() {}

    /**
     * One choice per curve.
     *
     * @param chosen per curve, the chosen point
     * @param bytes their bytes in all (at most the budget)
     * @param error their errors in all
     * @param lowerBound no choice within the budget has less error than this
     */
    public record Allocation(List<Point> chosen, long bytes, double error, double lowerBound) {
        public Allocation {
            chosen = List.copyOf(chosen);
        }

        /** How far {@link #error()} may be above the optimum, at most. */
        public double gap() {
            return Math.max(0, error - lowerBound);
        }
    }

    /** A hull step of curve {@code curve} from point {@code from} to {@code from + 1}. */
    private record Step(int curve, int from, long bytes, double saved) {
        double slope() {
            return saved / bytes;
        }
    }

    /** The bytes of the cheapest point of every curve: the least any allocation stores. */
    public static long cheapestBytes(List<Curve> curves) {
        return curves.stream().mapToLong(c -> c.hull().getFirst().bytes()).sum();
    }

    /**
     * @throws SpecException when even the cheapest point of every curve exceeds {@code budgetBytes}
     */
    public static Allocation allocate(List<Curve> curves, long budgetBytes) {
        List<List<Point>> hulls = curves.stream().map(Curve::hull).toList();
        long bytes = 0;
        double error = 0;
        int[] at = new int[hulls.size()];
        List<Step> steps = new ArrayList<>();
        for (int c = 0; c < hulls.size(); c++) {
            List<Point> h = hulls.get(c);
            bytes += h.getFirst().bytes();
            error += h.getFirst().error();
            for (int i = 0; i + 1 < h.size(); i++) {
                steps.add(new Step(c, i, h.get(i + 1).bytes() - h.get(i).bytes(), h.get(i).error() - h.get(i + 1).error()));
            }
        }
        if (bytes > budgetBytes) {
            throw new SpecException("the cheapest choice stores " + bytes + " bytes, over the budget of " + budgetBytes);
        }
        // Within a curve the slopes fall strictly (convex hull), so this order takes each curve's steps in turn;
        // ties across curves go to the earlier curve, so the result is deterministic.
        steps.sort(Comparator.comparingDouble(Step::slope).reversed()
                .thenComparingInt(Step::curve).thenComparingInt(Step::from));
        double lowerBound = Double.NaN;
        boolean[] blocked = new boolean[hulls.size()];
        for (Step s : steps) {
            if (blocked[s.curve()] || at[s.curve()] != s.from()) {
                continue;
            }
            long left = budgetBytes - bytes;
            if (s.bytes() > left) {
                if (Double.isNaN(lowerBound)) {
                    lowerBound = error - s.saved() * left / s.bytes();
                }
                blocked[s.curve()] = true;
                continue;
            }
            bytes += s.bytes();
            error -= s.saved();
            at[s.curve()]++;
        }
        List<Point> chosen = new ArrayList<>();
        for (int c = 0; c < hulls.size(); c++) {
            chosen.add(hulls.get(c).get(at[c]));
        }
        return new Allocation(chosen, bytes, error, Double.isNaN(lowerBound) ? error : Math.min(lowerBound, error));
    }
}
