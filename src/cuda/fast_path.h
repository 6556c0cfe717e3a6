// The CUDA backend's fast path: float32 inputs rounded into a minifloat with 32-bit integer
// arithmetic, for the kernels' hot loop. Host and device (QFLOAT_HOST_DEVICE), so the CPU tests
// check it against the reference too (tests/cuda/fast_path_test.cc).
//
// It is the reference's own algorithm (detail::MinifloatMagnitude + detail::RoundAwayFromZero in
// qfloat/detail/bits.h) restricted to what a float32 input can be: a 24-bit significand, so the
// dropped fraction fits in 32 bits and no 128-bit arithmetic is needed. Everything else comes
// from the reference itself:
// - the results of special inputs (zeros, NaNs, infinities), of finite overflow and of
//   underflow to zero are computed on the host by the reference (EncodeDouble / DecodeToDouble)
//   and looked up here;
// - exact `sr` needs more random words than word 0 with probability 2^-32 (word 0 equal to the
//   fraction's first 32 bits): that case calls the reference's detail::StochasticUpExact.
// Formats it cannot express exactly (posits, no zero or no subnormals, more than 22 mantissa
// bits, exponents outside float32's) leave `enabled` false and always take the reference path.
#ifndef QFLOAT_SRC_CUDA_FAST_PATH_H_
#define QFLOAT_SRC_CUDA_FAST_PATH_H_

#include <cstdint>
#include <cstring>

#include "qfloat/detail/bits.h"
#include "qfloat/format.h"
#include "qfloat/rounding.h"

namespace qfloat::cuda_detail {

// A result that does not depend on rounding: the code and the float32 bits of its value.
struct FixedResult {
  uint32_t code = 0;
  uint32_t value = 0;
};

struct FastPath {
  bool enabled = false;
  RoundingMode mode = RoundingMode::kNearestEven;
  uint8_t sr_bits = 0;
  QuantizeOptions options;  // the call's (seed, stream and index offset for exact `sr`)
  int32_t emin = 0;
  int32_t mantissa_bits = 0;
  // The format's grid is C + k quanta for a float32 C = 2^(e + 23 - m) in every binade e it has
  // (1 <= m, emax + 23 - m <= 127): rne then rounds with one float32 addition, and every mode
  // gets its value back from C's bits (FastEncodeF32).
  bool float_grid = false;
  uint32_t emin_field = 0;  // emin + 127, the float32 exponent field of 2^emin
  uint32_t limit = 0;       // float32 bits of 2^(emax+1) (or of inf): magnitudes at or above it
                            // overflow or are special
  uint32_t max_code = 0;
  uint32_t sign_bit = 0;
  // Indexed by the input's sign bit.
  FixedResult zero[2];      // zero inputs, and nonzero inputs that round to zero
  FixedResult nan[2];       // NaN inputs
  FixedResult inf[2];       // infinite inputs
  FixedResult overflow[2];  // finite inputs that round beyond the largest finite value
};

// float32 bits of a double, as a host cast gives them (round to nearest even; a NaN keeps its
// sign and the top of its payload, quieted). Used for every decoded value, on host and device,
// so that NaN results have the reference backend's bits (a device cvt would give 0x7FFFFFFF).
QFLOAT_HOST_DEVICE QFLOAT_INLINE uint32_t FloatBitsOfDouble(double d) {
  const uint64_t b = detail::BitsOf(d);
  if ((b & 0x7FFFFFFFFFFFFFFFull) > 0x7FF0000000000000ull) {
    return static_cast<uint32_t>(b >> 32 & 0x80000000u) | 0x7FC00000u |
           static_cast<uint32_t>((b >> 29) & 0x003FFFFFu);
  }
#if defined(__CUDA_ARCH__)
  return __float_as_uint(__double2float_rn(d));
#else
  const float f = static_cast<float>(d);
  uint32_t bits;
  std::memcpy(&bits, &f, sizeof(bits));
  return bits;
#endif
}

// A float32 (given by its bits) widened to double exactly, NaN sign included (the reference
// widens with a host cast; EncodeDouble reads only the sign of a NaN).
QFLOAT_HOST_DEVICE QFLOAT_INLINE double WidenFloatBits(uint32_t bits) {
  const uint64_t sign = static_cast<uint64_t>(bits >> 31) << 63;
  const uint32_t a = bits & 0x7FFFFFFFu;
  if (a > 0x7F800000u) {
    return detail::DoubleFromBits(sign | 0x7FF8000000000000ull | (uint64_t{a & 0x3FFFFFu} << 29));
  }
#if defined(__CUDA_ARCH__)
  return static_cast<double>(__uint_as_float(bits));
#else
  float f;
  std::memcpy(&f, &bits, sizeof(f));
  return static_cast<double>(f);
#endif
}

QFLOAT_HOST_DEVICE QFLOAT_INLINE float FloatOfBits(uint32_t bits) {
#if defined(__CUDA_ARCH__)
  return __uint_as_float(bits);
#else
  float f;
  std::memcpy(&f, &bits, sizeof(f));
  return f;
#endif
}

QFLOAT_HOST_DEVICE QFLOAT_INLINE uint32_t BitsOfFloat(float f) {
#if defined(__CUDA_ARCH__)
  return __float_as_uint(f);
#else
  uint32_t bits;
  std::memcpy(&bits, &f, sizeof(bits));
  return bits;
#endif
}

// IEEE float32 addition and subtraction, rounded to nearest even (never contracted into an FMA;
// the host's default rounding mode is nearest even).
QFLOAT_HOST_DEVICE QFLOAT_INLINE float AddNearestEven(float a, float b) {
#if defined(__CUDA_ARCH__)
  return __fadd_rn(a, b);
#else
  return a + b;
#endif
}

QFLOAT_HOST_DEVICE QFLOAT_INLINE float SubNearestEven(float a, float b) {
#if defined(__CUDA_ARCH__)
  return __fsub_rn(a, b);
#else
  return a - b;
#endif
}

// The fast path's parameters for one call. `enabled` stays false when the format is outside it.
inline FastPath MakeFastPath(const FormatSpec& s, const QuantizeOptions& o) {
  FastPath p;
  const int m = s.mantissa_bits;
  // A float32 magnitude is sig * 2^(e - 23) with sig < 2^24; the reference's grid for the format
  // must be expressible the same way: quanta 2^(emin - m) >= 2^-149 (a float32 subnormal step),
  // binades within float32's, at least one dropped bit (m <= 22).
  if (s.kind != FormatKind::kMinifloat || !s.is_signed || !s.has_zero || !s.subnormals || m > 22 ||
      s.emin < -126 || s.emax > 127 || s.bits > 32) {
    return p;
  }
  p.enabled = true;
  p.mode = o.rounding.mode;
  p.sr_bits = o.rounding.sr_bits;
  p.options = o;
  p.emin = s.emin;
  p.mantissa_bits = m;
  // With emax = 127 (bf16) only infinities and NaNs lie beyond 2^(emax+1); a finite overflow is
  // then caught after rounding, as a magnitude above max_code.
  p.limit = s.emax >= 127 ? 0x7F800000u : static_cast<uint32_t>(s.emax + 1 + 127) << 23;
  p.float_grid = m >= 1 && s.emax + 127 + 23 - m <= 254;
  p.emin_field = static_cast<uint32_t>(s.emin + 127);
  p.max_code = s.max_code;
  p.sign_bit = s.sign_bit;
  for (int neg = 0; neg < 2; ++neg) {
    const bool n = neg != 0;
    auto fixed = [&](uint32_t code) {
      return FixedResult{code, FloatBitsOfDouble(detail::DecodeToDouble(s, code))};
    };
    p.zero[neg] = fixed(detail::ZeroCode(s, n, o.overflow));
    p.nan[neg] = fixed(detail::NanCode(s, n));
    p.inf[neg] = fixed(detail::InfinityCode(s, n, o.overflow));
    p.overflow[neg] = fixed(detail::OverflowCode(s, n, o));
  }
  return p;
}

// float32 bits of the magnitude k * 2^q (1 <= k < 2^24, q >= -149, exact by construction).
QFLOAT_HOST_DEVICE QFLOAT_INLINE uint32_t ScaledMagnitudeBits(uint32_t k, int32_t q) {
  const int lead = 63 - detail::CountLeadingZeros64(k);  // k's leading bit
  const int32_t e = q + lead;
  if (e >= -126) {
    return (static_cast<uint32_t>(e + 127) << 23) | ((k << (23 - lead)) & 0x7FFFFFu);
  }
  return k << (q + 149);  // a float32 subnormal
}

// Encodes the float32 with bits `x`, element `index` of the call (`word0`: its word-0 random
// bits, StochasticBits(seed, stream, options.index_offset + index, 0), read by `sr` only): the
// code and the float32 bits of its value.
QFLOAT_HOST_DEVICE QFLOAT_INLINE void FastEncodeF32(const FastPath& p, uint32_t x, uint32_t word0,
                                                    uint64_t index, uint32_t* code,
                                                    uint32_t* value) {
  const uint32_t neg = x >> 31;
  const uint32_t a = x & 0x7FFFFFFFu;
  if (a - 1 >= p.limit - 1) {  // zero, or at or beyond 2^(emax+1): inf, NaN, finite overflow
    const FixedResult r = a == 0             ? p.zero[neg]
                          : a > 0x7F800000u  ? p.nan[neg]
                          : a == 0x7F800000u ? p.inf[neg]
                                             : p.overflow[neg];
    *code = r.code;
    *value = r.value;
    return;
  }
  const uint32_t m = static_cast<uint32_t>(p.mantissa_bits);
  const uint32_t field = a >> 23;
  // e = max(floor(log2 |x|), emin) is the binade whose quantum 2^(e - m) applies (a float32
  // subnormal has floor(log2 |x|) < -126 <= emin); e_field = e + 127. With a float grid,
  // C = 2^(e + 23 - m) has that quantum as its ulp and |x| + C lies in [C, 2C), so the bits of
  // C + j quanta are C's bits + j.
  const uint32_t e_field = field > p.emin_field ? field : p.emin_field;
  const uint32_t c_bits = (e_field + 23 - m) << 23;
  if (p.float_grid && p.mode == RoundingMode::kNearestEven) {
    // One addition rounds |x| to the nearest multiple of the quantum, ties to an even multiple,
    // i.e. to the even code (for m >= 1 a code's last bit is its multiple's).
    const uint32_t sum = BitsOfFloat(AddNearestEven(FloatOfBits(a), FloatOfBits(c_bits)));
    const uint32_t magnitude = ((e_field - p.emin_field) << m) + (sum - c_bits);
    if (magnitude - 1 >= p.max_code) {  // 0 (underflow) or beyond max (overflow)
      const FixedResult r = magnitude == 0 ? p.zero[neg] : p.overflow[neg];
      *code = r.code;
      *value = r.value;
      return;
    }
    *code = magnitude | (neg != 0 ? p.sign_bit : 0u);
    *value = (neg << 31) | BitsOfFloat(SubNearestEven(FloatOfBits(sum), FloatOfBits(c_bits)));
    return;
  }
  // |x| = sig * 2^(f - 150), f = max(field, 1); in quanta |x| = sig / 2^sh = k + fraction.
  const uint32_t sig = field != 0 ? ((a & 0x7FFFFFu) | 0x800000u) : a;
  const uint32_t sh = e_field - (field != 0 ? field : 1u) + 23 - m;  // dropped bits, >= 1
  const uint32_t k = sig >> (sh < 31 ? sh : 31);                     // sig < 2^24
  // The fraction's first base-2^32 digit, floor(fraction * 2^32), from sig * 2^32 / 2^sh; past
  // sh = 57 (sig * 2^32 < 2^56) every sh gives digit 0 with something left below it.
  const uint32_t sh_c = sh < 57 ? sh : 57;
  const uint64_t wide = uint64_t{sig} << 32;
  const uint32_t digit = static_cast<uint32_t>(wide >> sh_c);
  // Whether the fraction goes on below that digit (wanted by few modes, so computed on demand).
  auto rest = [&] { return (wide << (64 - sh_c)) != 0; };
  // The lower neighbour's magnitude code (bits.h MinifloatMagnitude: base + k).
  const uint32_t lower = ((e_field - p.emin_field) << m) + k;
  uint32_t up = 0;
  switch (p.mode) {
    case RoundingMode::kNearestEven:
      up = (digit > 0x80000000u || (digit == 0x80000000u && (rest() || (lower & 1u) != 0))) ? 1u
                                                                                            : 0u;
      break;
    case RoundingMode::kNearestAway:
      up = digit >= 0x80000000u ? 1u : 0u;
      break;
    case RoundingMode::kTowardZero:
      break;
    case RoundingMode::kUp:
      up = (neg == 0 && (digit != 0 || rest())) ? 1u : 0u;
      break;
    case RoundingMode::kDown:
      up = (neg != 0 && (digit != 0 || rest())) ? 1u : 0u;
      break;
    case RoundingMode::kToOdd:
      up = ((lower & 1u) == 0 && (digit != 0 || rest())) ? 1u : 0u;
      break;
    case RoundingMode::kStochastic:
      if (p.sr_bits == 0) {  // exact: up iff U < fraction, U = 0.word0 word1 ...
        if (word0 != digit) {
          up = word0 < digit ? 1u : 0u;
        } else if (rest()) {  // decided by words 1, 2, ...: the reference's own loop
          detail::Fraction f;
          f.num = sh < 32 ? (sig & ((1u << sh) - 1)) : sig;
          f.shift = static_cast<int32_t>(sh);
          up = detail::StochasticUpExact(f, p.options, p.options.index_offset + index) ? 1u : 0u;
        }
      } else {  // sr:K: add the top K random bits to the top K dropped bits, truncate
        const int kb = p.sr_bits;
        const uint64_t top = digit >> (32 - kb);
        const uint64_t r = word0 >> (32 - kb);
        up = ((top + r) >> kb) != 0 ? 1u : 0u;
      }
      break;
  }
  const uint32_t magnitude = lower + up;
  if (magnitude - 1 >= p.max_code) {  // 0 (underflow) or beyond max (overflow)
    const FixedResult r = magnitude == 0 ? p.zero[neg] : p.overflow[neg];
    *code = r.code;
    *value = r.value;
    return;
  }
  *code = magnitude | (neg != 0 ? p.sign_bit : 0u);
  // The value (k + up) quanta: with a float grid (C + that) - C, exact; else, in |x|'s own
  // binade, |x|'s bits with the dropped ones cleared and one quantum added (a carry moves into
  // the exponent field, as it should), and below it built from k + up.
  uint32_t magnitude_bits;
  if (p.float_grid) {
    magnitude_bits = BitsOfFloat(SubNearestEven(FloatOfBits(c_bits + k + up), FloatOfBits(c_bits)));
  } else if (e_field == field) {
    magnitude_bits = ((a >> sh) + up) << sh;
  } else {
    magnitude_bits =
        ScaledMagnitudeBits(k + up, static_cast<int32_t>(e_field) - 127 - static_cast<int32_t>(m));
  }
  *value = (neg << 31) | magnitude_bits;
}

}  // namespace qfloat::cuda_detail

#endif  // QFLOAT_SRC_CUDA_FAST_PATH_H_
