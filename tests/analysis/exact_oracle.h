// The analysis tests' exact oracle (Boost.Multiprecision), sharing no code with src/analysis:
// - OracleSum adds exact products of doubles into per-exponent __int128 buckets (std::frexp
//   decomposition) and folds them into a cpp_int at the end;
// - d = Q - g is split exactly by TwoSum into dh + dl, so g d and d^2 are sums of exact products
//   (the definition, not the library's g Q - g^2 route);
// - IsCorrectlyRounded(x, v) checks with exact rationals that the double x is v rounded to
//   nearest even (x lies within half an ulp, ties on the even neighbour), so the oracle never
//   implements rounding itself.
#ifndef QFLOAT_TESTS_ANALYSIS_EXACT_ORACLE_H_
#define QFLOAT_TESTS_ANALYSIS_EXACT_ORACLE_H_

#include <algorithm>
#include <array>
#include <boost/multiprecision/cpp_int.hpp>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <map>
#include <span>
#include <vector>

#include "qfloat/analysis.h"

namespace qfloat::test {

using BigInt = boost::multiprecision::cpp_int;
using Rational = boost::multiprecision::cpp_rational;

// Exact value of a finite double as a rational.
inline Rational ExactRational(double x) {
  if (x == 0.0) return Rational(0);
  int e;
  const double m = std::frexp(x, &e);                       // x = m 2^e, 0.5 <= |m| < 1
  const auto mi = static_cast<int64_t>(std::ldexp(m, 53));  // exact: 53-bit integer
  e -= 53;
  BigInt num = mi;
  if (e >= 0) return Rational(num << e);
  return Rational(num, BigInt(1) << -e);
}

// Exact sum of products of doubles: value = sum_e bucket[e] 2^e.
class OracleSum {
 public:
  void AddProduct(double a, double b) {
    if (a == 0.0 || b == 0.0) return;
    int ea, eb;
    const double ma = std::frexp(a, &ea);
    const double mb = std::frexp(b, &eb);
    const __int128 ia = static_cast<int64_t>(std::ldexp(ma, 53));
    const __int128 ib = static_cast<int64_t>(std::ldexp(mb, 53));
    const int e = ea + eb - 106;
    __int128& slot = buckets_[e];
    slot += ia * ib;  // |ia ib| < 2^106
    // Keep |slot| < 2^120 so the next product cannot overflow.
    const __int128 limit = static_cast<__int128>(1) << 120;
    if (slot >= limit || slot <= -limit) {
      overflow_[e] += ToBig(slot);
      slot = 0;
    }
  }
  void Add(double x) { AddProduct(x, 1.0); }

  Rational Value() const {
    int lo = std::numeric_limits<int>::max();
    for (const auto& [e, v] : buckets_) lo = std::min(lo, e);
    for (const auto& [e, v] : overflow_) lo = std::min(lo, e);
    if (lo == std::numeric_limits<int>::max()) return Rational(0);
    BigInt total = 0;
    for (const auto& [e, v] : buckets_) total += ToBig(v) << (e - lo);
    for (const auto& [e, v] : overflow_) total += v << (e - lo);
    if (lo >= 0) return Rational(total << lo);
    return Rational(total, BigInt(1) << -lo);
  }

 private:
  static BigInt ToBig(__int128 v) {
    const bool neg = v < 0;
    unsigned __int128 u =
        neg ? static_cast<unsigned __int128>(-(v + 1)) + 1 : static_cast<unsigned __int128>(v);
    BigInt r = static_cast<uint64_t>(u >> 64);
    r <<= 64;
    r += static_cast<uint64_t>(u);
    return neg ? BigInt(-r) : r;
  }
  std::map<int, __int128> buckets_;
  std::map<int, BigInt> overflow_;
};

// d = Q - g exactly as dh + dl (TwoSum; no overflow for finite quantizer outputs).
inline void ExactDifference(double q, double g, double* dh, double* dl) {
  *dh = q - g;
  const double bp = *dh - q;
  *dl = (q - (*dh - bp)) + (-g - bp);
}

// Adds g d and d^2 exactly, from d = dh + dl.
inline void AddDifferenceProducts(OracleSum& gd, OracleSum& dd, double g, double q) {
  double dh, dl;
  ExactDifference(q, g, &dh, &dl);
  gd.AddProduct(g, dh);
  gd.AddProduct(g, dl);
  dd.AddProduct(dh, dh);
  dd.AddProduct(dh, dl);
  dd.AddProduct(dh, dl);
  dd.AddProduct(dl, dl);
}

// Whether x == RN_even(v): |v - x| <= half the gap to each neighbour, and on a tie x is the even
// neighbour. Handles zero, subnormals and the top of the range (v beyond the overflow threshold
// rounds to inf).
inline bool IsCorrectlyRounded(double x, const Rational& v) {
  const double max = std::numeric_limits<double>::max();
  const Rational rmax = ExactRational(max);
  const Rational half_ulp_max = ExactRational(std::ldexp(1.0, 970));  // ulp(max) / 2
  if (std::isinf(x)) {
    const Rational threshold = rmax + half_ulp_max;
    return x > 0 ? v >= threshold : v <= -threshold;
  }
  if (std::isnan(x)) return false;
  const Rational rx = ExactRational(x);
  const double down = std::nextafter(x, -HUGE_VAL);
  const double up = std::nextafter(x, HUGE_VAL);
  const Rational lo_mid = std::isinf(down) ? rx - half_ulp_max : (ExactRational(down) + rx) / 2;
  const Rational hi_mid = std::isinf(up) ? rx + half_ulp_max : (ExactRational(up) + rx) / 2;
  if (v < lo_mid || v > hi_mid) return false;
  if (v == lo_mid || v == hi_mid) {
    // Tie: x must have an even significand (zero counts as even).
    uint64_t bits;
    std::memcpy(&bits, &x, sizeof(bits));
    return (bits & 1) == 0;
  }
  return true;
}

// Exact per-class and total sums of a tensor and its image, by the definitions of THEORY.md §2.
struct OracleStats {
  std::array<uint64_t, kNumElementClasses> counts{};
  std::array<OracleSum, kNumElementClasses> gg, gd, dd;
  OracleSum tgg, tgd, tdd;
  OracleSum abs_gd;  // sum |g d| (the condition number's numerator)
  OracleSum far_gd;  // sum |g d| over elements whose d is not a double (fast-path bound)
  OracleSum far_dd;  // sum d^2 over those elements
  std::vector<uint64_t> bin_counts = std::vector<uint64_t>(kRatioBins, 0);
  std::vector<OracleSum> bin_energy = std::vector<OracleSum>(kRatioBins);
  double min_g = HUGE_VAL;
  double max_g = -HUGE_VAL;
};

// The class of THEORY.md §2.2 from its definition.
inline ElementClass OracleClass(double g, double q, const ClassThresholds& t) {
  if (!std::isfinite(g) || !std::isfinite(q)) return ElementClass::kNonFinite;
  if (g == 0) return ElementClass::kZero;
  if (q == g) return ElementClass::kExact;
  if (q == 0) return ElementClass::kFlushed;
  if (std::fabs(q) == t.max_finite && std::fabs(q) < std::fabs(g)) return ElementClass::kSaturated;
  if (std::fabs(g) < t.min_normal) return ElementClass::kSubnormal;
  return ElementClass::kNormal;
}

// The ratio bin by exact rational comparison (slow: use on <= ~10^5 elements).
inline int OracleBin(double g, double q) {
  if (q == g) return 0;
  const Rational r = abs(ExactRational(q) - ExactRational(g)) / abs(ExactRational(g));
  int k = std::ilogb(std::fabs(q - g)) - std::ilogb(std::fabs(g));
  auto pow2 = [](int e) {
    return e >= 0 ? Rational(BigInt(1) << e) : Rational(BigInt(1), BigInt(1) << -e);
  };
  while (r < pow2(k)) --k;
  while (r >= pow2(k + 1)) ++k;
  if (k < kRatioMinExp) return 1;
  if (k > kRatioMaxExp) return kRatioBins - 1;
  return 2 + k - kRatioMinExp;
}

template <typename T>
OracleStats ComputeOracle(std::span<const T> g, std::span<const T> q, const ClassThresholds& t,
                          bool with_bins) {
  OracleStats o;
  for (size_t i = 0; i < g.size(); ++i) {
    const double gi = g[i];
    const double qi = q[i];
    const ElementClass c = OracleClass(gi, qi, t);
    const int ci = static_cast<int>(c);
    ++o.counts[ci];
    if (std::isfinite(gi)) {
      o.min_g = std::min(o.min_g, gi);
      o.max_g = std::max(o.max_g, gi);
    }
    if (c == ElementClass::kNonFinite) continue;
    o.gg[ci].AddProduct(gi, gi);
    o.tgg.AddProduct(gi, gi);
    AddDifferenceProducts(o.gd[ci], o.dd[ci], gi, qi);
    AddDifferenceProducts(o.tgd, o.tdd, gi, qi);
    double dh, dl;
    ExactDifference(qi, gi, &dh, &dl);
    o.abs_gd.AddProduct(std::fabs(gi), std::fabs(dh));
    if (dl != 0.0) {
      o.far_gd.AddProduct(std::fabs(gi), std::fabs(dh));
      o.far_dd.AddProduct(dh, dh);
    }
    if (with_bins && c != ElementClass::kZero) {
      const int b = OracleBin(gi, qi);
      ++o.bin_counts[b];
      o.bin_energy[b].AddProduct(gi, gi);
    }
  }
  return o;
}

}  // namespace qfloat::test

#endif  // QFLOAT_TESTS_ANALYSIS_EXACT_ORACLE_H_
