// The per-binade scale lookup (src/scaling/internal.h AmaxBinades) against the scale rule it
// replaces, Pow2ScaleOf, for every rule, element format and scale format of the block recipes.
#include <bit>
#include <catch2/catch.hpp>
#include <cstdint>
#include <random>
#include <string>

#include "qfloat/scaling.h"
#include "scaling/internal.h"

namespace qfloat {
namespace {

TEST_CASE("AmaxBinades gives Pow2ScaleOf's k for every normal float32 amax tried", "[scaling]") {
  std::mt19937 rng(5);
  std::uniform_int_distribution<uint32_t> fraction(0, 0x7FFFFF);
  size_t compared = 0, mismatches = 0, split = 0;
  for (const char* element : {"e4m3fn", "e5m2", "e3m2fn", "e2m3fn", "e2m1fn", "int8_mx"}) {
    StatusOr<Format> el = ResolveFormat(element);
    REQUIRE(el.ok());
    for (const char* recipe :
         {"block:32:e8m0fnu:floor", "block:32:e8m0fnu:ceil", "block:32:e8m0fnu:even",
          "block:32:e8m0fnu:rceil", "block:32:e8m0fnu:rceil:tiny=torchao", "block:32:e4m3fn:floor",
          "block:32:fp32:rceil"}) {
      INFO(element << " " << recipe);
      StatusOr<Scaling> s = ParseScaling(recipe);
      REQUIRE(s.ok());
      if (s->rule == ScaleRule::kEven && el->spec.kind != FormatKind::kMinifloat) continue;
      const scaling::Pow2Params p = scaling::MakePow2Params(el->spec, *s);
      const scaling::AmaxBinades t = scaling::MakeAmaxBinades(p);
      CHECK_FALSE(t.valid[0]);
      CHECK_FALSE(t.valid[255]);
      for (uint32_t f = 1; f <= 254; ++f) {
        // Every binade of a normal amax is expressible for these rules.
        REQUIRE(t.valid[f]);
        split += t.k_hi[f] != t.k_lo[f] ? 1 : 0;
        const uint32_t thr = t.threshold[f];
        uint32_t tries[24] = {0, 1, 0x7FFFFF, 0x400000, thr, thr - 1, thr + 1, 0x7FFFFE};
        for (int k = 8; k < 24; ++k) tries[k] = fraction(rng);
        for (uint32_t frac : tries) {
          frac &= 0x7FFFFF;
          const float amax = std::bit_cast<float>((f << 23) | frac);
          const detail::Pow2Scale want = scaling::Pow2ScaleOf(p, amax, true);
          const int32_t got = frac >= thr ? t.k_hi[f] : t.k_lo[f];
          ++compared;
          if (want.is_nan || want.k != got) {
            if (++mismatches < 5) UNSCOPED_INFO("amax " << amax << ": " << got << " vs " << want.k);
          }
        }
      }
    }
  }
  WARN("AmaxBinades vs Pow2ScaleOf: " << compared - mismatches << "/" << compared
                                      << " amax values agree; " << split
                                      << " binades change k inside");
  CHECK(compared > 200000);
  CHECK(split > 1000);  // the thresholds were exercised, not only k_lo == k_hi
  CHECK(mismatches == 0);
}

}  // namespace
}  // namespace qfloat
