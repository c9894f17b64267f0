package dev.palettizer.cli;

import dev.palettizer.api.Palettizer;
import dev.palettizer.engine.EngineOptions;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

@Command(name = "decompress", mixinStandardHelpOptions = true,
        description = "Rebuild a dense safetensors file (each tensor in its original dtype) from a compressed one,"
                + " or a dense ONNX model from a compressed one (.onnx).")
final class DecompressCommand implements Callable<Integer> {
    @Parameters(index = "0", description = "Compressed safetensors file, ONNX model or palettized checkpoint folder.")
    Path in;

    @Parameters(index = "1", description = "Dense output file, or folder for a folder input (written atomically).")
    Path out;

    @Mixin
    RunOptions run;

    @Mixin
    ShardOptions shards;

    @Override
    public Integer call() throws Exception {
        Preflight.readable(in, "input");
        Preflight.output(in, out);
        try (Palettizer p = run.palettizer(EngineOptions.defaults())) {
            boolean folder = ModelFiles.isFolder(in);
            long maxShardBytes = shards.maxShardBytes(in, folder);
            if (folder) {
                p.decompressFolder(in, out, maxShardBytes);
            } else if (ModelFiles.isOnnx(in)) {
                p.decompressOnnx(in, ModelFiles.onnxOutput(in, out));
            } else {
                p.decompressFile(in, out);
            }
        }
        System.out.println("wrote " + out);
        return 0;
    }
}
