package dev.palettizer.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** Issue 17 item 8: a log gets one line per finished tensor, with progress made within tensors counted. */
class ConsoleProgressTest {
    @Test
    void linesCountAdvancesButPrintOnlyWhenATensorIsDone() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ConsoleProgress p = new ConsoleProgress(ConsoleProgress.Mode.LINES,
                new PrintStream(bytes, true, StandardCharsets.UTF_8))) {
            p.start(400);
            p.advance("a", 100);
            p.advance("a", 50);
            p.done("a", 50);
            p.advance("b", 150);
            p.done("b", 50);
        }
        assertEquals("palettizer:  50.0 % a\npalettizer: 100.0 % b\n", bytes.toString(StandardCharsets.UTF_8));
    }

    @Test
    void quietPrintsNothing() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ConsoleProgress p = new ConsoleProgress(ConsoleProgress.Mode.QUIET,
                new PrintStream(bytes, true, StandardCharsets.UTF_8))) {
            p.start(10);
            p.advance("a", 5);
            p.done("a", 5);
        }
        assertEquals("", bytes.toString(StandardCharsets.UTF_8));
    }
}
