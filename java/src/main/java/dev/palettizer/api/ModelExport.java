package dev.palettizer.api;

import dev.palettizer.api.ModelWeights.Weight;
import dev.palettizer.io.CompressedWriter;
import dev.palettizer.io.OnnxInitializer;
import dev.palettizer.io.OnnxModel;
import dev.palettizer.io.OnnxWriter;
import dev.palettizer.io.SafetensorsWriter;
import dev.palettizer.model.PalettizedTensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

/**
 * Writes a model whose weights are each either palettized or kept as stored, in every
 * {@link ExportFormat}, atomically; the finalize step shared by {@link KMeansPalettizer} and
 * {@link DKMPalettizer}. Never writes over one of {@code inputs}.
 *
 * @param palettized the palettized tensor of a weight, by name, or empty to keep it as stored
 */
record ModelExport(ModelWeights model, Palettizer engine, List<Path> inputs,
                   Function<String, Optional<PalettizedTensor>> palettized) {
    private static final String FORMAT_METADATA_PREFIX = "palettizer.";

    /** Writes {@code format} to {@code output}; with a mmap folder, also the dense weights there, mapped back. */
    FinalizedModel finalize(ExportFormat format, Path output, FinalizeOptions options) throws IOException {
        switch (format) {
            case COMPRESSED_SAFETENSORS -> writeCompressed(output);
            case ONNX, DENSE_ONNX -> writeOnnx(output, format == ExportFormat.ONNX);
        }
        if (options.mmapDir() == null) {
            return new FinalizedModel(format, output, null);
        }
        Files.createDirectories(options.mmapDir());
        Path dense = options.mmapDir().resolve(stem(output) + ".weights.safetensors");
        writeDense(dense, output);
        return new FinalizedModel(format, output, ModelWeights.open(dense));
    }

    /** The compressed safetensors file: palettized tensors in the compressed layout, the rest as they are. */
    private void writeCompressed(Path output) throws IOException {
        if (model.onnx().isPresent()) {
            throw new UnsupportedOperationException(model.file().orElseThrow() + " is an ONNX model: finalize it to"
                    + " ExportFormat.ONNX (compressed, expanded in the graph) or DENSE_ONNX; compressed safetensors"
                    + " are written for safetensors and array models");
        }
        CompressedWriter writer = new CompressedWriter();
        inputs.forEach(writer::forbidOverwriting);
        userMetadata().forEach(writer::putMetadata);
        for (Weight w : model.weights()) {
            Optional<PalettizedTensor> p = palettized.apply(w.name());
            if (p.isPresent()) {
                writer.addPalettized(p.get());
            } else {
                writer.addPlain(stored(w));
            }
        }
        writer.write(output);
    }

    /**
     * The ONNX model the weights came from, each palettized weight expanded in the graph from its LUT
     * and indices ({@code compressed}) or replaced by its reconstruction; everything else as it was.
     */
    private void writeOnnx(Path output, boolean compressed) throws IOException {
        OnnxModel source = model.onnx().orElseThrow(() -> new UnsupportedOperationException("ONNX output needs a"
                + " model opened from an .onnx file (ModelWeights.open): this model has no graph to write; finalize"
                + " it to ExportFormat.COMPRESSED_SAFETENSORS"));
        for (Path input : inputs) {
            if (Files.exists(output) && Files.isSameFile(input, output)) {
                throw new IllegalArgumentException("output " + output + " is an input of this palettizer (" + input
                        + "); choose another output file");
            }
        }
        OnnxWriter writer = new OnnxWriter(source);
        for (Weight w : model.weights()) {
            Optional<PalettizedTensor> p = palettized.apply(w.name());
            if (p.isEmpty()) {
                continue;
            }
            OnnxInitializer initializer = source.initializer(w.name()).orElseThrow();
            if (compressed) {
                writer.replaceCompressed(initializer, p.get());
            } else {
                writer.replaceDense(initializer, engine.densePayload(p.get(), initializer.transposed()));
            }
        }
        writer.write(output);
    }

    /**
     * The finalized weights dense, in model order and their original dtypes: palettized ones rebuilt
     * from their LUTs one at a time as the writer reaches them, the rest as they are.
     */
    private void writeDense(Path dense, Path exported) throws IOException {
        SafetensorsWriter writer = new SafetensorsWriter();
        inputs.forEach(writer::forbidOverwriting);
        writer.forbidOverwriting(exported);
        userMetadata().forEach(writer::putMetadata);
        for (Weight w : model.weights()) {
            Optional<PalettizedTensor> p = palettized.apply(w.name());
            writer.add(p.isPresent()
                    ? new SafetensorsWriter.Tensor(w.name(), w.dtype(), w.shape(), engine.densePayload(p.get(), w.transposed()))
                    : stored(w));
        }
        writer.write(dense);
    }

    static SafetensorsWriter.Tensor stored(Weight w) {
        return new SafetensorsWriter.Tensor(w.name(), w.dtype(), w.shape(), w.stored());
    }

    /** The model file's metadata without the compressed format's own keys, which describe the input's tensors. */
    private Map<String, String> userMetadata() {
        Map<String, String> out = new LinkedHashMap<>();
        model.metadata().forEach((k, v) -> {
            if (!k.startsWith(FORMAT_METADATA_PREFIX)) {
                out.put(k, v);
            }
        });
        return out;
    }

    private static String stem(Path file) {
        String name = file.getFileName().toString();
        int dot = name.lastIndexOf('.');
        return dot > 0 ? name.substring(0, dot) : name;
    }
}
