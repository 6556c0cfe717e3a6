// Per-run amax and scaling for block-scaled quantization (per-target kernels; see block_scale.h).
#include <cstdint>
#include <cstring>

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "simd/block_scale.cc"
#include "hwy/cache_control.h"
#include "hwy/foreach_target.h"  // IWYU pragma: keep
#include "hwy/highway.h"
#include "simd/block_scale.h"
#include "simd/kernels-inl.h"  // StreamOut

HWY_BEFORE_NAMESPACE();
namespace qfloat {
namespace simd {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// How far ahead of the reads to prefetch: a few microseconds of this core's memory bandwidth.
constexpr size_t kPrefetchBytes = 4096;
constexpr size_t kLineBytes = 64;

void RunMaxMagnitudeF32T(const float* HWY_RESTRICT x, size_t runs, size_t len,
                         uint32_t* HWY_RESTRICT out, const float* readable_end) {
  const uintptr_t limit = reinterpret_cast<uintptr_t>(readable_end);
  // The next line to prefetch (byte address), kept kPrefetchBytes ahead of the run being read.
  uintptr_t next = (reinterpret_cast<uintptr_t>(x) + kPrefetchBytes) & ~uintptr_t{kLineBytes - 1};
  for (size_t r = 0; r < runs; ++r) {
    const float* p = x + r * len;
    const uintptr_t ahead = reinterpret_cast<uintptr_t>(p + len) + kPrefetchBytes;
    for (; next < ahead && next < limit; next += kLineBytes) {
      hwy::Prefetch(reinterpret_cast<const uint8_t*>(next));
    }
    out[r] = BlockMaxBits(p, len);
  }
}

void ScaleRunsF32T(const float* x, float* y, size_t runs, size_t len,
                   const float* HWY_RESTRICT factors) {
  const hn::ScalableTag<float> df;
  const size_t n = hn::Lanes(df);
  const size_t whole = len / n * n;
  for (size_t r = 0; r < runs; ++r) {
    const float* p = x + r * len;
    float* q = y + r * len;
    const float f = factors[r];
    const auto vf = hn::Set(df, f);
    for (size_t j = 0; j < whole; j += n) hn::StoreU(hn::Mul(hn::LoadU(df, p + j), vf), df, q + j);
    for (size_t j = whole; j < len; ++j) q[j] = p[j] * f;
  }
}

void StreamCopyF32T(const float* HWY_RESTRICT src, float* HWY_RESTRICT dst, size_t count) {
  StreamOut(src, dst, count);
  hwy::FlushStream();
}

// NOLINTNEXTLINE(google-readability-namespace-comments)
}  // namespace HWY_NAMESPACE
}  // namespace simd
}  // namespace qfloat
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace qfloat::simd {

HWY_EXPORT(RunMaxMagnitudeF32T);
HWY_EXPORT(ScaleRunsF32T);
HWY_EXPORT(StreamCopyF32T);

void RunMaxMagnitudeF32(const float* x, size_t runs, size_t len, uint32_t* out,
                        const float* readable_end) {
  HWY_DYNAMIC_DISPATCH(RunMaxMagnitudeF32T)(x, runs, len, out, readable_end);
}

void StreamCopyF32(const float* src, float* dst, size_t n) {
  HWY_DYNAMIC_DISPATCH(StreamCopyF32T)(src, dst, n);
}

void ScaleRunsF32(const float* x, float* y, size_t runs, size_t len, const float* factors) {
  HWY_DYNAMIC_DISPATCH(ScaleRunsF32T)(x, y, runs, len, factors);
}

}  // namespace qfloat::simd
#endif  // HWY_ONCE
