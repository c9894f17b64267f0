package dev.palettizer.io;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;

/**
 * A Hugging Face checkpoint folder opened read-only: its safetensors shards (each mapped, headers
 * validated), the index that maps every tensor to its shard, and the other files (config, tokenizer)
 * that travel with it. Opening checks the folder as a whole, so a job that starts can trust it:
 * every shard the index names exists, every {@code *.safetensors} file of the folder is in the index,
 * every tensor lives in exactly one shard and in the shard the index says. A folder without an
 * index must hold exactly one {@code *.safetensors} file. Close it to unmap the shards.
 */
public final class CheckpointFolder implements AutoCloseable {
    private final Path dir;
    private final Path source;
    private final Path indexFile;
    private final ShardIndex index;
    private final List<SafetensorsFile> shards;
    private final List<SafetensorsFile.Entry> tensors;
    private final Map<String, SafetensorsFile.Entry> byName;
    private final List<Path> otherFiles;
    private final AtomicBoolean closed = new AtomicBoolean();

    private CheckpointFolder(Path dir, Path source, Path indexFile, ShardIndex index, List<SafetensorsFile> shards,
                             List<Path> otherFiles) {
        this.dir = dir;
        this.source = source;
        this.indexFile = indexFile;
        this.index = index;
        this.shards = List.copyOf(shards);
        this.tensors = shards.stream().flatMap(s -> s.tensors().stream()).toList();
        this.byName = new HashMap<>();
        tensors.forEach(e -> byName.put(e.name(), e));
        this.otherFiles = List.copyOf(otherFiles);
    }

    /** Whether {@code path} is read as a folder: a directory, or an index file standing for its folder. */
    public static boolean isFolder(Path path) {
        return Files.isDirectory(path) || ShardIndex.isIndexName(path);
    }

    /**
     * Opens a folder, or the folder of an index file; a plain safetensors file opens as a folder of
     * that one shard with no other files (for sensitivities, which may come as either).
     *
     * @throws ModelFormatException naming the file and field when the folder is inconsistent
     */
    public static CheckpointFolder open(Path path) throws IOException {
        if (!isFolder(path)) {
            SafetensorsFile single = SafetensorsFile.open(path);
            return new CheckpointFolder(path.toAbsolutePath().getParent(), path, null, null, List.of(single), List.of());
        }
        Path dir = Files.isDirectory(path) ? path : path.toAbsolutePath().getParent();
        Path indexFile = Files.isDirectory(path) ? findIndex(dir) : path;
        if (indexFile != null && !Files.isRegularFile(indexFile)) {
            throw new ModelFormatException(indexFile, "index file does not exist");
        }
        List<Path> present = topLevelShards(dir);
        if (indexFile == null) {
            if (present.size() != 1) {
                throw new ModelFormatException(dir, present.isEmpty()
                        ? "holds no *.safetensors file and no " + ShardIndex.FILE_NAME
                        : "holds " + present.size() + " *.safetensors files but no " + ShardIndex.FILE_NAME
                                + " saying which tensor lives where");
            }
            return openShards(dir, null, null, present);
        }
        ShardIndex index = ShardIndex.read(indexFile);
        List<Path> listed = new ArrayList<>();
        for (String shard : index.shards()) {
            Path file = dir.resolve(shard);
            if (!Files.isRegularFile(file)) {
                String tensor = index.weightMap().entrySet().stream().filter(e -> e.getValue().equals(shard))
                        .findFirst().orElseThrow().getKey();
                throw new ModelFormatException(indexFile, "weight_map '" + tensor + "' names shard '" + shard
                        + "', which does not exist in " + dir);
            }
            listed.add(file);
        }
        for (Path file : present) {
            if (!listed.contains(file)) {
                throw new ModelFormatException(file, "is not in the index " + indexFile.getFileName()
                        + " (no weight_map entry names it): add its tensors to weight_map or move it out of the folder");
            }
        }
        listed.sort(Comparator.comparing(p -> p.getFileName().toString()));
        return openShards(dir, indexFile, index, listed);
    }

    private static CheckpointFolder openShards(Path dir, Path indexFile, ShardIndex index, List<Path> files)
            throws IOException {
        List<SafetensorsFile> opened = new ArrayList<>();
        try {
            for (Path file : files) {
                opened.add(SafetensorsFile.open(file));
            }
            checkPlacement(indexFile, index, opened);
            List<Path> excluded = new ArrayList<>(files);
            if (indexFile != null) {
                excluded.add(indexFile);
            }
            return new CheckpointFolder(dir, dir, indexFile, index, opened, otherFiles(dir, excluded));
        } catch (IOException | RuntimeException | Error e) {
            opened.forEach(SafetensorsFile::close);
            throw e;
        }
    }

    /** Each tensor in one shard only, and in the one the index names for it; every index entry found. */
    private static void checkPlacement(Path indexFile, ShardIndex index, List<SafetensorsFile> shards) {
        Map<String, SafetensorsFile> seen = new HashMap<>();
        for (SafetensorsFile shard : shards) {
            String shardName = shard.path().getFileName().toString();
            for (SafetensorsFile.Entry e : shard.tensors()) {
                SafetensorsFile other = seen.put(e.name(), shard);
                if (other != null) {
                    throw new ModelFormatException(shard.path(), e.name(), "is also stored in shard "
                            + other.path().getFileName() + ": a tensor must live in exactly one shard");
                }
                if (index != null && !shardName.equals(index.weightMap().get(e.name()))) {
                    String mapped = index.weightMap().get(e.name());
                    throw new ModelFormatException(indexFile, "weight_map '" + e.name() + "' "
                            + (mapped == null ? "is missing" : "names shard '" + mapped + "'") + ", but the tensor is stored in "
                            + shardName + (mapped == null ? "" : ": a tensor must live in exactly one shard"));
                }
            }
        }
        if (index != null) {
            index.weightMap().forEach((tensor, shard) -> {
                if (!seen.containsKey(tensor)) {
                    throw new ModelFormatException(indexFile, "weight_map '" + tensor + "' names shard '" + shard
                            + "', whose header has no such tensor");
                }
            });
        }
    }

    private static Path findIndex(Path dir) throws IOException {
        List<Path> indexes;
        try (Stream<Path> list = Files.list(dir)) {
            indexes = list.filter(p -> ShardIndex.isIndexName(p) && Files.isRegularFile(p)).sorted().toList();
        }
        if (indexes.size() > 1) {
            throw new ModelFormatException(dir, "holds " + indexes.size() + " index files " + indexes.stream()
                    .map(p -> p.getFileName().toString()).toList() + ": pass the one to use instead of the folder");
        }
        return indexes.isEmpty() ? null : indexes.getFirst();
    }

    private static List<Path> topLevelShards(Path dir) throws IOException {
        try (Stream<Path> list = Files.list(dir)) {
            return list.filter(p -> p.getFileName().toString().endsWith(".safetensors") && Files.isRegularFile(p))
                    .sorted().toList();
        }
    }

    /** Every regular file under {@code dir} except the shards and the index, relative to {@code dir}, sorted. */
    private static List<Path> otherFiles(Path dir, List<Path> excluded) throws IOException {
        try (Stream<Path> walk = Files.walk(dir)) {
            return walk.filter(Files::isRegularFile).filter(p -> !excluded.contains(p))
                    .map(dir::relativize).sorted().toList();
        }
    }

    /** The folder (for a single file: the folder holding it). */
    public Path dir() {
        return dir;
    }

    /** What was opened: the folder, or the single file (which no output may replace or hold). */
    public Path source() {
        return source;
    }

    /** The index, if the folder has one. */
    public Optional<ShardIndex> index() {
        return Optional.ofNullable(index);
    }

    /** The shards, sorted by file name. */
    public List<SafetensorsFile> shards() {
        return shards;
    }

    /** Every tensor: the shards in order, each in header order. */
    public List<SafetensorsFile.Entry> tensors() {
        return tensors;
    }

    public Optional<SafetensorsFile.Entry> tensor(String name) {
        return Optional.ofNullable(byName.get(name));
    }

    /** The files that are neither shards nor the index (config, tokenizer...), relative to {@link #dir()}. */
    public List<Path> otherFiles() {
        return otherFiles;
    }

    /** Every file a job reads, which no output may replace: index, shards, other files. */
    public List<Path> inputFiles() {
        List<Path> files = new ArrayList<>();
        if (indexFile != null) {
            files.add(indexFile);
        }
        shards.forEach(s -> files.add(s.path()));
        otherFiles.forEach(f -> files.add(dir.resolve(f)));
        return files;
    }

    /**
     * The {@code __metadata__} entries every shard holds with the same value (HF writes
     * {@code format: pt} into each): a folder's metadata, when shards are merged or split.
     */
    public Map<String, String> sharedMetadata() {
        Map<String, String> shared = new LinkedHashMap<>(shards.getFirst().metadata());
        for (SafetensorsFile s : shards) {
            shared.entrySet().removeIf(e -> !e.getValue().equals(s.metadata().get(e.getKey())));
        }
        return shared;
    }

    /** Unmaps every shard; closing again does nothing. */
    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            shards.forEach(SafetensorsFile::close);
        }
    }
}
