/**
 * {@code jnorm kernel-report}: kernel quality measured without a GPU (issue 5).
 *
 * <ul>
 *   <li>{@link io.jnorm.cli.report.PtxasReport}: {@code ptxas -v} for sm_80 and sm_90 on every
 *       committed PTX module (registers, shared memory, stack frame, spills), or a plain "not
 *       checked" when ptxas is not installed.</li>
 *   <li>{@link io.jnorm.cli.report.OpCatalog}: the ops and representative shapes (for each norm
 *       one whose statistic slice fits in a block's shared memory and one that streams), with
 *       their minimum traffic and budgets.</li>
 *   <li>{@link io.jnorm.cli.report.OpMeter}: diffs the cuda backend's launch log and the PTX
 *       emulator's per-kernel counters around a forward or a backward, so every launch of the
 *       op (helpers and state updates included) is counted, and host fallbacks are seen.</li>
 *   <li>{@link io.jnorm.cli.report.KernelReport} judges them; {@link
 *       io.jnorm.cli.report.ReportFormat} renders Markdown (docs/kernel-report.md) and JSON.</li>
 * </ul>
 * KernelReportBudgetTest fails when a kernel or an op regresses past a budget; budgets not met
 * yet are listed with a bound and a reason in its waiver file.
 */
package io.jnorm.cli.report;
