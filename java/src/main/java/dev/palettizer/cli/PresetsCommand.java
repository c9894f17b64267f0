package dev.palettizer.cli;

import dev.palettizer.config.ConfigFiles;
import dev.palettizer.config.Presets;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

@Command(name = "presets", mixinStandardHelpOptions = true,
        description = {"List the named configs that `palettize --preset NAME` accepts, each with its YAML.",
                "With NAME, print only that preset's YAML: a starting point for `palettize --config FILE`."})
final class PresetsCommand implements Callable<Integer> {
    @Parameters(arity = "0..1", paramLabel = "NAME", description = "Print only this preset's YAML.")
    String name;

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
