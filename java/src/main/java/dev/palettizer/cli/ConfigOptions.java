package dev.palettizer.cli;

import static dev.palettizer.cli.CliSpecs.option;

import dev.palettizer.config.ConfigFiles;
import dev.palettizer.config.Presets;
import dev.palettizer.spec.SpecResolver;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;

/**
 * {@code --config FILE} and {@code --preset NAME}: a configuration hierarchy instead of one spec for
 * every tensor. Either one decides every tensor's spec and clustering mode, so neither may be mixed
 * with the spec flags ({@code --bits} ...) nor with the other; job flags (threshold, 1-D, algorithm,
 * seed, workers) still apply.
 */
final class ConfigOptions {
    Path config;
    String preset;

    /** The command these flags belong to: usage errors name it, and it tells which flags were given. */
    private CommandSpec command;

    /** Adds these flags to {@code command}, bound to this object's fields. */
    void addTo(CommandSpec command) {
        this.command = command;
        command.addOption(option(Path.class, v -> config = v, "--config").paramLabel("FILE")
                .description("YAML or JSON config (kmeans_palettization_config: global, module type and"
                + " module name rules). Cannot be combined with --preset or the spec flags"
                + " (--bits ...).").build());
        command.addOption(option(String.class, v -> preset = v, "--preset").paramLabel("NAME")
                .description("A named config (see `palettizer presets`). Cannot be combined with --config"
                + " or the spec flags.").build());
    }

    /** The config or preset when one is given, else one spec for all tensors from the spec flags. */
    SpecResolver resolver(SpecOptions flags) throws IOException {
        if (config != null && preset != null) {
            throw new ParameterException(command.commandLine(), "--config and --preset are mutually exclusive; give one");
        }
        if (config == null && preset == null) {
            return flags.uniformResolver();
        }
        String chosen = config != null ? "--config" : "--preset";
        List<String> mixed = SpecOptions.SPEC_FLAGS.stream()
                .filter(command.commandLine().getParseResult()::hasMatchedOption).toList();
        if (!mixed.isEmpty()) {
            throw new ParameterException(command.commandLine(), String.join(", ", mixed) + " cannot be combined with "
                    + chosen + ": the config decides every tensor's spec and clustering mode; set them in a config"
                    + " file instead (`palettizer presets NAME` prints a preset's YAML to start from)");
        }
        return config != null ? ConfigFiles.load(config) : Presets.named(preset).config();
    }

    /** What chose the specs, for reports. */
    String describe(SpecOptions flags) {
        return config != null ? "config " + config : preset != null ? "preset " + preset : flags.spec().toString();
    }
}
