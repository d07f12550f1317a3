// Divergence and barrier patterns for the emulator's scheduling tests. Compiled with
//   nvcc -ptx -O3 -arch=compute_75 control.cu -o control.ptx
extern "C" __global__ void divergent_loops(int* out){
  int t = threadIdx.x;
  int acc = 0;
  for (int i = 0; i < (t % 7) + (t / 9); i++) {       // divergent trip counts
    if (i % 3 == 0) continue;
    if ((t ^ i) % 5 == 0) { acc += 100; if (t % 2) break; }
    else if (i & 1) acc += i * t; else acc -= i;
  }
  if (t % 11 == 3) { out[t] = -acc; return; }          // early exit of some lanes
  __shared__ int s[128];
  s[t] = acc;
  __syncthreads();                                      // barrier after divergence and exits
  int u = (t + 1) % blockDim.x;
  out[t] = (u % 11 == 3) ? acc : acc + s[u];
}
extern "C" __global__ void vote_shfl_partial(unsigned* out){
  int t = threadIdx.x, lane = t & 31;
  unsigned ballot = 0, active = 0, all = 0, any = 0; int sh = 0;
  if (lane < 10) {
    unsigned m = __activemask();
    active = m;
    ballot = __ballot_sync(m, lane & 1);
    all = __all_sync(m, lane < 20);
    any = __any_sync(m, lane == 3);
    sh = __shfl_sync(m, lane * 7, 9 - lane);
  }
  out[4 * t + 0] = ballot; out[4 * t + 1] = active; out[4 * t + 2] = all * 2 + any; out[4 * t + 3] = sh;
}
extern "C" __global__ void shfl_modes(const int* params, int* out){
  int lane = threadIdx.x & 31;
  int v = lane * 10 + 1;
  int b = params[0], width = params[1];
  out[4*threadIdx.x+0] = __shfl_down_sync(0xffffffffu, v, b, width);
  out[4*threadIdx.x+1] = __shfl_up_sync(0xffffffffu, v, b, width);
  out[4*threadIdx.x+2] = __shfl_xor_sync(0xffffffffu, v, b, width);
  out[4*threadIdx.x+3] = __shfl_sync(0xffffffffu, v, b, width);
}
