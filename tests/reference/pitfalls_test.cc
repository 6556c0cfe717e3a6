// The edge cases of PITFALLS.md, one named test case each. Expected codes are written out by hand
// from the format definitions (OCP OFP8 / MX v1.0, posit 2022, P3109 interim) and DESIGN.md
// "Overflow and specials", not computed by the reference.
#include <bit>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "oracle.h"
#include "qfloat/detail/philox.h"
#include "qfloat/format.h"
#include "qfloat/scalar.h"
#include "test_util.h"

namespace qfloat {
namespace {

using testing::Get;
using testing::Inf;
using testing::NaN;
using testing::Opts;
using testing::Rne;

constexpr Overflow kOvfInf = Overflow::kInf;
constexpr Overflow kSatFinite = Overflow::kSatFinite;
constexpr Overflow kSatPropagate = Overflow::kSatPropagate;

double Up(double x) { return std::nextafter(x, Inf()); }
double Down(double x) { return std::nextafter(x, -Inf()); }

TEST_CASE("pitfall: e4m3fn 448 < x <= 464 gives 448 and above 464 NaN or 448 when saturating",
          "[pitfalls]") {
  for (double x : {449.0, 463.0, Down(464.0), 464.0}) {
    INFO(x);
    CHECK(Rne("e4m3fn", x) == 0x7E);
    CHECK(Rne("e4m3fn", -x) == 0xFE);
    CHECK(EncodeScalar(Get("e4m3fn").spec, static_cast<float>(x),
                       Opts(RoundingMode::kNearestEven)) == 0x7E);
  }
  for (double x : {Up(464.0), 465.0, 480.0, 1e6, 1e300}) {
    INFO(x);
    CHECK(Rne("e4m3fn", x) == 0x7F);  // NaN, sign kept
    CHECK(Rne("e4m3fn", -x) == 0xFF);
    CHECK(Rne("e4m3fn", x, kSatFinite) == 0x7E);
    CHECK(Rne("e4m3fn", -x, kSatFinite) == 0xFE);
    CHECK(Rne("e4m3fn", x, kSatPropagate) == 0x7E);
  }
  CHECK(DecodeScalar(Get("e4m3fn").spec, 0x7E) == 448.0);
}

TEST_CASE("pitfall: e4m3fn |x| <= 2^-10 gives signed zero and just above gives 2^-9",
          "[pitfalls]") {
  const double half_min = std::ldexp(1.0, -10);
  CHECK(Rne("e4m3fn", half_min) == 0x00);   // tie between 0 and 2^-9: zero is even
  CHECK(Rne("e4m3fn", -half_min) == 0x80);  // the sign is kept
  CHECK(Rne("e4m3fn", std::ldexp(1.0, -40)) == 0x00);
  CHECK(Rne("e4m3fn", -std::ldexp(1.0, -40)) == 0x80);
  CHECK(Rne("e4m3fn", Up(half_min)) == 0x01);
  CHECK(Rne("e4m3fn", -Up(half_min)) == 0x81);
  CHECK(DecodeScalar(Get("e4m3fn").spec, 0x01) == std::ldexp(1.0, -9));
}

TEST_CASE("pitfall: e4m3fn max subnormal plus half an ulp ties to 2^-6", "[pitfalls]") {
  const double max_sub = 0.875 * std::ldexp(1.0, -6);
  CHECK(DecodeScalar(Get("e4m3fn").spec, 0x07) == max_sub);
  const double tie = max_sub + std::ldexp(1.0, -10);  // 0x07 is odd: the tie goes to 0x08
  CHECK(Rne("e4m3fn", tie) == 0x08);
  CHECK(DecodeScalar(Get("e4m3fn").spec, 0x08) == std::ldexp(1.0, -6));
  CHECK(Rne("e4m3fn", Down(tie)) == 0x07);
  CHECK(Rne("e4m3fn", -tie) == 0x88);
}

TEST_CASE("pitfall: infinite inputs follow the overflow policy", "[pitfalls]") {
  struct Case {
    const char* format;
    uint32_t ovf_inf, sat_finite, sat_propagate;  // for +inf; -inf adds the sign bit
    uint32_t sign;
  };
  const Case cases[] = {
      {"e4m3fn", 0x7F, 0x7E, 0x7F, 0x80},  // no inf: NaN, or max when sat-finite
      {"e5m2", 0x7C, 0x7B, 0x7C, 0x80},    // inf stays inf unless sat-finite
      {"e4m3", 0x78, 0x77, 0x78, 0x80},    //
      {"fp16", 0x7C00, 0x7BFF, 0x7C00, 0x8000}, {"bf16", 0x7F80, 0x7F7F, 0x7F80, 0x8000},
      {"e2m1fn", 0x7, 0x7, 0x7, 0x8},        // neither inf nor NaN: max
      {"e3m2fn", 0x1F, 0x1F, 0x1F, 0x20},    //
      {"binary8p3", 0x7F, 0x7E, 0x7F, 0x80}  // P3109 extended: +-inf 0x7F/0xFF
  };
  for (const Case& c : cases) {
    INFO(c.format);
    CHECK(Rne(c.format, Inf(), kOvfInf) == c.ovf_inf);
    CHECK(Rne(c.format, Inf(), kSatFinite) == c.sat_finite);
    CHECK(Rne(c.format, Inf(), kSatPropagate) == c.sat_propagate);
    CHECK(Rne(c.format, -Inf(), kOvfInf) == (c.ovf_inf | c.sign));
    CHECK(Rne(c.format, -Inf(), kSatFinite) == (c.sat_finite | c.sign));
    CHECK(Rne(c.format, -Inf(), kSatPropagate) == (c.sat_propagate | c.sign));
  }
  // fnuz: a single unsigned NaN 0x80.
  for (const char* f : {"e4m3fnuz", "e5m2fnuz", "e4m3b11fnuz"}) {
    INFO(f);
    CHECK(Rne(f, Inf()) == 0x80);
    CHECK(Rne(f, -Inf()) == 0x80);
    CHECK(Rne(f, Inf(), kSatFinite) == 0x7F);
    CHECK(Rne(f, -Inf(), kSatFinite) == 0xFF);
    CHECK(Rne(f, -Inf(), kSatPropagate) == 0x80);
  }
  // E8M0 (unsigned, NaN 0xFF): -inf has no finite neighbour but the lowest code.
  CHECK(Rne("e8m0fnu", Inf()) == 0xFF);
  CHECK(Rne("e8m0fnu", Inf(), kSatFinite) == 0xFE);
  CHECK(Rne("e8m0fnu", -Inf()) == 0xFF);
  CHECK(Rne("e8m0fnu", -Inf(), kSatPropagate) == 0xFF);
  CHECK(Rne("e8m0fnu", -Inf(), kSatFinite) == 0x00);
  // Posits: NaR whatever the policy.
  for (Overflow p : testing::kPolicies) {
    CHECK(Rne("posit8_2", Inf(), p) == 0x80);
    CHECK(Rne("posit8_2", -Inf(), p) == 0x80);
  }
}

TEST_CASE("pitfall: NaN sign is kept where the format's NaN is signed and the payload dropped",
          "[pitfalls]") {
  const double pos_nan = std::bit_cast<double>(0x7FF8000000000000ull);
  const double neg_nan = std::bit_cast<double>(0xFFF8000000000000ull);
  const double signalling = std::bit_cast<double>(0x7FF0000000000001ull);
  const double payload = std::bit_cast<double>(0xFFF4000000ABCDEFull);
  struct Case {
    const char* format;
    uint32_t pos, neg;
  };
  const Case cases[] = {
      {"e4m3fn", 0x7F, 0xFF},        // S.1111.111, sign kept (hipDNN / universal choice)
      {"e5m2", 0x7E, 0xFE},          // quiet NaN: inf | top mantissa bit
      {"e4m3", 0x7C, 0xFC},          //
      {"e3m4", 0x78, 0xF8},          //
      {"fp16", 0x7E00, 0xFE00},      //
      {"bf16", 0x7FC0, 0xFFC0},      //
      {"e4m3fnuz", 0x80, 0x80},      // single NaN, no sign
      {"binary8p4", 0x80, 0x80},     //
      {"e8m0fnu", 0xFF, 0xFF},       // unsigned
      {"posit16_2", 0x8000, 0x8000}  // NaR
  };
  for (const Case& c : cases) {
    INFO(c.format);
    for (Overflow p : testing::kPolicies) {
      CHECK(Rne(c.format, pos_nan, p) == c.pos);
      CHECK(Rne(c.format, neg_nan, p) == c.neg);
      CHECK(Rne(c.format, signalling, p) == c.pos);
      CHECK(Rne(c.format, payload, p) == c.neg);
      CHECK(EncodeScalar(Get(c.format).spec, std::bit_cast<float>(0xFFC00001u),
                         Opts(RoundingMode::kToOdd, p)) == c.neg);
    }
    CHECK(std::isnan(DecodeScalar(Get(c.format).spec, c.pos)));
    CHECK(std::isnan(DecodeScalar(Get(c.format).spec, c.neg)));
  }
}

TEST_CASE(
    "pitfall: e5m2 61440 overflows to inf and 57344 < x < 61440 gives 57344 and 2^-17 gives 0",
    "[pitfalls]") {
  CHECK(Rne("e5m2", 61440.0) == 0x7C);  // the tie goes to the even neighbour 2^16: overflow
  CHECK(Rne("e5m2", -61440.0) == 0xFC);
  CHECK(Rne("e5m2", 61440.0, kSatFinite) == 0x7B);
  CHECK(Rne("e5m2", -61440.0, kSatPropagate) == 0xFB);
  CHECK(Rne("e5m2", Down(61440.0)) == 0x7B);
  CHECK(Rne("e5m2", 57345.0) == 0x7B);
  CHECK(DecodeScalar(Get("e5m2").spec, 0x7B) == 57344.0);
  CHECK(Rne("e5m2", std::ldexp(1.0, -17)) == 0x00);
  CHECK(Rne("e5m2", -std::ldexp(1.0, -17)) == 0x80);
  CHECK(Rne("e5m2", Up(std::ldexp(1.0, -17))) == 0x01);
}

TEST_CASE("pitfall: fnuz formats turn -0 into +0 and 0x80 is their only NaN", "[pitfalls]") {
  struct Case {
    const char* format;
    double max;
  };
  for (const Case& c :
       {Case{"e4m3fnuz", 240.0}, Case{"e5m2fnuz", 57344.0}, Case{"e4m3b11fnuz", 30.0}}) {
    INFO(c.format);
    const FormatSpec& spec = Get(c.format).spec;
    for (RoundingMode mode : testing::kDeterministicModes) {
      CHECK(EncodeScalar(spec, -0.0, Opts(mode)) == 0x00);
      CHECK(EncodeScalar(spec, -0.0f, Opts(mode)) == 0x00);
    }
    CHECK(Rne(c.format, -std::ldexp(1.0, -60)) == 0x00);  // underflow: +0, no -0
    CHECK(std::isnan(DecodeScalar(spec, 0x80)));
    CHECK(ClassifyCode(spec, 0x80) == CodeClass::kNan);
    for (uint32_t code = 0; code < 256; ++code) {
      if (code != 0x80) CHECK_FALSE(std::isnan(DecodeScalar(spec, code)));
    }
    CHECK(MaxFinite(spec) == c.max);
    CHECK(DecodeScalar(spec, 0x7F) == c.max);
    CHECK(DecodeScalar(spec, 0xFF) == -c.max);
  }
}

TEST_CASE("pitfall: e2m1 ties 0.25 0.75 1.25 1.75 2.5 3.5 5 and above 6", "[pitfalls]") {
  // e2m1 grid {0, .5, 1, 1.5, 2, 3, 4, 6} = codes 0..7; ties go to the even code.
  struct Case {
    double x;
    double want;
  };
  const Case cases[] = {{0.25, 0.0}, {0.75, 1.0}, {1.25, 1.0}, {1.75, 2.0}, {2.5, 2.0},
                        {3.5, 4.0},  {5.0, 4.0},  {6.5, 6.0},  {7.0, 6.0},  {1e9, 6.0}};
  const FormatSpec& spec = Get("e2m1fn").spec;
  for (const Case& c : cases) {
    INFO(c.x);
    for (Overflow p : testing::kPolicies) {
      CHECK(QuantizeScalar(spec, c.x, Opts(RoundingMode::kNearestEven, p)) == c.want);
      CHECK(QuantizeScalar(spec, -c.x, Opts(RoundingMode::kNearestEven, p)) == -c.want);
    }
  }
  const double grid[] = {0, 0.5, 1, 1.5, 2, 3, 4, 6};
  for (uint32_t code = 0; code < 8; ++code) {
    CHECK(DecodeScalar(spec, code) == grid[code]);
    CHECK(DecodeScalar(spec, code | 8) == -grid[code]);
  }
}

TEST_CASE("pitfall: every code of every format up to 16 bits decodes and re-encodes to itself",
          "[pitfalls]") {
  uint64_t checked = 0;
  for (const Format& f : BuiltinFormats()) {
    if (f.spec.bits > 16 || !f.element.empty()) continue;
    INFO(f.name);
    const FormatSpec& spec = f.spec;
    uint64_t bad = 0;
    for (uint32_t code = 0; code < (uint32_t{1} << spec.bits); ++code) {
      const double v = DecodeScalar(spec, code);
      const CodeClass cls = ClassifyCode(spec, code);
      if (std::isnan(v)) {
        // Every NaN code re-encodes to the canonical NaN of its sign.
        const uint32_t again = EncodeScalar(spec, v, Opts(RoundingMode::kNearestEven));
        bad += ClassifyCode(spec, again) != cls;
        continue;
      }
      for (RoundingMode mode : testing::kDeterministicModes) {
        for (Overflow p : testing::kPolicies) {
          if (cls == CodeClass::kInf && p == Overflow::kSatFinite) continue;  // inf -> max
          // A code whose value is zero but is not the canonical zero (no subnormals) is not
          // produced by encoding: its value re-encodes to the canonical zero code.
          uint32_t want = code;
          if (v == 0 && !std::signbit(v)) want = 0;
          const uint32_t got = EncodeScalar(spec, v, Opts(mode, p));
          const uint32_t got_f32 = EncodeScalar(spec, static_cast<float>(v), Opts(mode, p));
          bad += got != want;
          bad += (static_cast<double>(static_cast<float>(v)) == v) && got_f32 != want;
          ++checked;
        }
      }
      for (uint8_t k : {0, 1, 8, 32}) {  // stochastic rounding does not move it either
        QuantizeOptions o = Opts(RoundingMode::kStochastic, Overflow::kInf, k);
        o.seed = code;
        bad += cls != CodeClass::kInf && cls != CodeClass::kZero &&
               EncodeScalar(spec, v, o, code) != code;
      }
    }
    CHECK(bad == 0);
  }
  CHECK(checked > 1000000);
}

TEST_CASE("pitfall: MX formats without NaN map NaN through the format's nan policy", "[pitfalls]") {
  const double pos_nan = NaN(), neg_nan = -NaN();
  // Default (ml_dtypes): +NaN -> the -0 code, -NaN -> +0.
  CHECK(Rne("e2m1fn", pos_nan) == 0x8);
  CHECK(Rne("e2m1fn", neg_nan) == 0x0);
  CHECK(Rne("e2m3fn", pos_nan) == 0x20);
  CHECK(Rne("e2m3fn", neg_nan) == 0x00);
  CHECK(Rne("e3m2fn", pos_nan, kSatFinite) == 0x20);
  CHECK(Rne("e3m2fn", neg_nan, kSatPropagate) == 0x00);
  // The explicit policies of a format file: `nan = "zero"` (universal) and `nan = "max"` (TE).
  const char* base =
      "name = \"my_e2m1\"\nkind = \"minifloat\"\nbits = 4\nexponent_bits = 2\n"
      "mantissa_bits = 1\nbias = 1\nspecials = \"finite\"\n";
  const StatusOr<Format> zero = ParseFormatToml(std::string(base) + "nan = \"zero\"\n", "z.toml");
  const StatusOr<Format> max = ParseFormatToml(std::string(base) + "nan = \"max\"\n", "m.toml");
  const StatusOr<Format> dflt = ParseFormatToml(base, "d.toml");
  REQUIRE(zero.ok());
  REQUIRE(max.ok());
  REQUIRE(dflt.ok());
  for (Overflow p : testing::kPolicies) {
    CHECK(EncodeScalar(zero->spec, pos_nan, Opts(RoundingMode::kNearestEven, p)) == 0x0);
    CHECK(EncodeScalar(zero->spec, neg_nan, Opts(RoundingMode::kNearestEven, p)) == 0x0);
    CHECK(EncodeScalar(max->spec, pos_nan, Opts(RoundingMode::kNearestEven, p)) == 0x7);
    CHECK(EncodeScalar(max->spec, neg_nan, Opts(RoundingMode::kNearestEven, p)) == 0x7);
    CHECK(EncodeScalar(dflt->spec, pos_nan, Opts(RoundingMode::kNearestEven, p)) == 0x8);
  }
  // Numbers are unaffected by the NaN policy.
  CHECK(EncodeScalar(max->spec, 2.5, Opts(RoundingMode::kNearestEven)) == 0x4);
}

TEST_CASE("pitfall: a float64 is rounded once: -431.99999999999994 gives e4m3fn -416",
          "[pitfalls]") {
  const double x = -431.99999999999994;  // nextafter(-432, 0)
  REQUIRE(x == std::nextafter(-432.0, 0.0));
  CHECK(Rne("e4m3fn", x) == 0xFD);  // -416 (ml_dtypes PR #401 gave -448)
  CHECK(DecodeScalar(Get("e4m3fn").spec, 0xFD) == -416.0);
  // Through float32 the input becomes the tie -432, which goes to the even code -448: the trap.
  CHECK(EncodeScalar(Get("e4m3fn").spec, static_cast<float>(x), Opts(RoundingMode::kNearestEven)) ==
        0xFE);
  // And 432 plus a double ulp rounds up, plus a float32 ulp too.
  CHECK(Rne("e4m3fn", std::nextafter(432.0, 1000.0)) == 0x7E);
  // Every tie of every format up to 16 bits that float32 can hold, moved by one float64 ulp:
  // a float64 rounds to the nearer neighbour, where rounding through float32 would tie.
  uint64_t cases = 0, trap = 0, bad = 0;
  for (const Format& f : BuiltinFormats()) {
    if (f.spec.bits > 16 || f.spec.kind != FormatKind::kMinifloat || !f.element.empty()) continue;
    const FormatSpec& spec = f.spec;
    const oracle::Model model = oracle::MakeModel(spec);
    for (uint64_t c = spec.has_zero ? 0 : 0; c < spec.max_code; ++c) {
      const double lo = oracle::Value(model, c), hi = oracle::Value(model, c + 1);
      if (lo == hi) continue;
      const double mid = 0.5 * (lo + hi);
      if (static_cast<double>(static_cast<float>(mid)) != mid) continue;
      const double below = std::nextafter(mid, 0.0), above = std::nextafter(mid, Inf());
      for (Overflow p : testing::kPolicies) {
        const QuantizeOptions o = Opts(RoundingMode::kNearestEven, p);
        const uint32_t lo_code = EncodeScalar(spec, lo, o), hi_code = EncodeScalar(spec, hi, o);
        bad += EncodeScalar(spec, below, o) != lo_code;
        bad += EncodeScalar(spec, above, o) != hi_code;
        const uint32_t via_f32 = EncodeScalar(spec, static_cast<float>(below), o);
        trap += via_f32 != lo_code;  // the tie went up: double rounding would be wrong here
        ++cases;
      }
    }
  }
  INFO("cases " << cases << ", where float32 double rounding would be wrong " << trap);
  CHECK(bad == 0);
  CHECK(cases > 10000);
  CHECK(trap > 1000);
}

TEST_CASE("pitfall: directed rounding overflow: rtz gives max and rup gives +inf but -max",
          "[pitfalls]") {
  const FormatSpec& e5m2 = Get("e5m2").spec;
  auto enc = [](const FormatSpec& s, double x, RoundingMode m) {
    return EncodeScalar(s, x, Opts(m, Overflow::kInf));
  };
  for (double x : {57345.0, 61440.0, 70000.0, 1e300}) {
    INFO(x);
    CHECK(enc(e5m2, x, RoundingMode::kTowardZero) == 0x7B);
    CHECK(enc(e5m2, -x, RoundingMode::kTowardZero) == 0xFB);
    CHECK(enc(e5m2, x, RoundingMode::kUp) == 0x7C);
    CHECK(enc(e5m2, -x, RoundingMode::kUp) == 0xFB);
    CHECK(enc(e5m2, x, RoundingMode::kDown) == 0x7B);
    CHECK(enc(e5m2, -x, RoundingMode::kDown) == 0xFC);
    CHECK(enc(e5m2, x, RoundingMode::kToOdd) == 0x7B);
    CHECK(enc(e5m2, -x, RoundingMode::kToOdd) == 0xFB);
  }
  CHECK(enc(e5m2, 57345.0, RoundingMode::kNearestAway) == 0x7B);
  CHECK(enc(e5m2, 61440.0, RoundingMode::kNearestAway) == 0x7C);
  const FormatSpec& fp16 = Get("fp16").spec;
  CHECK(enc(fp16, 65505.0, RoundingMode::kUp) == 0x7C00);
  CHECK(enc(fp16, -65505.0, RoundingMode::kUp) == 0xFBFF);
  CHECK(enc(fp16, 1e10, RoundingMode::kTowardZero) == 0x7BFF);
  // Without inf: NaN (e4m3fn) or max (e2m1), and saturating policies give max in every mode.
  const FormatSpec& e4m3fn = Get("e4m3fn").spec;
  CHECK(enc(e4m3fn, 449.0, RoundingMode::kUp) == 0x7F);
  CHECK(enc(e4m3fn, -449.0, RoundingMode::kUp) == 0xFE);
  CHECK(enc(e4m3fn, 1e9, RoundingMode::kTowardZero) == 0x7E);
  CHECK(EncodeScalar(e4m3fn, 449.0, Opts(RoundingMode::kUp, kSatFinite)) == 0x7E);
  CHECK(enc(Get("e2m1fn").spec, 6.5, RoundingMode::kUp) == 0x7);
}

TEST_CASE("pitfall: posit8_2 rounds on the bit pattern: 3*2^21 gives 2^24 and 2^22 gives 2^20",
          "[pitfalls]") {
  const FormatSpec& p8 = Get("posit8_2").spec;
  CHECK(DecodeScalar(p8, 0x7E) == std::ldexp(1.0, 20));
  CHECK(DecodeScalar(p8, 0x7F) == std::ldexp(1.0, 24));
  CHECK(Rne("posit8_2", std::ldexp(1.0, 22)) == 0x7E);  // the bit-pattern tie, 7e is even
  CHECK(Rne("posit8_2", Up(std::ldexp(1.0, 22))) == 0x7F);
  CHECK(Rne("posit8_2", 3 * std::ldexp(1.0, 21)) == 0x7F);
  CHECK(Rne("posit8_2", 8.5 * std::ldexp(1.0, 20)) == 0x7F);  // the arithmetic midpoint
  CHECK(Rne("posit8_2", -std::ldexp(1.0, 22)) == 0x82);       // two's complement of 7e
  CHECK(Rne("posit8_2", -3 * std::ldexp(1.0, 21)) == 0x81);
  CHECK(EncodeScalar(p8, std::ldexp(1.0f, 22), Opts(RoundingMode::kNearestEven)) == 0x7E);
}

TEST_CASE("pitfall: posits never round a nonzero to 0 nor a finite value to NaR", "[pitfalls]") {
  const double tiny[] = {std::ldexp(1.0, -1074), 1e-300, std::ldexp(1.0, -200)};
  const double huge[] = {1.7976931348623157e308, 1e300, std::ldexp(1.0, 200)};
  for (const char* name :
       {"posit8_0", "posit8_1", "posit8_2", "posit16_1", "posit16_2", "posit32_2"}) {
    INFO(name);
    const FormatSpec& s = Get(name).spec;
    const uint32_t mask = s.bits == 32 ? 0xFFFFFFFFu : (1u << s.bits) - 1;
    const uint32_t maxpos = mask >> 1, minpos = 1;
    const double minpos_v = DecodeScalar(s, minpos), maxpos_v = DecodeScalar(s, maxpos);
    std::vector<double> small(std::begin(tiny), std::end(tiny));
    small.push_back(minpos_v / 2);
    small.push_back(minpos_v * 0.75);
    std::vector<double> big(std::begin(huge), std::end(huge));
    big.push_back(maxpos_v * 1.5);
    std::vector<QuantizeOptions> all;
    for (RoundingMode m : testing::kDeterministicModes) {
      for (Overflow p : testing::kPolicies) all.push_back(Opts(m, p));
    }
    for (uint8_t k : {0, 1, 8}) all.push_back(Opts(RoundingMode::kStochastic, kOvfInf, k));
    for (const QuantizeOptions& o : all) {
      for (uint64_t i = 0; i < 8; ++i) {
        for (double x : small) {
          CHECK(EncodeScalar(s, x, o, i) == minpos);
          CHECK(EncodeScalar(s, -x, o, i) == ((0u - minpos) & mask));
        }
        for (double x : big) {
          CHECK(EncodeScalar(s, x, o, i) == maxpos);
          CHECK(EncodeScalar(s, -x, o, i) == ((0u - maxpos) & mask));
        }
      }
      CHECK(EncodeScalar(s, 0.0, o) == 0u);
      CHECK(EncodeScalar(s, -0.0, o) == 0u);
      CHECK(EncodeScalar(s, NaN(), o) == s.sign_bit);
    }
  }
}

TEST_CASE("pitfall: P3109 binary8p3 max is 49152 and binary8p4 max is 224", "[pitfalls]") {
  struct Case {
    const char* name;
    double max;
    const char* finite_variant;  // P3109 finite variant (no inf, NaN 0x80) = the fnuz format
    double finite_max;
  };
  for (const Case& c : {Case{"binary8p3", 49152.0, "e5m2fnuz", 57344.0},
                        Case{"binary8p4", 224.0, "e4m3fnuz", 240.0}}) {
    INFO(c.name);
    const FormatSpec& s = Get(c.name).spec;
    CHECK(MaxFinite(s) == c.max);
    CHECK(DecodeScalar(s, 0x7E) == c.max);
    CHECK(std::isinf(DecodeScalar(s, 0x7F)));
    CHECK(DecodeScalar(s, 0xFF) == -Inf());
    CHECK(std::isnan(DecodeScalar(s, 0x80)));
    CHECK(Rne(c.name, -0.0) == 0x00);  // no -0
    CHECK(Rne(c.name, c.max) == 0x7E);
    const FormatSpec& fin = Get(c.finite_variant).spec;
    CHECK(MaxFinite(fin) == c.finite_max);
    CHECK(fin.bias == s.bias);
    CHECK(fin.exponent_bits == s.exponent_bits);
  }
  // Bias 2^(7-P) for the family.
  for (int p = 1; p <= 7; ++p) {
    const FormatSpec& s = Get("binary8p" + std::to_string(p)).spec;
    CHECK(s.bias == (1 << (7 - p)));
    CHECK(s.mantissa_bits == p - 1);
  }
}

TEST_CASE("pitfall: stochastic rounding at max follows the overflow policy", "[pitfalls]") {
  struct Case {
    const char* format;
    double x;
    uint32_t max, beyond_ovf_inf;  // what "up" gives under ovf-inf
  };
  const Case cases[] = {{"e4m3fn", 460.0, 0x7E, 0x7F},
                        {"e5m2", 60000.0, 0x7B, 0x7C},
                        {"fp16", 65519.0, 0x7BFF, 0x7C00},
                        {"e4m3fnuz", 244.0, 0x7F, 0x80},
                        {"e2m1fn", 6.5, 0x7, 0x7}};
  for (const Case& c : cases) {
    INFO(c.format);
    const FormatSpec& s = Get(c.format).spec;
    for (uint8_t k : {0, 2, 8}) {
      uint64_t past_max = 0, other = 0;
      for (uint64_t i = 0; i < 4000; ++i) {
        QuantizeOptions o = Opts(RoundingMode::kStochastic, kOvfInf, k);
        const uint32_t inf_result = EncodeScalar(s, c.x, o, i);
        o.overflow = kSatFinite;
        const uint32_t fin = EncodeScalar(s, c.x, o, i);
        o.overflow = kSatPropagate;
        const uint32_t prop = EncodeScalar(s, c.x, o, i);
        other += fin != c.max || prop != c.max;  // saturating: always max
        past_max += inf_result == c.beyond_ovf_inf && c.beyond_ovf_inf != c.max;
        other += inf_result != c.max && inf_result != c.beyond_ovf_inf;
      }
      CHECK(other == 0);
      if (c.beyond_ovf_inf != c.max) CHECK(past_max > 0);  // it does round up past max
    }
    // Beyond max + ulp every draw overflows.
    const double far = c.x * 4;
    for (uint64_t i = 0; i < 64; ++i) {
      CHECK(EncodeScalar(s, far, Opts(RoundingMode::kStochastic), i) == c.beyond_ovf_inf);
      CHECK(EncodeScalar(s, far, Opts(RoundingMode::kStochastic, kSatFinite), i) == c.max);
    }
  }
}

TEST_CASE("pitfall: stochastic rounding of half the smallest subnormal is 0 or min 50/50",
          "[pitfalls]") {
  // A two-sided exact binomial test per case; alpha per tail 1e-9 / (2 * 6 cases) keeps the
  // whole test's false-failure rate below 1e-9.
  const double alpha_tail = 1e-9 / 12;
  struct Case {
    const char* format;
    double x;
    uint32_t lo, hi;
  };
  const Case cases[] = {{"e4m3fn", std::ldexp(1.0, -10), 0x00, 0x01},
                        {"e4m3fn", -std::ldexp(1.0, -10), 0x80, 0x81},
                        {"e2m1fn", 0.25, 0x0, 0x1},
                        {"fp16", std::ldexp(1.0, -25), 0x0000, 0x0001},
                        {"e5m2fnuz", -std::ldexp(1.0, -18), 0x00, 0x81},
                        {"bf16", std::ldexp(1.0, -134), 0x0000, 0x0001}};
  const uint64_t n = 200000;
  for (const Case& c : cases) {
    INFO(c.format << " " << c.x);
    for (uint8_t k : {0, 8}) {
      QuantizeOptions o = Opts(RoundingMode::kStochastic, kOvfInf, k);
      o.seed = 0x5EED + k;
      uint64_t ups = 0, other = 0;
      for (uint64_t i = 0; i < n; ++i) {
        const uint32_t code = EncodeScalar(Get(c.format).spec, c.x, o, i);
        ups += code == c.hi;
        other += code != c.hi && code != c.lo;
      }
      const testing::Interval ok = testing::BinomialAcceptance(n, 0.5, alpha_tail);
      INFO("ups " << ups << " of " << n << ", accept [" << ok.lo << ", " << ok.hi << "]");
      CHECK(other == 0);
      CHECK(static_cast<double>(ups) >= ok.lo);
      CHECK(static_cast<double>(ups) <= ok.hi);
    }
  }
}

TEST_CASE("pitfall: stochastic rounding never moves a representable value", "[pitfalls]") {
  uint64_t checked = 0, moved = 0;
  for (const Format& f : BuiltinFormats()) {
    if (!f.element.empty()) continue;
    const FormatSpec& s = f.spec;
    const uint64_t codes = uint64_t{1} << s.bits;
    const uint64_t step = s.bits <= 8 ? 1 : codes / 4096 + 1;  // 16/32 bits: a spread sample
    for (uint64_t code = 0; code < codes; code += step) {
      const double v = DecodeScalar(s, static_cast<uint32_t>(code));
      if (!std::isfinite(v)) continue;
      const uint32_t canonical = EncodeScalar(s, v, Opts(RoundingMode::kNearestEven));
      for (uint8_t k : {0, 1, 3, 8, 16, 32}) {
        for (uint64_t i = 0; i < 16; ++i) {
          QuantizeOptions o = Opts(RoundingMode::kStochastic, kOvfInf, k);
          o.seed = code * 31 + i;
          moved += EncodeScalar(s, v, o, i) != canonical;
          moved += static_cast<double>(static_cast<float>(v)) == v &&
                   EncodeScalar(s, static_cast<float>(v), o, i) != canonical;
          ++checked;
        }
      }
    }
  }
  INFO("checked " << checked);
  CHECK(moved == 0);
  CHECK(checked > 100000);
}

TEST_CASE("pitfall: stochastic rounding does not silently return zeros", "[pitfalls]") {
  // TE PR #3281: an SR path returned zeros. Values spread over (0, 2 min subnormal) must round
  // to nonzero codes in proportion to their size, and the mean is preserved (SR is unbiased).
  for (const char* name : {"e4m3fn", "e2m1fn", "fp16", "e5m2"}) {
    INFO(name);
    const FormatSpec& s = Get(name).spec;
    const double min_sub = MinPositive(s);
    const uint64_t n = 100000;
    double expected_nonzero = 0, sum_in = 0, sum_out = 0;
    uint64_t nonzero = 0;
    QuantizeOptions o = Opts(RoundingMode::kStochastic);
    o.seed = 12345;
    for (uint64_t i = 0; i < n; ++i) {
      const double x = min_sub * (static_cast<double>(i) + 0.5) / static_cast<double>(n);
      expected_nonzero += x / min_sub;  // P(not 0) for x in (0, min_sub)
      const double q = QuantizeScalar(s, x, o, i);
      nonzero += q != 0;
      sum_in += x;
      sum_out += q;
    }
    // Hoeffding for a sum of n independent indicators: P(|S - E S| >= t) <= 2 exp(-2 t^2 / n);
    // t = sqrt(n ln(2/1e-9) / 2) makes a false failure less likely than 1e-9.
    const double t = std::sqrt(static_cast<double>(n) * std::log(2 / 1e-9) / 2);
    INFO("nonzero " << nonzero << ", expected " << expected_nonzero << " +- " << t);
    CHECK(std::fabs(static_cast<double>(nonzero) - expected_nonzero) <= t);
    CHECK(std::fabs(sum_out - sum_in) <= t * min_sub);
  }
}

}  // namespace
}  // namespace qfloat
