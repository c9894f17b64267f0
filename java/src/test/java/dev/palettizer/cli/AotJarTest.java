package dev.palettizer.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.lang.classfile.Attributes;
import java.lang.classfile.ClassFile;
import java.lang.classfile.ClassModel;
import java.lang.classfile.CodeModel;
import java.lang.classfile.Instruction;
import java.lang.classfile.MethodModel;
import java.lang.classfile.instruction.BranchInstruction;
import java.lang.classfile.instruction.LookupSwitchInstruction;
import java.lang.classfile.instruction.TableSwitchInstruction;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.Collections;
import java.util.List;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * AotJar rewrites picocli's Java 5 class files so that the AOT cache can hold them: on picocli's own jar, every old
 * class comes out as a Java 8 class with stack maps and the same instructions, it verifies, and every other entry
 * is copied byte for byte in the same order.
 */
class AotJarTest {
    @TempDir
    Path dir;

    @Test
    void picocliComesOutCacheableWithTheSameInstructions() throws IOException, URISyntaxException {
        Path in = Path.of(CommandLine.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        Path out = dir.resolve("cli.jar");
        List<String> rewritten = AotJar.rewrite(in, out);
        assertTrue(rewritten.contains("picocli.CommandLine"), rewritten.toString());
        assertTrue(rewritten.size() > 100, "picocli's classes: " + rewritten.size());

        try (ZipFile before = new ZipFile(in.toFile()); ZipFile after = new ZipFile(out.toFile())) {
            List<String> names = Collections.list(before.entries()).stream().map(ZipEntry::getName).toList();
            assertEquals(names, Collections.list(after.entries()).stream().map(ZipEntry::getName).toList());
            int old = 0;
            for (String name : names) {
                byte[] b = read(before, name);
                byte[] a = read(after, name);
                if (!AotJar.isOldClass(name, b)) {
                    assertArrayEquals(b, a, name + " is copied as it is");
                    continue;
                }
                old++;
                assertFalse(AotJar.isOldClass(name, a), name);
                ClassModel was = ClassFile.of().parse(b);
                ClassModel is = ClassFile.of().parse(a);
                assertEquals(AotJar.REWRITTEN_MAJOR, is.majorVersion(), name);
                assertEquals(was.methods().size(), is.methods().size(), name);
                for (int m = 0; m < was.methods().size(); m++) {
                    MethodModel wasMethod = was.methods().get(m);
                    MethodModel isMethod = is.methods().get(m);
                    assertEquals(wasMethod.methodName().stringValue(), isMethod.methodName().stringValue());
                    assertEquals(opcodes(wasMethod), opcodes(isMethod), name + "." + wasMethod.methodName());
                    isMethod.code().filter(c -> !straightLine(c)).ifPresent(c -> assertTrue(
                            c.findAttribute(Attributes.stackMapTable()).isPresent(),
                            name + "." + isMethod.methodName() + " branches, so it carries stack maps"));
                }
            }
            assertEquals(rewritten.size(), old);
        }
        AotJar.verify(out, rewritten);
    }

    @Test
    void aClassThatIsNotThereFailsTheCheck() throws IOException, URISyntaxException {
        Path in = Path.of(CommandLine.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        Path out = dir.resolve("cli.jar");
        AotJar.rewrite(in, out);
        assertThrows(NoClassDefFoundError.class, () -> AotJar.verify(out, List.of("picocli.NoSuchClass")));
    }

    private static List<String> opcodes(MethodModel method) {
        return method.code().map(c -> c.elementStream().filter(Instruction.class::isInstance)
                .map(i -> ((Instruction) i).opcode().name()).toList()).orElse(List.of());
    }

    private static boolean straightLine(CodeModel code) {
        return code.elementStream().noneMatch(e -> e instanceof BranchInstruction
                || e instanceof TableSwitchInstruction || e instanceof LookupSwitchInstruction)
                && code.exceptionHandlers().isEmpty();
    }

    private static byte[] read(ZipFile jar, String name) throws IOException {
        try (InputStream s = jar.getInputStream(jar.getEntry(name))) {
            return s.readAllBytes();
        }
    }
}
