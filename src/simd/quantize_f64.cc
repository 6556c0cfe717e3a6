// Fake-quant of float64 tensors (per-target kernels).
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "simd/quantize_f64.cc"
#include "hwy/foreach_target.h"  // IWYU pragma: keep
#include "hwy/highway.h"
#include "simd/dispatch.h"
#include "simd/kernels-inl.h"

HWY_BEFORE_NAMESPACE();
namespace qfloat {
namespace simd {
namespace HWY_NAMESPACE {

void QuantizeF64ChunkT(const EncodeParams& encode, const DecodeParams& decode, const double* in,
                       double* out, size_t count, uint64_t index0, bool stream) {
  EncodeF64Dispatch(encode, in, count, index0, ValueSinkF64{&decode, out, stream});
  if (stream) hwy::FlushStream();
}

// NOLINTNEXTLINE(google-readability-namespace-comments)
}  // namespace HWY_NAMESPACE
}  // namespace simd
}  // namespace qfloat
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace qfloat::simd {

HWY_EXPORT(QuantizeF64ChunkT);

void QuantizeF64Chunk(const EncodeParams& encode, const DecodeParams& decode, const double* in,
                      double* out, size_t count, uint64_t index0, bool stream) {
  HWY_DYNAMIC_DISPATCH(QuantizeF64ChunkT)(encode, decode, in, out, count, index0, stream);
}

}  // namespace qfloat::simd
#endif  // HWY_ONCE
