// Emulator tests of bar.red, redux.sync, atomics' lane order and the launch watchdog, compiled with
//   nvcc -ptx -O3 -arch=compute_80 warp_ops.cu -o warp_ops.ptx
// (compute_80: redux.sync needs sm_80).

// bar.red: __syncthreads_count / _and / _or of a predicate chosen per thread from an input array.
extern "C" __global__ void bar_red(const int* pred, int* count, int* all, int* any){
  int t = threadIdx.x;
  int p = pred[blockIdx.x * blockDim.x + t] != 0;
  int c = __syncthreads_count(p);
  int a = __syncthreads_and(p);
  int o = __syncthreads_or(p);
  int g = blockIdx.x * blockDim.x + t;
  count[g] = c; all[g] = a; any[g] = o;
}

// redux.sync over the lanes of a warp whose member mask is given (lanes outside it return early).
extern "C" __global__ void redux_ops(const unsigned* in, unsigned mask, unsigned* out){
  int lane = threadIdx.x & 31;
  int g = blockIdx.x * blockDim.x + threadIdx.x;
  if (!((mask >> lane) & 1u)) return;
  unsigned v = in[g];
  out[6 * g + 0] = __reduce_add_sync(mask, v);
  out[6 * g + 1] = __reduce_min_sync(mask, (int) v);
  out[6 * g + 2] = __reduce_max_sync(mask, v);
  out[6 * g + 3] = __reduce_and_sync(mask, v);
  out[6 * g + 4] = __reduce_or_sync(mask, v);
  out[6 * g + 5] = __reduce_xor_sync(mask, v);
}

// Every thread takes a ticket from one counter: the tickets show the order of the atomics.
extern "C" __global__ void ticket(unsigned* counter, unsigned* out){
  out[blockIdx.x * blockDim.x + threadIdx.x] = atomicAdd(counter, 1u);
}

// Block 0 waits for a flag that block 1 sets: fine on a GPU that runs both blocks at once,
// a hang where blocks run one after another.
extern "C" __global__ void spin_on_flag(volatile int* flag){
  if (blockIdx.x == 1 && threadIdx.x == 0) *flag = 1;
  if (blockIdx.x == 0) { while (*flag == 0) { } }
}
