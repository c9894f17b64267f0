package dev.palettizer.arch;

import static com.tngtech.archunit.library.Architectures.layeredArchitecture;

import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.junit.AnalyzeClasses;
import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.lang.ArchRule;

/**
 * Package dependencies point down only (skipping a layer is fine): cli -> api -> {engine, dkm} -> {backend, kmeans,
 * config, io} -> {spec, model}. dkm (training-time palettization) sits beside engine: neither uses the other.
 */
@AnalyzeClasses(packages = "dev.palettizer", importOptions = ImportOption.DoNotIncludeTests.class)
class LayeringTest {
    @ArchTest
    static final ArchRule layers = layeredArchitecture().consideringOnlyDependenciesInLayers()
            .layer("cli").definedBy("dev.palettizer.cli..")
            .layer("api").definedBy("dev.palettizer.api..")
            .layer("engine").definedBy("dev.palettizer.engine..")
            .layer("dkm").definedBy("dev.palettizer.dkm..")
            .layer("budget").definedBy("dev.palettizer.budget..")
            .layer("backend").definedBy("dev.palettizer.backend..")
            .layer("kmeans").definedBy("dev.palettizer.kmeans..")
            .optionalLayer("config").definedBy("dev.palettizer.config..")
            .layer("io").definedBy("dev.palettizer.io..")
            .layer("base").definedBy("dev.palettizer.spec..", "dev.palettizer.model..")
            .layer("native").definedBy("dev.palettizer.nativeloader..")
            .whereLayer("cli").mayNotBeAccessedByAnyLayer()
            .whereLayer("api").mayOnlyBeAccessedByLayers("cli")
            .whereLayer("engine").mayOnlyBeAccessedByLayers("cli", "api", "budget")
            .whereLayer("budget").mayOnlyBeAccessedByLayers("cli", "api")
            .whereLayer("dkm").mayOnlyBeAccessedByLayers("cli", "api")
            .whereLayer("backend").mayOnlyBeAccessedByLayers("engine", "dkm", "budget", "api", "cli")
            .whereLayer("kmeans").mayOnlyBeAccessedByLayers("engine", "dkm", "budget", "api", "cli")
            .whereLayer("config").mayOnlyBeAccessedByLayers("engine", "dkm", "api", "cli")
            .whereLayer("io").mayOnlyBeAccessedByLayers("engine", "dkm", "budget", "api", "cli")
            .whereLayer("native").mayOnlyBeAccessedByLayers("backend", "api", "cli");
}
