package dev.palettizer.nativeloader;

import java.util.function.Supplier;

/** Runs an action with a system property set, then restores the property's previous value. */
final class SystemProperty {

    private SystemProperty() {
    }

    static <T> T with(String name, String value, Supplier<T> action) {
        String previous = System.getProperty(name);
        System.setProperty(name, value);
        try {
            return action.get();
        } finally {
            if (previous == null) {
                System.clearProperty(name);
            } else {
                System.setProperty(name, previous);
            }
        }
    }
}
