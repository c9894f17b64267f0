package dev.palettizer.nativeloader;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;

/** Binds C functions of one loaded library, turning a missing symbol into a {@link ProbeFailure}. */
final class NativeFunctions {

    private static final Linker LINKER = Linker.nativeLinker();

    private final String libraryName;
    private final SymbolLookup symbols;

    NativeFunctions(String libraryName, SymbolLookup symbols) {
        this.libraryName = libraryName;
        this.symbols = symbols;
    }

    // Restricted by design: binding C functions is this class's purpose. The JVM must run with
    // --enable-native-access (the build's test argLine does).
    @SuppressWarnings("restricted")
    MethodHandle bind(String functionName, FunctionDescriptor signature) throws ProbeFailure {
        return LINKER.downcallHandle(
                symbols.find(functionName).orElseThrow(() -> new ProbeFailure(libraryName
                        + " has no function " + functionName + " (the library is too old or not the real one)")),
                signature);
    }
}
