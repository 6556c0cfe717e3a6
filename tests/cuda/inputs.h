// Test inputs for the CUDA backend's tests: boundary inputs of a format (every code's value, the
// midpoints between neighbours, their float32/float64 neighbours, specials), and random inputs
// generated from (seed, index) by a function the host and the device share, so the device
// generates them in place and the host regenerates them to check the results.
#ifndef QFLOAT_TESTS_CUDA_INPUTS_H_
#define QFLOAT_TESTS_CUDA_INPUTS_H_

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>

#include "qfloat/detail/bits.h"
#include "qfloat/format.h"

namespace qfloat::test {

// SplitMix64's finalizer: a bijective 64-bit mix.
QFLOAT_HOST_DEVICE inline uint64_t Mix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

// Where a format's values lie: binary exponents [lo, hi] of magnitudes worth drawing, and the
// fraction bits of its values (to place exact ties).
struct RandomRange {
  int32_t lo = -10;
  int32_t hi = 10;
  int32_t fraction_bits = 3;
};

inline RandomRange RangeOf(const FormatSpec& s) {
  RandomRange r;
  if (s.kind == FormatKind::kPosit) {
    const int32_t max_scale = (s.bits - 2) << s.exponent_bits;
    r.lo = -max_scale - 3;
    r.hi = max_scale + 2;
    r.fraction_bits = std::max(0, s.bits - 3 - s.exponent_bits);
  } else {
    r.lo = (s.has_zero && s.subnormals ? s.emin - s.mantissa_bits : s.emin) - 3;
    r.hi = s.emax + 2;
    r.fraction_bits = s.mantissa_bits;
  }
  return r;
}

// Random float32 bits for element i: a quarter uniform over all bit patterns (every exponent,
// NaNs, infinities, subnormals), half uniform in the format's exponent range with random
// fractions, a quarter exact ties and their float32 neighbours in that range.
QFLOAT_HOST_DEVICE inline uint32_t RandomFloatBits(const RandomRange& r, uint64_t seed,
                                                   uint64_t i) {
  const uint64_t h = Mix64(seed ^ Mix64(i));
  const uint32_t kind = static_cast<uint32_t>(h & 7);
  const uint32_t sign = static_cast<uint32_t>(h >> 63) << 31;
  if (kind < 2) return static_cast<uint32_t>(h >> 16);
  const int32_t span = r.hi - r.lo + 1;
  int32_t e = r.lo + static_cast<int32_t>((h >> 8) % static_cast<uint64_t>(span));
  int32_t field = e + 127;
  if (field < 0) field = 0;
  if (field > 254) field = 254;
  uint32_t mantissa = static_cast<uint32_t>(h >> 32) & 0x7FFFFFu;
  if (kind >= 6) {  // a tie between two values with fraction_bits bits, or one float32 ulp off
    const int keep = r.fraction_bits < 22 ? r.fraction_bits : 22;
    const uint32_t top = mantissa & ~((0x800000u >> keep) - 1);
    mantissa = (top & 0x7FFFFFu) | (0x400000u >> keep);
    const uint32_t wiggle = static_cast<uint32_t>(h >> 24) & 3;  // 0, +1, -1, 0 ulp
    if (wiggle == 1) mantissa += 1;
    if (wiggle == 2) mantissa -= 1;
    mantissa &= 0x7FFFFFu;
  }
  return sign | (static_cast<uint32_t>(field) << 23) | mantissa;
}

// The float64 counterpart (52-bit fractions, ties and ulp neighbours at float64 precision).
QFLOAT_HOST_DEVICE inline uint64_t RandomDoubleBits(const RandomRange& r, uint64_t seed,
                                                    uint64_t i) {
  const uint64_t h = Mix64(seed ^ Mix64(i ^ 0x5DEECE66Dull));
  const uint64_t g = Mix64(h);
  const uint32_t kind = static_cast<uint32_t>(h & 7);
  const uint64_t sign = (h >> 63) << 63;
  if (kind < 2) return g;
  const int32_t span = r.hi - r.lo + 1;
  const int32_t e = r.lo + static_cast<int32_t>((h >> 8) % static_cast<uint64_t>(span));
  uint64_t mantissa = g & ((uint64_t{1} << 52) - 1);
  if (kind >= 6) {
    const int keep = r.fraction_bits < 50 ? r.fraction_bits : 50;
    const uint64_t one = uint64_t{1} << 52;
    const uint64_t top = mantissa & ~((one >> keep) - 1);
    mantissa = (top | ((one >> 1) >> keep)) & (one - 1);
    const uint32_t wiggle = static_cast<uint32_t>(h >> 24) & 3;
    if (wiggle == 1) mantissa += 1;
    if (wiggle == 2) mantissa -= 1;
    mantissa &= one - 1;
  }
  return sign | (static_cast<uint64_t>(e + 1023) << 52) | mantissa;
}

inline uint32_t FloatBits(float f) {
  uint32_t b;
  std::memcpy(&b, &f, sizeof(b));
  return b;
}
inline float FloatOf(uint32_t b) {
  float f;
  std::memcpy(&f, &b, sizeof(f));
  return f;
}
inline uint64_t DoubleBits(double d) {
  uint64_t b;
  std::memcpy(&b, &d, sizeof(b));
  return b;
}

// The codes whose values and neighbourhoods the boundary sets cover: all of them for formats of
// <= 16 bits, else the ends of the range, the codes around 1 and a spread of others.
inline std::vector<uint32_t> BoundaryCodes(const FormatSpec& s) {
  std::vector<uint32_t> codes;
  const uint64_t count = uint64_t{1} << s.bits;
  if (s.bits <= 16) {
    for (uint64_t c = 0; c < count; ++c) codes.push_back(static_cast<uint32_t>(c));
    return codes;
  }
  const uint32_t mask = static_cast<uint32_t>(count - 1);
  auto add_around = [&](uint64_t center, uint32_t radius) {
    for (uint64_t d = 0; d <= 2 * uint64_t{radius}; ++d) {
      codes.push_back(static_cast<uint32_t>((center + d - radius) & mask));
    }
  };
  const uint32_t one = detail::EncodeDouble(s, 1.0, QuantizeOptions{}, 0);
  for (uint32_t sign : {0u, s.sign_bit}) {
    add_around(sign, 4096);
    add_around(sign | s.max_code, 4096);
    add_around(sign | one, 4096);
  }
  for (uint64_t i = 0; i < 65536; ++i) codes.push_back(static_cast<uint32_t>(Mix64(i) & mask));
  return codes;
}

// Exact float64 boundary inputs: each finite value, the midpoints of neighbouring values (exact in
// float64 for formats of <= 32 bits), the float64 neighbours of both, and specials.
inline std::vector<double> BoundaryDoubles(const FormatSpec& s) {
  std::vector<double> values;
  for (uint32_t c : BoundaryCodes(s)) {
    const double v = detail::DecodeToDouble(s, c);
    if (std::isfinite(v)) values.push_back(v);
  }
  std::sort(values.begin(), values.end());
  values.erase(std::unique(values.begin(), values.end()), values.end());
  std::vector<double> out;
  const double inf = std::numeric_limits<double>::infinity();
  auto add_with_neighbours = [&](double x) {
    out.push_back(x);
    out.push_back(std::nextafter(x, inf));
    out.push_back(std::nextafter(x, -inf));
  };
  for (size_t i = 0; i < values.size(); ++i) {
    add_with_neighbours(values[i]);
    if (i + 1 < values.size()) add_with_neighbours(values[i] / 2 + values[i + 1] / 2);
  }
  // Beyond the ends: the would-be next values and their midpoints, and far out.
  if (!values.empty()) {
    const double top = values.back();
    const double below = values.size() > 1 ? values[values.size() - 2] : top / 2;
    const double gap = top - below;
    for (double x : {top + gap / 2, top + gap, top * 2, top * 4, top * 1e10}) {
      add_with_neighbours(x);
      add_with_neighbours(-x);
    }
    double bottom = top;  // the smallest positive value
    for (double v : values) {
      if (v > 0 && v < bottom) bottom = v;
    }
    for (double x : {bottom / 2, bottom / 4, bottom / 3, bottom * 0.75, bottom / 1e10}) {
      add_with_neighbours(x);
      add_with_neighbours(-x);
    }
  }
  for (double x : {0.0, -0.0, inf, -inf, std::numeric_limits<double>::quiet_NaN(),
                   -std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::max(),
                   -std::numeric_limits<double>::max(), std::numeric_limits<double>::denorm_min(),
                   -std::numeric_limits<double>::denorm_min(), 1e-300, -1e-300}) {
    out.push_back(x);
  }
  return out;
}

// float32 boundary inputs: the float32 values nearest each boundary double (both sides when it
// is not a float32), their float32 neighbours, and float32 specials.
inline std::vector<uint32_t> BoundaryFloats(const FormatSpec& s) {
  std::vector<uint32_t> out;
  const float inf = std::numeric_limits<float>::infinity();
  for (double x : BoundaryDoubles(s)) {
    if (std::isnan(x)) continue;
    const float f = static_cast<float>(x);
    for (float g : {f, std::nextafter(f, inf), std::nextafter(f, -inf)}) {
      out.push_back(FloatBits(g));
    }
  }
  for (uint32_t b :
       {0x00000000u, 0x80000000u, 0x7F800000u, 0xFF800000u, 0x7FC00000u, 0xFFC00000u, 0x7F800001u,
        0xFF800001u, 0x7FFFFFFFu, 0xFFFFFFFFu, 0x7FA00000u, 0x00000001u, 0x80000001u, 0x007FFFFFu,
        0x807FFFFFu, 0x00800000u, 0x80800000u, 0x7F7FFFFFu, 0xFF7FFFFFu}) {
    out.push_back(b);
  }
  for (int e = -149; e <= 127; ++e) {  // every power of two, both signs, and its neighbours
    const float p = std::ldexp(1.0f, e);
    for (float g : {p, std::nextafter(p, inf), std::nextafter(p, 0.0f)}) {
      out.push_back(FloatBits(g));
      out.push_back(FloatBits(-g));
    }
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

}  // namespace qfloat::test

#endif  // QFLOAT_TESTS_CUDA_INPUTS_H_
