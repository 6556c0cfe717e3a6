#include "oracle.h"

#include <Random123/philox.h>

#include <algorithm>
#include <bit>
#include <boost/multiprecision/cpp_int.hpp>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <random>
#include <stdexcept>

namespace qfloat::oracle {
namespace {

using boost::multiprecision::cpp_int;

uint64_t Bits64(double x) { return std::bit_cast<uint64_t>(x); }

// ---- Exact arithmetic on doubles ----

// x = mant * 2^exp with an integer mant (x finite, >= 0).
struct Dyadic {
  uint64_t mant = 0;
  int exp = 0;
};

Dyadic ToDyadic(double x) {
  if (x == 0) return {};
  int e = 0;
  const double f = std::frexp(x, &e);  // x = f 2^e, f in [0.5, 1): f 2^53 is an integer
  return Dyadic{static_cast<uint64_t>(std::ldexp(f, 53)), e - 53};
}

// The values as integers over a common power of two (exact; a few hundred bits at most for the
// neighbouring values the oracle compares).
void CommonScale(const double* v, int n, cpp_int* out) {
  Dyadic d[4];
  int lowest = std::numeric_limits<int>::max();
  for (int i = 0; i < n; ++i) {
    d[i] = ToDyadic(v[i]);
    if (d[i].mant != 0) lowest = std::min(lowest, d[i].exp);
  }
  for (int i = 0; i < n; ++i) {
    out[i] = d[i].mant;
    if (d[i].mant != 0) out[i] <<= (d[i].exp - lowest);
  }
}

// Sign of a - (lo + hi)/2, exactly.
int CompareMidpoint(double a, double lo, double hi) {
  // Fast path: lo + hi exact (error-free TwoSum says so) and halving exact.
  const double s = lo + hi;
  const double bb = s - lo;
  const double err = (lo - (s - bb)) + (hi - bb);
  if (err == 0 && std::isfinite(s)) {
    const double mid = s * 0.5;
    if (mid * 2 == s && mid >= std::numeric_limits<double>::min()) {
      return a < mid ? -1 : (a > mid ? 1 : 0);
    }
  }
  const double v[3] = {a, lo, hi};
  cpp_int w[3];
  CommonScale(v, 3, w);
  const cpp_int twice_a = w[0] * 2, sum = w[1] + w[2];
  return twice_a < sum ? -1 : (twice_a > sum ? 1 : 0);
}

// ---- Values ----

double MinifloatValue(const Model& m, uint64_t mag) {
  const int mb = m.mantissa_bits;
  const uint64_t field = mag >> mb;
  const uint64_t frac = mag & ((uint64_t{1} << mb) - 1);
  // OCP / IEEE definition: field 0 of a format with zero holds 0 and the subnormals
  // frac * 2^(1 - bias - m); every other field (all of them without zero, E8M0) is normal.
  if (m.has_zero && field == 0) {
    return m.subnormals ? std::ldexp(static_cast<double>(frac), 1 - m.bias - mb) : 0.0;
  }
  return std::ldexp(static_cast<double>((uint64_t{1} << mb) + frac),
                    static_cast<int>(field) - m.bias - mb);
}

// ---- Results (DESIGN.md "Overflow and specials") ----

uint32_t Code(uint64_t c) { return static_cast<uint32_t>(c); }

uint32_t NanResult(const Model& m, bool negative) {
  if (m.posit) return Code(m.nan_code);  // NaR
  if (m.has_nan) return Code(m.nan_code | (negative && m.nan_keeps_sign ? m.sign_bit : 0));
  switch (m.nan_fallback) {  // formats without NaN: the format file's `nan` policy
    case NanFallback::kFlipSignZero:
      return Code(negative ? 0 : m.sign_bit);  // ml_dtypes: NaN is -0, then the sign applied
    case NanFallback::kZero:
      return 0;
    case NanFallback::kMax:
      return Code(m.max_mag);
  }
  throw std::logic_error("nan fallback");
}

// Negative inputs (and zero without a zero) of an unsigned format: NaN under ovf-inf where the
// format has one, else the lowest code (golden/README.md, float8_e8m0fnu).
uint32_t BelowUnsigned(const Model& m, Overflow ovf) {
  return (ovf == Overflow::kInf && m.has_nan) ? Code(m.nan_code) : 0u;
}

uint32_t Signed(const Model& m, uint64_t mag, bool negative) {
  return Code(mag | (negative ? m.sign_bit : 0));
}

uint32_t InfResult(const Model& m, bool negative, Overflow ovf) {
  if (m.posit) return Code(m.nan_code);
  if (!m.is_signed && negative) {  // -inf: the lowest code when saturating, else NaN if any
    return (ovf != Overflow::kSatFinite && m.has_nan) ? Code(m.nan_code) : 0u;
  }
  if (ovf == Overflow::kSatFinite) return Signed(m, m.max_mag, negative);
  // ovf-inf and sat-propagate: inf stays inf, else NaN, else max.
  if (m.has_inf) return Signed(m, m.inf_mag, negative);
  if (m.has_nan) return NanResult(m, negative);
  return Signed(m, m.max_mag, negative);
}

uint32_t ZeroResult(const Model& m, bool negative, Overflow ovf) {
  if (m.posit) return 0;
  if (!m.has_zero) return BelowUnsigned(m, ovf);
  return (negative && m.is_signed && m.negative_zero) ? Code(m.sign_bit) : 0u;
}

// A finite magnitude that rounds beyond max. IEEE 754-2019 §7.4: a mode that rounds this sign
// toward zero gives max; the others follow the policy.
uint32_t OverflowResult(const Model& m, bool negative, bool toward_zero, Overflow ovf) {
  if (toward_zero || ovf != Overflow::kInf) return Signed(m, m.max_mag, negative);
  if (m.has_inf) return Signed(m, m.inf_mag, negative);
  if (m.has_nan) return NanResult(m, negative);
  return Signed(m, m.max_mag, negative);
}

bool TowardZero(RoundingMode mode, bool negative) {
  return mode == RoundingMode::kTowardZero || mode == RoundingMode::kToOdd ||
         (mode == RoundingMode::kUp && negative) || (mode == RoundingMode::kDown && !negative);
}

// The code for magnitude code `mag` (which the rounding chose) of a finite nonzero input.
uint32_t Finish(const Model& m, const Located& at, uint64_t mag, bool toward_zero, Overflow ovf) {
  if (m.posit) {
    const uint64_t code = at.negative ? ((~mag + 1) & m.code_mask) : mag;  // two's complement
    return Code(code);
  }
  if (mag > m.max_mag) return OverflowResult(m, at.negative, toward_zero, ovf);
  if (Value(m, mag) == 0) return ZeroResult(m, at.negative, ovf);
  return Signed(m, mag, at.negative);
}

// Specials and out-of-grid inputs, common to every mode; returns false for kExact / kBetween.
bool Special(const Model& m, const Located& at, bool toward_zero, Overflow ovf, uint32_t* out) {
  switch (at.input) {
    case InputClass::kNan:
      *out = NanResult(m, at.negative);
      return true;
    case InputClass::kInf:
      *out = InfResult(m, at.negative, ovf);
      return true;
    case InputClass::kZero:
      *out = ZeroResult(m, at.negative, ovf);
      return true;
    case InputClass::kFinite:
      break;
  }
  if (!m.posit && !m.is_signed && at.negative) {
    *out = BelowUnsigned(m, ovf);
    return true;
  }
  switch (at.position) {
    case Position::kBelow:  // posit: never 0 (minpos); no zero: the smallest value, code 0
      *out = Finish(m, at, m.posit ? 1 : 0, toward_zero, ovf);
      return true;
    case Position::kAbove:  // posit: saturate; minifloat: overflow in every mode
      *out = m.posit ? Finish(m, at, m.max_mag, toward_zero, ovf)
                     : OverflowResult(m, at.negative, toward_zero, ovf);
      return true;
    case Position::kExact:
      *out = Finish(m, at, at.lo, toward_zero, ovf);
      return true;
    case Position::kBetween:
      break;
  }
  return false;
}

// f = (|x| - lo)/(hi - lo) = num/den exactly.
void ValueFraction(const Located& at, cpp_int* num, cpp_int* den) {
  const double v[3] = {at.abs, at.lo_value, at.hi_value};
  cpp_int w[3];
  CommonScale(v, 3, w);
  *num = w[0] - w[1];
  *den = w[2] - w[1];
}

// splitmix64, for reproducible inputs.
struct SplitMix {
  uint64_t state;
  uint64_t Next() {
    uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  uint64_t Below(uint64_t n) { return Next() % n; }  // bias irrelevant for test inputs
};

double RoundTo(double x, bool as_float32) {
  return as_float32 ? static_cast<double>(static_cast<float>(x)) : x;
}

double NextUp(double x, bool as_float32) {
  if (as_float32) {
    return static_cast<double>(
        std::nextafter(static_cast<float>(x), std::numeric_limits<float>::infinity()));
  }
  return std::nextafter(x, std::numeric_limits<double>::infinity());
}

double NextDown(double x, bool as_float32) {
  if (as_float32) {
    return static_cast<double>(
        std::nextafter(static_cast<float>(x), -std::numeric_limits<float>::infinity()));
  }
  return std::nextafter(x, -std::numeric_limits<double>::infinity());
}

// Tie points between code c and c + 1 (c + 1 <= max_mag + 1 for minifloats, <= max_mag posits).
void AddTies(const Model& m, uint64_t c, std::vector<double>* out) {
  const double lo = Value(m, c), hi = Value(m, c + 1);
  out->push_back(0.5 * lo + 0.5 * hi);  // arithmetic midpoint (exact for these formats)
  if (m.posit) out->push_back(PositValue(m.bits + 1, m.exponent_bits, 2 * c + 1));
}

int FloorLog2(double x) { return std::ilogb(x); }

// The code of the smallest positive value.
uint64_t SmallestPositiveCode(const Model& m) {
  if (m.posit || !m.has_zero) return m.posit ? 1 : 0;
  return m.subnormals ? 1 : uint64_t{1} << m.mantissa_bits;
}

}  // namespace

// ---- Model ----

Model MakeModel(const FormatSpec& s) {
  Model m;
  m.posit = s.kind == FormatKind::kPosit;
  m.bits = s.bits;
  m.exponent_bits = s.exponent_bits;
  m.code_mask = (uint64_t{1} << m.bits) - 1;
  if (m.posit) {
    // Posit standard 2022: two's complement, 0 and NaR = 100...0, maxpos = 011...1.
    m.is_signed = true;
    m.sign_bit = uint64_t{1} << (m.bits - 1);
    m.max_mag = m.sign_bit - 1;
    m.has_nan = true;
    m.nan_code = m.sign_bit;
    m.has_zero = true;
    m.negative_zero = false;
  } else {
    m.is_signed = s.is_signed;
    m.mantissa_bits = s.mantissa_bits;
    m.bias = s.bias;
    m.subnormals = s.subnormals;
    m.has_zero = s.has_zero;
    m.negative_zero = s.is_signed && s.negative_zero;
    m.has_inf = s.has_inf;
    m.high_nans = s.high_nans;
    m.nan_fallback = s.nan_fallback;
    m.sign_bit = m.is_signed ? uint64_t{1} << (m.bits - 1) : 0;
    const uint64_t top = m.is_signed ? m.sign_bit - 1 : m.code_mask;  // all-ones magnitude
    // The top magnitude codes are the NaNs, then inf below them; the rest are numbers.
    m.max_mag = top - m.high_nans - (m.has_inf ? 1 : 0);
    m.inf_mag = m.has_inf ? m.max_mag + 1 : 0;
    if (m.is_signed && !m.negative_zero) {
      // fnuz / P3109: the code 100...0 is the only NaN, unsigned.
      m.has_nan = true;
      m.nan_code = m.sign_bit;
    } else if (m.high_nans > 0) {
      m.has_nan = true;
      m.nan_keeps_sign = m.is_signed;
      // IEEE 754 §6.2.1: where the NaNs fill inf's binade, the quiet NaN is inf with the top
      // fraction bit set; otherwise (fn: S.1111.111, E8M0: 0xFF) the all-ones code.
      const bool ieee_binade =
          m.has_inf && m.mantissa_bits >= 1 && m.high_nans == (uint64_t{1} << m.mantissa_bits) - 1;
      m.nan_code = ieee_binade ? (m.inf_mag | (uint64_t{1} << (m.mantissa_bits - 1))) : top;
    }
  }
  if (m.bits <= 16) {
    Model plain = m;  // Value() without a table
    m.table.resize(m.max_mag + 2);
    for (uint64_t c = 0; c < m.table.size(); ++c) m.table[c] = Value(plain, c);
  }
  return m;
}

double PositValue(int n, int es, uint64_t mag) {
  if (mag == 0) return 0.0;
  // Read the n-1 bits after the sign, most significant first.
  int pos = n - 2;
  auto bit = [&](int i) { return static_cast<int>((mag >> i) & 1u); };
  const int first = bit(pos);
  int run = 0;
  while (pos >= 0 && bit(pos) == first) {
    ++run;
    --pos;
  }
  --pos;  // the regime's terminating bit (absent when the run fills the word)
  const int k = first ? run - 1 : -run;
  int64_t exponent = 0;
  for (int i = 0; i < es; ++i) {  // exponent bits cut off by the word's end are 0
    exponent <<= 1;
    if (pos >= 0) exponent |= bit(pos--);
  }
  const int frac_bits = pos + 1 > 0 ? pos + 1 : 0;
  const uint64_t frac = frac_bits > 0 ? (mag & ((uint64_t{1} << frac_bits) - 1)) : 0;
  const int64_t scale = static_cast<int64_t>(k) * (int64_t{1} << es) + exponent;
  return std::ldexp(static_cast<double>((uint64_t{1} << frac_bits) + frac),
                    static_cast<int>(scale - frac_bits));
}

double Value(const Model& m, uint64_t mag) {
  if (mag < m.table.size()) return m.table[mag];
  if (m.posit) return PositValue(m.bits, m.exponent_bits, mag);
  return MinifloatValue(m, mag);
}

// ---- Locate ----

Located Locate(const Model& m, double x) {
  Located at;
  at.negative = std::signbit(x);
  if (std::isnan(x)) {
    at.input = InputClass::kNan;
    return at;
  }
  if (std::isinf(x)) {
    at.input = InputClass::kInf;
    return at;
  }
  if (x == 0) {
    at.input = InputClass::kZero;
    return at;
  }
  at.abs = std::fabs(x);
  const double a = at.abs;
  uint64_t first = 0;  // smallest magnitude code the search may return
  if (m.posit) {
    if (a < Value(m, 1)) {
      at.position = Position::kBelow;
      return at;
    }
    if (a > Value(m, m.max_mag)) {
      at.position = Position::kAbove;
      return at;
    }
    first = 1;
  } else {
    if (!m.has_zero && a < Value(m, 0)) {
      at.position = Position::kBelow;
      return at;
    }
    if (a >= Value(m, m.max_mag + 1)) {
      at.position = Position::kAbove;
      return at;
    }
  }
  // Largest code in [first, max_mag] whose value is <= a (values never decrease with the code).
  uint64_t lo = first, hi = m.max_mag;
  while (lo < hi) {
    const uint64_t mid = lo + (hi - lo + 1) / 2;
    if (Value(m, mid) <= a) {
      lo = mid;
    } else {
      hi = mid - 1;
    }
  }
  const double v = Value(m, lo);
  if (v == a) {
    at.position = Position::kExact;
    at.lo = at.hi = lo;
    at.lo_value = at.hi_value = v;
    return at;
  }
  at.position = Position::kBetween;
  at.lo = v == 0 ? 0 : lo;  // formats without subnormals: many codes are 0; 0 is canonical
  at.hi = lo + 1;
  at.lo_value = v;
  at.hi_value = Value(m, lo + 1);
  if (m.posit) {
    const double tie = PositValue(m.bits + 1, m.exponent_bits, 2 * lo + 1);
    at.tie = a < tie ? -1 : (a > tie ? 1 : 0);
  } else {
    at.tie = CompareMidpoint(a, at.lo_value, at.hi_value);
  }
  return at;
}

// ---- Rounding ----

uint32_t RoundDeterministic(const Model& m, const Located& at, RoundingMode mode, Overflow ovf) {
  const bool toward_zero = TowardZero(mode, at.negative);
  uint32_t out = 0;
  if (Special(m, at, toward_zero, ovf, &out)) return out;
  const bool lo_odd = (at.lo & 1) != 0;
  bool up = false;
  switch (mode) {
    case RoundingMode::kNearestEven:  // ties to the even code (both even: the smaller, 0)
      up = at.tie > 0 || (at.tie == 0 && lo_odd);
      break;
    case RoundingMode::kNearestAway:
      up = at.tie >= 0;
      break;
    case RoundingMode::kTowardZero:
      up = false;
      break;
    case RoundingMode::kUp:
      up = !at.negative;
      break;
    case RoundingMode::kDown:
      up = at.negative;
      break;
    case RoundingMode::kToOdd:  // inexact: the neighbour whose code is odd
      up = !lo_odd;
      break;
    case RoundingMode::kStochastic:
      throw std::logic_error("RoundDeterministic: stochastic mode");
  }
  return Finish(m, at, up ? at.hi : at.lo, toward_zero, ovf);
}

uint32_t RandomWord(uint64_t seed, uint32_t stream, uint64_t index, uint32_t word) {
  const uint64_t block = index / 4;
  r123::Philox4x32 philox;
  const r123::Philox4x32::ctr_type counter = {
      {static_cast<uint32_t>(block), static_cast<uint32_t>(block >> 32), stream, word}};
  const r123::Philox4x32::key_type key = {
      {static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32)}};
  return philox(counter, key)[index % 4];
}

uint32_t RoundStochastic(const Model& m, const Located& at, int sr_bits, Overflow ovf,
                         const SrDraw& draw) {
  uint32_t out = 0;
  if (Special(m, at, /*toward_zero=*/false, ovf, &out)) return out;
  cpp_int num, den;
  ValueFraction(at, &num, &den);
  bool up = false;
  if (sr_bits == 0) {
    // U = 0.R0 R1 R2 ... (base 2^32) < f = num/den, digit by digit.
    cpp_int rest = num;
    for (uint32_t j = 0;; ++j) {
      rest <<= 32;
      cpp_int digit_big;
      boost::multiprecision::divide_qr(rest, den, digit_big, rest);
      const uint32_t digit = static_cast<uint32_t>(digit_big);
      const uint32_t r = RandomWord(draw.seed, draw.stream, draw.index, j);
      if (r != digit) {
        up = r < digit;
        break;
      }
      if (rest == 0) break;  // U >= f
    }
  } else {
    const cpp_int top = (num << sr_bits) / den;  // floor(f 2^K)
    const uint64_t r = RandomWord(draw.seed, draw.stream, draw.index, 0) >> (32 - sr_bits);
    up = (top + r) >> sr_bits != 0;
  }
  return Finish(m, at, up ? at.hi : at.lo, false, ovf);
}

double ValueFractionApprox(const Located& at) {
  cpp_int num, den;
  ValueFraction(at, &num, &den);
  // 80 significant bits of the quotient, then to double.
  const unsigned shift = 80;
  const cpp_int q = (num << shift) / den;
  return std::ldexp(static_cast<double>(q), -static_cast<int>(shift));
}

uint64_t ValueFractionTopBits(const Located& at, int k) {
  cpp_int num, den;
  ValueFraction(at, &num, &den);
  return static_cast<uint64_t>((num << k) / den);
}

// ---- Inputs ----

std::vector<double> GridPoints(const Model& m, uint64_t seed, size_t random_codes) {
  std::vector<double> points;
  const uint64_t first = m.posit ? 1 : 0;
  std::vector<uint64_t> codes;
  if (m.bits <= 16) {
    for (uint64_t c = first; c <= m.max_mag; ++c) codes.push_back(c);
  } else {
    SplitMix rng{seed};
    for (uint64_t c = first; c < first + 4096; ++c) codes.push_back(c);
    for (uint64_t c = m.max_mag - 4095; c <= m.max_mag; ++c) codes.push_back(c);
    const uint64_t one = Locate(m, 1.0).lo;
    for (uint64_t c = one - 2048; c < one + 2048; ++c) codes.push_back(c);
    for (int e = -1100; e <= 1100; ++e) {  // powers of two of the range and the code below
      const Located at = Locate(m, std::ldexp(1.0, e));
      if (at.input == InputClass::kFinite && at.position == Position::kExact) {
        codes.push_back(at.lo);
        if (at.lo > first) codes.push_back(at.lo - 1);
      }
    }
    for (size_t i = 0; i < random_codes; ++i) {
      codes.push_back(first + rng.Below(m.max_mag - first + 1));
      // and a code at a random scale (long posit regimes, every binade)
      const double lo_v = Value(m, SmallestPositiveCode(m)), hi_v = Value(m, m.max_mag);
      const int e =
          FloorLog2(lo_v) + static_cast<int>(rng.Below(FloorLog2(hi_v) - FloorLog2(lo_v) + 1));
      const Located at = Locate(m, std::ldexp(1.0 + std::ldexp(double(rng.Next() >> 11), -53), e));
      if (at.input == InputClass::kFinite &&
          (at.position == Position::kExact || at.position == Position::kBetween)) {
        codes.push_back(at.lo);
      }
    }
  }
  for (uint64_t c : codes) {
    points.push_back(Value(m, c));
    if (m.posit ? c < m.max_mag : true) AddTies(m, c, &points);  // minifloat: also max's tie
  }
  // Beyond the grid.
  if (m.posit) {
    const double minpos = Value(m, 1), maxpos = Value(m, m.max_mag);
    for (double f : {0.5, 0.75, 0.25, 1e-6}) points.push_back(minpos * f);
    for (double f : {1.5, 2.0, 4.0, 1e6}) points.push_back(maxpos * f);
  } else {
    const double next = Value(m, m.max_mag + 1);  // max + ulp(max)
    for (double f : {1.0, 1.5, 2.0, 4.0, 1024.0}) points.push_back(next * f);
    const double smallest = Value(m, SmallestPositiveCode(m));
    for (double f : {0.5, 0.25, 0.75}) points.push_back(smallest * f);
  }
  return points;
}

std::vector<double> WithNeighbours(const std::vector<double>& points, bool as_float32) {
  std::vector<double> out;
  out.reserve(points.size() * 6);
  for (double p : points) {
    const double t = RoundTo(p, as_float32);
    for (double v : {t, NextUp(t, as_float32), NextDown(t, as_float32)}) {
      out.push_back(v);
      out.push_back(-v);
    }
  }
  return out;
}

std::vector<double> SpecialInputs(bool as_float32) {
  std::vector<double> out = {0.0, -0.0, std::numeric_limits<double>::infinity(),
                             -std::numeric_limits<double>::infinity()};
  if (as_float32) {
    for (uint32_t b :
         {0x7FC00000u, 0xFFC00000u, 0x7F800001u, 0xFF800001u, 0x7FFFFFFFu, 0xFFFFFFFFu, 0x7FA00000u,
          0x7F810000u, 0xFFAAAAAAu, 0x00000001u, 0x80000001u, 0x007FFFFFu, 0x807FFFFFu, 0x00800000u,
          0x80800000u, 0x7F7FFFFFu, 0xFF7FFFFFu, 0x00400000u, 0x00400001u, 0x00600000u}) {
      out.push_back(static_cast<double>(std::bit_cast<float>(b)));
    }
  } else {
    for (uint64_t b : {0x7FF8000000000000ull, 0xFFF8000000000000ull, 0x7FF0000000000001ull,
                       0xFFF0000000000001ull, 0x7FFFFFFFFFFFFFFFull, 0xFFFFFFFFFFFFFFFFull,
                       0x7FF4000000000000ull, 0x0000000000000001ull, 0x8000000000000001ull,
                       0x000FFFFFFFFFFFFFull, 0x800FFFFFFFFFFFFFull, 0x0010000000000000ull,
                       0x7FEFFFFFFFFFFFFFull, 0xFFEFFFFFFFFFFFFFull}) {
      out.push_back(std::bit_cast<double>(b));
    }
  }
  return out;
}

std::vector<double> RandomInputs(const Model& m, bool as_float32, size_t count, uint64_t seed) {
  SplitMix rng{seed};
  std::vector<double> out;
  out.reserve(count);
  const uint64_t first = m.posit ? 1 : 0;
  const double smallest = Value(m, SmallestPositiveCode(m));
  const double largest = Value(m, m.max_mag);
  // The format's exponents +-3, clipped to the input type (its subnormals included).
  const int type_lo = as_float32 ? -149 : -1074, type_hi = as_float32 ? 127 : 1023;
  const int e_lo = std::max(FloorLog2(smallest) - 3, type_lo);
  const int e_hi = std::min(FloorLog2(largest) + 3, type_hi);
  while (out.size() < count) {
    const int kind = static_cast<int>(rng.Below(3));
    const bool negative = (rng.Next() & 1) != 0;
    double x = 0;
    if (kind == 0) {  // uniform bit patterns: every exponent, NaNs, infinities, subnormals
      const uint64_t r = rng.Next();
      x = as_float32 ? static_cast<double>(std::bit_cast<float>(static_cast<uint32_t>(r)))
                     : std::bit_cast<double>(r);
      out.push_back(x);
      continue;
    }
    if (kind == 1) {  // exponent concentrated around the format's range
      const int e = e_lo + static_cast<int>(rng.Below(e_hi - e_lo + 1));
      x = RoundTo(std::ldexp(1.0 + std::ldexp(static_cast<double>(rng.Next() >> 12), -52), e),
                  as_float32);
    } else {  // near-ties, half at a uniform code, half at a code of a uniform scale
      uint64_t c;
      if (rng.Next() & 1) {
        c = first + rng.Below(m.max_mag - first + (m.posit ? 0 : 1));
      } else {
        const int e = FloorLog2(smallest) +
                      static_cast<int>(rng.Below(FloorLog2(largest) - FloorLog2(smallest) + 1));
        const Located at =
            Locate(m, std::ldexp(1.0 + std::ldexp(static_cast<double>(rng.Next() >> 12), -52), e));
        if (at.input != InputClass::kFinite ||
            (at.position != Position::kExact && at.position != Position::kBetween)) {
          continue;
        }
        c = at.lo;
        if (m.posit && c >= m.max_mag) c = m.max_mag - 1;
      }
      std::vector<double> ties;
      AddTies(m, c, &ties);
      x = RoundTo(ties[rng.Below(ties.size())], as_float32);
      const int k = static_cast<int>(rng.Below(9)) - 4;
      for (int i = 0; i < k; ++i) x = NextUp(x, as_float32);
      for (int i = 0; i > k; --i) x = NextDown(x, as_float32);
    }
    out.push_back(negative ? -x : x);
  }
  return out;
}

size_t OracleSamples() {
  const char* env = std::getenv("QFLOAT_ORACLE_SAMPLES");
  if (env == nullptr || *env == '\0') return 1000000;
  char* end = nullptr;
  const unsigned long long v = std::strtoull(env, &end, 10);
  if (end == env || *end != '\0') {
    std::fprintf(stderr, "QFLOAT_ORACLE_SAMPLES='%s' is not a number; using 10^6\n", env);
    return 1000000;
  }
  return static_cast<size_t>(v);
}

std::string Hex(double x) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%a (0x%016llx)", x, static_cast<unsigned long long>(Bits64(x)));
  return buf;
}

std::string ModeName(RoundingMode mode) {
  switch (mode) {
    case RoundingMode::kNearestEven:
      return "rne";
    case RoundingMode::kNearestAway:
      return "rna";
    case RoundingMode::kTowardZero:
      return "rtz";
    case RoundingMode::kUp:
      return "rup";
    case RoundingMode::kDown:
      return "rdn";
    case RoundingMode::kToOdd:
      return "rto";
    case RoundingMode::kStochastic:
      return "sr";
  }
  return "?";
}

std::string OverflowName(Overflow overflow) {
  switch (overflow) {
    case Overflow::kInf:
      return "ovf-inf";
    case Overflow::kSatFinite:
      return "sat-finite";
    case Overflow::kSatPropagate:
      return "sat-propagate";
  }
  return "?";
}

}  // namespace qfloat::oracle
