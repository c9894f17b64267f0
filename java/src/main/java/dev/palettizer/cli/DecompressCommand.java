package dev.palettizer.cli;

import static dev.palettizer.cli.CliSpecs.positional;

import dev.palettizer.api.Palettizer;
import dev.palettizer.engine.EngineOptions;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Model.CommandSpec;

final class DecompressCommand implements Callable<Integer> {
    Path in;
    Path out;

    final RunOptions run = new RunOptions();
    final ShardOptions shards = new ShardOptions();

    /** The command line of decompress: its flags and those of its option groups, bound to this object's fields. */
    CommandSpec spec() {
        CommandSpec command = CliSpecs.command(this, "decompress",
                "Rebuild a dense safetensors file (each tensor in its original dtype) from a compressed one,"
                + " or a dense ONNX model from a compressed one (.onnx).");
        command.addPositional(positional(Path.class, v -> in = v, "0").paramLabel("<in>")
                .description("Compressed safetensors file, ONNX model or palettized checkpoint folder.").build());
        command.addPositional(positional(Path.class, v -> out = v, "1").paramLabel("<out>")
                .description("Dense output file, or folder for a folder input (written atomically).").build());
        run.addTo(command);
        shards.addTo(command);
        return command;
    }

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
