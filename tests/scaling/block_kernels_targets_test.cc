// The SIMD block kernels (src/simd QuantizeBlocksF32 / EncodeBlocksF32, reached through the
// scaling API) on every compiled Highway target this CPU runs, against the scalar backend.
#include <bit>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "qfloat/scaling.h"
#include "simd/dispatch.h"
#include "simd/simd_test_util.h"

namespace qfloat {
namespace {

TEST_CASE("Block kernels agree with the scalar backend on every Highway target", "[scaling]") {
  std::mt19937_64 rng(31);
  std::normal_distribution<float> normal;
  std::uniform_int_distribution<int> exp(-30, 10);
  // 3 chunks of whole 32-element blocks, per-block magnitudes, a zero block and a NaN.
  const std::vector<int64_t> shape = {48, 4096};
  std::vector<float> x(48 * 4096);
  for (size_t b = 0; b < x.size() / 32; ++b) {
    const int e = exp(rng);
    for (size_t j = 32 * b; j < 32 * b + 32; ++j) x[j] = std::ldexp(normal(rng), e);
  }
  for (size_t j = 4096; j < 4096 + 32; ++j) x[j] = 0.0f;
  x[100000] = std::numeric_limits<float>::quiet_NaN();
  size_t compared = 0, mismatches = 0;
  for (const char* name : {"mxfp8_e4m3", "mxfp4", "mxfp6_e3m2"}) {
    StatusOr<ScaledFormat> f = ResolveScaledFormat(name);
    REQUIRE(f.ok());
    for (const char* rounding : {"rne", "sr"}) {
      TensorOptions o;
      o.quantize.rounding = *ParseRounding(rounding);
      o.quantize.seed = 3;
      o.backend = Backend::kScalar;
      std::vector<float> want(x.size());
      ScaledTensor want_packed;
      REQUIRE(QuantizeScaled(f->format.spec, f->scaling, shape, x, want, o).ok());
      REQUIRE(EncodeScaled(f->format.spec, f->scaling, shape, x, &want_packed, o).ok());
      for (int64_t target : simd_test::Targets()) {
        INFO(name << " " << rounding << " on " << simd::TargetName(target));
        simd_test::TargetScope scope(target);
        REQUIRE(simd::DispatchedTarget() == target);
        o.backend = Backend::kSimd;
        o.threads = 2;
        std::vector<float> got(x.size());
        ScaledTensor got_packed;
        REQUIRE(QuantizeScaled(f->format.spec, f->scaling, shape, x, got, o).ok());
        REQUIRE(EncodeScaled(f->format.spec, f->scaling, shape, x, &got_packed, o).ok());
        size_t bad = 0;
        for (size_t j = 0; j < x.size(); ++j) {
          bad += std::bit_cast<uint32_t>(got[j]) != std::bit_cast<uint32_t>(want[j]);
        }
        compared += x.size() + 2;
        mismatches += bad + (got_packed.codes != want_packed.codes ? 1 : 0) +
                      (got_packed.scales != want_packed.scales ? 1 : 0);
        CHECK(bad == 0);
        CHECK(got_packed.codes == want_packed.codes);
        CHECK(got_packed.scales == want_packed.scales);
      }
    }
  }
  WARN("block kernels on " << simd_test::Targets().size() << " targets vs the scalar backend: "
                           << compared - mismatches << "/" << compared);
  CHECK(mismatches == 0);
}

}  // namespace
}  // namespace qfloat
