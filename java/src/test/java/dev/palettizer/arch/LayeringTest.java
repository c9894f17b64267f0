package dev.palettizer.arch;

import static com.tngtech.archunit.library.Architectures.layeredArchitecture;

import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.junit.AnalyzeClasses;
import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.lang.ArchRule;

/** Package dependencies point down only (skipping a layer is fine): cli -> api -> engine -> {backend, kmeans, config, io} -> {spec, model}. */
@AnalyzeClasses(packages = "dev.palettizer", importOptions = ImportOption.DoNotIncludeTests.class)
class LayeringTest {
    @ArchTest
    static final ArchRule layers = layeredArchitecture().consideringOnlyDependenciesInLayers()
            .layer("cli").definedBy("dev.palettizer.cli..")
            .layer("api").definedBy("dev.palettizer.api..")
            .layer("engine").definedBy("dev.palettizer.engine..")
            .layer("backend").definedBy("dev.palettizer.backend..")
            .layer("kmeans").definedBy("dev.palettizer.kmeans..")
            .optionalLayer("config").definedBy("dev.palettizer.config..")
            .layer("io").definedBy("dev.palettizer.io..")
            .layer("base").definedBy("dev.palettizer.spec..", "dev.palettizer.model..")
            .layer("native").definedBy("dev.palettizer.nativeloader..")
            .whereLayer("cli").mayNotBeAccessedByAnyLayer()
            .whereLayer("api").mayOnlyBeAccessedByLayers("cli")
            .whereLayer("engine").mayOnlyBeAccessedByLayers("cli", "api")
            .whereLayer("backend").mayOnlyBeAccessedByLayers("engine", "api", "cli")
            .whereLayer("kmeans").mayOnlyBeAccessedByLayers("engine", "api", "cli")
            .whereLayer("config").mayOnlyBeAccessedByLayers("engine", "api", "cli")
            .whereLayer("io").mayOnlyBeAccessedByLayers("engine", "api", "cli")
            .whereLayer("native").mayOnlyBeAccessedByLayers("backend", "api", "cli");
}
