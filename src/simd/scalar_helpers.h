// Internal: scalar pieces the SIMD kernels call for rare lanes, and the packed-code layout of
// quantize.h (the SIMD library cannot use src/tensor's copy: qfloat_tensor links qfloat_simd).
#ifndef QFLOAT_SRC_SIMD_SCALAR_HELPERS_H_
#define QFLOAT_SRC_SIMD_SCALAR_HELPERS_H_

#include <cstddef>
#include <cstdint>

#include "qfloat/detail/bits.h"
#include "simd/params.h"

namespace qfloat::simd {

// Posit stochastic rounding where the rounding point cuts exponent bits (bits.h PositMagnitude's
// non-dyadic branch): with c cut bits, lower = 2^a and upper = 2^(a + 2^c), and the value
// fraction is f = (x/2^a - 1) / (2^(2^c) - 1). The kernel's pattern fraction is not f there, so
// these lanes are decided here, exactly, from the word the kernel already drew: "up" iff
// f 2^32 >= C with C = word + 1 (`sr`) or 2^32 - (word & topK) (`sr:K`), compared as 128-bit
// integers. |x| = sig 2^(e - 63) with bit 63 of sig set. Returns the magnitude code; sets
// *need_reference where exact `sr` needs words 1, 2, ... (floor(f 2^32) == word, f 2^32 not an
// integer: probability 2^-32).
inline uint32_t PositCutMagnitude(const EncodeParams& p, uint64_t sig, int32_t e, uint32_t word,
                                  bool* need_reference) {
  using detail::U128;
  const int es = p.es;
  const int32_t regime = e >> es;  // floor
  const int regime_len = regime >= 0 ? regime + 2 : 1 - regime;
  const int avail = p.body_bits - regime_len;  // exponent bits that fit, < es here
  const int cut = es - avail;
  const uint32_t e_field = static_cast<uint32_t>(e - regime * (1 << es));
  const uint32_t regime_part = regime >= 0 ? (p.regime_top - (2u << avail)) : (1u << avail);
  const uint32_t lower = regime_part | (e_field >> cut);
  const int32_t a = e & ~((int32_t{1} << cut) - 1);  // scale of lower
  const int t = e - a;                               // 0 <= t < 2^cut
  const int gap = 1 << cut;                          // scale of upper - scale of lower, <= 32
  // (x/2^a - 1) 2^63 and (2^gap - 1) 2^31; f 2^32 >= C  <=>  num >= C (2^gap - 1) 2^31.
  const U128 num = (U128{sig} << t) - (U128{1} << 63);
  const U128 unit = ((U128{1} << gap) - 1) << 31;
  const U128 c = p.sr_exact ? U128{word} + 1 : (U128{1} << 32) - (word & p.rmask);
  const bool up = num >= c * unit;
  *need_reference = p.sr_exact && !up && num > U128{word} * unit;
  return up ? lower + 1 : lower;
}

// Packed layout (quantize.h): <= 4 bits two per byte (low nibble first), 5..6 bits four per
// three bytes, 7..8 bits one byte, 9..16 bits LE uint16, 17..32 bits LE uint32.
inline int PackedWidth(const FormatSpec& spec) {
  if (spec.bits <= 4) return 4;
  if (spec.bits <= 6) return 6;
  if (spec.bits <= 8) return 8;
  if (spec.bits <= 16) return 16;
  return 32;
}

inline size_t PackedOffset(int width, size_t i) {  // byte of element i (i even / i % 4 == 0)
  switch (width) {
    case 4:
      return i / 2;
    case 6:
      return i / 4 * 3;
    default:
      return i * static_cast<size_t>(width / 8);
  }
}

inline uint32_t ReadCode(int width, const uint8_t* packed, size_t i) {
  switch (width) {
    case 4:
      return (packed[i / 2] >> (4 * (i & 1))) & 0xFu;
    case 6: {
      const uint8_t* g = packed + i / 4 * 3;
      const uint32_t group = g[0] | (uint32_t{g[1]} << 8) | (uint32_t{g[2]} << 16);
      return (group >> (6 * (i & 3))) & 0x3Fu;
    }
    case 8:
      return packed[i];
    case 16:
      return packed[2 * i] | (uint32_t{packed[2 * i + 1]} << 8);
    default: {
      const uint8_t* q = packed + 4 * i;
      return q[0] | (uint32_t{q[1]} << 8) | (uint32_t{q[2]} << 16) | (uint32_t{q[3]} << 24);
    }
  }
}

// Packs codes[0, count) as elements first..first+count of a packed array; `first` is a multiple
// of 4, so the bytes written belong to these elements only, and partial bytes at the end keep
// their unused high bits zero.
inline void PackCodes(int width, const uint32_t* codes, size_t count, uint8_t* packed,
                      size_t first) {
  uint8_t* out = packed + PackedOffset(width, first);
  switch (width) {
    case 4:
      for (size_t i = 0; i < count; i += 2) {
        const uint32_t hi = i + 1 < count ? (codes[i + 1] & 0xFu) : 0u;
        out[i / 2] = static_cast<uint8_t>((codes[i] & 0xFu) | (hi << 4));
      }
      break;
    case 6:
      for (size_t i = 0; i < count; i += 4) {
        uint32_t group = 0;
        for (size_t t = 0; t < 4 && i + t < count; ++t) group |= (codes[i + t] & 0x3Fu) << (6 * t);
        out[i / 4 * 3] = static_cast<uint8_t>(group);
        out[i / 4 * 3 + 1] = static_cast<uint8_t>(group >> 8);
        out[i / 4 * 3 + 2] = static_cast<uint8_t>(group >> 16);
      }
      break;
    case 8:
      for (size_t i = 0; i < count; ++i) out[i] = static_cast<uint8_t>(codes[i]);
      break;
    case 16:
      for (size_t i = 0; i < count; ++i) {
        out[2 * i] = static_cast<uint8_t>(codes[i]);
        out[2 * i + 1] = static_cast<uint8_t>(codes[i] >> 8);
      }
      break;
    default:
      for (size_t i = 0; i < count; ++i) {
        for (int b = 0; b < 4; ++b) out[4 * i + b] = static_cast<uint8_t>(codes[i] >> (8 * b));
      }
      break;
  }
}

}  // namespace qfloat::simd

#endif  // QFLOAT_SRC_SIMD_SCALAR_HELPERS_H_
