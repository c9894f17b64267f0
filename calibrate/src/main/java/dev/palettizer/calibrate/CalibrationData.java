package dev.palettizer.calibrate;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import java.util.Map;

/** Where the calibration runs' inputs come from: tensors from a file, or texts through a tokenizer. */
sealed interface CalibrationData extends AutoCloseable permits TensorFile, TokenizedTexts {

    /**
     * Checks the data against the model's inputs (name, element type, shape) before anything runs.
     *
     * @throws CalibrationException naming the file, the tensor or input and the field that does not match
     */
    void check(Map<String, NodeInfo> modelInputs);

    /** Number of runs the data holds (at least one once {@link #check} passed). */
    int samples();

    /** The inputs of run {@code index}, one tensor per model input; the caller closes them. */
    Map<String, OnnxTensor> sample(OrtEnvironment env, int index) throws OrtException;

    /** What the data is, for the output's metadata and messages: a file name, never a time or a full path. */
    String describe();

    @Override
    void close();
}
