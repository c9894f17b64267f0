package dev.palettizer.budget;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * One tensor's rate-distortion curve: its candidates, and their lower convex hull, the only
 * points a Lagrangian allocation ever picks.
 *
 * @param name the tensor
 * @param elements its weight count
 * @param points its candidates, in any order (at least one)
 */
public record Curve(String name, long elements, List<Point> points) {
    public Curve {
        points = List.copyOf(points);
        if (points.isEmpty()) {
            throw new IllegalArgumentException("tensor '" + name + "': a curve needs at least one candidate");
        }
    }

    /**
     * The lower convex hull, cheapest first: strictly falling error and strictly falling error per
     * added byte. Ties keep the first candidate in {@link #points()} order, so the hull is deterministic.
     */
    public List<Point> hull() {
        List<Point> sorted = new ArrayList<>(points);
        sorted.sort(Comparator.comparingLong(Point::bytes).thenComparingDouble(Point::error));
        List<Point> hull = new ArrayList<>();
        for (Point p : sorted) {
            if (!hull.isEmpty() && p.error() >= hull.getLast().error()) {
                continue; // costs no less and is no better than a hull point already kept
            }
            // Drop hull points that lie on or above the chord from their predecessor to p.
            while (hull.size() >= 2 && !below(hull.get(hull.size() - 2), hull.getLast(), p)) {
                hull.removeLast();
            }
            hull.add(p);
        }
        return hull;
    }

    /** Whether b lies strictly below the line from a to c (a.bytes < b.bytes < c.bytes). */
    private static boolean below(Point a, Point b, Point c) {
        // (b.err - a.err) / (b.bytes - a.bytes) < (c.err - a.err) / (c.bytes - a.bytes), without division.
        double lhs = (b.error() - a.error()) * (double) (c.bytes() - a.bytes());
        double rhs = (c.error() - a.error()) * (double) (b.bytes() - a.bytes());
        return lhs < rhs;
    }
}
