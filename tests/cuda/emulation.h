// A CPU stand-in for the CUDA C++ that src/cuda/kernels.cuh uses, so that cuda_emulation_test
// runs the real kernels (indexing, tiles, grid-stride loops, packing, warp shuffles, tails and
// misaligned pointers) without a GPU. Include it before kernels.cuh, with a host compiler.
//
// A launch runs its blocks one after another; a block is one warp of 32 lanes, each lane a
// std::thread; __shfl_sync and __syncthreads are barriers across those lanes. The vector types
// carry CUDA's alignment, so building with -fsanitize=alignment reports a vector access through a
// misaligned pointer, as the GPU would fault on it.
#ifndef QFLOAT_TESTS_CUDA_EMULATION_H_
#define QFLOAT_TESTS_CUDA_EMULATION_H_

#if defined(__CUDACC__)
#error "emulation.h stands in for CUDA on host compilers only"
#endif

#include <barrier>
#include <cstdint>
#include <cstring>
#include <thread>
#include <vector>

// NOLINTBEGIN: CUDA's spellings, on purpose.
#define __global__ inline
#define __device__
#define __host__
#define __forceinline__ inline
#define __launch_bounds__(...)
#define __shared__ static

struct alignas(8) uint2 {
  unsigned x, y;
};
struct alignas(16) uint4 {
  unsigned x, y, z, w;
};
struct alignas(16) ulonglong2 {
  unsigned long long x, y;
};
inline uint2 make_uint2(unsigned x, unsigned y) { return uint2{x, y}; }
inline uint4 make_uint4(unsigned x, unsigned y, unsigned z, unsigned w) {
  return uint4{x, y, z, w};
}
inline ulonglong2 make_ulonglong2(unsigned long long x, unsigned long long y) {
  return ulonglong2{x, y};
}

namespace qfloat::emulation {

constexpr int kLanes = 32;

struct Index3 {
  unsigned x = 0, y = 0, z = 0;
};

struct Warp {
  std::barrier<> barrier{kLanes};
  uint64_t slots[kLanes] = {};
};

inline thread_local Index3 t_block_idx;
inline thread_local Index3 t_thread_idx;
inline thread_local Warp* t_warp = nullptr;
inline Index3 g_block_dim;
inline Index3 g_grid_dim;

// Runs kernel(args...) over `blocks` blocks of one warp each.
template <typename Kernel, typename... Args>
void Launch(unsigned blocks, Kernel kernel, Args... args) {
  g_grid_dim = Index3{blocks, 1, 1};
  g_block_dim = Index3{kLanes, 1, 1};
  for (unsigned b = 0; b < blocks; ++b) {
    Warp warp;
    std::vector<std::thread> lanes;
    for (unsigned l = 0; l < kLanes; ++l) {
      lanes.emplace_back([&, l] {
        t_block_idx = Index3{b, 0, 0};
        t_thread_idx = Index3{l, 0, 0};
        t_warp = &warp;
        kernel(args...);
      });
    }
    for (std::thread& t : lanes) t.join();
  }
}

}  // namespace qfloat::emulation

#define blockIdx (::qfloat::emulation::t_block_idx)
#define threadIdx (::qfloat::emulation::t_thread_idx)
#define blockDim (::qfloat::emulation::g_block_dim)
#define gridDim (::qfloat::emulation::g_grid_dim)

template <typename T>
T __shfl_sync(unsigned /*mask: all lanes take part in the emulation*/, T value, int src_lane) {
  static_assert(sizeof(T) <= 8, "shuffles move up to 8 bytes here");
  ::qfloat::emulation::Warp& warp = *::qfloat::emulation::t_warp;
  uint64_t bits = 0;
  std::memcpy(&bits, &value, sizeof(T));
  warp.slots[threadIdx.x] = bits;
  warp.barrier.arrive_and_wait();
  bits = warp.slots[src_lane & (::qfloat::emulation::kLanes - 1)];
  warp.barrier.arrive_and_wait();
  T out;
  std::memcpy(&out, &bits, sizeof(T));
  return out;
}

inline void __syncthreads() { ::qfloat::emulation::t_warp->barrier.arrive_and_wait(); }
inline int __ffs(int x) { return __builtin_ffs(x); }
// NOLINTEND

#endif  // QFLOAT_TESTS_CUDA_EMULATION_H_
