package dev.palettizer.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * Replaces the text between {@code <!-- NAME:begin -->} and {@code <!-- NAME:end -->} in a markdown
 * file, so that the README's tables are written by the tools that measure them, never by hand.
 * The file is rewritten through a temporary file and an atomic rename.
 */
final class MarkdownBlock {
    private MarkdownBlock() {}

    static void replace(Path file, String name, String content) throws IOException {
        String begin = "<!-- " + name + ":begin -->\n";
        String end = "<!-- " + name + ":end -->";
        String text = Files.readString(file, StandardCharsets.UTF_8);
        int from = text.indexOf(begin);
        int to = text.indexOf(end);
        if (from < 0 || to < from) {
            throw new IllegalArgumentException(file + " has no block '" + begin.strip() + "' ... '" + end
                    + "'; add both markers where the table belongs");
        }
        String body = content.endsWith("\n") ? content : content + "\n";
        String updated = text.substring(0, from + begin.length()) + body + text.substring(to);
        Path tmp = Files.createTempFile(file.toAbsolutePath().getParent(), file.getFileName().toString(), ".tmp");
        try {
            Files.writeString(tmp, updated, StandardCharsets.UTF_8);
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }
}
