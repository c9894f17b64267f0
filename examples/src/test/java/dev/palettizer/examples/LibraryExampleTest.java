package dev.palettizer.examples;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.palettizer.api.Palettizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Runs the README's library example on a briefly trained MLP. */
class LibraryExampleTest {
    @TempDir
    Path dir;

    /** The README's facade example is the code between the markers in LibraryExample, indentation aside. */
    @Test
    void readmeShowsTheCodeThatRuns() throws IOException {
        String source = Files.readString(Path.of("src/main/java/dev/palettizer/examples/LibraryExample.java"));
        String code = source.substring(source.indexOf("// README: begin\n") + "// README: begin\n".length(),
                source.indexOf("        // README: end"));
        String readme = Files.readString(Path.of("../README.md"));
        int section = readme.indexOf("### The `KMeansPalettizer` facade");
        int start = readme.indexOf("```java\n", section) + "```java\n".length();
        String shown = readme.substring(start, readme.indexOf("```\n", start));
        assertEquals(code.stripTrailing().stripIndent(), shown.stripTrailing().stripIndent());
    }

    @Test
    void readmeExampleRuns() throws IOException {
        Dataset.Task task = Dataset.Task.standard();
        Mlp mlp = Mlp.initialized(1, 24, 32, 32, 10);
        mlp.train(task.sample(2000, 11), 2, 32, 2e-3, 12);

        LibraryExample.Result r = LibraryExample.run(mlp, task.sample(200, 13), dir);

        assertEquals(List.of("fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias", "fc3.weight", "fc3.bias"),
                List.copyOf(r.mapped().keySet()));
        r.weighted().forEach((name, values) -> assertArrayEquals(values, r.mapped().get(name), name));
        assertFalse(Arrays.equals(r.unweighted().get("fc2.weight"), r.weighted().get("fc2.weight")),
                "calibration changed the LUT of fc2.weight");
        assertTrue(Files.isRegularFile(dir.resolve("sensitivities.safetensors")));
        assertEquals(6, Palettizer.inspect(dir.resolve("mlp.pal.safetensors")).palettized().size());
    }
}
