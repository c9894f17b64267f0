package dev.palettizer.nativeloader;

import java.lang.foreign.Arena;
import java.lang.foreign.SymbolLookup;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Loads native libraries through the FFM API and remembers, per library name, whether that
 * worked. Never throws (short of a {@link VirtualMachineError}); a failure becomes an
 * unavailable {@link Availability} whose reason names the library.
 *
 * <p>Names are passed to the platform's dynamic linker as given: a bare name such as
 * {@code "libOpenCL.so.1"} is searched on {@code LD_LIBRARY_PATH} and in the ld.so cache, a name
 * containing a slash is a path.
 */
public final class NativeLibraryProbe {

    /** {@code notFound} separates a failed dlopen from a JVM that refused to try. */
    private record LoadAttempt(Availability availability, Optional<SymbolLookup> symbols, boolean notFound) {
    }

    private static final ConcurrentHashMap<String, LoadAttempt> ATTEMPTS = new ConcurrentHashMap<>();

    private NativeLibraryProbe() {
    }

    /**
     * Whether {@code libraryName} can be loaded. The first call loads it; later calls return the
     * same {@link Availability} instance without touching the dynamic linker again.
     */
    public static Availability probe(String libraryName) {
        return attempt(libraryName).availability();
    }

    /**
     * The loaded library's symbols. When it did not load, fails with {@code notFoundReason} if the
     * dynamic linker could not load it, else with the reason {@link #probe} gives.
     */
    static SymbolLookup require(String libraryName, String notFoundReason) throws ProbeFailure {
        LoadAttempt attempt = attempt(libraryName);
        if (attempt.symbols().isPresent()) {
            return attempt.symbols().get();
        }
        throw new ProbeFailure(attempt.notFound() ? notFoundReason : attempt.availability().detail());
    }

    private static LoadAttempt attempt(String libraryName) {
        return ATTEMPTS.computeIfAbsent(libraryName, NativeLibraryProbe::load);
    }

    // Restricted by design: loading native code is this class's purpose.
    @SuppressWarnings("restricted")
    private static LoadAttempt load(String libraryName) {
        try {
            // Global arena: the library stays loaded for the life of the JVM, which is what a
            // cached lookup needs; unloading a GPU driver under live handles would be unsafe.
            SymbolLookup symbols = SymbolLookup.libraryLookup(libraryName, Arena.global());
            return new LoadAttempt(Availability.available(libraryName + " loaded"), Optional.of(symbols), false);
        } catch (IllegalArgumentException e) {
            // The JDK reports every dlopen failure this way and drops dlerror(), so the reason
            // covers both "not installed" and "installed but not on the search path".
            return new LoadAttempt(Availability.unavailable(libraryName + " not found or not loadable by the"
                    + " dynamic linker (install it, or add its directory to LD_LIBRARY_PATH)"), Optional.empty(), true);
        } catch (IllegalCallerException e) {
            // Thrown when the JVM runs with --illegal-native-access=deny.
            return failed(libraryName + " could not be loaded: native access is denied"
                    + " (run java with --enable-native-access=ALL-UNNAMED)");
        } catch (VirtualMachineError e) {
            throw e;
        } catch (Throwable e) {
            return failed(libraryName + " could not be loaded: " + e);
        }
    }

    private static LoadAttempt failed(String reason) {
        return new LoadAttempt(Availability.unavailable(reason), Optional.empty(), false);
    }
}
