package io.jnorm.nn;

/**
 * A weight-standardization variant (spec-ws-bcn-sn.md §1.2): Ŵ = (W − μ) / (sqrt(v_M + epsIn)
 * + epsOut) over each output channel's fan-in I, with the variance divided by M = I − 1
 * ({@code unbiased}) or M = I.
 *
 * @param name     shown in error messages and {@link #toString()}
 * @param unbiased M = I − 1 when true, M = I when false
 * @param epsIn    added to the variance under the square root
 * @param epsOut   added to the square root
 */
public record WsPreset(String name, boolean unbiased, double epsIn, double epsOut) {

    /** The released WS code (WS README, pytorch-classification, maskrcnn, mmcv): unbiased std + 1e-5. */
    public static final WsPreset OFFICIAL = new WsPreset("OFFICIAL", true, 0.0, 1e-5);

    /** The BCN ImageNet models' layers.py: sqrt(unbiased var + 1e-5). */
    public static final WsPreset BCN_REPO = new WsPreset("BCN_REPO", true, 1e-5, 0.0);

    /** Biased variance with eps inside, as the paper v2, timm StdConv2d and BiT (eps 1e-5 here). */
    public static final WsPreset BIASED = new WsPreset("BIASED", false, 1e-5, 0.0);

    public WsPreset {
        if (name == null || name.isEmpty()) {
            throw new IllegalArgumentException("WsPreset: name must be non-empty");
        }
        if (!(epsIn >= 0) || !(epsOut >= 0) || Double.isInfinite(epsIn) || Double.isInfinite(epsOut)) {
            throw new IllegalArgumentException("WsPreset " + name + ": epsIn and epsOut must be finite and >= 0, "
                    + "got epsIn " + epsIn + ", epsOut " + epsOut);
        }
        if (epsIn == 0 && epsOut == 0) {
            throw new IllegalArgumentException("WsPreset " + name + ": epsIn and epsOut are both 0, so a constant "
                    + "output channel would be 0/0");
        }
    }

    /** The general form under a descriptive name. */
    public static WsPreset general(boolean unbiased, double epsIn, double epsOut) {
        return new WsPreset("general(" + (unbiased ? "unbiased" : "biased") + ", epsIn " + epsIn
                + ", epsOut " + epsOut + ")", unbiased, epsIn, epsOut);
    }

    @Override
    public String toString() {
        return name;
    }
}
