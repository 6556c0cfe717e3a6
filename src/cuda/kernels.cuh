// The CUDA backend's device code: the kernels and their helpers (the launches are in kernels.cu).
//
// Every kernel computes codes and values with the reference's own host/device functions
// (detail::EncodeDouble / detail::DecodeToDouble in qfloat/detail/bits.h); float32 inputs into
// minifloats that the integer fast path of cuda/fast_path.h can express take kernels that run it
// instead (that algorithm for 24-bit significands, which defers to the reference's functions for
// special values and the rare exact-sr extension).
//
// Work layout (memory-bound, so 16-byte accesses coalesced across the warp): a warp takes a tile
// of 512 consecutive elements per step of a grid-stride loop; lane l handles the runs of four
// elements at tile offsets 128 q + 4 l (q = 0..3), i.e. 16 elements, each run loaded and stored
// with one vector access where the pointers allow it. Four consecutive elements share one
// Philox block, so stochastic rounding evaluates Philox once per run.
//
// Only CUDA C++ that tests/cuda/emulation.h also provides is used here, so that the CPU test
// cuda_emulation_test runs these kernels (warp by warp, lanes as threads) without a GPU.
#ifndef QFLOAT_SRC_CUDA_KERNELS_CUH_
#define QFLOAT_SRC_CUDA_KERNELS_CUH_

#include <cstddef>
#include <cstdint>

#include "cuda/fast_path.h"
#include "cuda/layout.h"
#include "qfloat/detail/bits.h"
#include "qfloat/detail/philox.h"
#include "qfloat/format.h"
#include "qfloat/rounding.h"

namespace qfloat::cuda_detail {

constexpr int kThreads = 256;
constexpr int kWarp = 32;
constexpr int kRuns = 4;                 // runs of four elements per lane and tile
constexpr int kPerLane = 4 * kRuns;      // elements per lane and tile
constexpr int kTile = kWarp * kPerLane;  // elements per warp and tile
constexpr uint32_t kFullMask = 0xFFFFFFFFu;

// Flags for the kernels: whether the input / output pointers allow the vector accesses.
constexpr uint32_t kVecIn = 1u;
constexpr uint32_t kVecOut = 2u;

struct Params {
  FormatSpec spec;
  QuantizeOptions options;
  FastPath fast;
};

// Position of element (q, t) of this lane within the call: tile base + 128 q + 4 lane + t.
__device__ __forceinline__ uint64_t RunFirst(uint64_t tile_first, int lane, int q) {
  return tile_first + static_cast<uint64_t>(q * kWarp * 4 + lane * 4);
}

// Elements of the run starting at `first` that exist (0..4).
__device__ __forceinline__ int RunValid(uint64_t first, uint64_t n) {
  return first >= n ? 0 : static_cast<int>(n - first < 4 ? n - first : 4);
}

// ---- element selection without dynamic register indexing (keeps the arrays in registers) ----

template <typename T>
__device__ __forceinline__ T Pick(const T (&a)[kPerLane], int j) {
  T r = a[0];
#pragma unroll
  for (int k = 1; k < kPerLane; ++k) r = (k == j) ? a[k] : r;
  return r;
}

template <typename T>
__device__ __forceinline__ void Put(T (&a)[kPerLane], int j, T v) {
#pragma unroll
  for (int k = 0; k < kPerLane; ++k) a[k] = (k == j) ? v : a[k];
}

// Bit j of the result: element j of this lane exists.
__device__ __forceinline__ uint32_t ValidMask(uint64_t tile_first, int lane, uint64_t n) {
  uint32_t mask = 0;
#pragma unroll
  for (int q = 0; q < kRuns; ++q) {
    const int valid = RunValid(RunFirst(tile_first, lane, q), n);
    mask |= ((1u << valid) - 1u) << (4 * q);
  }
  return mask;
}

// ---- loads and stores of 32- and 64-bit elements ----

__device__ __forceinline__ void LoadRuns(const uint32_t* in, uint64_t tile_first, int lane,
                                         uint64_t n, bool vec, uint32_t (&x)[kPerLane]) {
#pragma unroll
  for (int q = 0; q < kRuns; ++q) {
    const uint64_t first = RunFirst(tile_first, lane, q);
    const int valid = RunValid(first, n);
    if (vec && valid == 4) {
      const uint4 v = *reinterpret_cast<const uint4*>(in + first);
      x[4 * q] = v.x;
      x[4 * q + 1] = v.y;
      x[4 * q + 2] = v.z;
      x[4 * q + 3] = v.w;
    } else {
#pragma unroll
      for (int t = 0; t < 4; ++t) x[4 * q + t] = t < valid ? in[first + t] : 0u;
    }
  }
}

__device__ __forceinline__ void LoadRuns(const uint64_t* in, uint64_t tile_first, int lane,
                                         uint64_t n, bool vec, uint64_t (&x)[kPerLane]) {
#pragma unroll
  for (int q = 0; q < kRuns; ++q) {
    const uint64_t first = RunFirst(tile_first, lane, q);
    const int valid = RunValid(first, n);
    if (vec && valid == 4) {
      const ulonglong2 a = *reinterpret_cast<const ulonglong2*>(in + first);
      const ulonglong2 b = *reinterpret_cast<const ulonglong2*>(in + first + 2);
      x[4 * q] = a.x;
      x[4 * q + 1] = a.y;
      x[4 * q + 2] = b.x;
      x[4 * q + 3] = b.y;
    } else {
#pragma unroll
      for (int t = 0; t < 4; ++t) x[4 * q + t] = t < valid ? in[first + t] : 0ull;
    }
  }
}

__device__ __forceinline__ void StoreRun(uint32_t* out, uint64_t first, int valid, bool vec,
                                         const uint32_t* v) {
  if (vec && valid == 4) {
    *reinterpret_cast<uint4*>(out + first) = make_uint4(v[0], v[1], v[2], v[3]);
  } else {
#pragma unroll
    for (int t = 0; t < 4; ++t) {
      if (t < valid) out[first + t] = v[t];
    }
  }
}

__device__ __forceinline__ void StoreRuns(uint32_t* out, uint64_t tile_first, int lane, uint64_t n,
                                          bool vec, const uint32_t (&v)[kPerLane]) {
#pragma unroll
  for (int q = 0; q < kRuns; ++q) {
    const uint64_t first = RunFirst(tile_first, lane, q);
    StoreRun(out, first, RunValid(first, n), vec, &v[4 * q]);
  }
}

__device__ __forceinline__ void StoreRuns(uint64_t* out, uint64_t tile_first, int lane, uint64_t n,
                                          bool vec, const uint64_t (&v)[kPerLane]) {
#pragma unroll
  for (int q = 0; q < kRuns; ++q) {
    const uint64_t first = RunFirst(tile_first, lane, q);
    const int valid = RunValid(first, n);
    if (vec && valid == 4) {
      *reinterpret_cast<ulonglong2*>(out + first) = make_ulonglong2(v[4 * q], v[4 * q + 1]);
      *reinterpret_cast<ulonglong2*>(out + first + 2) = make_ulonglong2(v[4 * q + 2], v[4 * q + 3]);
    } else {
#pragma unroll
      for (int t = 0; t < 4; ++t) {
        if (t < valid) out[first + t] = v[4 * q + t];
      }
    }
  }
}

// ---- packed codes (layout.h) ----

// Where the run of codes starting at element `first` (a multiple of 4) starts in the buffer.
__device__ __forceinline__ uint64_t RunByte(Packing k, uint64_t first) {
  switch (k) {
    case Packing::kNibble:
      return first / 2;
    case Packing::kSixBit:
      return first / 4 * 3;
    case Packing::kByte:
      return first;
    case Packing::kHalf:
      return first * 2;
    case Packing::kWord:
      return first * 4;
  }
  return first * 4;
}

// The run's codes as little-endian bytes: w[0..3] hold up to 16 bytes.
__device__ __forceinline__ void PackRun(Packing k, const uint32_t* c, uint32_t (&w)[4]) {
  switch (k) {
    case Packing::kNibble:
      w[0] = (c[0] & 0xFu) | (c[1] & 0xFu) << 4 | (c[2] & 0xFu) << 8 | (c[3] & 0xFu) << 12;
      break;
    case Packing::kSixBit:
      w[0] = (c[0] & 0x3Fu) | (c[1] & 0x3Fu) << 6 | (c[2] & 0x3Fu) << 12 | (c[3] & 0x3Fu) << 18;
      break;
    case Packing::kByte:
      w[0] = (c[0] & 0xFFu) | (c[1] & 0xFFu) << 8 | (c[2] & 0xFFu) << 16 | (c[3] & 0xFFu) << 24;
      break;
    case Packing::kHalf:
      w[0] = (c[0] & 0xFFFFu) | (c[1] & 0xFFFFu) << 16;
      w[1] = (c[2] & 0xFFFFu) | (c[3] & 0xFFFFu) << 16;
      break;
    case Packing::kWord:
      w[0] = c[0];
      w[1] = c[1];
      w[2] = c[2];
      w[3] = c[3];
      break;
  }
}

__device__ __forceinline__ void UnpackRun(Packing k, const uint32_t (&w)[4], uint32_t* c) {
  switch (k) {
    case Packing::kNibble:
#pragma unroll
      for (int t = 0; t < 4; ++t) c[t] = (w[0] >> (4 * t)) & 0xFu;
      break;
    case Packing::kSixBit:
#pragma unroll
      for (int t = 0; t < 4; ++t) c[t] = (w[0] >> (6 * t)) & 0x3Fu;
      break;
    case Packing::kByte:
#pragma unroll
      for (int t = 0; t < 4; ++t) c[t] = (w[0] >> (8 * t)) & 0xFFu;
      break;
    case Packing::kHalf:
      c[0] = w[0] & 0xFFFFu;
      c[1] = w[0] >> 16;
      c[2] = w[1] & 0xFFFFu;
      c[3] = w[1] >> 16;
      break;
    case Packing::kWord:
      c[0] = w[0];
      c[1] = w[1];
      c[2] = w[2];
      c[3] = w[3];
      break;
  }
}

// Bytes taken by `valid` codes of a run (codes past `valid` are zero in the packed bytes).
__device__ __forceinline__ int RunBytes(Packing k, int valid) {
  switch (k) {
    case Packing::kNibble:
      return (valid + 1) / 2;
    case Packing::kSixBit:
      return valid > 0 ? 3 : 0;
    case Packing::kByte:
      return valid;
    case Packing::kHalf:
      return 2 * valid;
    case Packing::kWord:
      return 4 * valid;
  }
  return 0;
}

// Stores run q of this lane's codes (c[0..3]; codes past the end must be zero). `vec`: the
// packed pointer is aligned for the run's access (2 bytes for nibbles, 4 for 6-bit groups and
// bytes, 8 for halves, 16 for words). Every lane of the warp must call it (6-bit runs shuffle).
__device__ __forceinline__ void StorePackedRun(Packing k, uint8_t* out, uint64_t tile_first,
                                               int lane, uint64_t n, bool vec, int q,
                                               const uint32_t* c) {
  const bool full_tile = tile_first + kTile <= n;  // uniform across the warp
  const uint64_t first = RunFirst(tile_first, lane, q);
  const int valid = RunValid(first, n);
  uint32_t w[4] = {0, 0, 0, 0};
  PackRun(k, c, w);
  uint8_t* dst = out + RunByte(k, first);
  if (vec && full_tile && k == Packing::kSixBit) {
    // 32 lanes x 3 bytes = 24 aligned words: lane v < 24 assembles word v from the groups of
    // lanes 4v/3 and 4v/3 + 1.
    const int lo = (4 * lane) / 3;
    const uint32_t g_lo = __shfl_sync(kFullMask, w[0], lo & 31);
    const uint32_t g_hi = __shfl_sync(kFullMask, w[0], (lo + 1) & 31);
    const uint64_t both = (static_cast<uint64_t>(g_hi) << 24) | g_lo;
    const uint32_t word = static_cast<uint32_t>(both >> (8 * ((4 * lane) % 3)));
    if (lane < 24) {
      reinterpret_cast<uint32_t*>(out + RunByte(k, RunFirst(tile_first, 0, q)))[lane] = word;
    }
  } else if (vec && valid == 4 && k != Packing::kSixBit) {
    switch (k) {
      case Packing::kNibble:
        *reinterpret_cast<uint16_t*>(dst) = static_cast<uint16_t>(w[0]);
        break;
      case Packing::kByte:
        *reinterpret_cast<uint32_t*>(dst) = w[0];
        break;
      case Packing::kHalf:
        *reinterpret_cast<uint2*>(dst) = make_uint2(w[0], w[1]);
        break;
      default:
        *reinterpret_cast<uint4*>(dst) = make_uint4(w[0], w[1], w[2], w[3]);
        break;
    }
  } else {
    const int bytes = RunBytes(k, valid);
#pragma unroll
    for (int b = 0; b < 16; ++b) {
      if (b < bytes) dst[b] = static_cast<uint8_t>(w[b / 4] >> (8 * (b % 4)));
    }
  }
}

// Stores this lane's 16 codes (those past the end are set to zero first).
__device__ __forceinline__ void StorePacked(Packing k, uint8_t* out, uint64_t tile_first, int lane,
                                            uint64_t n, bool vec, uint32_t (&code)[kPerLane]) {
#pragma unroll
  for (int q = 0; q < kRuns; ++q) {
    const int valid = RunValid(RunFirst(tile_first, lane, q), n);
#pragma unroll
    for (int t = 0; t < 4; ++t) {
      if (t >= valid) code[4 * q + t] = 0;  // unused high bits of the last byte are zero
    }
    StorePackedRun(k, out, tile_first, lane, n, vec, q, &code[4 * q]);
  }
}

// Loads this lane's 16 codes (codes past the end are zero).
__device__ __forceinline__ void LoadPacked(Packing k, const uint8_t* in, uint64_t tile_first,
                                           int lane, uint64_t n, bool vec,
                                           uint32_t (&code)[kPerLane]) {
  const bool full_tile = tile_first + kTile <= n;
#pragma unroll
  for (int q = 0; q < kRuns; ++q) {
    const uint64_t first = RunFirst(tile_first, lane, q);
    const int valid = RunValid(first, n);
    const uint8_t* src = in + RunByte(k, first);
    uint32_t w[4] = {0, 0, 0, 0};
    if (vec && full_tile && k == Packing::kSixBit) {
      // Lanes v < 24 load the warp's 24 aligned words; lane l's group is bytes 3l..3l+2.
      const uint32_t* words =
          reinterpret_cast<const uint32_t*>(in + RunByte(k, RunFirst(tile_first, 0, q)));
      const uint32_t mine = lane < 24 ? words[lane] : 0u;
      const int at = (3 * lane) / 4;
      const uint32_t lo = __shfl_sync(kFullMask, mine, at & 31);
      const uint32_t hi = __shfl_sync(kFullMask, mine, (at + 1) & 31);
      const uint64_t both = (static_cast<uint64_t>(hi) << 32) | lo;
      w[0] = static_cast<uint32_t>(both >> (8 * ((3 * lane) % 4))) & 0xFFFFFFu;
    } else if (vec && valid == 4 && k != Packing::kSixBit) {
      switch (k) {
        case Packing::kNibble:
          w[0] = *reinterpret_cast<const uint16_t*>(src);
          break;
        case Packing::kByte:
          w[0] = *reinterpret_cast<const uint32_t*>(src);
          break;
        case Packing::kHalf: {
          const uint2 v = *reinterpret_cast<const uint2*>(src);
          w[0] = v.x;
          w[1] = v.y;
          break;
        }
        default: {
          const uint4 v = *reinterpret_cast<const uint4*>(src);
          w[0] = v.x;
          w[1] = v.y;
          w[2] = v.z;
          w[3] = v.w;
          break;
        }
      }
    } else {
      const int bytes = RunBytes(k, valid);
#pragma unroll
      for (int b = 0; b < 16; ++b) {
        if (b < bytes) w[b / 4] |= static_cast<uint32_t>(src[b]) << (8 * (b % 4));
      }
    }
    UnpackRun(k, w, &code[4 * q]);
#pragma unroll
    for (int t = 0; t < 4; ++t) {
      if (t >= valid) code[4 * q + t] = 0;
    }
  }
}

// ---- stochastic rounding's word 0 ----

// Word 0 for the four elements at positions first..first+3 of the call (first % 4 == 0).
__device__ __forceinline__ void RunWords(const QuantizeOptions& o, uint64_t first,
                                         uint32_t (&w)[4]) {
  const uint64_t index = o.index_offset + first;
  const Philox4x32 a = StochasticBlock(o.seed, o.stream, index >> 2, 0);
  const int shift = static_cast<int>(index & 3);
  if (shift == 0) {  // the run is one Philox block
#pragma unroll
    for (int t = 0; t < 4; ++t) w[t] = a.v[t];
  } else {  // an index offset that is not a multiple of 4: the run straddles two blocks
    const Philox4x32 b = StochasticBlock(o.seed, o.stream, (index >> 2) + 1, 0);
    const uint32_t words[8] = {a.v[0], a.v[1], a.v[2], a.v[3], b.v[0], b.v[1], b.v[2], b.v[3]};
#pragma unroll
    for (int t = 0; t < 4; ++t) w[t] = words[t + shift];
  }
}

// ---- the element computations ----

// The reference, one element at a time, for this lane's pending elements (bit j of `pending`:
// element j): codes and, with kWantValue, float32 value bits.
template <bool kWantValue>
__device__ __forceinline__ void ComputeF32(const Params& p, const uint32_t (&x)[kPerLane],
                                           uint64_t tile_first, int lane, uint32_t pending,
                                           uint32_t (&code)[kPerLane],
                                           uint32_t (&value)[kPerLane]) {
  while (pending != 0) {
    const int j = __ffs(pending) - 1;
    pending &= pending - 1;
    const uint64_t index = RunFirst(tile_first, lane, j / 4) + (j % 4);
    const uint32_t c = detail::EncodeDouble(p.spec, WidenFloatBits(Pick(x, j)), p.options, index);
    Put(code, j, c);
    if (kWantValue) Put(value, j, FloatBitsOfDouble(detail::DecodeToDouble(p.spec, c)));
  }
}

// The fast path for run q of this lane's float32 inputs: codes and value bits of its four
// elements (the kernels that use it hold no generic encoder and need few registers).
__device__ __forceinline__ void FastRun(const Params& p, const uint32_t (&x)[kPerLane],
                                        uint64_t tile_first, int lane, int q, uint32_t (&code)[4],
                                        uint32_t (&value)[4]) {
  const uint64_t first = RunFirst(tile_first, lane, q);
  uint32_t word[4] = {0, 0, 0, 0};
  if (p.fast.mode == RoundingMode::kStochastic) RunWords(p.options, first, word);
#pragma unroll
  for (int t = 0; t < 4; ++t) {
    FastEncodeF32(p.fast, x[4 * q + t], word[t], first + t, &code[t], &value[t]);
  }
}

template <bool kWantValue>
__device__ __forceinline__ void ComputeF64(const Params& p, const uint64_t (&x)[kPerLane],
                                           uint64_t tile_first, int lane, uint32_t pending,
                                           uint32_t (&code)[kPerLane],
                                           uint64_t (&value)[kPerLane]) {
  while (pending != 0) {
    const int j = __ffs(pending) - 1;
    pending &= pending - 1;
    const uint64_t index = RunFirst(tile_first, lane, j / 4) + (j % 4);
    const uint32_t c =
        detail::EncodeDouble(p.spec, detail::DoubleFromBits(Pick(x, j)), p.options, index);
    Put(code, j, c);
    if (kWantValue) Put(value, j, detail::BitsOf(detail::DecodeToDouble(p.spec, c)));
  }
}

// ---- kernels ----

struct Lane {
  uint64_t warp;
  uint64_t warps;
  int lane;
};

__device__ __forceinline__ Lane ThisLane() {
  const uint64_t thread = uint64_t{blockIdx.x} * blockDim.x + threadIdx.x;
  return Lane{thread / kWarp, uint64_t{gridDim.x} * blockDim.x / kWarp,
              static_cast<int>(threadIdx.x % kWarp)};
}

__global__ void __launch_bounds__(kThreads)
    QuantizeF32FastKernel(const Params p, const uint32_t* in, uint32_t* out, uint64_t n,
                          uint32_t flags) {
  const Lane me = ThisLane();
  const uint64_t tiles = (n + kTile - 1) / kTile;
  for (uint64_t tile = me.warp; tile < tiles; tile += me.warps) {
    const uint64_t first = tile * kTile;
    uint32_t x[kPerLane];
    LoadRuns(in, first, me.lane, n, (flags & kVecIn) != 0, x);
#pragma unroll
    for (int q = 0; q < kRuns; ++q) {
      uint32_t code[4], value[4];
      FastRun(p, x, first, me.lane, q, code, value);
      const uint64_t run = RunFirst(first, me.lane, q);
      StoreRun(out, run, RunValid(run, n), (flags & kVecOut) != 0, value);
    }
  }
}

__global__ void __launch_bounds__(kThreads)
    EncodeF32FastKernel(const Params p, const uint32_t* in, uint8_t* out, uint64_t n,
                        uint32_t flags) {
  const Lane me = ThisLane();
  const Packing packing = PackingOf(p.spec.bits);
  const uint64_t tiles = (n + kTile - 1) / kTile;
  for (uint64_t tile = me.warp; tile < tiles; tile += me.warps) {
    const uint64_t first = tile * kTile;
    uint32_t x[kPerLane];
    LoadRuns(in, first, me.lane, n, (flags & kVecIn) != 0, x);
#pragma unroll
    for (int q = 0; q < kRuns; ++q) {
      uint32_t code[4], value[4];
      FastRun(p, x, first, me.lane, q, code, value);
      const int valid = RunValid(RunFirst(first, me.lane, q), n);
#pragma unroll
      for (int t = 0; t < 4; ++t) {
        if (t >= valid) code[t] = 0;  // unused high bits of the last byte are zero
      }
      StorePackedRun(packing, out, first, me.lane, n, (flags & kVecOut) != 0, q, code);
    }
  }
}

__global__ void __launch_bounds__(kThreads)
    QuantizeF32Kernel(const Params p, const uint32_t* in, uint32_t* out, uint64_t n,
                      uint32_t flags) {
  const Lane me = ThisLane();
  const uint64_t tiles = (n + kTile - 1) / kTile;
  for (uint64_t tile = me.warp; tile < tiles; tile += me.warps) {
    const uint64_t first = tile * kTile;
    uint32_t x[kPerLane], code[kPerLane] = {}, value[kPerLane] = {};
    LoadRuns(in, first, me.lane, n, (flags & kVecIn) != 0, x);
    ComputeF32<true>(p, x, first, me.lane, ValidMask(first, me.lane, n), code, value);
    StoreRuns(out, first, me.lane, n, (flags & kVecOut) != 0, value);
  }
}

__global__ void __launch_bounds__(kThreads)
    EncodeF32Kernel(const Params p, const uint32_t* in, uint8_t* out, uint64_t n, uint32_t flags) {
  const Lane me = ThisLane();
  const Packing packing = PackingOf(p.spec.bits);
  const uint64_t tiles = (n + kTile - 1) / kTile;
  for (uint64_t tile = me.warp; tile < tiles; tile += me.warps) {
    const uint64_t first = tile * kTile;
    uint32_t x[kPerLane], code[kPerLane] = {}, value[kPerLane];
    LoadRuns(in, first, me.lane, n, (flags & kVecIn) != 0, x);
    ComputeF32<false>(p, x, first, me.lane, ValidMask(first, me.lane, n), code, value);
    StorePacked(packing, out, first, me.lane, n, (flags & kVecOut) != 0, code);
  }
}

__global__ void __launch_bounds__(kThreads)
    QuantizeF64Kernel(const Params p, const uint64_t* in, uint64_t* out, uint64_t n,
                      uint32_t flags) {
  const Lane me = ThisLane();
  const uint64_t tiles = (n + kTile - 1) / kTile;
  for (uint64_t tile = me.warp; tile < tiles; tile += me.warps) {
    const uint64_t first = tile * kTile;
    uint64_t x[kPerLane], value[kPerLane] = {};
    uint32_t code[kPerLane] = {};
    LoadRuns(in, first, me.lane, n, (flags & kVecIn) != 0, x);
    ComputeF64<true>(p, x, first, me.lane, ValidMask(first, me.lane, n), code, value);
    StoreRuns(out, first, me.lane, n, (flags & kVecOut) != 0, value);
  }
}

__global__ void __launch_bounds__(kThreads)
    EncodeF64Kernel(const Params p, const uint64_t* in, uint8_t* out, uint64_t n, uint32_t flags) {
  const Lane me = ThisLane();
  const Packing packing = PackingOf(p.spec.bits);
  const uint64_t tiles = (n + kTile - 1) / kTile;
  for (uint64_t tile = me.warp; tile < tiles; tile += me.warps) {
    const uint64_t first = tile * kTile;
    uint64_t x[kPerLane], value[kPerLane];
    uint32_t code[kPerLane] = {};
    LoadRuns(in, first, me.lane, n, (flags & kVecIn) != 0, x);
    ComputeF64<false>(p, x, first, me.lane, ValidMask(first, me.lane, n), code, value);
    StorePacked(packing, out, first, me.lane, n, (flags & kVecOut) != 0, code);
  }
}

// Formats of <= 8 bits decode through a table in shared memory, filled by the reference decoder
// (kTabled); wider ones call it per element.
constexpr int kTableBits = 8;

template <bool kTabled>
__global__ void __launch_bounds__(kThreads)
    DecodeKernel(const FormatSpec spec, const uint8_t* in, uint32_t* out, uint64_t n,
                 uint32_t flags) {
  __shared__ uint32_t table[kTabled ? (1 << kTableBits) : 1];
  if (kTabled) {
    for (uint32_t c = threadIdx.x; c < (1u << spec.bits); c += blockDim.x) {
      table[c] = FloatBitsOfDouble(detail::DecodeToDouble(spec, c));
    }
    __syncthreads();
  }
  const Lane me = ThisLane();
  const Packing packing = PackingOf(spec.bits);
  const uint64_t tiles = (n + kTile - 1) / kTile;
  for (uint64_t tile = me.warp; tile < tiles; tile += me.warps) {
    const uint64_t first = tile * kTile;
    uint32_t code[kPerLane], value[kPerLane] = {};
    LoadPacked(packing, in, first, me.lane, n, (flags & kVecIn) != 0, code);
    if (kTabled) {
#pragma unroll
      for (int j = 0; j < kPerLane; ++j) value[j] = table[code[j]];
    } else {
      uint32_t pending = ValidMask(first, me.lane, n);
      while (pending != 0) {
        const int j = __ffs(pending) - 1;
        pending &= pending - 1;
        Put(value, j, FloatBitsOfDouble(detail::DecodeToDouble(spec, Pick(code, j))));
      }
    }
    StoreRuns(out, first, me.lane, n, (flags & kVecOut) != 0, value);
  }
}

// Inputs as codes of a <= 16-bit format: decoded exactly, then encoded once. When every value of
// the input format is a float32 (`input_is_f32`), the float32 fast path applies.
__global__ void __launch_bounds__(kThreads)
    QuantizeCodes16Kernel(const Params p, const FormatSpec input, bool input_is_f32,
                          const uint16_t* in, uint32_t* out, uint64_t n) {
  const uint64_t stride = uint64_t{gridDim.x} * blockDim.x;
  for (uint64_t i = uint64_t{blockIdx.x} * blockDim.x + threadIdx.x; i < n; i += stride) {
    const double x = detail::DecodeToDouble(input, in[i]);
    uint32_t code = 0, value = 0;
    if (p.fast.enabled && input_is_f32) {
      const uint32_t word =
          p.fast.mode == RoundingMode::kStochastic
              ? StochasticBits(p.options.seed, p.options.stream, p.options.index_offset + i, 0)
              : 0u;
      FastEncodeF32(p.fast, FloatBitsOfDouble(x), word, i, &code, &value);
    } else {
      code = detail::EncodeDouble(p.spec, x, p.options, i);
      value = FloatBitsOfDouble(detail::DecodeToDouble(p.spec, code));
    }
    out[i] = value;
  }
}

// ---- launch parameters (host) ----

// The alignment a packed buffer needs for the kernels' run-wide accesses.
inline size_t PackedAlignment(int bits) {
  switch (PackingOf(bits)) {
    case Packing::kNibble:
      return 2;
    case Packing::kSixBit:
    case Packing::kByte:
      return 4;
    case Packing::kHalf:
      return 8;
    case Packing::kWord:
      return 16;
  }
  return 16;
}

inline bool Aligned(const void* p, size_t alignment) {
  return reinterpret_cast<uintptr_t>(p) % alignment == 0;
}

inline uint64_t TileThreads(uint64_t n) { return (n + kTile - 1) / kTile * kWarp; }

inline Params MakeParams(const FormatSpec& spec, const QuantizeOptions& options, bool f32_input) {
  Params p;
  p.spec = spec;
  p.options = options;
  if (f32_input) p.fast = MakeFastPath(spec, options);
  return p;
}

// Whether every value of a <= 16-bit format is a float32 (then its inputs take the fast path).
inline bool ValuesAreFloat32(const FormatSpec& s) {
  if (s.kind == FormatKind::kPosit) {
    const int32_t max_scale = (s.bits - 2) << s.exponent_bits;  // minpos = 2^-max_scale
    return max_scale <= 126;
  }
  const int32_t smallest = (s.has_zero && s.subnormals) ? s.emin - s.mantissa_bits : s.emin;
  return s.mantissa_bits <= 23 && smallest >= -149 && s.emax <= 127;
}

}  // namespace qfloat::cuda_detail

#endif  // QFLOAT_SRC_CUDA_KERNELS_CUH_
