// The fast path's stated agreement with the exact path (shrinkage_test.cc derives the bounds):
// counts, histogram bins and min/max equal; S_gg within 66u and each bin's energy within 2050u,
// u = 2^-53. Shared by the tests that compare the two paths, so the bounds are stated once.
#ifndef QFLOAT_TESTS_ANALYSIS_FAST_PATH_BOUNDS_H_
#define QFLOAT_TESTS_ANALYSIS_FAST_PATH_BOUNDS_H_

#include <catch2/catch.hpp>
#include <cmath>

#include "qfloat/analysis.h"

namespace qfloat::test {

constexpr double kUnitRoundoff = 0x1p-53;

inline void CheckFastCountsAndBins(const ShrinkageSummary& f, const ShrinkageSummary& e) {
  constexpr double kU = kUnitRoundoff;
  for (int c = 0; c < kNumElementClasses; ++c) {
    INFO("class " << ToString(static_cast<ElementClass>(c)));
    CHECK(f.classes[c].count == e.classes[c].count);
  }
  REQUIRE(f.histogram.size() == e.histogram.size());
  for (size_t i = 0; i < f.histogram.size(); ++i) {
    INFO("bin " << e.histogram[i].bin);
    CHECK(f.histogram[i].bin == e.histogram[i].bin);
    CHECK(f.histogram[i].count == e.histogram[i].count);
    CHECK(std::fabs(f.histogram[i].energy - e.histogram[i].energy) <=
          2050 * kU * e.histogram[i].energy);
  }
  CHECK(f.min_g == e.min_g);
  CHECK(f.max_g == e.max_g);
  CHECK(std::fabs(f.s_gg - e.s_gg) <= 66 * kU * e.s_gg);
}

}  // namespace qfloat::test

#endif  // QFLOAT_TESTS_ANALYSIS_FAST_PATH_BOUNDS_H_
