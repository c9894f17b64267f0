package dev.palettizer.api;

import dev.palettizer.spec.PalettizationSpec;
import dev.palettizer.spec.WeightDecision;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Run by {@link LargerThanHeapTest} in a JVM with a small heap: prepares and finalizes (with a mmap
 * folder) a model larger than that heap, then prints one line of figures.
 * Arguments: model file (safetensors, or ONNX by its name), output file, mmap folder, export format.
 */
public final class LargerThanHeapChild {
    private LargerThanHeapChild() {}

    public static void main(String[] args) throws Exception {
        Path in = Path.of(args[0]);
        Path out = Path.of(args[1]);
        Path mmap = Path.of(args[2]);
        ExportFormat format = ExportFormat.valueOf(args[3]);
        WeightDecision fourBit = WeightDecision.palettize(PalettizationSpec.defaults(), true, 4, "2-D weights");
        int palettized;
        long mappedElements = 0;
        try (ModelWeights model = ModelWeights.open(in);
             KMeansPalettizer palettizer = new KMeansPalettizer(model, site -> site.shape().length == 2
                     ? fourBit : WeightDecision.leave("not 2-D"))) {
            palettized = palettizer.prepare(PrepareOptions.defaults().withWorkers(2)
                    .withProgress(ProgressOutput.NONE)).palettized().size();
            try (FinalizedModel f = palettizer.finalize(format, out,
                    FinalizeOptions.defaults().withMmapDir(mmap))) {
                for (ModelWeights.Weight w : f.mapped().orElseThrow().weights()) {
                    mappedElements += w.elementCount();
                }
            }
        }
        long peak = 0;
        for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
            if (pool.getType() == MemoryType.HEAP) {
                peak += pool.getPeakUsage().getUsed();
            }
        }
        System.out.printf("file=%d maxHeap=%d peakHeapPoolsSum=%d palettized=%d mappedElements=%d out=%d%n",
                Files.size(in), Runtime.getRuntime().maxMemory(), peak, palettized, mappedElements, Files.size(out));
    }
}
