package dev.palettizer.budget;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.palettizer.spec.PalettizationSpec;
import dev.palettizer.spec.SpecException;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The allocator against brute force on small random curves, and the hull on its own. */
class AllocatorTest {
    private static final PalettizationSpec SPEC = PalettizationSpec.defaults();
    private static final double EPS = 1e-9;

    private static Point p(long bytes, double error) {
        return new Point(SPEC, bytes, error);
    }

    /** Random candidates: rates 1..200 bytes, errors falling with rate plus noise, some dominated. */
    private static List<Curve> randomCurves(SplittableRandom r, int tensors) {
        List<Curve> curves = new ArrayList<>();
        for (int t = 0; t < tensors; t++) {
            int n = 1 + r.nextInt(5);
            List<Point> points = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                long bytes = 1 + r.nextInt(200);
                points.add(p(bytes, 1000.0 / bytes * r.nextDouble(0.5, 2) + r.nextDouble(10)));
            }
            curves.add(new Curve("t" + t, 100, points));
        }
        return curves;
    }

    /** The least total error within the budget over every combination; +Infinity when none fits. */
    private static double bruteForce(List<Curve> curves, long budget) {
        return best(curves, 0, budget);
    }

    private static double best(List<Curve> curves, int t, long left) {
        if (t == curves.size()) {
            return 0;
        }
        double best = Double.POSITIVE_INFINITY;
        for (Point p : curves.get(t).points()) {
            if (p.bytes() <= left) {
                best = Math.min(best, p.error() + best(curves, t + 1, left - p.bytes()));
            }
        }
        return best;
    }

    @Test
    void withinItsCertifiedGapOfBruteForceAndNeverOverBudget() {
        SplittableRandom r = new SplittableRandom(13);
        int optimalRuns = 0;
        for (int run = 0; run < 3000; run++) {
            List<Curve> curves = randomCurves(r, 1 + r.nextInt(4));
            long cheapest = Allocator.cheapestBytes(curves);
            long budget = cheapest + r.nextInt(500);
            Allocator.Allocation a = Allocator.allocate(curves, budget);
            double optimum = bruteForce(curves, budget);
            String where = "run " + run + ", budget " + budget + ", curves " + curves;
            assertTrue(a.bytes() <= budget, where);
            assertEquals(a.bytes(), a.chosen().stream().mapToLong(Point::bytes).sum(), where);
            assertEquals(a.error(), a.chosen().stream().mapToDouble(Point::error).sum(), 1e-6, where);
            for (int t = 0; t < curves.size(); t++) {
                assertTrue(curves.get(t).points().contains(a.chosen().get(t)), where);
            }
            assertTrue(a.lowerBound() <= optimum + EPS, "the lower bound is not above the optimum: " + where);
            assertTrue(a.error() >= optimum - EPS, where);
            assertTrue(a.error() <= optimum + a.gap() + EPS, "within the certified gap: " + where);
            if (a.gap() == 0) {
                assertEquals(optimum, a.error(), 1e-6, where);
                optimalRuns++;
            }
        }
        assertTrue(optimalRuns > 100, "budgets that end on hull points are solved exactly: " + optimalRuns);
    }

    @Test
    void budgetsOnHullVerticesAreSolvedExactly() {
        SplittableRandom r = new SplittableRandom(5);
        for (int run = 0; run < 500; run++) {
            List<Curve> curves = randomCurves(r, 1 + r.nextInt(4));
            // A budget equal to one hull point of each curve, with the same multiplier-ordered prefix.
            long budget = 0;
            for (Curve c : curves) {
                List<Point> h = c.hull();
                budget += h.get(r.nextInt(h.size())).bytes();
            }
            Allocator.Allocation a = Allocator.allocate(curves, budget);
            double optimum = bruteForce(curves, budget);
            assertTrue(a.error() <= optimum + a.gap() + EPS);
            assertTrue(a.bytes() <= budget);
        }
    }

    @Test
    void hullIsConvexFallingAndKeepsTheCheapestAndTheBest() {
        SplittableRandom r = new SplittableRandom(3);
        for (int run = 0; run < 2000; run++) {
            Curve c = randomCurves(r, 1).getFirst();
            List<Point> h = c.hull();
            long minBytes = c.points().stream().mapToLong(Point::bytes).min().orElseThrow();
            double minError = c.points().stream().mapToDouble(Point::error).min().orElseThrow();
            assertEquals(minBytes, h.getFirst().bytes());
            assertEquals(minError, h.getLast().error());
            for (int i = 0; i + 1 < h.size(); i++) {
                assertTrue(h.get(i + 1).bytes() > h.get(i).bytes() && h.get(i + 1).error() < h.get(i).error());
            }
            for (int i = 0; i + 2 < h.size(); i++) {
                double s1 = (h.get(i).error() - h.get(i + 1).error()) / (h.get(i + 1).bytes() - h.get(i).bytes());
                double s2 = (h.get(i + 1).error() - h.get(i + 2).error()) / (h.get(i + 2).bytes() - h.get(i + 1).bytes());
                assertTrue(s1 > s2, "slopes fall along the hull");
            }
            // No candidate lies below the hull's piecewise-linear curve.
            for (Point q : c.points()) {
                for (int i = 0; i + 1 < h.size(); i++) {
                    Point a = h.get(i);
                    Point b = h.get(i + 1);
                    if (q.bytes() >= a.bytes() && q.bytes() <= b.bytes()) {
                        double line = a.error() + (b.error() - a.error()) * (q.bytes() - a.bytes()) / (b.bytes() - a.bytes());
                        assertTrue(q.error() >= line - 1e-9, "point " + q + " below the hull " + h);
                    }
                }
            }
        }
    }

    @Test
    void aKnownCase() {
        // Tensor a saves 90 for 10 bytes (slope 9); b saves 50 for 10 bytes (5), then 40 for 20 more (2).
        Curve a = new Curve("a", 10, List.of(p(10, 100), p(20, 10), p(25, 60)));
        Curve b = new Curve("b", 10, List.of(p(10, 100), p(20, 50), p(40, 10)));
        Allocator.Allocation x = Allocator.allocate(List.of(a, b), 40);
        assertEquals(List.of(p(20, 10), p(20, 50)), x.chosen());
        assertEquals(60, x.error());
        assertEquals(60 - 40 * 0 / 20.0, x.lowerBound(), 1e-12); // no room left at all: the bound equals the error
        Allocator.Allocation y = Allocator.allocate(List.of(a, b), 50);
        assertEquals(60 - 40 * 10 / 20.0, y.lowerBound(), 1e-12); // half of b's second step would fit
        assertEquals(20, y.gap(), 1e-12);
        assertEquals(20 + 40, Allocator.allocate(List.of(a, b), 60).bytes());
        assertThrows(SpecException.class, () -> Allocator.allocate(List.of(a, b), 19));
    }

    @Test
    void deterministicUnderTies() {
        Curve a = new Curve("a", 10, List.of(p(10, 100), p(20, 50)));
        Curve b = new Curve("b", 10, List.of(p(10, 100), p(20, 50)));
        Allocator.Allocation x = Allocator.allocate(List.of(a, b), 30);
        assertEquals(List.of(p(20, 50), p(10, 100)), x.chosen(), "the earlier tensor wins a tie");
        assertEquals(x, Allocator.allocate(List.of(a, b), 30));
    }
}
