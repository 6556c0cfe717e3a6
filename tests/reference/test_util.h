// Small helpers shared by the reference tests.
#ifndef QFLOAT_TESTS_REFERENCE_TEST_UTIL_H_
#define QFLOAT_TESTS_REFERENCE_TEST_UTIL_H_

#include <boost/math/distributions/binomial.hpp>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <string>

#include "qfloat/format.h"
#include "qfloat/rounding.h"
#include "qfloat/scalar.h"

namespace qfloat::testing {

// A format by name or alias (ResolveFormat returns by value; map nodes keep references stable).
inline const Format& Get(const std::string& name) {
  static std::map<std::string, Format> cache;
  const auto it = cache.find(name);
  if (it != cache.end()) return it->second;
  const StatusOr<Format> f = ResolveFormat(name);
  INFO("format " << name);
  REQUIRE(f.ok());
  return cache.emplace(name, *f).first->second;
}

inline QuantizeOptions Opts(RoundingMode mode, Overflow overflow = Overflow::kInf,
                            uint8_t sr_bits = 0) {
  QuantizeOptions o;
  o.rounding.mode = mode;
  o.rounding.sr_bits = sr_bits;
  o.overflow = overflow;
  return o;
}

inline uint32_t Rne(const std::string& format, double x, Overflow overflow = Overflow::kInf) {
  return EncodeScalar(Get(format).spec, x, Opts(RoundingMode::kNearestEven, overflow));
}

inline constexpr RoundingMode kDeterministicModes[] = {
    RoundingMode::kNearestEven, RoundingMode::kNearestAway, RoundingMode::kTowardZero,
    RoundingMode::kUp,          RoundingMode::kDown,        RoundingMode::kToOdd};
inline constexpr Overflow kPolicies[] = {Overflow::kInf, Overflow::kSatFinite,
                                         Overflow::kSatPropagate};

inline double NaN() { return std::numeric_limits<double>::quiet_NaN(); }
inline double Inf() { return std::numeric_limits<double>::infinity(); }

// Acceptance interval for a count of successes in n Bernoulli(p) trials: each tail holds at most
// alpha_tail of the exact binomial probability (Boost.Math quantiles; for a discrete distribution
// they round outwards, so the false-failure rate is at most 2 alpha_tail).
struct Interval {
  double lo, hi;
};
inline Interval BinomialAcceptance(uint64_t n, double p, double alpha_tail) {
  if (p <= 0) return {0, 0};
  if (p >= 1) return {static_cast<double>(n), static_cast<double>(n)};
  const boost::math::binomial_distribution<double> dist(static_cast<double>(n), p);
  return {boost::math::quantile(dist, alpha_tail),
          boost::math::quantile(boost::math::complement(dist, alpha_tail))};
}

}  // namespace qfloat::testing

#endif  // QFLOAT_TESTS_REFERENCE_TEST_UTIL_H_
