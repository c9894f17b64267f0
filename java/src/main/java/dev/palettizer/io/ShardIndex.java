package dev.palettizer.io;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.SequencedMap;

/**
 * A Hugging Face {@code model.safetensors.index.json}: {@code weight_map} names the shard (a file in
 * the same folder) of every tensor; {@code metadata} carries {@code total_size} (the tensors' bytes)
 * and, for a palettized folder, {@code palettizer.format}. A tensor name the index maps twice is an
 * error (the strict JSON reader rejects duplicate keys), as is a shard name that leaves the folder.
 *
 * @param weightMap tensor name to shard file name, in document order
 * @param totalSize the {@code total_size} in bytes, or -1 when the index has none
 * @param format the {@code palettizer.format} of a palettized folder, or null for a dense one
 */
public record ShardIndex(SequencedMap<String, String> weightMap, long totalSize, String format) {
    public static final String FILE_NAME = "model.safetensors.index.json";
    public static final String SUFFIX = ".safetensors.index.json";
    private static final String SHARD_SUFFIX = ".safetensors";
    private static final String FORMAT_KEY = "palettizer.format";

    public ShardIndex {
        weightMap = Collections.unmodifiableSequencedMap(new LinkedHashMap<>(weightMap));
    }

    /**
     * Reads and checks an index file.
     *
     * @throws ModelFormatException naming the file and the field when it is not a well-formed index
     */
    public static ShardIndex read(Path file) throws IOException {
        long size = Files.size(file);
        if (size > SafetensorsFile.MAX_HEADER_BYTES) {
            throw new ModelFormatException(file, "index is " + size + " bytes, more than the limit of "
                    + SafetensorsFile.MAX_HEADER_BYTES);
        }
        return parse(file, Files.readAllBytes(file));
    }

    /** Parses {@code bytes} as the index {@code file} (named in errors only). */
    public static ShardIndex parse(Path file, byte[] bytes) {
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw new ModelFormatException(file, "index is not valid UTF-8", e);
        }
        JsonFields root = JsonFields.parseObject(text, "index", detail -> new ModelFormatException(file, detail));
        root.allowOnly(List.of("metadata", "weight_map"));
        long totalSize = -1;
        String format = null;
        if (root.get("metadata") != null && !root.get("metadata").isNull()) {
            JsonFields metadata = JsonFields.of(root.get("metadata"), "metadata",
                    detail -> new ModelFormatException(file, "metadata: " + detail));
            if (metadata.get("total_size") != null) {
                totalSize = metadata.nonNegativeLong("total_size");
            }
            if (metadata.get(FORMAT_KEY) != null) {
                format = metadata.text(FORMAT_KEY);
            }
        }
        JsonFields map = root.object("weight_map");
        SequencedMap<String, String> weightMap = new LinkedHashMap<>();
        for (Iterator<String> it = map.fieldNames(); it.hasNext(); ) {
            String tensor = it.next();
            JsonNode shard = map.get(tensor);
            if (!shard.isTextual()) {
                throw new ModelFormatException(file, "weight_map '" + tensor + "' must be a shard file name, got " + shard);
            }
            checkShardName(file, tensor, shard.textValue());
            weightMap.put(tensor, shard.textValue());
        }
        if (weightMap.isEmpty()) {
            throw new ModelFormatException(file, "weight_map is empty: an index must name at least one tensor");
        }
        return new ShardIndex(weightMap, totalSize, format);
    }

    /** Shards are plain file names in the index's folder: a path could read (or name) files elsewhere. */
    private static void checkShardName(Path file, String tensor, String shard) {
        boolean plain = !shard.isEmpty() && !shard.contains("/") && !shard.contains("\\") && !shard.contains("\0")
                && !shard.equals(".") && !shard.equals("..");
        if (!plain || !shard.endsWith(SHARD_SUFFIX) || shard.equals(SHARD_SUFFIX)) {
            throw new ModelFormatException(file, "weight_map '" + tensor + "' names shard '" + shard
                    + "', but a shard must be a file name in the index's folder ending in " + SHARD_SUFFIX);
        }
    }

    /** The shard names, each once, in order of first mention. */
    public List<String> shards() {
        return weightMap.values().stream().distinct().toList();
    }

    /** The index as pretty-printed JSON, {@code metadata} first (total_size, then the format when set). */
    public byte[] toJson() {
        ObjectNode root = JsonFields.objectNode();
        ObjectNode metadata = root.putObject("metadata");
        if (totalSize >= 0) {
            metadata.put("total_size", totalSize);
        }
        if (format != null) {
            metadata.put(FORMAT_KEY, format);
        }
        ObjectNode map = root.putObject("weight_map");
        weightMap.forEach(map::put);
        try {
            return JsonFields.prettyBytes(root);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException("cannot serialise the shard index", e);
        }
    }

    /** Whether {@code path}'s name marks an index file. */
    public static boolean isIndexName(Path path) {
        Path name = path.getFileName();
        return name != null && name.toString().endsWith(SUFFIX);
    }
}
