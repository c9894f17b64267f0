package dev.palettizer.cli;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.util.Locale;

/**
 * Checks made before any work, so that a run never spends minutes and then fails on a path: every
 * input can be read, and every output can be created where the user asked (its folder exists and
 * accepts a new file, and it is not itself a folder). Messages name the user's path and the
 * operating system's reason, never a temporary file.
 */
final class Preflight {
    private Preflight() {}

    /** {@code role}: what the file is to the user, e.g. "input" or "--sensitivities file". */
    static void readable(Path file, String role) {
        if (Files.isDirectory(file)) {
            return; // a checkpoint folder: its own reader checks its files
        }
        try (FileChannel c = FileChannel.open(file)) {
            c.size();
        } catch (IOException e) {
            throw new CommandException("cannot read " + role + " " + file + ": " + reason(e));
        }
    }

    /** {@code role}: "output" or the flag that names the file, e.g. "--report". */
    static void writable(Path file, String role) {
        if (Files.isDirectory(file)) {
            throw new CommandException(role + " " + file + " is a folder; give a file path (a new name inside it)");
        }
        Path folder = file.toAbsolutePath().getParent();
        if (!Files.exists(folder)) {
            throw new CommandException("cannot write " + role + " " + file + ": folder " + folder
                    + " does not exist; create it first (mkdir -p " + folder + ")");
        }
        if (!Files.isDirectory(folder)) {
            throw new CommandException("cannot write " + role + " " + file + ": " + folder + " is not a folder");
        }
        // Writers create a temporary file next to the output and rename it: probe exactly that.
        try {
            Files.delete(Files.createTempFile(folder, ".palettizer-probe", ".tmp"));
        } catch (IOException e) {
            throw new CommandException("cannot write " + role + " " + file + " in folder " + folder + ": " + reason(e));
        }
    }

    /** The output of a job from {@code in}: a folder for a checkpoint folder's job, else a file. */
    static void output(Path in, Path out) {
        if (ModelFiles.isFolder(in)) {
            writableFolder(out, "output");
        } else {
            writable(out, "output");
        }
    }

    /**
     * For a checkpoint folder's output: its parent accepts a new folder (the output is built in a sibling and
     * renamed), and it is not a file. An existing folder is the folder writer's to judge (it replaces only a
     * checkpoint folder or an empty one).
     */
    private static void writableFolder(Path folder, String role) {
        if (Files.exists(folder) && !Files.isDirectory(folder)) {
            throw new CommandException(role + " " + folder + " is a file; a checkpoint folder is written as a folder:"
                    + " give a folder path");
        }
        Path parent = folder.toAbsolutePath().getParent();
        if (parent == null || !Files.isDirectory(parent)) {
            throw new CommandException("cannot write " + role + " " + folder + ": folder " + parent
                    + " does not exist; create it first (mkdir -p " + parent + ")");
        }
        try {
            Files.delete(Files.createTempDirectory(parent, ".palettizer-probe"));
        } catch (IOException e) {
            throw new CommandException("cannot write " + role + " " + folder + " in folder " + parent + ": " + reason(e));
        }
    }

    /** The operating system's reason in words, without the path the exception carries. */
    static String reason(IOException e) {
        return switch (e) {
            case AccessDeniedException a -> "permission denied";
            case NoSuchFileException n -> "no such file or directory";
            case NotDirectoryException n -> "not a folder";
            case FileSystemException f when f.getReason() != null -> f.getReason().toLowerCase(Locale.ROOT);
            default -> e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
        };
    }
}
