// Decoding packed codes to float32 (per-target kernels).
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "simd/decode.cc"
#include "hwy/foreach_target.h"  // IWYU pragma: keep
#include "hwy/highway.h"
#include "simd/dispatch.h"
#include "simd/kernels-inl.h"

HWY_BEFORE_NAMESPACE();
namespace qfloat {
namespace simd {
namespace HWY_NAMESPACE {

void DecodeChunkT(const DecodeParams& decode, const uint8_t* packed, float* out, size_t count,
                  uint64_t index0, bool stream) {
  DecodeRangeImpl(decode, packed, out, count, static_cast<size_t>(index0), stream);
  if (stream) hwy::FlushStream();
}

// NOLINTNEXTLINE(google-readability-namespace-comments)
}  // namespace HWY_NAMESPACE
}  // namespace simd
}  // namespace qfloat
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace qfloat::simd {

HWY_EXPORT(DecodeChunkT);

void DecodeChunk(const DecodeParams& decode, const uint8_t* packed, float* out, size_t count,
                 uint64_t index0, bool stream) {
  HWY_DYNAMIC_DISPATCH(DecodeChunkT)(decode, packed, out, count, index0, stream);
}

}  // namespace qfloat::simd
#endif  // HWY_ONCE
