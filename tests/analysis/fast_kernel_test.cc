// The fast path's SIMD kernel (src/analysis/fast_kernel.cc) on the cases that leave its common
// step: saturated lanes, g = 0 with Q != 0, non-finite values and bin-edge codes appearing in the
// middle of a chunk, after groups that took the common step. Counts, histogram bins and min/max
// must equal the exact path's; class and bin energies must lie within the fast path's stated
// bounds (shrinkage_test.cc); the result must not depend on the thread count.
#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "fast_path_bounds.h"
#include "qfloat/analysis.h"
#include "qfloat/format.h"
#include "qfloat/quantize.h"

namespace qfloat {
namespace {

constexpr double kU = test::kUnitRoundoff;

void CheckAgainstExact(const std::vector<float>& g, const std::vector<float>& q,
                       const ClassThresholds& t) {
  ShrinkageStats exact(SumPath::kExact);
  REQUIRE(exact.Accumulate(g, q, t, 2).ok());
  std::vector<uint8_t> reference;
  for (const int threads : {1, 2, 3}) {
    ShrinkageStats fast(SumPath::kFast);
    REQUIRE(fast.Accumulate(g, q, t, threads).ok());
    if (reference.empty()) reference = fast.Serialize();
    CHECK(fast.Serialize() == reference);
  }
  ShrinkageStats fast(SumPath::kFast);
  REQUIRE(fast.Accumulate(g, q, t, 2).ok());
  const ShrinkageSummary e = exact.Summarize();
  const ShrinkageSummary f = fast.Summarize();
  test::CheckFastCountsAndBins(f, e);
  for (int c = 0; c < kNumElementClasses; ++c) {
    INFO("class " << ToString(static_cast<ElementClass>(c)));
    CHECK(std::fabs(f.classes[c].s_gg - e.classes[c].s_gg) <= 66 * kU * e.classes[c].s_gg);
  }
  CHECK(f.nonfinite_count == e.nonfinite_count);
}

TEST_CASE("rare lanes mid-chunk: saturation, g = 0 != Q, NaN and bin edges") {
  const FormatSpec spec = ResolveFormat("e4m3fn").value().spec;
  const ClassThresholds t = ClassThresholds::ForFormat(spec);
  std::mt19937_64 rng(31);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::uniform_real_distribution<float> scale(-4.0f, 1.0f);
  // 2.5 chunks, not a multiple of the vector length: full groups, a partial group and a tail.
  std::vector<float> g(40003);
  for (float& x : g) x = normal(rng) * std::pow(10.0f, scale(rng));
  std::vector<float> q(g.size());
  TensorOptions opts;
  opts.quantize.overflow = Overflow::kSatFinite;
  REQUIRE(Quantize(spec, g, q, opts).ok());

  SECTION("common step only") { CheckAgainstExact(g, q, t); }
  SECTION("bin edges: |d| = 2^k |g| exactly, and d rounded onto an edge") {
    g[700] = 1.5f;  // d = -0.75 = -2^-1 |g|
    q[700] = 0.75f;
    g[9001] = 0x1p60f;  // d = 2^-5 - 2^60 rounds to -2^60: the exact |d| is one bin lower
    q[9001] = 0x1p-5f;
    g[40002] = -3.0f;  // in the tail
    q[40002] = -1.5f;
    CheckAgainstExact(g, q, t);
  }
  SECTION("a saturated lane after common-step groups, then more groups") {
    g[5000] = 1000.0f;
    q[5000] = 448.0f;
    g[21000] = -3000.0f;  // second chunk
    q[21000] = -448.0f;
    CheckAgainstExact(g, q, t);
  }
  SECTION("g = 0 with Q != 0 (a format without zero), and g = Q = 0") {
    g[6001] = 0.0f;
    q[6001] = 0x1p-9f;
    g[6002] = -0.0f;
    q[6002] = 0.0f;
    g[33333] = 0.0f;
    q[33333] = 0.0f;
    CheckAgainstExact(g, q, t);
  }
  SECTION("non-finite g and Q with rare lanes in the same group") {
    g[12000] = std::numeric_limits<float>::quiet_NaN();
    q[12000] = std::numeric_limits<float>::quiet_NaN();
    g[12003] = 1000.0f;
    q[12003] = 448.0f;
    g[12005] = 2.0f;
    q[12005] = std::numeric_limits<float>::infinity();
    g[39999] = -std::numeric_limits<float>::infinity();
    q[39999] = -448.0f;
    CheckAgainstExact(g, q, t);
  }
}

}  // namespace
}  // namespace qfloat
