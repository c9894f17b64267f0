package dev.palettizer.cli;

import dev.palettizer.config.ConfigPath;
import dev.palettizer.config.KMeansPalettizerConfig;
import dev.palettizer.engine.FileJobOptions;
import dev.palettizer.engine.ModelPalettizer;
import dev.palettizer.engine.OnnxPalettizer;
import dev.palettizer.engine.Sensitivities;
import dev.palettizer.io.CompressedFormat;
import dev.palettizer.io.OnnxInitializer;
import dev.palettizer.io.OnnxModel;
import dev.palettizer.io.SafetensorsFile;
import dev.palettizer.io.SafetensorsSites;
import dev.palettizer.model.WeightSite;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Checks of the input model against the job, from its header only and before any work: a file that
 * is already palettized is refused, and a sensitivity file must name the tensors to palettize
 * ({@link Sensitivities#match}); some missing is a warning with the count and examples.
 */
final class InputChecks {
    private InputChecks() {}

    /**
     * The tensors the engine will palettize (the resolver asks for them and they pass its size rules),
     * every tensor's site, and whether the file is a compressed one.
     */
    private record Candidates(List<String> names, List<WeightSite> sites, boolean compressed) {}

    /** Runs the checks; returns every tensor's site by name, for the report (none for a folder). */
    static Map<String, WeightSite> check(Path in, FileJobOptions job, PrintStream err) throws IOException {
        if (ModelFiles.isFolder(in)) {
            return Map.of(); // a checkpoint folder or its index: the folder reader checks its files
        }
        Candidates c = ModelFiles.isOnnx(in) ? onnx(in, job) : safetensors(in, job);
        if (c.compressed()) {
            throw new CommandException(in + " is palettized already: palettizing its LUTs and indices again would"
                    + " ruin it; run `palettizer decompress` first, or palettize the original model");
        }
        if (job.resolver() instanceof KMeansPalettizerConfig config) {
            unusedRules(config, c.sites(), err);
        }
        if (job.sensitivities() != null) {
            checkSensitivities(job, c, err);
        }
        return c.sites().stream().collect(Collectors.toMap(WeightSite::tensorName, s -> s, (a, b) -> a,
                LinkedHashMap::new));
    }

    private static void checkSensitivities(FileJobOptions job, Candidates c, PrintStream err) throws IOException {
        try (SafetensorsFile sens = SafetensorsFile.open(job.sensitivities())) {
            Sensitivities.Match m = Sensitivities.match(sens, c.names());
            if (!m.missing().isEmpty()) {
                err.println("palettizer: warning: " + job.sensitivities() + " has no sensitivities for "
                        + m.missing().size() + " of the " + c.names().size() + " tensors to palettize ("
                        + Sensitivities.examples(m.missing()) + "); those are clustered unweighted");
            }
        }
    }

    private static Candidates safetensors(Path in, FileJobOptions job) throws IOException {
        try (SafetensorsFile f = SafetensorsFile.open(in)) {
            Map<String, WeightSite> sites = SafetensorsSites.of(f.tensors());
            List<String> names = new ArrayList<>();
            for (SafetensorsFile.Entry e : f.tensors()) {
                if (e.dtype().isPalettizable() && chosen(job, sites.get(e.name()), e.shape().length, e.elementCount())) {
                    names.add(e.name());
                }
            }
            boolean compressed = f.metadata().containsKey(CompressedFormat.FORMAT_KEY)
                    && !ModelPalettizer.inspect(f).palettized().isEmpty();
            return new Candidates(names, List.copyOf(sites.values()), compressed);
        }
    }

    private static Candidates onnx(Path in, FileJobOptions job) throws IOException {
        try (OnnxModel m = OnnxModel.open(in)) {
            List<String> names = new ArrayList<>();
            for (OnnxInitializer t : m.initializers()) {
                if (t.type().isPalettizable() && chosen(job, t.site(), t.shape().length, t.elementCount())) {
                    names.add(t.name());
                }
            }
            return new Candidates(names, m.initializers().stream().map(OnnxInitializer::site).toList(),
                    !OnnxPalettizer.inspect(m).palettized().isEmpty());
        }
    }

    /** The engine's rules for a float tensor (ModelPalettizer.plan): the resolver, 1-D tensors, the threshold. */
    private static boolean chosen(FileJobOptions job, WeightSite site, int rank, long elements) {
        return job.resolver().resolve(site).palettized() && (rank >= 2 || job.include1d())
                && elements > job.weightThreshold();
    }

    /** A module type or name rule that decides no tensor is most likely misspelt: say so before the run. */
    private static void unusedRules(KMeansPalettizerConfig config, List<WeightSite> sites, PrintStream err) {
        List<String> reasons = sites.stream().map(s -> config.resolve(s).reason()).toList();
        List<ConfigPath> rules = new ArrayList<>();
        config.moduleTypeConfigs().keySet().forEach(k -> rules.add(ConfigPath.of("module_type_configs", k)));
        config.moduleNameConfigs().keySet().forEach(k -> rules.add(ConfigPath.of("module_name_configs", k)));
        for (ConfigPath rule : rules) {
            String at = rule.toString();
            if (reasons.stream().noneMatch(r -> r.startsWith(at + ".") || r.startsWith(at + ":"))) {
                err.println("palettizer: warning: config rule " + at + " matches no tensor of the model (module names"
                        + " such as " + Sensitivities.examples(sites.stream().map(WeightSite::moduleName).distinct()
                        .toList()) + ", types such as " + Sensitivities.examples(sites.stream()
                        .map(WeightSite::moduleType).distinct().toList()) + "); check its spelling");
            }
        }
    }
}
