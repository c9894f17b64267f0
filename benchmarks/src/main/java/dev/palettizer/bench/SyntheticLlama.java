package dev.palettizer.bench;

import dev.palettizer.engine.SyntheticModel;
import dev.palettizer.model.DType;
import java.io.IOException;
import java.nio.file.Path;

/**
 * Writes a synthetic fp16 model with Llama-2-7B's tensor shapes (32 layers, hidden 4096, MLP 11008,
 * vocabulary 32000: 6.6 billion parameters, 13 GB) for the end-to-end GPU run of issue 5
 * (benchmarks/gpu/README.md). Not a JMH benchmark.
 *
 * <p>Usage: {@code java -cp benchmarks.jar dev.palettizer.bench.SyntheticLlama OUT.safetensors [layers]}.
 */
public final class SyntheticLlama {
    private SyntheticLlama() {}

    public static void main(String[] args) throws IOException {
        if (args.length < 1 || args.length > 2) {
            System.err.println("usage: SyntheticLlama OUT.safetensors [layers (default 32)]");
            System.exit(2);
        }
        int layers = args.length == 2 ? Integer.parseInt(args[1]) : 32;
        SyntheticModel.Shape shape = new SyntheticModel.Shape(layers, 4096, 11008, 32000, DType.F16);
        long start = System.nanoTime();
        SyntheticModel.write(Path.of(args[0]), shape, 7);
        System.out.printf("wrote %s (%d layers) in %.1f s%n", args[0], layers, (System.nanoTime() - start) / 1e9);
    }
}
