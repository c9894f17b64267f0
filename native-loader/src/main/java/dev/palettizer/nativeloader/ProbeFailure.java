package dev.palettizer.nativeloader;

/**
 * A native call reported an error; the message is the user-facing reason. Checked, so every
 * probe step that can fail says so, and the probe turns it into an unavailable report.
 */
final class ProbeFailure extends Exception {

    ProbeFailure(String reason) {
        super(reason, null, false, false);
    }
}
