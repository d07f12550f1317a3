// Test kernels for the jnorm PTX emulator: compiled with
//   nvcc -ptx -O3 -arch=compute_75 kernels.cu -o kernels.ptx
template<typename T>
__device__ T warpSum(T v){ for(int o=16;o>0;o>>=1) v+=__shfl_down_sync(0xffffffffu,v,o); return v;}

// Block reduction (grid-stride accumulate, warp shuffles, shared memory), then one atomicAdd per block.
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

// Grid-stride loop: y = a*x + y.
template<typename T>
__device__ void axpy(T a, const T* __restrict__ x, T* y, long n){
  for(long i=blockIdx.x*(long)blockDim.x+threadIdx.x;i<n;i+=(long)blockDim.x*gridDim.x) y[i]=a*x[i]+y[i];
}
extern "C" __global__ void axpy_f32(float a, const float* x, float* y, long n){axpy(a,x,y,n);}
extern "C" __global__ void axpy_f64(double a, const double* x, double* y, long n){axpy(a,x,y,n);}

// Cross-block atomics: every thread adds its element to out[i % buckets]; also an integer histogram.
template<typename T>
__device__ void atomicBuckets(const T* in, T* out, int n, int buckets){
  int i=blockIdx.x*blockDim.x+threadIdx.x;
  if(i<n) atomicAdd(&out[i%buckets], in[i]);
}
extern "C" __global__ void atomic_buckets_f32(const float* in, float* out, int n, int b){atomicBuckets(in,out,n,b);}
extern "C" __global__ void atomic_buckets_f64(const double* in, double* out, int n, int b){atomicBuckets(in,out,n,b);}
extern "C" __global__ void histogram_u32(const int* in, unsigned* hist, int n, int bins){
  int i=blockIdx.x*blockDim.x+threadIdx.x;
  if(i<n){ atomicAdd(&hist[((unsigned)in[i])%bins],1u); atomicMax(&hist[bins], (unsigned)in[i]); atomicMin(&hist[bins+1], (unsigned)in[i]); }
}

// Tiled shared-memory matmul C[MxN] = A[MxK] * B[KxN], 16x16 tiles, any sizes.
#define TILE 16
template<typename T>
__device__ void matmul(const T* A, const T* B, T* C, int M, int N, int K){
  __shared__ T As[TILE][TILE];
  __shared__ T Bs[TILE][TILE+1];
  int r=blockIdx.y*TILE+threadIdx.y, c=blockIdx.x*TILE+threadIdx.x;
  T acc=0;
  for(int t=0;t<K;t+=TILE){
    As[threadIdx.y][threadIdx.x] = (r<M && t+threadIdx.x<K) ? A[r*K+t+threadIdx.x] : T(0);
    Bs[threadIdx.y][threadIdx.x] = (c<N && t+threadIdx.y<K) ? B[(t+threadIdx.y)*N+c] : T(0);
    __syncthreads();
    for(int k=0;k<TILE;k++) acc+=As[threadIdx.y][k]*Bs[k][threadIdx.x];
    __syncthreads();
  }
  if(r<M && c<N) C[r*N+c]=acc;
}
extern "C" __global__ void matmul_f32(const float* A, const float* B, float* C, int M, int N, int K){matmul(A,B,C,M,N,K);}
extern "C" __global__ void matmul_f64(const double* A, const double* B, double* C, int M, int N, int K){matmul(A,B,C,M,N,K);}

// Copy kernels with known coalescing.
extern "C" __global__ void copy_f32(const float* in, float* out, int n){
  int i=blockIdx.x*blockDim.x+threadIdx.x; if(i<n) out[i]=in[i];
}
extern "C" __global__ void copy_f32x4(const float4* in, float4* out, int n4){
  int i=blockIdx.x*blockDim.x+threadIdx.x; if(i<n4) out[i]=in[i];
}
extern "C" __global__ void copy_f32_stride(const float* in, float* out, int n, int stride){
  int i=blockIdx.x*blockDim.x+threadIdx.x; if(i<n) out[i]=in[(long)i*stride];
}

// Shared-memory bank behaviour: stride 1 (conflict free), stride 32 (32-way), broadcast.
extern "C" __global__ void smem_stride(float* out, int stride){
  __shared__ float s[32*33];
  int t=threadIdx.x;
  for(int i=t;i<32*33;i+=blockDim.x) s[i]=i;
  __syncthreads();
  out[t]=s[(t*stride)%(32*33)];
}

// Race: reads a neighbouring warp's shared data without __syncthreads.
extern "C" __global__ void racy_neighbour(const float* in, float* out){
  __shared__ float s[256];
  int t=threadIdx.x;
  s[t]=in[t];
  out[t]= t>=32 ? s[t-32] : s[t];
}
