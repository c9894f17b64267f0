package dev.palettizer.model;

import java.util.Objects;

/**
 * Where a weight tensor sits in a model, in the terms the configuration hierarchy speaks:
 * the module that owns it (name and type), the op that consumes it (name and type) and the
 * state name under which that op or module holds it (e.g. "weight", "bias").
 *
 * <p>Model readers (safetensors, ONNX) describe each tensor as a site; the configuration resolves
 * a site to a spec or to "leave as is". Fields a format cannot know are empty strings, never null.
 *
 * @param tensorName the tensor's name in the file
 * @param moduleName the owning module's name, e.g. "encoder.layer.0.attention.self.query"
 * @param moduleType the owning module's type, e.g. "Linear"
 * @param opName the consuming op's name, e.g. an ONNX node name
 * @param opType the consuming op's type, e.g. "MatMul"
 * @param stateName the tensor's role in its module or op, e.g. "weight"
 * @param shape the tensor's shape
 */
public record WeightSite(String tensorName, String moduleName, String moduleType, String opName, String opType,
                         String stateName, long[] shape) {
    public WeightSite {
        Objects.requireNonNull(tensorName, "tensorName");
        Objects.requireNonNull(moduleName, "moduleName");
        Objects.requireNonNull(moduleType, "moduleType");
        Objects.requireNonNull(opName, "opName");
        Objects.requireNonNull(opType, "opType");
        Objects.requireNonNull(stateName, "stateName");
        shape = shape.clone();
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }
}
