// Shared by the SIMD backend's tests: forcing each compiled Highway target in turn, the formats
// and modes to sweep, and input sets.
#ifndef QFLOAT_TESTS_SIMD_SIMD_TEST_UTIL_H_
#define QFLOAT_TESTS_SIMD_SIMD_TEST_UTIL_H_

#include <hwy/targets.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "qfloat/format.h"
#include "qfloat/rounding.h"
#include "simd/dispatch.h"

namespace qfloat::simd_test {

// While alive, dynamic dispatch sees only `target` as supported (Highway's test mock).
class TargetScope {
 public:
  explicit TargetScope(int64_t target) { hwy::SetSupportedTargetsForTest(target); }
  ~TargetScope() { hwy::SetSupportedTargetsForTest(0); }
  TargetScope(const TargetScope&) = delete;
  TargetScope& operator=(const TargetScope&) = delete;
};

// Every target compiled into the SIMD kernels that this CPU can run.
inline std::vector<int64_t> Targets() { return simd::SupportedTargets(); }

inline const std::vector<std::string>& RoundingNames() {
  static const std::vector<std::string> names = {"rne", "rna", "rtz",  "rup",  "rdn",
                                                 "rto", "sr",  "sr:1", "sr:8", "sr:16"};
  return names;
}

inline const std::vector<Overflow>& Overflows() {
  static const std::vector<Overflow> all = {Overflow::kInf, Overflow::kSatFinite,
                                            Overflow::kSatPropagate};
  return all;
}

inline QuantizeOptions Options(const std::string& rounding, Overflow overflow) {
  QuantizeOptions o;
  o.rounding = *ParseRounding(rounding);
  o.overflow = overflow;
  o.seed = 0x243F6A8885A308D3ull;  // any seed: pi
  o.stream = 11;
  return o;
}

inline Format MustParse(const std::string& toml) {
  StatusOr<Format> f = ParseFormatToml(toml, "<test>");
  if (!f.ok()) throw std::runtime_error(f.status().message() + "\n" + toml);
  return *f;
}

// Descriptors that exercise every field of the minifloat and posit descriptions beyond the
// built-in formats: no exponent bits, no subnormals, unsigned with and without zero, NaN
// fallbacks, many high NaNs, ranges beyond float32, 32-bit codes with no spare code, posits of
// odd sizes and large es.
inline const std::vector<Format>& ExtraFormats() {
  static const std::vector<Format> formats = [] {
    std::vector<Format> f;
    auto mini = [&](const std::string& name, const std::string& fields) {
      f.push_back(MustParse("name = \"" + name + "\"\nkind = \"minifloat\"\n" + fields));
    };
    mini("e0m3", "bits = 4\nexponent_bits = 0\nmantissa_bits = 3\nbias = 2\nspecials = \"finite\"");
    mini("e0m7u",
         "bits = 7\nexponent_bits = 0\nmantissa_bits = 7\nsigned = false\nspecials = \"finite\"");
    mini("e3m0", "bits = 4\nexponent_bits = 3\nmantissa_bits = 0\nspecials = \"finite\"");
    mini("e4m3_nosub",
         "bits = 8\nexponent_bits = 4\nmantissa_bits = 3\nbias = 7\nspecials = \"fn\"\nsubnormals "
         "= false");
    mini("e5m2_nosub",
         "bits = 8\nexponent_bits = 5\nmantissa_bits = 2\nspecials = \"ieee\"\nsubnormals = false");
    mini("ue4m4",
         "bits = 8\nexponent_bits = 4\nmantissa_bits = 4\nsigned = false\nspecials = \"ieee\"");
    mini("ue8m0_zero",
         "bits = 8\nexponent_bits = 8\nmantissa_bits = 0\nsigned = false\nspecials = "
         "\"fn\"\nsubnormals = false");
    mini("ue5m3_nozero",
         "bits = 8\nexponent_bits = 5\nmantissa_bits = 3\nsigned = false\nspecials = "
         "\"finite\"\nzero = false\nsubnormals = false");
    mini("e2m1_nanzero",
         "bits = 4\nexponent_bits = 2\nmantissa_bits = 1\nspecials = \"finite\"\nnan = \"zero\"");
    mini("e2m3_nanmax",
         "bits = 6\nexponent_bits = 2\nmantissa_bits = 3\nspecials = \"finite\"\nnan = \"max\"");
    mini("e4m3_8nans",
         "bits = 8\nexponent_bits = 4\nmantissa_bits = 3\nspecials = \"fn\"\nhigh_nans = 8");
    mini("e5m2_extended",
         "bits = 8\nexponent_bits = 5\nmantissa_bits = 2\nbias = 16\nspecials = "
         "\"extended\"\nsubnormals = false");
    mini("e6m1_fnuz",
         "bits = 8\nexponent_bits = 6\nmantissa_bits = 1\nbias = 32\nspecials = \"fnuz\"");
    mini("e5m10_bias30",
         "bits = 16\nexponent_bits = 5\nmantissa_bits = 10\nbias = 30\nspecials = \"ieee\"");
    mini("e9m6", "bits = 16\nexponent_bits = 9\nmantissa_bits = 6\nspecials = \"ieee\"");
    mini("e11m20", "bits = 32\nexponent_bits = 11\nmantissa_bits = 20\nspecials = \"ieee\"");
    mini("ue8m24_finite",
         "bits = 32\nexponent_bits = 8\nmantissa_bits = 24\nsigned = false\nspecials = \"finite\"");
    mini("e7m24_fn", "bits = 32\nexponent_bits = 7\nmantissa_bits = 24\nspecials = \"fn\"");
    mini("e8m7_fnuz",
         "bits = 16\nexponent_bits = 8\nmantissa_bits = 7\nbias = 128\nspecials = \"fnuz\"");
    auto posit = [&](int bits, int es) {
      const std::string name = "posit" + std::to_string(bits) + "_" + std::to_string(es);
      f.push_back(MustParse("name = \"" + name + "\"\nkind = \"posit\"\nbits = " +
                            std::to_string(bits) + "\nes = " + std::to_string(es)));
    };
    posit(3, 0);
    posit(5, 1);
    posit(6, 3);
    posit(10, 2);
    posit(12, 4);
    posit(20, 3);
    posit(24, 5);
    posit(31, 4);
    posit(32, 0);
    posit(32, 5);
    return f;
  }();
  return formats;
}

inline uint32_t Bits(float f) { return std::bit_cast<uint32_t>(f); }
inline uint64_t Bits(double d) { return std::bit_cast<uint64_t>(d); }

// Float32 inputs over the whole exponent range: random bit patterns, random values in and around
// the format's range, float32 subnormals.
inline std::vector<float> RandomInputs(const FormatSpec& spec, size_t count, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<float> out;
  const bool posit = spec.kind == FormatKind::kPosit;
  const int lo =
      posit ? -((spec.bits - 2) << spec.exponent_bits) - 3 : spec.emin - spec.mantissa_bits - 4;
  const int hi = posit ? ((spec.bits - 2) << spec.exponent_bits) + 3 : spec.emax + 3;
  for (size_t i = 0; i < count; ++i) {
    const uint32_t r = static_cast<uint32_t>(rng());
    switch (i % 4) {
      case 0:
        out.push_back(std::bit_cast<float>(r));
        break;
      case 1:
      case 2: {
        const int e = std::clamp(lo + static_cast<int>(rng() % static_cast<uint64_t>(hi - lo + 1)),
                                 -149, 127);
        const float x = std::ldexp(1.0f + static_cast<float>(r & 0x7FFFFF) * 0x1p-23f, e);
        out.push_back((r >> 31) ? -x : x);
        break;
      }
      default:
        out.push_back(std::bit_cast<float>(r & 0x807FFFFFu));  // subnormal (or zero)
        break;
    }
  }
  return out;
}

}  // namespace qfloat::simd_test

#endif  // QFLOAT_TESTS_SIMD_SIMD_TEST_UTIL_H_
