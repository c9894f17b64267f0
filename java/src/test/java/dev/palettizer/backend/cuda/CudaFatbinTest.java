package dev.palettizer.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The committed fatbin against its sources, in every build (no GPU or nvcc needed): the hash
 * build-fatbin recorded must be the sources' (and a changed byte must break it), the fatbin must
 * hold the targets nvcc.flags names, and the CUDA entry file must declare every OpenCL kernel with
 * the same parameters.
 */
class CudaFatbinTest {
    private static String record() {
        return new String(FatbinSources.resource(FatbinSources.RECORD), StandardCharsets.UTF_8).lines().findFirst()
                .orElse("");
    }

    @Test
    void thePrebuiltFatbinWasBuiltFromTheseSources() {
        Optional<String> stale = FatbinSources.check(FatbinSources.onClasspath(), record());
        assertTrue(stale.isEmpty(), () -> stale.get());
    }

    @Test
    void aChangedSourceByteOrFlagFailsTheCheckWithWhatToDo() {
        for (String file : FatbinSources.FILES) {
            Map<String, byte[]> changed = new LinkedHashMap<>(FatbinSources.onClasspath());
            byte[] bytes = changed.get(file).clone();
            bytes[bytes.length / 2] ^= 1;
            changed.put(file, bytes);
            Optional<String> stale = FatbinSources.check(changed, record());
            assertTrue(stale.isPresent(), "a changed byte of " + file + " went unnoticed");
            assertTrue(stale.get().startsWith("kernels/cuda sources changed but the prebuilt fatbin was not rebuilt:"
                    + " run kernels/cuda/build-fatbin on a machine with nvcc and commit both files"), stale.get());
        }
    }

    @Test
    void theFatbinIsOnTheClasspathAndHoldsTheTargetsOfItsFlags() {
        byte[] fatbin = Fatbin.read(Fatbin.RESOURCE);
        List<String> listed = FatbinListing.entries(fatbin).stream().map(FatbinListing.Entry::toString).sorted().toList();
        List<String> wanted = new ArrayList<>();
        Matcher m = Pattern.compile("code=((?:sm|compute)_\\d+)")
                .matcher(new String(FatbinSources.resource("kernels/cuda/nvcc.flags"), StandardCharsets.UTF_8));
        while (m.find()) {
            wanted.add(m.group(1));
        }
        assertEquals(wanted.stream().sorted().toList(), listed, "fatbin entries against nvcc.flags");
        for (String target : List.of("sm_75", "sm_80", "sm_86", "sm_89", "sm_90", "compute_75")) {
            assertTrue(listed.contains(target), target + " missing: " + listed);
        }
    }

    /** name -> parameter list with the OpenCL address space dropped and spaces normalised. */
    static Map<String, String> kernels(String source) {
        Map<String, String> out = new LinkedHashMap<>();
        Matcher m = Pattern.compile("PAL_KERNEL\\s+(\\w+)\\s*\\(([^)]*)\\)").matcher(source);
        while (m.find()) {
            out.put(m.group(1), m.group(2).replace("__global ", "").replaceAll("\\s+", " ").strip());
        }
        return out;
    }

    private static String text(String resource) {
        return new String(FatbinSources.resource(resource), StandardCharsets.UTF_8);
    }

    @Test
    void theCudaEntryFileDeclaresEveryOpenClKernelWithItsParameters() {
        Map<String, String> opencl = kernels(text("kernels/opencl/palettizer.cl"));
        Map<String, String> cuda = kernels(text("kernels/cuda/palettizer.cu"));
        assertEquals(22, opencl.size(), "OpenCL entry points: " + opencl.keySet());
        assertEquals(opencl, cuda);
        List<String> looked = new ArrayList<>(List.of(Kernels.NAMES));
        looked.addAll(List.of(CuDkmKernels.NAMES));
        assertEquals(List.copyOf(opencl.keySet()), looked, "names the CUDA backend and its DKM passes look up");
    }

    @Test
    void aMissingOrChangedCudaKernelIsCaught() {
        String cu = text("kernels/cuda/palettizer.cu");
        Map<String, String> opencl = kernels(text("kernels/opencl/palettizer.cl"));
        assertFalse(kernels(cu.replace("PAL_KERNEL pal_unpack(", "static void pal_unpack(")).equals(opencl));
        assertFalse(kernels(cu.replace("int bits, pal_uchar* packed", "long bits, pal_uchar* packed")).equals(opencl));
    }
}
