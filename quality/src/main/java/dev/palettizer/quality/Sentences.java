package dev.palettizer.quality;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * The built-in evaluation set: 200 English sentences on everyday, scientific, technical, financial,
 * medical, historical and cultural topics, in 100 pairs of paraphrases (so every sentence has a
 * clear nearest neighbour for the neighbour test). Fixed, so every run measures the same thing.
 */
final class Sentences {
    private static final String RESOURCE = "sentences.txt";

    private Sentences() {}

    static List<String> all() {
        try (InputStream in = Sentences.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException(RESOURCE + " is missing from the quality jar");
            }
            return new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8)).lines()
                    .map(String::strip).filter(s -> !s.isEmpty()).toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
