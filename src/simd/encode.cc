// Encoding float32 / float64 tensors to packed codes (per-target kernels).
#include <algorithm>

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "simd/encode.cc"
#include "hwy/foreach_target.h"  // IWYU pragma: keep
#include "hwy/highway.h"
#include "simd/dispatch.h"
#include "simd/kernels-inl.h"

HWY_BEFORE_NAMESPACE();
namespace qfloat {
namespace simd {
namespace HWY_NAMESPACE {

// 4-bit codes, two per byte (low nibble first): a vector of N uint32 codes -> N/2 bytes.
HWY_INLINE void PackNibbles(const uint32_t* HWY_RESTRICT codes, size_t count,
                            uint8_t* HWY_RESTRICT out) {
  size_t pair = 0;
#if HWY_TARGET != HWY_SCALAR
  const DU64 du64;
  const hn::Rebind<uint8_t, DU64> d8;
  const size_t n = hn::Lanes(du64);  // pairs per vector
  for (; 2 * (pair + n) <= count; pair += n) {
    const auto v = hn::LoadU(du64, reinterpret_cast<const uint64_t*>(codes + 2 * pair));
    const auto b = hn::Or(hn::And(v, hn::Set(du64, 0xFull)),
                          hn::And(hn::ShiftRight<28>(v), hn::Set(du64, 0xF0ull)));
    hn::StoreU(hn::TruncateTo(d8, b), d8, out + pair);
  }
#endif
  if (2 * pair < count) PackCodes(4, codes + 2 * pair, count - 2 * pair, out + pair, 0);
}

template <typename T, class Dispatch>
HWY_INLINE void EncodeChunk(const EncodeParams& encode, const T* in, uint8_t* packed, size_t count,
                            uint64_t index0, const Dispatch& dispatch) {
  const int width = PackedWidth(encode.spec);
  if (width >= 8) {
    uint8_t* out = packed + PackedOffset(width, index0);
    dispatch(in, count, index0, out, width);
    return;
  }
  // Sub-byte codes: encode a block to uint32 codes, then pack it.
  constexpr size_t kBlock = 2048;
  HWY_ALIGN uint32_t codes[kBlock];
  for (size_t i = 0; i < count; i += kBlock) {
    const size_t len = std::min(kBlock, count - i);
    dispatch(in + i, len, index0 + i, reinterpret_cast<uint8_t*>(codes), 32);
    if (width == 4) {
      PackNibbles(codes, len, packed + PackedOffset(4, index0 + i));
    } else {
      PackCodes(width, codes, len, packed, index0 + i);
    }
  }
}

void EncodeF32ChunkT(const EncodeParams& encode, const float* in, uint8_t* packed, size_t count,
                     uint64_t index0) {
  EncodeChunk(encode, in, packed, count, index0,
              [&](const float* src, size_t n, uint64_t i0, uint8_t* out, int width) {
                EncodeF32Dispatch(encode, src, n, i0, CodeSink{nullptr, out, width});
              });
}

void EncodeF64ChunkT(const EncodeParams& encode, const double* in, uint8_t* packed, size_t count,
                     uint64_t index0) {
  EncodeChunk(encode, in, packed, count, index0,
              [&](const double* src, size_t n, uint64_t i0, uint8_t* out, int width) {
                EncodeF64Dispatch(encode, src, n, i0, CodeSink64{out, width});
              });
}

void EncodeRunsF32T(const EncodeParams& encode, const RunFactors& factors, const float* in,
                    uint8_t* packed, size_t count, uint64_t index0) {
  HWY_ALIGN float scaled[kRunPiece];
  size_t run = 0;
  for (size_t s = 0; s < count; s += kRunPiece) {
    const size_t len = std::min(kRunPiece, count - s);
    ScalePiece(factors, in, s, len, run, scaled, nullptr);
    EncodeF32ChunkT(encode, scaled, packed, len, index0 + s);
  }
}

size_t EncodeBlocksF32T(const EncodeParams& encode, const BlockScaleLookup& lookup, const float* in,
                        uint8_t* packed, uint8_t* scale_codes, size_t blocks, size_t len,
                        uint64_t index0) {
  return ForEachBlockPiece(
      lookup, in, blocks, len, scale_codes, false,
      [&](const float* scaled, const float*, size_t count, size_t first_block) {
        EncodeF32ChunkT(encode, scaled, packed, count, index0 + first_block * len);
      });
}

// NOLINTNEXTLINE(google-readability-namespace-comments)
}  // namespace HWY_NAMESPACE
}  // namespace simd
}  // namespace qfloat
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace qfloat::simd {

HWY_EXPORT(EncodeF32ChunkT);
HWY_EXPORT(EncodeF64ChunkT);
HWY_EXPORT(EncodeRunsF32T);
HWY_EXPORT(EncodeBlocksF32T);

void EncodeF32Chunk(const EncodeParams& encode, const float* in, uint8_t* packed, size_t count,
                    uint64_t index0) {
  HWY_DYNAMIC_DISPATCH(EncodeF32ChunkT)(encode, in, packed, count, index0);
}

void EncodeF64Chunk(const EncodeParams& encode, const double* in, uint8_t* packed, size_t count,
                    uint64_t index0) {
  HWY_DYNAMIC_DISPATCH(EncodeF64ChunkT)(encode, in, packed, count, index0);
}

void EncodeRunsF32(const EncodeParams& encode, const RunFactors& factors, const float* in,
                   uint8_t* packed, size_t count, uint64_t index0) {
  HWY_DYNAMIC_DISPATCH(EncodeRunsF32T)(encode, factors, in, packed, count, index0);
}

size_t EncodeBlocksF32(const EncodeParams& encode, const BlockScaleLookup& lookup, const float* in,
                       uint8_t* packed, uint8_t* scale_codes, size_t blocks, size_t len,
                       uint64_t index0) {
  return HWY_DYNAMIC_DISPATCH(EncodeBlocksF32T)(encode, lookup, in, packed, scale_codes, blocks,
                                                len, index0);
}

}  // namespace qfloat::simd
#endif  // HWY_ONCE
