// Kernels with planted bugs for the emulator's sanitizer tests. Compiled with
//   nvcc -ptx -O3 -lineinfo -arch=compute_75 faults.cu -o faults.ptx
extern "C" __global__ void copy_n(const float* in, float* out, int n, int offset){
  int i = blockIdx.x*blockDim.x + threadIdx.x;
  if (i < n) out[i] = in[i + offset];
}
extern "C" __global__ void copy_vec4_at(const float* in, float* out, int shift){
  const float4* p = reinterpret_cast<const float4*>(in + shift);
  float4 v = p[threadIdx.x];
  out[threadIdx.x] = v.x + v.y + v.z + v.w;
}
extern "C" __global__ void shared_dyn_index(float* out, int extra){
  extern __shared__ float s[];
  s[threadIdx.x] = threadIdx.x;
  __syncthreads();
  out[threadIdx.x] = s[threadIdx.x + extra];
}
extern "C" __global__ void shared_uninit(float* out){
  __shared__ float s[64];
  if (threadIdx.x < 32) s[threadIdx.x] = 1.0f;
  __syncthreads();
  out[threadIdx.x] = s[threadIdx.x];
}
extern "C" __global__ void local_index(float* out, int k){
  float a[4];
  for (int i = 0; i < 4; i++) a[i] = out[i] * 2.0f;
  out[threadIdx.x] = a[k];
}
extern "C" __global__ void shfl_in_branch(float* out){
  float v = out[threadIdx.x];
  if (threadIdx.x < 16) v += __shfl_xor_sync(0xffffffffu, v, 1);
  out[threadIdx.x] = v;
}
extern "C" __global__ void shfl_after_exit(float* out, int n){
  int t = threadIdx.x;
  if (t >= n) return;
  float v = out[t];
  v += __shfl_down_sync(0xffffffffu, v, 1);
  out[t] = v;
}
