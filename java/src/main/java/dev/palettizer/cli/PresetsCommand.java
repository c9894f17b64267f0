package dev.palettizer.cli;

import static dev.palettizer.cli.CliSpecs.positional;

import dev.palettizer.config.ConfigFiles;
import dev.palettizer.config.Presets;
import java.util.concurrent.Callable;
import picocli.CommandLine.Model.CommandSpec;

final class PresetsCommand implements Callable<Integer> {
    String name;

    /** The command line of presets, bound to this object's fields. */
    CommandSpec spec() {
        CommandSpec command = CliSpecs.command(this, "presets",
                "List the named configs that `palettize --preset NAME` accepts, each with its YAML.",
                "With NAME, print only that preset's YAML: a starting point for `palettize --config FILE`.");
        command.addPositional(positional(String.class, v -> name = v, "0").arity("0..1").required(false)
                .paramLabel("NAME")
                .description("Print only this preset's YAML.").build());
        return command;
    }

    @Override
    public Integer call() {
        if (name != null) {
            System.out.print(ConfigFiles.toYaml(Presets.named(name).config()));
            return 0;
        }
        for (Presets.Preset p : Presets.all()) {
            System.out.println("# " + p.name() + ": " + p.description());
            System.out.println(ConfigFiles.toYaml(p.config()));
        }
        return 0;
    }
}
