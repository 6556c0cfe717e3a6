// The reference's bit-level core, written once for host and device (QFLOAT_HOST_DEVICE).
//
// Every encode computes an exact (sign, exponent, significand) for the input, finds the two
// neighbouring codes, and leaves through one rounding decision (RoundAwayFromZero) and one
// overflow routine, as SoftFloat's roundPack does. Everything format-specific is read from the
// FormatSpec; there are no per-format code paths.
#ifndef QFLOAT_DETAIL_BITS_H_
#define QFLOAT_DETAIL_BITS_H_

#include <cstdint>
#include <cstring>

#include "qfloat/detail/config.h"
#include "qfloat/detail/philox.h"
#include "qfloat/format.h"
#include "qfloat/rounding.h"

#if !defined(__CUDA_ARCH__)
#include <cmath>
#endif

namespace qfloat {
namespace detail {

using U128 = unsigned __int128;

QFLOAT_HOST_DEVICE QFLOAT_INLINE uint64_t BitsOf(double x) {
#if defined(__CUDA_ARCH__)
  return static_cast<uint64_t>(__double_as_longlong(x));
#else
  uint64_t bits;
  std::memcpy(&bits, &x, sizeof(bits));
  return bits;
#endif
}

QFLOAT_HOST_DEVICE QFLOAT_INLINE double DoubleFromBits(uint64_t bits) {
#if defined(__CUDA_ARCH__)
  return __longlong_as_double(static_cast<long long>(bits));
#else
  double x;
  std::memcpy(&x, &bits, sizeof(x));
  return x;
#endif
}

QFLOAT_HOST_DEVICE QFLOAT_INLINE int CountLeadingZeros64(uint64_t x) {
#if defined(__CUDA_ARCH__)
  return __clzll(static_cast<long long>(x));
#else
  return x == 0 ? 64 : __builtin_clzll(x);
#endif
}

// 2^e exactly, for e in [-1074, 1023].
QFLOAT_HOST_DEVICE QFLOAT_INLINE double Pow2(int e) {
  if (e >= -1022) return DoubleFromBits(static_cast<uint64_t>(e + 1023) << 52);
  return DoubleFromBits(uint64_t{1} << (e + 1074));  // subnormal
}

// A finite nonzero magnitude, exactly: |x| = sig * 2^(exp - 63), bit 63 of sig set,
// so exp = floor(log2 |x|).
struct Unpacked {
  int32_t exp;
  uint64_t sig;
};

QFLOAT_HOST_DEVICE QFLOAT_INLINE Unpacked UnpackMagnitude(uint64_t bits) {
  const int32_t biased = static_cast<int32_t>((bits >> 52) & 0x7FF);
  const uint64_t fraction = bits & ((uint64_t{1} << 52) - 1);
  if (biased != 0) return Unpacked{biased - 1023, (fraction | (uint64_t{1} << 52)) << 11};
  const int lz = CountLeadingZeros64(fraction);  // subnormal double: normalise
  return Unpacked{-1074 + 63 - lz, fraction << lz};
}

// The part of an input below the lower neighbour, as a fraction f of the gap to the upper one.
// Dyadic: f = num * 2^-shift (num < 2^64 or, for posit patterns, < 2^shift). Otherwise (posits
// whose exponent bits are cut off, where the gap is 2^b - 2^a) f = num / den, den < 2^96.
struct Fraction {
  U128 num = 0;
  U128 den = 0;  // 0: dyadic
  int32_t shift = 0;
};

QFLOAT_HOST_DEVICE QFLOAT_INLINE bool IsZero(const Fraction& f) { return f.num == 0; }

// Sign of (f - 1/2) for a dyadic fraction.
QFLOAT_HOST_DEVICE QFLOAT_INLINE int CompareHalf(const Fraction& f) {
  if (f.num == 0 || f.shift <= 0) return -1;
  if (f.shift > 128) return -1;
  const U128 half = U128{1} << (f.shift - 1);
  return f.num < half ? -1 : (f.num == half ? 0 : 1);
}

// Digit j >= 1 of f in base 2^32 (floor(f * 2^(32 j)) mod 2^32), for a dyadic f; `rest` tells
// whether anything of f remains below that digit.
QFLOAT_HOST_DEVICE QFLOAT_INLINE uint32_t DyadicDigit(const Fraction& f, int j, bool* rest) {
  const int down = f.shift - 32 * j;  // bits of num below digit j
  if (down <= 0) {
    *rest = false;
    return (-down >= 32) ? 0u : static_cast<uint32_t>(f.num << -down);
  }
  if (down >= 128) {
    *rest = f.num != 0;
    return 0u;
  }
  *rest = (f.num & ((U128{1} << down) - 1)) != 0;
  return static_cast<uint32_t>(f.num >> down);
}

// Exact stochastic rounding: up iff U < f, where U = 0.R0 R1 R2 ... in base 2^32 and Rj is
// StochasticBits(..., word j). Word 0 decides unless it equals f's first digit (probability
// 2^-32), so P(up) = f exactly.
QFLOAT_HOST_DEVICE inline bool StochasticUpExact(Fraction f, const QuantizeOptions& o,
                                                 uint64_t index) {
  constexpr int kMaxWords = 64;  // 2^-2048: never reached in practice
  for (int j = 0; j < kMaxWords; ++j) {
    uint32_t digit;
    bool rest;
    if (f.den == 0) {
      digit = DyadicDigit(f, j + 1, &rest);
    } else {
      const U128 scaled = f.num << 32;
      digit = static_cast<uint32_t>(scaled / f.den);
      f.num = scaled % f.den;
      rest = f.num != 0;
    }
    const uint32_t r = StochasticBits(o.seed, o.stream, index, static_cast<uint32_t>(j));
    if (r != digit) return r < digit;
    if (!rest) return false;  // U >= f
  }
  return false;
}

// First 32 fractional bits of f (floor(f * 2^32)).
QFLOAT_HOST_DEVICE QFLOAT_INLINE uint32_t FirstDigit(const Fraction& f) {
  if (f.den == 0) {
    bool rest;
    return DyadicDigit(f, 1, &rest);
  }
  return static_cast<uint32_t>((f.num << 32) / f.den);
}

// The one rounding decision: given the lower neighbour's code parity, the position of the
// input between the neighbours (`pattern`: the dyadic fraction that nearest modes use, which for
// posits is the bit-pattern fraction; `value`: the value fraction that SR uses), decide whether
// the magnitude goes up to the upper neighbour.
QFLOAT_HOST_DEVICE inline bool RoundAwayFromZero(const Fraction& pattern, const Fraction& value,
                                                 bool lower_is_odd, bool negative,
                                                 const QuantizeOptions& o, uint64_t index) {
  if (IsZero(pattern)) return false;  // exact: no mode ever moves a representable value
  switch (o.rounding.mode) {
    case RoundingMode::kNearestEven: {
      const int c = CompareHalf(pattern);
      return c > 0 || (c == 0 && lower_is_odd);
    }
    case RoundingMode::kNearestAway:
      return CompareHalf(pattern) >= 0;
    case RoundingMode::kTowardZero:
      return false;
    case RoundingMode::kUp:
      return !negative;
    case RoundingMode::kDown:
      return negative;
    case RoundingMode::kToOdd:
      return !lower_is_odd;
    case RoundingMode::kStochastic: {
      const uint64_t i = o.index_offset + index;
      if (o.rounding.sr_bits == 0) return StochasticUpExact(value, o, i);
      // sr:K: add a K-bit uniform integer at the top of the dropped field, then truncate.
      const int k = o.rounding.sr_bits;
      const uint64_t top = FirstDigit(value) >> (32 - k);
      const uint64_t r = StochasticBits(o.seed, o.stream, i, 0) >> (32 - k);
      return ((top + r) >> k) != 0;
    }
  }
  return false;
}

QFLOAT_HOST_DEVICE QFLOAT_INLINE uint32_t SignOf(const FormatSpec& s, bool negative) {
  return negative ? s.sign_bit : 0u;
}

QFLOAT_HOST_DEVICE QFLOAT_INLINE uint32_t NanCode(const FormatSpec& s, bool negative) {
  if (s.kind == FormatKind::kPosit) return s.nan_code;
  if (s.has_nan) return s.nan_code | (s.nan_signed ? SignOf(s, negative) : 0u);
  switch (s.nan_fallback) {
    case NanFallback::kFlipSignZero:
      return negative ? 0u : s.sign_bit;  // ml_dtypes: NaN is -0, then the input sign applied
    case NanFallback::kZero:
      return 0u;
    case NanFallback::kMax:
      return s.max_code;
  }
  return 0u;
}

QFLOAT_HOST_DEVICE QFLOAT_INLINE uint32_t InfOrNanOrMax(const FormatSpec& s, bool negative) {
  if (s.has_inf) return s.inf_code | SignOf(s, negative);
  if (s.has_nan) return NanCode(s, negative);
  return s.max_code | SignOf(s, negative);
}

// Inputs below an unsigned format's range (negative, or zero where there is no zero): the
// lowest code when saturating, else NaN where the format has one (as ml_dtypes' e8m0fnu).
QFLOAT_HOST_DEVICE QFLOAT_INLINE uint32_t BelowUnsignedRange(const FormatSpec& s, Overflow ovf) {
  if (ovf == Overflow::kInf && s.has_nan) return s.nan_code;
  return 0u;
}

QFLOAT_HOST_DEVICE QFLOAT_INLINE uint32_t InfinityCode(const FormatSpec& s, bool negative,
                                                       Overflow ovf) {
  if (s.kind == FormatKind::kPosit) return s.nan_code;  // NaR
  if (ovf == Overflow::kSatFinite) {
    return (!s.is_signed && negative) ? 0u : (s.max_code | SignOf(s, negative));
  }
  if (!s.is_signed && negative) return s.has_nan ? s.nan_code : 0u;  // -inf "stays" infinite
  return InfOrNanOrMax(s, negative);
}

QFLOAT_HOST_DEVICE QFLOAT_INLINE uint32_t ZeroCode(const FormatSpec& s, bool negative,
                                                   Overflow ovf) {
  if (s.kind == FormatKind::kPosit) return 0u;
  if (!s.has_zero) return BelowUnsignedRange(s, ovf);
  return (negative && s.is_signed && s.negative_zero) ? s.sign_bit : 0u;
}

// A finite input whose rounded magnitude is beyond max. IEEE 754-2019 §7.4: directed modes
// that round toward zero for this sign give max; the others follow the overflow policy.
QFLOAT_HOST_DEVICE QFLOAT_INLINE uint32_t OverflowCode(const FormatSpec& s, bool negative,
                                                       const QuantizeOptions& o) {
  const RoundingMode mode = o.rounding.mode;
  const bool toward_zero = mode == RoundingMode::kTowardZero || mode == RoundingMode::kToOdd ||
                           (mode == RoundingMode::kDown && !negative) ||
                           (mode == RoundingMode::kUp && negative);
  if (toward_zero || o.overflow != Overflow::kInf) return s.max_code | SignOf(s, negative);
  return InfOrNanOrMax(s, negative);
}

// Minifloat magnitude code of |x| = u (may exceed s.max_code: overflow).
QFLOAT_HOST_DEVICE inline uint64_t MinifloatMagnitude(const FormatSpec& s, Unpacked u,
                                                      bool negative, const QuantizeOptions& o,
                                                      uint64_t index) {
  const int m = s.mantissa_bits;
  const int z = s.has_zero ? 1 : 0;
  if (u.exp > s.emax + 1) return uint64_t{s.max_code} + 1;  // beyond the grid: overflow
  if (u.exp < s.emin && !s.has_zero) return 0;  // nothing below the smallest value: clamp
  int32_t quantum_exp;                          // exponent of one unit of k
  uint64_t base;                                // code of k = 0
  uint64_t step;                                // codes per unit of k
  if (u.exp >= s.emin) {
    quantum_exp = u.exp - m;
    base = (static_cast<uint64_t>(u.exp - s.emin + z) << m) - (uint64_t{1} << m);
    step = 1;
  } else if (s.subnormals) {
    quantum_exp = s.emin - m;
    base = 0;
    step = 1;
  } else {  // no subnormals: the only grid points below 2^emin are 0 and 2^emin
    quantum_exp = s.emin;
    base = 0;
    step = uint64_t{1} << m;
  }
  const int dropped = 63 - (u.exp - quantum_exp);  // >= 11, since m <= 52
  const uint64_t k = dropped < 64 ? (u.sig >> dropped) : 0;
  Fraction f;
  f.num = dropped < 64 ? (u.sig & ((uint64_t{1} << dropped) - 1)) : u.sig;
  f.shift = dropped;
  const uint64_t lower = base + k * step;
  const bool up = RoundAwayFromZero(f, f, (lower & 1) != 0, negative, o, index);
  return up ? lower + step : lower;
}

// Posit fields of a magnitude code c in [1, 2^(n-1)): value = 2^scale * (1 + frac / 2^frac_bits).
struct PositFields {
  int32_t scale;
  uint32_t frac;
  int32_t frac_bits;
};

QFLOAT_HOST_DEVICE inline PositFields DecodePositMagnitude(const FormatSpec& s, uint32_t c) {
  const int body = s.bits - 1;  // bits after the sign
  const int es = s.exponent_bits;
  const bool first = (c >> (body - 1)) & 1u;
  int run = 0;
  while (run < body && (((c >> (body - 1 - run)) & 1u) == (first ? 1u : 0u))) ++run;
  const int regime = first ? run - 1 : -run;
  int left = body - run - 1;  // bits after the regime's terminating bit
  if (left < 0) left = 0;
  const uint32_t rest = left > 0 ? (c & ((1u << left) - 1)) : 0u;
  const int e_avail = left < es ? left : es;
  const uint32_t e_bits = e_avail > 0 ? (rest >> (left - e_avail)) : 0u;
  const int32_t exponent = static_cast<int32_t>(e_bits << (es - e_avail));  // cut bits are 0
  const int frac_bits = left - e_avail;
  const uint32_t frac = frac_bits > 0 ? (rest & ((1u << frac_bits) - 1)) : 0u;
  return PositFields{regime * (1 << es) + exponent, frac, frac_bits};
}

// Posit magnitude code of |x| = u: round to nearest even on the bit pattern (posit standard
// 2022 §4), saturating at minpos / maxpos; SR uses the value fraction.
QFLOAT_HOST_DEVICE inline uint32_t PositMagnitude(const FormatSpec& s, Unpacked u, bool negative,
                                                  const QuantizeOptions& o, uint64_t index) {
  const int es = s.exponent_bits;
  const int32_t max_scale = (s.bits - 2) << es;
  if (u.exp >= max_scale) return s.max_code;
  if (u.exp < -max_scale || (u.exp == -max_scale && u.sig == (uint64_t{1} << 63))) return 1u;
  const int32_t regime = u.exp >> es;  // floor division
  const uint32_t e_field = static_cast<uint32_t>(u.exp - regime * (1 << es));
  U128 regime_bits;
  int regime_len;
  if (regime >= 0) {
    regime_len = regime + 2;
    regime_bits = ((U128{1} << (regime + 1)) - 1) << 1;
  } else {
    regime_len = -regime + 1;
    regime_bits = 1;
  }
  const U128 frac63 = u.sig & ~(uint64_t{1} << 63);
  const U128 pattern = (((regime_bits << es) | e_field) << 63) | frac63;
  const int length = regime_len + es + 63;
  const int dropped = length - (s.bits - 1);
  const uint32_t lower = static_cast<uint32_t>(pattern >> dropped);
  Fraction bit_fraction;
  bit_fraction.num = pattern & ((U128{1} << dropped) - 1);
  bit_fraction.shift = dropped;
  Fraction value_fraction = bit_fraction;
  if (dropped > 63 && o.rounding.mode == RoundingMode::kStochastic && !IsZero(bit_fraction)) {
    // Exponent bits are cut: lower = 2^a and upper = 2^b, so f = (x/2^a - 1) / (2^(b-a) - 1).
    const int32_t a = DecodePositMagnitude(s, lower).scale;
    const int32_t b = DecodePositMagnitude(s, lower + 1).scale;
    const int t = u.exp - a;
    value_fraction.num = (U128{u.sig} << t) - (U128{1} << 63);
    value_fraction.den = (U128{1} << 63) * ((U128{1} << (b - a)) - 1);
    value_fraction.shift = 0;
  }
  const bool up =
      RoundAwayFromZero(bit_fraction, value_fraction, (lower & 1u) != 0, negative, o, index);
  return up ? lower + 1 : lower;
}

// Encodes a double (float32 inputs are widened first, which is exact: one rounding only).
QFLOAT_HOST_DEVICE inline uint32_t EncodeDouble(const FormatSpec& s, double x,
                                                const QuantizeOptions& o, uint64_t index) {
  const uint64_t bits = BitsOf(x);
  const bool negative = (bits >> 63) != 0;
  const uint64_t magnitude = bits & ~(uint64_t{1} << 63);
  if (magnitude > 0x7FF0000000000000ull) return NanCode(s, negative);
  if (magnitude == 0x7FF0000000000000ull) return InfinityCode(s, negative, o.overflow);
  if (magnitude == 0) return ZeroCode(s, negative, o.overflow);
  const Unpacked u = UnpackMagnitude(magnitude);
  if (s.kind == FormatKind::kPosit) {
    const uint32_t mag = PositMagnitude(s, u, negative, o, index);
    const uint32_t mask = s.bits == 32 ? 0xFFFFFFFFu : ((1u << s.bits) - 1);
    return negative ? ((0u - mag) & mask) : mag;  // two's complement
  }
  if (!s.is_signed && negative) return BelowUnsignedRange(s, o.overflow);
  const uint64_t mag = MinifloatMagnitude(s, u, negative, o, index);
  if (mag > s.max_code) return OverflowCode(s, negative, o);
  if (mag == 0 && s.has_zero) return ZeroCode(s, negative, o.overflow);
  return static_cast<uint32_t>(mag) | SignOf(s, negative);
}

QFLOAT_HOST_DEVICE QFLOAT_INLINE double QuietNan(bool negative) {
  return DoubleFromBits((negative ? 0xFFF8000000000000ull : 0x7FF8000000000000ull));
}

// Exact value of a code (NaN: a quiet NaN carrying the code's sign where the format's NaN is
// signed).
QFLOAT_HOST_DEVICE inline double DecodeToDouble(const FormatSpec& s, uint32_t code) {
  const uint32_t mask = s.bits == 32 ? 0xFFFFFFFFu : ((1u << s.bits) - 1);
  code &= mask;
  if (s.kind == FormatKind::kPosit) {
    if (code == 0) return 0.0;
    if (code == s.nan_code) return QuietNan(false);
    const bool negative = (code >> (s.bits - 1)) != 0;
    const uint32_t mag = negative ? ((0u - code) & mask) : code;
    const PositFields p = DecodePositMagnitude(s, mag);
    const double v = (1.0 + static_cast<double>(p.frac) / Pow2(p.frac_bits)) * Pow2(p.scale);
    return negative ? -v : v;
  }
  const bool negative = (code & s.sign_bit) != 0;
  const uint32_t mag = code & s.magnitude_mask;
  if (s.is_signed && !s.negative_zero && code == s.sign_bit) return QuietNan(false);
  if (mag > s.max_code) {
    if (s.has_inf && mag == s.inf_code) {
      const double inf = DoubleFromBits(0x7FF0000000000000ull);
      return negative ? -inf : inf;
    }
    return QuietNan(negative && s.nan_signed);
  }
  const int m = s.mantissa_bits;
  const uint32_t exp_field = mag >> m;
  const uint64_t mant = mag & ((uint64_t{1} << m) - 1);
  double v;
  if (s.has_zero && exp_field == 0) {
    v = s.subnormals ? static_cast<double>(mant) * Pow2(s.emin - m) : 0.0;
  } else {
    const int32_t e = static_cast<int32_t>(exp_field) - (s.has_zero ? 1 : 0) + s.emin;
    v = static_cast<double>((uint64_t{1} << m) + mant) * Pow2(e - m);
  }
  return negative ? -v : v;
}

}  // namespace detail
}  // namespace qfloat

#endif  // QFLOAT_DETAIL_BITS_H_
