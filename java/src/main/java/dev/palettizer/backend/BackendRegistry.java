package dev.palettizer.backend;

import dev.palettizer.nativeloader.Availability;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;
import java.util.Set;
import java.util.concurrent.ForkJoinPool;
import java.util.stream.Collectors;

/**
 * The backends of this build, found through {@link ServiceLoader}, and the choice of one by name
 * or by {@value #AUTO}: the lowest-rank provider with a usable GPU device, else {@value #JAVA}.
 *
 * <p>A provider that fails to load ({@link ServiceConfigurationError}, {@link LinkageError}) or
 * throws while reporting itself is set aside with its reason rather than failing the rest. A name
 * this project defines but this build lacks (such as "cuda" before its provider exists) is "not
 * supported in this build"; any other name is unknown. Thread-safe and immutable.
 */
public final class BackendRegistry {

    /** The name that asks for the best usable backend. */
    public static final String AUTO = "auto";
    /** The fallback auto picks when no GPU is usable. */
    public static final String JAVA = JavaBackendProvider.NAME;
    /** The backends this project defines, in auto's order of preference; a build may lack some. */
    static final List<String> KNOWN = List.of("cuda", "opencl", JAVA);
    /** Why a name in {@link #KNOWN} without a provider cannot be used. */
    static final String NOT_BUILT = "not supported in this build";

    /** ServiceLoader promises only a best effort to go on after a broken entry, so stop somewhere. */
    private static final int MAX_LOAD_FAILURES = 16;

    /** A provider whose name and rank were read once, without letting it throw. */
    private record Loaded(String name, int rank, BackendProvider provider) {
    }

    private final List<Loaded> providers;
    private final List<String> loadFailures;

    /**
     * Exactly these providers; {@code loadFailures} are reasons found while loading them. Tests
     * inject providers here; {@link #discover()} is the way in otherwise.
     */
    BackendRegistry(List<? extends BackendProvider> candidates, List<String> loadFailures) {
        List<String> failures = new ArrayList<>(loadFailures);
        this.providers = firstOfEachName(readNamesAndRanks(candidates, failures), failures);
        this.loadFailures = List.copyOf(failures);
    }

    private static List<Loaded> readNamesAndRanks(List<? extends BackendProvider> candidates, List<String> failures) {
        List<Loaded> loaded = new ArrayList<>();
        for (BackendProvider provider : candidates) {
            try {
                loaded.add(new Loaded(normalize(provider.name()), provider.rank(), provider));
            } catch (RuntimeException | LinkageError e) {
                failures.add(provider.getClass().getName() + " failed to report its name and rank: " + describe(e));
            }
        }
        return loaded;
    }

    /** In rank order, then by name; of two providers with one name, the lower rank is kept. */
    private static List<Loaded> firstOfEachName(List<Loaded> loaded, List<String> failures) {
        List<Loaded> sorted = loaded.stream()
                .sorted(Comparator.comparingInt(Loaded::rank).thenComparing(Loaded::name)).toList();
        List<Loaded> unique = new ArrayList<>();
        for (Loaded candidate : sorted) {
            Optional<Loaded> kept = unique.stream().filter(u -> u.name().equals(candidate.name())).findFirst();
            if (kept.isPresent()) {
                failures.add(candidate.provider().getClass().getName() + " ignored: "
                        + kept.get().provider().getClass().getName() + " also provides '" + candidate.name()
                        + "' and ranks first");
            } else {
                unique.add(candidate);
            }
        }
        return List.copyOf(unique);
    }

    /** The providers registered under {@code META-INF/services} on this class's class path. */
    public static BackendRegistry discover() {
        return discover(BackendRegistry.class.getClassLoader());
    }

    static BackendRegistry discover(ClassLoader loader) {
        List<BackendProvider> found = new ArrayList<>();
        List<String> failures = new ArrayList<>();
        Iterator<BackendProvider> entries = ServiceLoader.load(BackendProvider.class, loader).iterator();
        while (failures.size() < MAX_LOAD_FAILURES) {
            try {
                if (!entries.hasNext()) {
                    break;
                }
                found.add(entries.next());
            } catch (ServiceConfigurationError | LinkageError e) {
                failures.add(describe(e));
            }
        }
        return new BackendRegistry(found, failures);
    }

    /** Why providers could not be loaded or were ignored, one line each; usually empty. */
    public List<String> loadFailures() {
        return loadFailures;
    }

    /** {@value #AUTO}, then every backend this project defines, then any other provider's name. */
    public List<String> names() {
        Set<String> names = new LinkedHashSet<>();
        names.add(AUTO);
        names.addAll(KNOWN);
        providers.forEach(p -> names.add(p.name()));
        return List.copyOf(names);
    }

    /**
     * Every provider of this build in rank order, as it reports itself now, then every backend
     * this project defines that this build lacks. Asks the providers for their devices, which may
     * run their native probes (once per JVM).
     */
    public List<BackendStatus> statuses() {
        List<BackendStatus> statuses = new ArrayList<>();
        providers.forEach(p -> statuses.add(status(p)));
        statuses.addAll(notBuilt());
        return statuses;
    }

    private List<BackendStatus> notBuilt() {
        return KNOWN.stream().filter(name -> find(name).isEmpty())
                .<BackendStatus>map(name -> new BackendStatus.NotBuilt(name, NOT_BUILT)).toList();
    }

    /**
     * The backend to run: {@code requested} by name (case-insensitive), or chosen by
     * {@value #AUTO}. {@code device} goes to the backend unchanged (null: auto's device, or the
     * backend's first usable one).
     *
     * @throws BackendException NOT_SUPPORTED for an unknown name or one this build lacks;
     *     NOT_AVAILABLE when auto finds nothing at all to run on
     */
    public BackendChoice choose(String requested, String device) {
        String name = normalize(requested);
        if (name.equals(AUTO)) {
            return auto(device);
        }
        if (find(name).isEmpty()) {
            throw notFound(name);
        }
        return new BackendChoice(name, name, device, "requested by name");
    }

    /**
     * Builds the chosen backend with {@code pool} as its worker pool.
     *
     * @throws BackendException when the backend or its device cannot run here
     */
    public Backend create(BackendChoice choice, ForkJoinPool pool) {
        Loaded chosen = find(choice.backend()).orElseThrow(() -> notFound(choice.backend()));
        try {
            return chosen.provider().create(new BackendRequest(pool, choice.device()));
        } catch (LinkageError e) {
            throw new BackendException(BackendException.Status.NOT_AVAILABLE,
                    "backend '" + chosen.name() + "' could not load its native code: " + describe(e));
        }
    }

    /** Asks the providers in rank order and stops at the first GPU, so a later one's probe never runs. */
    private BackendChoice auto(String device) {
        List<BackendStatus> statuses = new ArrayList<>();
        for (Loaded provider : providers) {
            BackendStatus.Built built = status(provider);
            if (built.availability().available()) {
                Optional<DeviceInfo> gpu = built.devices().stream()
                        .filter(d -> d.gpu() && d.availability().available()).findFirst();
                if (gpu.isPresent()) {
                    return new BackendChoice(AUTO, built.name(),
                            device != null ? device : Integer.toString(gpu.get().index()),
                            gpu.get().name() + " is the first usable GPU");
                }
            }
            statuses.add(built);
        }
        statuses.addAll(notBuilt());
        List<String> reasons = new ArrayList<>();
        statuses.stream().filter(s -> !s.name().equals(JAVA)).forEach(s -> reasons.add(whyNoGpu(s)));
        loadFailures.forEach(failure -> reasons.add("failed to load: " + failure));
        String why = "no usable GPU (" + String.join("; ", reasons) + ")";
        if (find(JAVA).isEmpty()) {
            throw new BackendException(BackendException.Status.NOT_AVAILABLE,
                    "auto found no backend to run: " + why + "; the java provider is missing from this build");
        }
        return new BackendChoice(AUTO, JAVA, device, why);
    }

    /** Why a backend other than java offers auto no GPU, e.g. "opencl: only CPU devices (pthread-x)". */
    private static String whyNoGpu(BackendStatus status) {
        return status.name() + ": " + switch (status) {
            case BackendStatus.NotBuilt notBuilt -> notBuilt.reason();
            case BackendStatus.Built built when !built.availability().available() -> built.availability().detail();
            case BackendStatus.Built built -> {
                List<DeviceInfo> gpus = built.devices().stream().filter(DeviceInfo::gpu).toList();
                if (!gpus.isEmpty()) {
                    DeviceInfo first = gpus.getFirst();
                    yield "no usable GPU (" + first.label() + ": " + first.availability().detail() + ")";
                }
                yield built.devices().isEmpty() ? "no devices" : "only CPU devices ("
                        + built.devices().stream().map(DeviceInfo::name).collect(Collectors.joining(", ")) + ")";
            }
        };
    }

    /** Reads a provider's report without letting it throw. */
    private static BackendStatus.Built status(Loaded loaded) {
        try {
            List<DeviceInfo> devices = loaded.provider().devices();
            return new BackendStatus.Built(loaded.name(), loaded.rank(), loaded.provider().availability(), devices);
        } catch (RuntimeException | LinkageError e) {
            return new BackendStatus.Built(loaded.name(), loaded.rank(),
                    Availability.unavailable("failed to report its devices: " + describe(e)), List.of());
        }
    }

    private Optional<Loaded> find(String name) {
        return providers.stream().filter(p -> p.name().equals(name)).findFirst();
    }

    private BackendException notFound(String name) {
        if (KNOWN.contains(name)) {
            String usable = names().stream().filter(n -> n.equals(AUTO) || find(n).isPresent())
                    .collect(Collectors.joining(", "));
            return new BackendException(BackendException.Status.NOT_SUPPORTED, "backend '" + name + "' is " + NOT_BUILT
                    + " (no " + name + " provider on the class path); use one of " + usable);
        }
        return new BackendException(BackendException.Status.NOT_SUPPORTED,
                "unknown backend '" + name + "'; choose one of " + String.join(", ", names()));
    }

    /** Names match case-insensitively; a missing name is simply unknown. */
    private static String normalize(String name) {
        return name == null ? "" : name.strip().toLowerCase(Locale.ROOT);
    }

    /** The error and its causes, first line of each, on one line. */
    private static String describe(Throwable error) {
        List<String> parts = new ArrayList<>();
        for (Throwable t = error; t != null && parts.size() < 4; t = t.getCause()) {
            String message = t.getMessage() == null ? "" : t.getMessage().lines().findFirst().orElse("").strip();
            parts.add(message.isEmpty() ? t.getClass().getSimpleName() : message);
        }
        return String.join(": ", parts);
    }
}
