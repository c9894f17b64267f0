package dev.palettizer.budget;

import dev.palettizer.engine.FileJobOptions;
import dev.palettizer.spec.SpecResolver;
import dev.palettizer.spec.WeightDecision;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The budget's choice for every tensor the rules palettize, before the run.
 *
 * @param budget the target
 * @param weights the palettized weights the average is over
 * @param overheadBytes what the budget sets aside besides the candidates' bytes: the input file's own
 *     structure (its size less its tensors' data) and {@link BudgetPlanner#METADATA_BYTES_PER_TENSOR} per tensor
 * @param candidateBytes what is left for the chosen candidates' indices, LUTs and scales
 * @param choices per tensor, in model order
 * @param allocation the allocator's result (bytes, predicted error, lower bound on the optimum)
 * @param curveSeconds wall time spent clustering the candidates
 */
public record BudgetPlan(BitBudget budget, long weights, long overheadBytes, long candidateBytes,
                         List<TensorChoice> choices, Allocator.Allocation allocation, double curveSeconds) {
    public BudgetPlan {
        choices = List.copyOf(choices);
    }

    /** Average bits per weight the plan stores, everything the budget counts. */
    public double plannedBits() {
        return weights == 0 ? 0 : 8.0 * (allocation.bytes() + overheadBytes) / weights;
    }

    public Map<String, TensorChoice> byName() {
        Map<String, TensorChoice> m = new LinkedHashMap<>();
        choices.forEach(c -> m.put(c.name(), c));
        return m;
    }

    /**
     * {@code job} with the chosen bits and granularity for the tensors the plan covers; which tensors are
     * palettized, their clustering mode and the rest of their spec stay the rules'.
     */
    public FileJobOptions apply(FileJobOptions job) {
        Map<String, TensorChoice> chosen = byName();
        SpecResolver rules = job.resolver();
        SpecResolver budgeted = site -> {
            WeightDecision d = rules.resolve(site);
            TensorChoice c = chosen.get(site.tensorName());
            if (c == null || !d.palettized()) {
                return d;
            }
            return WeightDecision.palettize(c.chosen().spec(), d.fastMode(), d.roundingPrecision(),
                    d.reason() + "; bits and granularity from the budget of " + budget.targetBits() + " bits");
        };
        return new FileJobOptions(budgeted, job.weightThreshold(), job.include1d(), job.sensitivities());
    }
}
