package dev.palettizer.config;

import dev.palettizer.spec.Granularity;
import dev.palettizer.spec.LutDType;
import dev.palettizer.spec.LutQuantSpec;
import dev.palettizer.spec.PalettizationSpec;
import dev.palettizer.spec.QScheme;
import dev.palettizer.spec.SpecException;
import java.util.List;

/**
 * Ready-made configs by name. Each palettizes the {@code weight} and {@code in_proj_weight} of every
 * module (the seed's default states) with one spec, in fast k-means mode with 4 decimals.
 */
public final class Presets {
    /** A named config and what it is for. */
    public record Preset(String name, String description, KMeansPalettizerConfig config) {}

    private static final PalettizationSpec BASE = PalettizationSpec.defaults();

    private static final List<Preset> ALL = List.of(
            preset("4bit-per-tensor", "4-bit, one LUT per tensor (the seed's default)", BASE),
            preset("4bit-grouped32", "4-bit, one LUT per 32 output channels", BASE.withGranularity(Granularity.grouped(0, 32))),
            preset("3bit-per-channel", "3-bit, one LUT per output channel", BASE.withBits(3).withGranularity(Granularity.perChannel(0))),
            preset("6bit-per-tensor", "6-bit, one LUT per tensor", BASE.withBits(6)),
            preset("8bit-per-tensor", "8-bit, one LUT per tensor", BASE.withBits(8)),
            preset("2bit-grouped32-int8-lut", "2-bit, one LUT per 32 output channels, LUT stored as symmetric int8",
                    BASE.withBits(2).withGranularity(Granularity.grouped(0, 32))
                            .withLutQuant(new LutQuantSpec(LutDType.INT8, QScheme.SYMMETRIC))));

    private Presets() {}

    private static Preset preset(String name, String description, PalettizationSpec spec) {
        return new Preset(name, description, KMeansPalettizerConfig.of(spec));
    }

    public static List<Preset> all() {
        return ALL;
    }

    public static Preset named(String name) {
        return ALL.stream().filter(p -> p.name().equals(name)).findFirst().orElseThrow(() -> new SpecException(
                "unknown preset '" + name + "'; choose one of " + ALL.stream().map(Preset::name).toList()
                        + " (palettizer presets shows them)"));
    }
}
