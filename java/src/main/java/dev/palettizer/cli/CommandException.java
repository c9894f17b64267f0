package dev.palettizer.cli;

/** A problem the user can fix, found by the command line itself (paths, flags): printed as one line, exit 1. */
final class CommandException extends RuntimeException {
    CommandException(String message) {
        super(message);
    }
}
