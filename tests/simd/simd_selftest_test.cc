// RunSelftest (qfloat/selftest.h): its input sets, that it finds mismatches when there are some,
// and small sweeps of the SIMD backend (the full sweeps run under the `exhaustive` label).
#include <algorithm>
#include <bit>
#include <catch2/catch.hpp>
#include <cmath>
#include <vector>

#include "qfloat/detail/bits.h"
#include "qfloat/format.h"
#include "qfloat/quantize.h"
#include "qfloat/scalar.h"
#include "qfloat/selftest.h"
#include "simd_test_util.h"

namespace qfloat::simd_test {
namespace {

bool Contains(const std::vector<uint32_t>& sorted, float x) {
  return std::binary_search(sorted.begin(), sorted.end(), std::bit_cast<uint32_t>(x));
}

TEST_CASE("BoundaryInputs holds values, midpoints, ties and their neighbours", "[simd][selftest]") {
  const std::vector<uint32_t> e4m3 = BoundaryInputs(ResolveFormat("e4m3fn")->spec);
  CHECK(std::is_sorted(e4m3.begin(), e4m3.end()));
  CHECK(std::adjacent_find(e4m3.begin(), e4m3.end()) == e4m3.end());
  for (const float x :
       {448.0f, -448.0f, 464.0f, std::nextafter(464.0f, 1e9f), std::nextafter(464.0f, 0.0f),
        0x1p-9f, 0x1p-10f, -0x1p-10f, 1.0625f, 0.0f, -0.0f}) {
    INFO(x);
    CHECK(Contains(e4m3, x));
  }
  // posit<8,2>: 2^20 and 2^24 are neighbours; the bit-pattern tie is 2^22 and the arithmetic
  // midpoint 8.5 2^20, each with both neighbours.
  const std::vector<uint32_t> p8 = BoundaryInputs(ResolveFormat("posit8_2")->spec);
  for (const float x :
       {0x1p22f, std::nextafter(0x1p22f, 0.0f), std::nextafter(0x1p22f, 1e30f), 8.5f * 0x1p20f}) {
    INFO(x);
    CHECK(Contains(p8, x));
  }
  // 16-bit: every code's value.
  const FormatSpec bf16 = ResolveFormat("bf16")->spec;
  const std::vector<uint32_t> b = BoundaryInputs(bf16);
  for (uint32_t c = 0; c < 0x7F80; c += 97) {
    CHECK(Contains(b, static_cast<float>(DecodeScalar(bf16, c))));
  }
}

TEST_CASE("RunSelftest: small sweeps of the SIMD backend find no mismatch", "[simd][selftest]") {
  // One format of each packed layout: 8-bit, FP4 (two per byte), FP6 (four per three bytes),
  // 16- and 32-bit codes.
  for (const char* name :
       {"e4m3fn", "e2m1fn", "e2m3fn", "e3m2fn", "e8m0fnu", "bf16", "posit8_2", "posit32_2"}) {
    for (const char* rounding : {"rne", "rtz", "sr", "sr:4"}) {
      SelftestOptions o;
      o.spec = ResolveFormat(name)->spec;
      o.quantize = Options(rounding, Overflow::kSatFinite);
      o.sample_log2 = 16;
      o.boundaries = o.spec.bits <= 8;
      const StatusOr<SelftestReport> r = RunSelftest(o);
      INFO(name << " " << rounding);
      REQUIRE(r.ok());
      CHECK(r->checked >= (uint64_t{1} << 16));
      CHECK(r->mismatches == 0);
      CHECK(r->first.empty());
      CHECK(!r->target.empty());
    }
  }
}

TEST_CASE("RunSelftest reports a quantizer that differs from the reference", "[simd][selftest]") {
  const FormatSpec spec = ResolveFormat("e5m2")->spec;
  SelftestOptions o;
  o.spec = spec;
  o.sample_log2 = 12;
  o.max_reported = 3;
  // Round to nearest, but ties away: differs exactly on ties between an even and an odd code.
  o.custom = [](const FormatSpec& s, std::span<const float> in, std::span<uint8_t> codes,
                std::span<float> values, const TensorOptions& t) {
    QuantizeOptions q = t.quantize;
    q.rounding.mode = RoundingMode::kNearestAway;
    for (size_t i = 0; i < in.size(); ++i) {
      const uint32_t c = EncodeScalar(s, in[i], q, i);
      WritePackedCode(s, codes, i, c);
      if (!values.empty()) values[i] = static_cast<float>(DecodeScalar(s, c));
    }
    return Status::Ok();
  };
  o.boundaries = true;  // holds every tie
  const StatusOr<SelftestReport> r = RunSelftest(o);
  REQUIRE(r.ok());
  CHECK(r->mismatches > 0);
  REQUIRE(r->first.size() == 3);
  for (const SelftestMismatch& m : r->first) {
    const float x = std::bit_cast<float>(m.input);
    CHECK_FALSE(m.quantize);
    CHECK(m.expected == EncodeScalar(spec, x, QuantizeOptions{}));
    CHECK(m.actual != m.expected);
  }
  // A wrong value with the right code is caught as a value mismatch.
  o.custom = [](const FormatSpec& s, std::span<const float> in, std::span<uint8_t> codes,
                std::span<float> values, const TensorOptions& t) {
    for (size_t i = 0; i < in.size(); ++i) {
      const uint32_t c = EncodeScalar(s, in[i], t.quantize, i);
      WritePackedCode(s, codes, i, c);
      values[i] = static_cast<float>(DecodeScalar(s, c));
      if (i == 7) values[i] = std::nextafter(values[i], 1e30f);
    }
    return Status::Ok();
  };
  o.boundaries = false;
  const StatusOr<SelftestReport> v = RunSelftest(o);
  REQUIRE(v.ok());
  CHECK(v->mismatches == 1);
  REQUIRE(v->first.size() == 1);
  CHECK(v->first[0].quantize);
  CHECK(v->first[0].index == 7);
}

TEST_CASE("RunSelftest rejects bad options and unavailable backends", "[simd][selftest]") {
  SelftestOptions o;
  o.spec = ResolveFormat("e4m3fn")->spec;
  o.sample_log2 = 33;
  CHECK(RunSelftest(o).status().code() == StatusCode::kInvalidArgument);
  o.sample_log2 = 8;
  o.threads = -1;
  CHECK(RunSelftest(o).status().code() == StatusCode::kInvalidArgument);
  o.threads = 0;
  o.backend = Backend::kCuda;
  const StatusOr<SelftestReport> r = RunSelftest(o);
  if (!r.ok()) CHECK(r.status().code() == StatusCode::kUnavailable);
}

}  // namespace
}  // namespace qfloat::simd_test
