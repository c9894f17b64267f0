package dev.palettizer.calibrate;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * The built-in calibration texts: a few hundred English sentences of varied topics, lengths and registers
 * (questions, instructions, dialogue, lists, numbers, code-like and mixed-case text), written for calibration
 * and disjoint from the quality harness's evaluation sentences, so that a recipe calibrated on them is not
 * tuned to what it is judged on.
 */
public final class CalibrationTexts {
    /** The resource's file name, as messages and metadata show it. */
    public static final String NAME = "calibration-texts.txt";

    private CalibrationTexts() {}

    public static List<String> all() {
        try (InputStream in = CalibrationTexts.class.getResourceAsStream(NAME)) {
            if (in == null) {
                throw new IllegalStateException(NAME + " is missing from the calibrate jar");
            }
            return new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8)).lines()
                    .map(String::strip).filter(s -> !s.isEmpty()).toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
