package dev.palettizer.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.palettizer.model.WeightSite;
import dev.palettizer.spec.Granularity;
import dev.palettizer.spec.LutDType;
import dev.palettizer.spec.LutQuantSpec;
import dev.palettizer.spec.PalettizationSpec;
import dev.palettizer.spec.QScheme;
import dev.palettizer.spec.SpecException;
import java.util.List;
import org.junit.jupiter.api.Test;

class PresetsTest {
    private static final WeightSite LINEAR_WEIGHT =
            new WeightSite("fc.weight", "fc", "Linear", "fc", "linear", "weight", new long[] {64, 64});

    @Test
    void everyPresetLoadsBackFromItsYamlAndJson() {
        for (Presets.Preset p : Presets.all()) {
            assertEquals(p.config(), ConfigFiles.parse(ConfigFiles.toYaml(p.config()), ConfigFiles.Format.YAML, p.name()));
            assertEquals(p.config(), ConfigFiles.parse(ConfigFiles.toJson(p.config()), ConfigFiles.Format.JSON, p.name()));
        }
        assertEquals(Presets.all().size(), Presets.all().stream().map(Presets.Preset::name).distinct().count());
    }

    @Test
    void theIssuesPresetsPalettizeLinearWeightsAsNamed() {
        PalettizationSpec d = PalettizationSpec.defaults();
        List<Object[]> expected = List.of(
                new Object[] {"4bit-per-tensor", d},
                new Object[] {"4bit-grouped32", d.withGranularity(Granularity.grouped(0, 32))},
                new Object[] {"3bit-per-channel", d.withBits(3).withGranularity(Granularity.perChannel(0))},
                new Object[] {"6bit-per-tensor", d.withBits(6)},
                new Object[] {"8bit-per-tensor", d.withBits(8)},
                new Object[] {"2bit-grouped32-int8-lut", d.withBits(2).withGranularity(Granularity.grouped(0, 32))
                        .withLutQuant(new LutQuantSpec(LutDType.INT8, QScheme.SYMMETRIC))});
        for (Object[] e : expected) {
            assertEquals(e[1], Presets.named((String) e[0]).config().resolve(LINEAR_WEIGHT).spec(), (String) e[0]);
        }
        assertEquals(KMeansPalettizerConfig.defaults(), Presets.named("4bit-per-tensor").config());
    }

    @Test
    void anUnknownNameListsTheKnownOnes() {
        String message = assertThrows(SpecException.class, () -> Presets.named("5bit")).getMessage();
        assertTrue(message.startsWith("unknown preset '5bit'; choose one of [4bit-per-tensor, "), message);
    }
}
