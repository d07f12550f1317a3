/**
 * The GPU backend: {@link io.jnorm.backend.cuda.CudaBackend} implements every kernel family over a
 * {@link io.jnorm.gpu.GpuDriver}, so the same code runs on a real GPU ({@code Device.cuda(i)},
 * JCudaDriver) and on the PTX emulator ({@code Device.emulatedGpu()}, sanitizer on unless
 * {@code -Djnorm.emu.sanitizer=false}).
 *
 * <h2>Adding a family's CUDA kernels (replacing its host fallback)</h2>
 * Follow elementwise / reduce / shape; for a family "pool":
 * <ol>
 *   <li><b>Kernels</b>: {@code src/main/cuda/pool.cu}, templates over float and double with
 *       {@code extern "C"} entries {@code <name>_f32} / {@code <name>_f64}, a header comment per
 *       kernel (what it parallelizes over, why, its launch contract). Shared pieces live in
 *       {@code src/main/cuda/common/}: {@code reduce.cuh} (warp / block sums), {@code welford.cuh}
 *       (mean and variance, merge), {@code vec.cuh} (16-byte vector loops with a tail),
 *       {@code strided.cuh} (the by-value {@code StridedMap<K>} index maps). Run
 *       {@code tools/build-ptx} (then {@code --check}) and {@code tools/ptxas-report}: 0 stack,
 *       0 spills on sm_80 and sm_90.</li>
 *   <li><b>Typed launchers</b>: {@code PoolPtx}, one Java method per entry whose parameters
 *       mirror the {@code .entry} in order; its constructor loads the handles once with
 *       {@code PtxModules.perDType(module, base, Param...)}, which checks them against the PTX.
 *       Scalars of the kernel's element type are {@code Param.F32} (it becomes F64 for the f64
 *       entry); index maps are {@code MAP1} / {@code MAP2} built by {@link
 *       io.jnorm.backend.cuda.StridedMaps}.</li>
 *   <li><b>Family</b>: {@code CudaPools implements PoolKernels}: layout decisions and launch
 *       geometry ({@code PtxModules.grid1d} for grid-stride kernels), device pointers through
 *       {@code CudaBuffer.ptr(t)}, temporaries from the allocator (released right after the
 *       launch: one stream orders the reuse). No host synchronization.</li>
 *   <li><b>Wire it</b>: in {@link io.jnorm.backend.cuda.CudaBackend}'s constructor replace
 *       {@code HostFallback.of(PoolKernels.class, ...)} by {@code new CudaPools(modules)}.</li>
 *   <li><b>Tests</b> in {@code src/test/java/io/jnorm/backend/cuda/}: GPU vs the CPU reference in
 *       float32 (tolerance from the accumulation length) and float64, shapes with tails,
 *       single- and multi-block grids and N = 1; gradcheck in float64 on the GPU; the launched
 *       kernels asserted with {@code CudaTestSupport.launchesDuring}; every entry claimed by a
 *       {@code @CoversKernels} test (KernelCoverageTest fails otherwise); byte and coalescing
 *       budgets in the style of CudaKernelBudgetsTest.</li>
 * </ol>
 */
package io.jnorm.backend.cuda;
