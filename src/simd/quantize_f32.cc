// Fake-quant of float32 tensors and of bf16/fp16-coded tensors (per-target kernels).
#include <algorithm>
#include <cstring>

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "simd/quantize_f32.cc"
#include "hwy/foreach_target.h"  // IWYU pragma: keep
#include "hwy/highway.h"
#include "simd/dispatch.h"
#include "simd/kernels-inl.h"

HWY_BEFORE_NAMESPACE();
namespace qfloat {
namespace simd {
namespace HWY_NAMESPACE {

void QuantizeF32ChunkT(const EncodeParams& encode, const DecodeParams& decode, const float* in,
                       float* out, size_t count, uint64_t index0, bool stream) {
  EncodeF32Dispatch(encode, in, count, index0, ValueSinkF32{&decode, out, stream});
  if (stream) hwy::FlushStream();
}

void QuantizeRunsF32T(const EncodeParams& encode, const DecodeParams& decode,
                      const RunFactors& factors, const float* in, float* out, size_t count,
                      uint64_t index0, bool stream) {
  HWY_ALIGN float scaled[kRunPiece];
  HWY_ALIGN float dec[kRunPiece];
  HWY_ALIGN float values[kRunPiece];
  size_t run = 0;
  for (size_t s = 0; s < count; s += kRunPiece) {
    const size_t len = std::min(kRunPiece, count - s);
    ScalePiece(factors, in, s, len, run, scaled, dec);
    // A streamed output is formed in L1, then streamed out (StreamOut).
    EncodeF32Dispatch(encode, scaled, len, index0 + s,
                      ScaledValueSinkF32{&decode, dec, stream ? values : out + s});
    if (stream) StreamOut(values, out + s, len);
  }
  if (stream) hwy::FlushStream();
}

size_t QuantizeBlocksF32T(const EncodeParams& encode, const DecodeParams& decode,
                          const BlockScaleLookup& lookup, const float* in, float* out,
                          size_t blocks, size_t len, uint64_t index0, bool stream) {
  HWY_ALIGN float values[kRunPiece];
  const size_t done = ForEachBlockPiece(
      lookup, in, blocks, len, nullptr, true,
      [&](const float* scaled, const float* dec, size_t count, size_t first_block) {
        float* dst = out + first_block * len;
        EncodeF32Dispatch(encode, scaled, count, index0 + first_block * len,
                          ScaledValueSinkF32{&decode, dec, stream ? values : dst});
        if (stream) StreamOut(values, dst, count);
      });
  if (stream) hwy::FlushStream();
  return done;
}

int64_t DispatchedTargetT() { return HWY_TARGET; }

void QuantizeCodes16ChunkT(const DecodeParams& input, bool input_f32, const EncodeParams& encode,
                           const DecodeParams& decode, const uint16_t* in, float* out, size_t count,
                           uint64_t index0) {
  // Widen a block of inputs exactly, then quantize it (element order and indices unchanged).
  constexpr size_t kBlock = 1024;
  if (input_f32) {
    HWY_ALIGN float values[kBlock];
    for (size_t i = 0; i < count; i += kBlock) {
      const size_t len = std::min(kBlock, count - i);
      DecodeU16ToF32(input, in + i, values, len);
      EncodeF32Dispatch(encode, values, len, index0 + i, ValueSinkF32{&decode, out + i, false});
    }
    return;
  }
  HWY_ALIGN double values[kBlock];
  HWY_ALIGN double results[kBlock];
  for (size_t i = 0; i < count; i += kBlock) {
    const size_t len = std::min(kBlock, count - i);
    DecodeU16ToF64(input, in + i, values, len);
    EncodeF64Dispatch(encode, values, len, index0 + i, ValueSinkF64{&decode, results, false});
    DemoteF64ToF32(results, out + i, len);
  }
}

// NOLINTNEXTLINE(google-readability-namespace-comments)
}  // namespace HWY_NAMESPACE
}  // namespace simd
}  // namespace qfloat
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace qfloat::simd {

HWY_EXPORT(QuantizeF32ChunkT);
HWY_EXPORT(QuantizeRunsF32T);
HWY_EXPORT(QuantizeBlocksF32T);
HWY_EXPORT(QuantizeCodes16ChunkT);
HWY_EXPORT(DispatchedTargetT);

int64_t DispatchedTarget() { return HWY_DYNAMIC_DISPATCH(DispatchedTargetT)(); }

void QuantizeF32Chunk(const EncodeParams& encode, const DecodeParams& decode, const float* in,
                      float* out, size_t count, uint64_t index0, bool stream) {
  HWY_DYNAMIC_DISPATCH(QuantizeF32ChunkT)(encode, decode, in, out, count, index0, stream);
}

void QuantizeRunsF32(const EncodeParams& encode, const DecodeParams& decode,
                     const RunFactors& factors, const float* in, float* out, size_t count,
                     uint64_t index0, bool stream) {
  HWY_DYNAMIC_DISPATCH(QuantizeRunsF32T)(encode, decode, factors, in, out, count, index0, stream);
}

size_t QuantizeBlocksF32(const EncodeParams& encode, const DecodeParams& decode,
                         const BlockScaleLookup& lookup, const float* in, float* out, size_t blocks,
                         size_t len, uint64_t index0, bool stream) {
  return HWY_DYNAMIC_DISPATCH(QuantizeBlocksF32T)(encode, decode, lookup, in, out, blocks, len,
                                                  index0, stream);
}

void QuantizeCodes16Chunk(const DecodeParams& input, bool input_f32, const EncodeParams& encode,
                          const DecodeParams& decode, const uint16_t* in, float* out, size_t count,
                          uint64_t index0) {
  HWY_DYNAMIC_DISPATCH(QuantizeCodes16ChunkT)
  (input, input_f32, encode, decode, in, out, count, index0);
}

std::vector<int64_t> SupportedTargets() {
  std::vector<int64_t> targets;
  for (int64_t t = hwy::SupportedTargets() & HWY_TARGETS; t != 0; t &= t - 1) {
    targets.push_back(t & -t);
  }
  return targets;
}

int64_t ChosenTarget() {
  // The dispatch tables are indexed like HWY_TARGETS; ask the same way dispatch does.
  const int64_t supported = hwy::SupportedTargets() & HWY_TARGETS;
  return supported & -supported;  // lowest bit = best target
}

const char* TargetName(int64_t target) { return hwy::TargetName(target); }

}  // namespace qfloat::simd
#endif  // HWY_ONCE
