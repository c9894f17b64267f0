package dev.palettizer.engine;

import dev.palettizer.engine.ModelPalettizer.Plan;
import dev.palettizer.io.CheckpointFolder;
import dev.palettizer.io.CompressedFormat;
import dev.palettizer.io.CompressedModel;
import dev.palettizer.io.ModelFormatException;
import dev.palettizer.io.SafetensorsFile;
import dev.palettizer.io.SafetensorsSites;
import dev.palettizer.io.SafetensorsWriter.Tensor;
import dev.palettizer.io.ShardedOutput;
import dev.palettizer.model.PalettizedTensor;
import dev.palettizer.model.WeightSite;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinTask;
import java.util.stream.Collectors;

/**
 * Checkpoint folders (Hugging Face shards + index + other files) in and out, streamed: tensors are
 * palettized in file order with at most one per worker in flight (each still parallel inside), and
 * each result goes to the output folder as soon as it is done, so memory holds a few tensors whatever
 * the model size. Config rules see the sites of all shards together, as for one file. The output
 * folder appears atomically ({@link ShardedOutput}); inputs are only read.
 */
public final class FolderPalettizer {
    private final ModelPalettizer models;
    private final ForkJoinPool pool;

    public FolderPalettizer(ModelPalettizer models, ForkJoinPool pool) {
        this.models = models;
        this.pool = pool;
    }

    /**
     * Palettizes the folder (or index file) {@code in} into the folder {@code out}, shards of at most
     * {@code maxShardBytes}; sensitivities may be a file or a folder.
     */
    public List<TensorReport> palettize(Path in, Path out, FileJobOptions job, long maxShardBytes, Progress progress)
            throws IOException {
        try (CheckpointFolder model = CheckpointFolder.open(in);
             CheckpointFolder sens = job.sensitivities() == null ? null : CheckpointFolder.open(job.sensitivities())) {
            if (model.index().map(i -> i.format() != null).orElse(false)) {
                throw new ModelFormatException(in, "is palettized already (index metadata palettizer.format);"
                        + " decompress it first");
            }
            Map<String, WeightSite> sites = SafetensorsSites.of(model.tensors());
            List<Plan> plans = model.tensors().stream()
                    .map(e -> ModelPalettizer.plan(e, sites.get(e.name()), job, sens == null ? null : sens::tensor))
                    .toList();
            checkReservedNames(model, plans);
            List<Path> inputDirs = new ArrayList<>(List.of(model.dir()));
            if (sens != null) {
                inputDirs.add(sens.source());
            }
            try (ShardedOutput output = ShardedOutput.create(out, maxShardBytes, inputDirs)) {
                Map<String, String> shared = new LinkedHashMap<>();
                ModelPalettizer.copyUserMetadata(model.sharedMetadata(), shared::put);
                output.putSharedMetadata(shared).putSharedMetadata(
                        Map.of(CompressedFormat.FORMAT_KEY, CompressedFormat.FORMAT_VERSION));
                progress.start(plans.stream().filter(Plan::palettize).mapToLong(p -> p.entry().elementCount()).sum());
                List<TensorReport> reports = runInOrder(plans, output, progress);
                copyOtherFiles(model, output);
                output.commit(CompressedFormat.FORMAT_VERSION);
                return reports;
            }
        }
    }

    /**
     * Runs the plans with a window of {@code parallelism} tensors in flight and writes each outcome
     * in plan order; on failure waits for the tensors still running (they read the mapped inputs).
     */
    private List<TensorReport> runInOrder(List<Plan> plans, ShardedOutput output, Progress progress) throws IOException {
        int window = Math.max(1, pool.getParallelism());
        List<ForkJoinTask<Outcome>> tasks = new ArrayList<>(plans.size());
        List<TensorReport> reports = new ArrayList<>();
        int submitted = 0;
        try {
            for (int i = 0; i < plans.size(); i++) {
                for (; submitted < plans.size() && submitted < i + window; submitted++) {
                    Plan p = plans.get(submitted);
                    tasks.add(p.palettize() ? pool.submit(ForkJoinTask.adapt(() -> models.run(p, progress))) : null);
                }
                Plan p = plans.get(i);
                Outcome o = tasks.get(i) == null ? new Outcome.Skipped(p.entry().name(), p.reason()) : tasks.get(i).join();
                tasks.set(i, null);
                reports.add(write(p, o, output));
            }
            return reports;
        } finally {
            for (ForkJoinTask<Outcome> t : tasks) {
                if (t != null) {
                    t.quietlyJoin();
                }
            }
        }
    }

    private static TensorReport write(Plan p, Outcome o, ShardedOutput output) throws IOException {
        return switch (o) {
            case Outcome.Palettized done -> {
                PalettizedTensor t = done.tensor();
                output.add(CompressedFormat.entriesFor(t), CompressedFormat.metadataFor(t), true);
                yield ModelPalettizer.palettizedReport(p, done);
            }
            case Outcome.Skipped skipped -> {
                output.add(List.of(Tensor.copyOf(p.entry())), Map.of(), false);
                String reason = p.palettize()
                        ? skipped.reason() + " (spec from " + p.decision().reason() + ")" : skipped.reason();
                yield ModelPalettizer.copiedReport(p.entry(), reason);
            }
        };
    }

    /**
     * A palettized tensor W is stored as W.lut, W.indices...: an input tensor already under one of
     * those names would be indistinguishable, wherever its shard. Checked before any work.
     */
    private static void checkReservedNames(CheckpointFolder model, List<Plan> plans) {
        Map<String, String> reservedBy = new HashMap<>();
        for (Plan p : plans) {
            if (p.palettize()) {
                CompressedFormat.reservedNames(p.entry().name()).forEach(n -> reservedBy.put(n, p.entry().name()));
            }
        }
        for (SafetensorsFile.Entry e : model.tensors()) {
            String owner = reservedBy.get(e.name());
            if (owner != null) {
                throw new ModelFormatException(e.file(), e.name(), "this name is where palettized tensor '" + owner
                        + "' would store its data; rename the tensor or leave '" + owner + "' dense");
            }
        }
    }

    /**
     * Rebuilds a dense folder from a palettized one: every tensor in its original dtype, shards of at
     * most {@code maxShardBytes}, the other files copied. One input shard's compressed tensors are in
     * memory at a time, plus those waiting for their output shard.
     */
    public void decompress(Path in, Path out, long maxShardBytes) throws IOException {
        try (CheckpointFolder model = CheckpointFolder.open(in);
             ShardedOutput output = ShardedOutput.create(out, maxShardBytes, List.of(model.dir()))) {
            Map<String, String> shared = new LinkedHashMap<>();
            ModelPalettizer.copyUserMetadata(model.sharedMetadata(), shared::put);
            output.putSharedMetadata(shared);
            for (SafetensorsFile shard : model.shards()) {
                CompressedModel compressed = CompressedFormat.read(shard);
                for (PalettizedTensor t : compressed.palettized()) {
                    output.add(List.of(new Tensor(t.name(), t.originalDType(), t.shape(), models.densePayload(t))),
                            Map.of(), false);
                }
                for (String name : compressed.plainTensors()) {
                    output.add(List.of(Tensor.copyOf(shard.tensor(name).orElseThrow())), Map.of(), false);
                }
            }
            copyOtherFiles(model, output);
            output.commit(null);
        }
    }

    /** Each shard's palettized tensors and the names of its plain ones, by shard file. */
    public static Map<Path, CompressedModel> inspect(CheckpointFolder folder) {
        return folder.shards().stream().collect(Collectors.toMap(SafetensorsFile::path, CompressedFormat::read,
                (a, b) -> a, LinkedHashMap::new));
    }

    private static void copyOtherFiles(CheckpointFolder model, ShardedOutput output) throws IOException {
        for (Path relative : model.otherFiles()) {
            output.copyFile(model.dir().resolve(relative), relative);
        }
    }
}
