package io.jnorm.nn;

/**
 * The clipping limits of Batch Renorm as a function of the training step t (the number of
 * training steps the layer has taken before the current one): r_max(t) and d_max(t), each held
 * at a start value until step {@code from}, ramped linearly to an end value at step {@code to},
 * and held there.
 *
 * <p>{@link #paper()} is the schedule of Ioffe 2017 §4.1 with the linear ramp the paper's
 * "gradually relaxed" most naturally means: r_max = 1 and d_max = 0 (plain batch norm) up to
 * step 5000, then r_max reaches 3 at step 40k and d_max reaches 5 at step 25k.
 *
 * @param rmaxStart r_max up to {@code rmaxFrom}, ≥ 1
 * @param rmaxEnd   r_max from {@code rmaxTo} on, ≥ 1
 * @param rmaxFrom  last step at the start value, ≥ 0
 * @param rmaxTo    first step at the end value, ≥ rmaxFrom
 * @param dmaxStart d_max up to {@code dmaxFrom}, ≥ 0
 * @param dmaxEnd   d_max from {@code dmaxTo} on, ≥ 0
 * @param dmaxFrom  last step at the start value, ≥ 0
 * @param dmaxTo    first step at the end value, ≥ dmaxFrom
 */
public record RenormSchedule(double rmaxStart, double rmaxEnd, long rmaxFrom, long rmaxTo,
                             double dmaxStart, double dmaxEnd, long dmaxFrom, long dmaxTo) {

    public RenormSchedule {
        if (!(rmaxStart >= 1) || !(rmaxEnd >= 1) || Double.isInfinite(rmaxStart) || Double.isInfinite(rmaxEnd)) {
            throw new IllegalArgumentException("RenormSchedule: r_max values must be finite and >= 1, got "
                    + rmaxStart + " and " + rmaxEnd);
        }
        if (!(dmaxStart >= 0) || !(dmaxEnd >= 0) || Double.isInfinite(dmaxStart) || Double.isInfinite(dmaxEnd)) {
            throw new IllegalArgumentException("RenormSchedule: d_max values must be finite and >= 0, got "
                    + dmaxStart + " and " + dmaxEnd);
        }
        if (rmaxFrom < 0 || rmaxTo < rmaxFrom || dmaxFrom < 0 || dmaxTo < dmaxFrom) {
            throw new IllegalArgumentException("RenormSchedule: ramps need 0 <= from <= to, got r_max steps "
                    + rmaxFrom + ".." + rmaxTo + ", d_max steps " + dmaxFrom + ".." + dmaxTo);
        }
    }

    /** Ioffe 2017 §4.1: r_max 1 → 3 over steps 5k..40k, d_max 0 → 5 over steps 5k..25k, linear. */
    public static RenormSchedule paper() {
        return new RenormSchedule(1, 3, 5_000, 40_000, 0, 5, 5_000, 25_000);
    }

    /** The same limits at every step. */
    public static RenormSchedule fixed(double rmax, double dmax) {
        return new RenormSchedule(rmax, rmax, 0, 0, dmax, dmax, 0, 0);
    }

    /** r_max at training step {@code step}. */
    public double rmax(long step) {
        return ramp(step, rmaxStart, rmaxEnd, rmaxFrom, rmaxTo);
    }

    /** d_max at training step {@code step}. */
    public double dmax(long step) {
        return ramp(step, dmaxStart, dmaxEnd, dmaxFrom, dmaxTo);
    }

    private static double ramp(long t, double start, double end, long from, long to) {
        if (t <= from) {
            return start;
        }
        if (t >= to) {
            return end;
        }
        return start + (end - start) * (double) (t - from) / (double) (to - from);
    }
}
