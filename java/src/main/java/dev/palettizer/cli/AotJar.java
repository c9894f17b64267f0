package dev.palettizer.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.lang.classfile.ClassFile;
import java.lang.classfile.ClassFileVersion;
import java.lang.classfile.ClassHierarchyResolver;
import java.lang.classfile.MethodModel;
import java.lang.classfile.MethodTransform;
import java.lang.constant.ClassDesc;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;

/**
 * The copy of the CLI jar that the launcher's ahead-of-time cache is made from and used with: the same entries in
 * the same order, except that every class file older than Java 6 (picocli's, compiled for Java 5) becomes a
 * Java 8 class file. JDK 25's AOT cache cannot hold such a class once it has been linked ("Old class has been
 * linked"), so picocli's 230 classes would otherwise be read and verified from the jar on every run, a fifth of
 * a small command's start. Only the version and the StackMapTable (computed by the class-file API) change: the
 * instructions, constant values and attributes are the same.
 *
 * <p>Every rewritten class is then loaded and initialised in a fresh class loader over the new jar, which makes
 * the JVM verify it: a rewrite the verifier refuses fails here (exit 1), and the launcher runs the original jar
 * without a cache. Usage: {@code java -cp palettizer-cli.jar dev.palettizer.cli.AotJar IN.jar OUT.jar}.
 */
public final class AotJar {
    /** Class files below this major version (Java 6) carry no stack maps and are verified the old way. */
    static final int FIRST_CACHEABLE_MAJOR = 50;
    /** Java 8: the lowest version whose classes must carry stack maps, so the new verifier checks them. */
    static final int REWRITTEN_MAJOR = 52;

    private AotJar() {}

    public static void main(String[] args) throws IOException {
        if (args.length != 2) {
            System.err.println("usage: AotJar IN.jar OUT.jar");
            System.exit(2);
        }
        Path out = Path.of(args[1]);
        List<String> rewritten = rewrite(Path.of(args[0]), out);
        try {
            verify(out, rewritten);
        } catch (LinkageError e) {
            Files.deleteIfExists(out);
            System.err.println("AotJar: a rewritten class does not verify; the jar stays as built: " + e);
            System.exit(1);
        }
        System.err.println("AotJar: " + rewritten.size() + " class files rewritten for the AOT cache");
    }

    /** Writes {@code out}; returns the binary names of the classes it rewrote. */
    static List<String> rewrite(Path in, Path out) throws IOException {
        List<String> rewritten = new ArrayList<>();
        try (ZipFile jar = new ZipFile(in.toFile());
                ZipOutputStream zip = new ZipOutputStream(Files.newOutputStream(out))) {
            ClassFile classFile = ClassFile.of(ClassFile.StackMapsOption.GENERATE_STACK_MAPS,
                    ClassFile.ClassHierarchyResolverOption.of(ClassHierarchyResolver.defaultResolver()
                            .orElse(ClassHierarchyResolver.ofResourceParsing(desc -> open(jar, desc)))));
            for (ZipEntry entry : Collections.list(jar.entries())) {
                byte[] bytes;
                try (InputStream s = jar.getInputStream(entry)) {
                    bytes = s.readAllBytes();
                }
                if (isOldClass(entry.getName(), bytes)) {
                    bytes = upgrade(classFile, bytes);
                    String name = entry.getName();
                    rewritten.add(name.substring(0, name.length() - ".class".length()).replace('/', '.'));
                }
                ZipEntry copy = new ZipEntry(entry.getName());
                copy.setTime(entry.getTime());
                zip.putNextEntry(copy);
                zip.write(bytes);
                zip.closeEntry();
            }
        }
        return rewritten;
    }

    static boolean isOldClass(String name, byte[] bytes) {
        return name.endsWith(".class") && bytes.length >= 8 && (bytes[0] & 0xff) == 0xCA && (bytes[1] & 0xff) == 0xFE
                && (bytes[2] & 0xff) == 0xBA && (bytes[3] & 0xff) == 0xBE
                && ((bytes[6] & 0xff) << 8 | (bytes[7] & 0xff)) < FIRST_CACHEABLE_MAJOR;
    }

    /** The same class at {@link #REWRITTEN_MAJOR}: every method body is rebuilt so that its stack maps are made. */
    private static byte[] upgrade(ClassFile classFile, byte[] bytes) {
        return classFile.transformClass(classFile.parse(bytes), (builder, element) -> {
            switch (element) {
                case ClassFileVersion _ -> builder.withVersion(REWRITTEN_MAJOR, 0);
                case MethodModel method -> builder.transformMethod(method,
                        MethodTransform.transformingCode((code, instruction) -> code.with(instruction)));
                default -> builder.with(element);
            }
        });
    }

    /** A class of the jar for the stack-map computation's type merges, or null for the JDK's resolver. */
    private static InputStream open(ZipFile jar, ClassDesc desc) {
        String internal = desc.descriptorString();
        ZipEntry entry = jar.getEntry(internal.substring(1, internal.length() - 1) + ".class");
        try {
            return entry == null ? null : jar.getInputStream(entry);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Loads and initialises each class in a loader of its own over {@code jar}: linking verifies it. */
    static void verify(Path jar, List<String> classes) throws IOException {
        try (URLClassLoader loader = new URLClassLoader(new URL[] {jar.toUri().toURL()},
                ClassLoader.getPlatformClassLoader())) {
            for (String name : classes) {
                try {
                    Class.forName(name, true, loader);
                } catch (ClassNotFoundException e) {
                    throw new NoClassDefFoundError(name + " is missing from " + jar);
                }
            }
        }
    }
}
