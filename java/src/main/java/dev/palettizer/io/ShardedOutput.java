package dev.palettizer.io;

import dev.palettizer.io.SafetensorsWriter.Payload;
import dev.palettizer.io.SafetensorsWriter.Tensor;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SequencedMap;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Writes a checkpoint folder the way the Hugging Face Hub lays it out: shards
 * {@code model-00001-of-0000N.safetensors} of at most {@code maxShardBytes} of tensor data each (a
 * single larger tensor gets a shard of its own), {@code model.safetensors.index.json} mapping every
 * stored tensor to its shard, and copies of the other files.
 *
 * <p>The folder appears atomically: everything is written into a hidden sibling
 * {@code .NAME.tmp*}, forced to disk, then renamed onto {@code out}. An existing output (which must
 * be a checkpoint folder: it holds an index, or is empty) is first renamed to a hidden sibling
 * {@code .NAME.old*} and deleted once the new folder is in place; a crash between those two renames
 * leaves no folder at {@code out} and the previous one in that sibling. Closing without
 * {@link #commit} deletes the temporary folder, so a failed job leaves {@code out} as it was.
 *
 * <p>Memory stays bounded whatever the model size: tensors whose payloads live on the heap (the
 * compressed LUTs and indices) are {@linkplain #add spilled} to a scratch file at once and copied
 * into their shard when it is written, since a safetensors header, which comes first, needs every
 * tensor of the shard. Mapped payloads are written straight from their mapping.
 */
public final class ShardedOutput implements AutoCloseable {
    /** The Hub's default shard cap (5 GB, decimal as {@code save_pretrained}'s "5GB"). */
    public static final long DEFAULT_MAX_SHARD_BYTES = 5_000_000_000L;

    private final Path out;
    private final Path temp;
    private final long maxShardBytes;
    private final Map<String, String> sharedMetadata = new LinkedHashMap<>();
    private final Path spillPath;
    private final FileChannel spill;
    private final List<Tensor> pending = new ArrayList<>();
    private final Map<String, String> pendingMetadata = new LinkedHashMap<>();
    private final Set<String> names = new HashSet<>();
    private final SequencedMap<String, Integer> shardOf = new LinkedHashMap<>();
    private long pendingBytes;
    private long totalBytes;
    private int shardCount;
    private boolean committed;

    private ShardedOutput(Path out, Path temp, long maxShardBytes) throws IOException {
        this.out = out;
        this.temp = temp;
        this.maxShardBytes = maxShardBytes;
        this.spillPath = temp.resolve(".spill");
        this.spill = FileChannel.open(spillPath, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ,
                StandardOpenOption.WRITE);
    }

    /**
     * Starts a folder at {@code out}, refusing one that would replace, or lie inside, an input folder.
     *
     * @param inputDirs folders (or files) the job reads; {@code out} may be neither one of them, inside one, nor hold one
     * @throws IllegalArgumentException if {@code maxShardBytes} is not positive
     * @throws ModelFormatException if {@code out} is an input, is a file, or is a non-empty folder without an index
     */
    public static ShardedOutput create(Path out, long maxShardBytes, List<Path> inputDirs) throws IOException {
        if (maxShardBytes < 1) {
            throw new IllegalArgumentException("the shard size cap must be at least 1 byte, got " + maxShardBytes);
        }
        Path target = out.toAbsolutePath().normalize();
        if (target.getParent() == null) {
            throw new ModelFormatException(out, "cannot be the root folder; choose a folder to create");
        }
        for (Path input : inputDirs) {
            Path in = real(input);
            Path real = real(target);
            if (real.startsWith(in) || in.startsWith(real)) {
                throw new ModelFormatException(out, "overlaps the input folder " + input
                        + " (the same folder, inside it or holding it); choose an output outside the input");
            }
        }
        if (Files.exists(target)) {
            if (!Files.isDirectory(target)) {
                throw new ModelFormatException(out, "exists and is not a folder; choose a folder path for a checkpoint");
            }
            boolean replaceable;
            try (Stream<Path> list = Files.list(target)) {
                replaceable = list.findAny().isEmpty() || Files.isRegularFile(target.resolve(ShardIndex.FILE_NAME));
            }
            if (!replaceable) {
                throw new ModelFormatException(out, "exists and is not a checkpoint folder (no " + ShardIndex.FILE_NAME
                        + "); it would be replaced: choose a new path or remove it");
            }
        }
        Files.createDirectories(target.getParent());
        Path temp = Files.createDirectory(AtomicOutput.tempBeside(target, ".tmp"));
        try {
            return new ShardedOutput(target, temp, maxShardBytes);
        } catch (IOException | RuntimeException e) {
            deleteTree(temp, e);
            throw e;
        }
    }

    private static Path real(Path p) throws IOException {
        Path absolute = p.toAbsolutePath().normalize();
        return Files.exists(absolute) ? absolute.toRealPath() : absolute;
    }

    /** Metadata written into every shard's header (before the tensors' own). */
    public ShardedOutput putSharedMetadata(Map<String, String> metadata) {
        sharedMetadata.putAll(metadata);
        return this;
    }

    /**
     * Adds tensors that must share a shard (a palettized tensor's LUT, indices and scales, whose
     * {@code metadata} describes them), starting a new shard first if they would not fit the current one.
     *
     * @param spill write the payloads to the scratch file now (heap payloads, to be dropped), rather
     *     than when the shard is written (mapped payloads, whose file stays open until {@link #commit})
     * @throws IllegalArgumentException if a tensor name was added before
     */
    public void add(List<Tensor> group, Map<String, String> metadata, boolean spill) throws IOException {
        long bytes = 0;
        for (Tensor t : group) {
            if (names.contains(t.name())) {
                throw new IllegalArgumentException("duplicate tensor name '" + t.name() + "' in the output folder");
            }
            bytes += t.payload().byteSize();
        }
        if (!pending.isEmpty() && pendingBytes + bytes > maxShardBytes) {
            flush();
        }
        for (Tensor t : group) {
            names.add(t.name());
            pending.add(spill ? new Tensor(t.name(), t.dtype(), t.shape(), spilled(t.payload())) : t);
            shardOf.put(t.name(), shardCount);
        }
        pendingMetadata.putAll(metadata);
        pendingBytes += bytes;
        totalBytes += bytes;
    }

    /** Copies {@code source} byte for byte to {@code relative} inside the folder. */
    public void copyFile(Path source, Path relative) throws IOException {
        Path target = temp.resolve(relative).normalize();
        if (!target.startsWith(temp) || target.equals(temp)) {
            throw new IllegalArgumentException("file " + relative + " would lie outside the output folder");
        }
        Files.createDirectories(target.getParent());
        Files.copy(source, target, StandardCopyOption.COPY_ATTRIBUTES);
        force(target);
    }

    /**
     * Writes the last shard and the index, then moves the folder into place.
     *
     * @param format {@code palettizer.format} for the index of a palettized folder, or null for a dense one
     */
    public void commit(String format) throws IOException {
        if (!pending.isEmpty() || shardCount == 0) {
            flush();
        }
        spill.close();
        Files.delete(spillPath);
        SequencedMap<String, String> weightMap = new LinkedHashMap<>();
        for (int i = 0; i < shardCount; i++) {
            Files.move(temp.resolve(tempShardName(i)), temp.resolve(shardName(i, shardCount)));
        }
        shardOf.forEach((name, shard) -> weightMap.put(name, shardName(shard, shardCount)));
        Path index = temp.resolve(ShardIndex.FILE_NAME);
        Files.write(index, new ShardIndex(weightMap, totalBytes, format).toJson(), StandardOpenOption.CREATE_NEW);
        force(index);
        force(temp);
        if (Files.exists(out)) {
            Path old = Files.move(out, AtomicOutput.tempBeside(out, ".old"), StandardCopyOption.ATOMIC_MOVE);
            Files.move(temp, out, StandardCopyOption.ATOMIC_MOVE);
            committed = true;
            force(out.getParent());
            deleteTree(old, null);
        } else {
            Files.move(temp, out, StandardCopyOption.ATOMIC_MOVE);
            committed = true;
            force(out.getParent());
        }
    }

    /** The final shard names, as the Hub's {@code save_pretrained} writes them. */
    static String shardName(int shard, int count) {
        return String.format(Locale.ROOT, "model-%05d-of-%05d.safetensors", shard + 1, count);
    }

    private static String tempShardName(int shard) {
        return String.format(Locale.ROOT, ".shard-%05d.safetensors", shard + 1);
    }

    private void flush() throws IOException {
        SafetensorsWriter writer = new SafetensorsWriter().putAllMetadata(sharedMetadata).putAllMetadata(pendingMetadata)
                .addAll(pending);
        writer.write(temp.resolve(tempShardName(shardCount)));
        shardCount++;
        pending.clear();
        pendingMetadata.clear();
        pendingBytes = 0;
        // The spilled payloads of this shard are written: reuse the scratch file from its start.
        spill.truncate(0);
        spill.position(0);
    }

    /** Writes {@code payload} to the scratch file now; the returned payload copies it from there. */
    private Payload spilled(Payload payload) throws IOException {
        long start = spill.position();
        payload.writeTo(spill);
        long size = spill.position() - start;
        if (size != payload.byteSize()) {
            throw new IOException("payload wrote " + size + " bytes instead of " + payload.byteSize());
        }
        return new Payload() {
            @Override
            public long byteSize() {
                return size;
            }

            @Override
            public void writeTo(WritableByteChannel target) throws IOException {
                for (long done = 0; done < size; ) {
                    done += spill.transferTo(start + done, size - done, target);
                }
            }
        };
    }

    private static void force(Path path) throws IOException {
        try (FileChannel c = FileChannel.open(path, StandardOpenOption.READ)) {
            c.force(true);
        }
    }

    /** Deletes the temporary folder unless the job committed. */
    @Override
    public void close() throws IOException {
        if (!committed) {
            try {
                spill.close();
            } finally {
                deleteTree(temp, null);
            }
        }
    }

    /** Deletes a folder and its content; a failure is added to {@code failure} when there is one, else thrown. */
    private static void deleteTree(Path dir, Throwable failure) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            if (failure == null) {
                throw e;
            }
            failure.addSuppressed(e);
        }
    }
}
