package dev.palettizer.calibrate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import org.junit.jupiter.api.Test;

class CalibrationTextsTest {
    /** The quality harness's evaluation sentences (module quality/, beside this one). */
    private static final Path EVALUATION = Path.of("../quality/src/main/resources/dev/palettizer/quality/sentences.txt");

    /** The recipe must not be tuned on what it is judged on: no evaluation sentence is a calibration text. */
    @Test
    void disjointFromTheEvaluationSentences() throws IOException {
        List<String> calibration = CalibrationTexts.all();
        List<String> evaluation = Files.readAllLines(EVALUATION).stream().filter(s -> !s.isBlank()).toList();
        assertEquals(200, evaluation.size(), "evaluation set read from " + EVALUATION.toAbsolutePath());
        Set<String> judged = new HashSet<>();
        evaluation.forEach(s -> judged.add(normal(s)));
        List<String> shared = calibration.stream().filter(s -> judged.contains(normal(s))).toList();
        assertEquals(List.of(), shared);
    }

    @Test
    void aFewHundredDistinctTexts() {
        List<String> texts = CalibrationTexts.all();
        assertTrue(texts.size() >= 250, texts.size() + " texts");
        assertEquals(texts.size(), new HashSet<>(texts.stream().map(CalibrationTextsTest::normal).toList()).size());
    }

    /** Case, punctuation and spacing do not make a sentence different. */
    private static String normal(String s) {
        return s.toLowerCase(Locale.ROOT).replaceAll("[^\\p{L}\\p{N}]+", " ").strip();
    }
}
