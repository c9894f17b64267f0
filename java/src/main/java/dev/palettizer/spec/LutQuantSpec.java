package dev.palettizer.spec;

/**
 * Quantization of the LUT values themselves. Always per-tensor (one scale, and one zero point for
 * asymmetric, over every LUT of the tensor), always the zero-point formulation.
 */
public record LutQuantSpec(LutDType dtype, QScheme scheme, Formulation formulation) {

    /** How the affine map is parameterised; only ZP (zero point) is supported for LUTs. */
    public enum Formulation { ZP, MINVAL }

    public LutQuantSpec {
        if (dtype == null) {
            throw new SpecException("lut_qspec.dtype is required: one of " + LutDType.allowed());
        }
        if (scheme == null) {
            scheme = QScheme.SYMMETRIC;
        }
        if (formulation == null) {
            formulation = Formulation.ZP;
        }
        if (formulation == Formulation.MINVAL) {
            throw new SpecException("lut_qspec.qformulation=MINVAL is not supported for palettization; use ZP");
        }
        if (!dtype.isInteger() && scheme != QScheme.SYMMETRIC) {
            throw new SpecException("lut_qspec.dtype " + dtype.cliName()
                    + " needs qscheme symmetric, got " + scheme.cliName()
                    + " (fp8 LUTs have no zero point; use int8/uint8 for asymmetric)");
        }
    }

    public LutQuantSpec(LutDType dtype, QScheme scheme) {
        this(dtype, scheme, Formulation.ZP);
    }
}
