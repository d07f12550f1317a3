template<typename T>
__device__ T warpSum(T v){ for(int o=16;o>0;o>>=1) v+=__shfl_down_sync(0xffffffffu,v,o); return v;}
template<typename T>
__device__ void blockReduce(const T* __restrict__ in, T* out, int n){
  __shared__ T sh[32];
  T s=0;
  for(int i=blockIdx.x*blockDim.x+threadIdx.x;i<n;i+=blockDim.x*gridDim.x) s+=in[i];
  s=warpSum(s);
  int lane=threadIdx.x&31, w=threadIdx.x>>5;
  if(lane==0) sh[w]=s;
  __syncthreads();
  if(w==0){ s = lane < (blockDim.x>>5) ? sh[lane] : T(0); s=warpSum(s); if(lane==0) atomicAdd(out,s);}
}
extern "C" __global__ void reduce_f32(const float* in, float* out, int n){blockReduce(in,out,n);}
extern "C" __global__ void reduce_f64(const double* in, double* out, int n){blockReduce(in,out,n);}
struct S { int a; double b; float c[3]; };
extern "C" __global__ void structk(S s, float* out){ out[threadIdx.x] = s.c[threadIdx.x%3] + s.a + (float)s.b; }
extern "C" __global__ void localarr(float* out, int k){ float a[8]; for(int i=0;i<8;i++) a[i]=out[i]*i; out[threadIdx.x]=a[k&7]; }
__device__ __noinline__ float f(float x, int y){ return x*y+1.0f; }
extern "C" __global__ void callk(float* out){ out[threadIdx.x] = f(out[threadIdx.x], threadIdx.x); }
extern "C" __global__ void dyn(float* out){ extern __shared__ float s[]; s[threadIdx.x]=threadIdx.x; __syncthreads(); out[threadIdx.x]=s[blockDim.x-1-threadIdx.x]+expf(out[threadIdx.x]) + sqrtf(out[0]) + 1.0f/out[1]; }
