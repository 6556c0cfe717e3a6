// Stochastic rounding: the Philox4x32-10 generator against Random123 (published known answers and
// its own philox.h), the random-bit layout of DESIGN.md "Rounding", the exact `sr` probabilities
// (binomial tests), the `sr:K` rule (enumerated over every value of the K random bits), the mean
// error of `sr:K`, and reproducibility.
#include <Random123/philox.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <random>
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
using testing::Opts;

Philox4x32 Ours(uint32_t c0, uint32_t c1, uint32_t c2, uint32_t c3, uint32_t k0, uint32_t k1) {
  return Philox4x32_10(Philox4x32{{c0, c1, c2, c3}}, k0, k1);
}

TEST_CASE("philox: Random123 known-answer vectors for philox4x32 10", "[sr]") {
  // Random123 tests/kat_vectors, the three "philox4x32 10" lines: ctr[4] key[2] -> out[4].
  struct Kat {
    uint32_t ctr[4], key[2], out[4];
  };
  const Kat kats[] = {{{0x00000000, 0x00000000, 0x00000000, 0x00000000},
                       {0x00000000, 0x00000000},
                       {0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}},
                      {{0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff},
                       {0xffffffff, 0xffffffff},
                       {0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}},
                      {{0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344},
                       {0xa4093822, 0x299f31d0},
                       {0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}}};
  for (const Kat& k : kats) {
    const Philox4x32 got = Ours(k.ctr[0], k.ctr[1], k.ctr[2], k.ctr[3], k.key[0], k.key[1]);
    for (int i = 0; i < 4; ++i) CHECK(got.v[i] == k.out[i]);
    // The known answers also hold for Random123's own implementation (the cross-check below).
    r123::Philox4x32 r;
    const auto ref = r({{k.ctr[0], k.ctr[1], k.ctr[2], k.ctr[3]}}, {{k.key[0], k.key[1]}});
    for (int i = 0; i < 4; ++i) CHECK(ref[i] == k.out[i]);
  }
  static_assert(Philox4x32_10(Philox4x32{{0, 0, 0, 0}}, 0, 0).v[0] == 0x6627e8d5u,
                "usable in constant expressions");
}

TEST_CASE("philox: qfloat's Philox4x32-10 equals Random123 philox.h on random counters and keys",
          "[sr]") {
  std::mt19937_64 rng(20240601);
  r123::Philox4x32 r;
  uint64_t mismatches = 0;
  for (int n = 0; n < 200000; ++n) {
    uint32_t w[6];
    for (uint32_t& x : w) x = static_cast<uint32_t>(rng());
    const Philox4x32 got = Ours(w[0], w[1], w[2], w[3], w[4], w[5]);
    const auto ref = r({{w[0], w[1], w[2], w[3]}}, {{w[4], w[5]}});
    for (int i = 0; i < 4; ++i) mismatches += got.v[i] != ref[i];
  }
  CHECK(mismatches == 0);
}

TEST_CASE("philox: StochasticBits follows the documented counter layout", "[sr]") {
  // Element i, stream t, seed s, word w: word (i mod 4) of
  // Philox4x32-10((lo32(i/4), hi32(i/4), t, w), (lo32(s), hi32(s))). The oracle computes it with
  // Random123.
  std::mt19937_64 rng(7);
  uint64_t mismatches = 0;
  for (int n = 0; n < 100000; ++n) {
    const uint64_t seed = rng();
    const uint32_t stream = static_cast<uint32_t>(rng());
    const uint64_t index = (n % 2) ? rng() : rng() % 4096;  // high words of the index too
    const uint32_t word = static_cast<uint32_t>(rng() % 4);
    mismatches +=
        StochasticBits(seed, stream, index, word) != oracle::RandomWord(seed, stream, index, word);
  }
  CHECK(mismatches == 0);
  // Spot values, written out: seed 0, stream 0, indices 0..3 are the zero-counter KAT words.
  CHECK(StochasticBits(0, 0, 0, 0) == 0x6627e8d5u);
  CHECK(StochasticBits(0, 0, 1, 0) == 0xe169c58du);
  CHECK(StochasticBits(0, 0, 2, 0) == 0xbc57ac4cu);
  CHECK(StochasticBits(0, 0, 3, 0) == 0x9b00dbd8u);
}

// A point x between two neighbours with its exact up-probability f = (x - lo)/(hi - lo).
struct SrPoint {
  const char* format;
  double x;
};

TEST_CASE("sr: the frequency of rounding up matches (x - lo)/(hi - lo)", "[sr]") {
  // Points where hi - lo is a power of two and, for posits at long regimes, where it is not
  // (lo = 2^a, hi = 2^b): there f differs from the bit-pattern fraction.
  const SrPoint points[] = {
      {"e4m3fn", 1.0 + 0.125 * 0.3},              // f = 0.3
      {"e4m3fn", 300.0},                          // 288..320: f = 0.375
      {"e4m3fn", std::ldexp(1.0, -10) * 1.5},     // subnormal: f = 0.75
      {"e2m1fn", 5.5},                            // 4..6: f = 0.75
      {"e5m2", -1000.0},                          // 896..1024: f = 0.8125
      {"e8m0fnu", 1.2},                           // 1..2: f = 0.2
      {"bf16", 1.0 + std::ldexp(1.0, -7) / 3},    // f ~ 1/3
      {"posit8_2", 3 * std::ldexp(1.0, 21)},      // 2^20..2^24: f = 1/3 (pattern: > 1/2)
      {"posit8_2", std::ldexp(1.0, 22)},          // f = 3/15 = 0.2 (the rne tie)
      {"posit8_2", std::ldexp(1.0, -22)},         // 2^-24..2^-20: f = (2^2-1)/(2^4-1) = 0.2
      {"posit16_2", 0.7 * std::ldexp(1.0, 54)},   // 2^52..2^56
      {"posit32_2", 1.3 * std::ldexp(1.0, 117)},  // 2^116..2^120
      {"posit8_0", 0.7},                          // short regime, power-of-two gap
  };
  const int tests = sizeof(points) / sizeof(points[0]) * 2;  // x 2 modes
  // Bonferroni: each of the `tests` two-sided tests gets alpha = 1e-9 / tests, half per tail,
  // so the probability that any of them fails by chance is at most 1e-9.
  const double alpha_tail = 1e-9 / tests / 2;
  const uint64_t n = 1000000;
  for (const SrPoint& p : points) {
    const FormatSpec& s = Get(p.format).spec;
    const oracle::Model model = oracle::MakeModel(s);
    const oracle::Located at = oracle::Locate(model, p.x);
    REQUIRE(at.position == oracle::Position::kBetween);
    const double f = oracle::ValueFractionApprox(at);
    const uint32_t lo =
        oracle::RoundDeterministic(model, at, RoundingMode::kTowardZero, Overflow::kInf);
    const uint32_t hi = oracle::RoundDeterministic(
        model, at, at.negative ? RoundingMode::kDown : RoundingMode::kUp, Overflow::kInf);
    REQUIRE(lo != hi);
    for (uint8_t k : {0, 32}) {  // exact sr, and sr:32 (f truncated to 32 bits: same to 2^-32)
      QuantizeOptions o = Opts(RoundingMode::kStochastic, Overflow::kInf, k);
      o.seed = 0xC0FFEE;
      o.stream = 3;
      uint64_t ups = 0, other = 0;
      for (uint64_t i = 0; i < n; ++i) {
        const uint32_t code = EncodeScalar(s, p.x, o, i);
        ups += code == hi;
        other += code != hi && code != lo;
      }
      const testing::Interval ok = testing::BinomialAcceptance(n, f, alpha_tail);
      INFO(p.format << " x=" << p.x << " sr_bits " << int(k) << ": f=" << f << ", ups " << ups
                    << " of " << n << ", accept [" << ok.lo << ", " << ok.hi << "]");
      CHECK(other == 0);
      CHECK(static_cast<double>(ups) >= ok.lo);
      CHECK(static_cast<double>(ups) <= ok.hi);
    }
  }
}

// An element index whose word 0 has each value of its top K bits, for every value.
std::vector<uint64_t> IndicesForEveryTopValue(uint64_t seed, uint32_t stream, int k) {
  std::vector<uint64_t> found(uint64_t{1} << k, ~uint64_t{0});
  uint64_t missing = found.size();
  for (uint64_t i = 0; missing > 0; ++i) {
    const uint32_t top = StochasticBits(seed, stream, i, 0) >> (32 - k);
    if (found[top] == ~uint64_t{0}) {
      found[top] = i;
      --missing;
    }
  }
  return found;
}

TEST_CASE("sr:K: probabilities are exact multiples of 2^-K over all 2^K values of the bits",
          "[sr]") {
  const SrPoint points[] = {{"e4m3fn", 1.0 + 0.125 * 0.3},
                            {"e4m3fn", 1.0 + 0.125 * 0.999},
                            {"e4m3fn", 1.0 + 0.125 * 0.001},
                            {"e2m1fn", 5.5},
                            {"posit8_2", 3 * std::ldexp(1.0, 21)},
                            {"posit8_2", 1.7e6},
                            {"posit16_2", 0.7 * std::ldexp(1.0, 54)},
                            {"fp16", 1.0 + 1e-4},
                            {"e8m0fnu", 1.2},
                            {"e5m2", -1000.0}};
  const uint64_t seed = 99;
  const uint32_t stream = 5;
  for (int k : {1, 2, 3, 4, 5, 8}) {
    const std::vector<uint64_t> idx = IndicesForEveryTopValue(seed, stream, k);
    for (const SrPoint& p : points) {
      const FormatSpec& s = Get(p.format).spec;
      const oracle::Model model = oracle::MakeModel(s);
      const oracle::Located at = oracle::Locate(model, p.x);
      REQUIRE(at.position == oracle::Position::kBetween);
      const uint64_t top = oracle::ValueFractionTopBits(at, k);  // floor(f 2^K)
      const uint32_t lo = EncodeScalar(s, p.x, Opts(RoundingMode::kTowardZero));
      QuantizeOptions o = Opts(RoundingMode::kStochastic, Overflow::kInf, static_cast<uint8_t>(k));
      o.seed = seed;
      o.stream = stream;
      uint64_t ups = 0;
      for (uint64_t r = 0; r < idx.size(); ++r) {
        const bool up = EncodeScalar(s, p.x, o, idx[r]) != lo;
        ups += up;
        // The rule: up iff floor(f 2^K) + r >= 2^K.
        CHECK(up == (top + r >= (uint64_t{1} << k)));
      }
      // P(up) = ups / 2^K exactly, and that is floor(f 2^K) / 2^K.
      INFO(p.format << " x=" << p.x << " K=" << k);
      CHECK(ups == top);
    }
  }
}

TEST_CASE("sr:K: mean error for K = 1 3 8 16 is the truncation bias", "[sr]") {
  // x spread evenly over one gap of e4m3fn ([1, 1.125)), one draw each. Per draw the error in
  // units of the gap, e = (Q(x) - x)/(hi - lo), lies in [-f, 1 - f] (width 1); its expectation
  // for sr:K is floor(f 2^K)/2^K - f (the "variant A" truncation: biased toward zero by < 2^-K),
  // 0 for exact sr. Hoeffding: P(|mean - E mean| >= t) <= 2 exp(-2 n t^2), so with
  // t = sqrt(ln(2 * 5 / 1e-9) / (2 n)) all 5 checks together fail by chance with p <= 1e-9.
  const FormatSpec& s = Get("e4m3fn").spec;
  const uint64_t n = 1 << 20;
  const double gap = 0.125;
  const double t = std::sqrt(std::log(2 * 5 / 1e-9) / (2.0 * n));
  for (int k : {1, 3, 8, 16, 0}) {
    QuantizeOptions o = Opts(RoundingMode::kStochastic, Overflow::kInf, static_cast<uint8_t>(k));
    o.seed = 4242 + k;
    double measured = 0, expected = 0;
    for (uint64_t i = 0; i < n; ++i) {
      const double f = (static_cast<double>(i) + 0.5) / static_cast<double>(n);  // exact
      const double x = 1.0 + f * gap;
      measured += (QuantizeScalar(s, x, o, i) - x) / gap;
      if (k > 0) expected += std::floor(std::ldexp(f, k)) / std::ldexp(1.0, k) - f;
    }
    measured /= static_cast<double>(n);
    expected /= static_cast<double>(n);
    INFO("K=" << k << " mean error " << measured << " (gaps), expected " << expected << " +- "
              << t);
    CHECK(std::fabs(measured - expected) <= t);
    if (k > 0) {
      // Truncating f to K bits loses on average half a unit of 2^-K (f uniform here).
      CHECK(expected == Approx(-std::ldexp(0.5, -k)).margin(1e-9));
    }
  }
}

TEST_CASE("sr: exact sr reads further words only when word 0 equals f's first 32 bits", "[sr]") {
  // e4m3fn in [1, 1.125): gap 2^-3, so a float64 x carries 49 bits of f. Build f = (R0 + d 2^-17)
  // 2^-32, with R0 the element's word 0: word 1 decides, up iff R1 < d 2^15; d = 0 (f = R0/2^32
  // exactly) never rounds up because U >= f.
  const FormatSpec& s = Get("e4m3fn").spec;
  const oracle::Model model = oracle::MakeModel(s);
  std::mt19937_64 rng(31337);
  uint64_t ups = 0, downs = 0;
  for (int n = 0; n < 20000; ++n) {
    QuantizeOptions o = Opts(RoundingMode::kStochastic);
    o.seed = rng();
    o.stream = static_cast<uint32_t>(rng());
    const uint64_t index = rng() % 100000;
    const uint32_t r0 = StochasticBits(o.seed, o.stream, index, 0);
    const uint32_t r1 = StochasticBits(o.seed, o.stream, index, 1);
    const uint64_t d = (n % 4 == 0) ? 0 : rng() % (uint64_t{1} << 17);
    const double f =
        std::ldexp(static_cast<double>(r0), -32) + std::ldexp(static_cast<double>(d), -49);
    const double x = 1.0 + f * 0.125;
    REQUIRE(std::ldexp(x - 1.0, 3) == f);                  // exact construction
    const bool up = EncodeScalar(s, x, o, index) == 0x39;  // 1.125 = 0x39, 1 = 0x38
    const bool want = d != 0 && r1 < d * (uint64_t{1} << 15);
    CHECK(up == want);
    const oracle::Located at = oracle::Locate(model, x);
    CHECK(oracle::RoundStochastic(model, at, 0, Overflow::kInf,
                                  oracle::SrDraw{o.seed, o.stream, index}) == (up ? 0x39u : 0x38u));
    ups += up;
    downs += !up;
  }
  CHECK(ups > 1000);
  CHECK(downs > 1000);
}

TEST_CASE("sr: same seed stream and index give the same result and another stream or seed differs",
          "[sr]") {
  const FormatSpec& s = Get("e4m3fn").spec;
  const double x = 1.0 + 0.125 * 0.5;  // f = 1/2: outcomes differ half the time between draws
  const uint64_t n = 100000;
  for (uint8_t k : {0, 8}) {
    QuantizeOptions a = Opts(RoundingMode::kStochastic, Overflow::kInf, k);
    a.seed = 0xABCDEF0123456789ull;
    a.stream = 1;
    QuantizeOptions b = a;
    b.stream = 2;
    QuantizeOptions c = a;
    c.seed ^= uint64_t{1} << 40;  // the seed's high word is part of the key
    uint64_t same_again = 0, differ_stream = 0, differ_seed = 0;
    for (uint64_t i = 0; i < n; ++i) {
      const uint32_t r = EncodeScalar(s, x, a, i);
      same_again += EncodeScalar(s, x, a, i) == r;
      differ_stream += EncodeScalar(s, x, b, i) != r;
      differ_seed += EncodeScalar(s, x, c, i) != r;
      // index_offset + index is the element's position: splitting a call changes nothing.
      QuantizeOptions shifted = a;
      shifted.index_offset = i / 3;
      CHECK(EncodeScalar(s, x, shifted, i - i / 3) == r);
    }
    CHECK(same_again == n);
    // Independent fair outcomes differ with probability 1/2: expect n/2; the exact binomial
    // acceptance interval at 1e-9 per tail is about n/2 +- 3000.
    const testing::Interval ok = testing::BinomialAcceptance(n, 0.5, 1e-9 / 8);
    CHECK(static_cast<double>(differ_stream) >= ok.lo);
    CHECK(static_cast<double>(differ_stream) <= ok.hi);
    CHECK(static_cast<double>(differ_seed) >= ok.lo);
    CHECK(static_cast<double>(differ_seed) <= ok.hi);
  }
  // The bits themselves: another stream gives other words (equal only by 2^-32 chance).
  uint64_t equal_words = 0;
  for (uint64_t i = 0; i < 100000; ++i) {
    equal_words += StochasticBits(1, 0, i, 0) == StochasticBits(1, 1, i, 0);
  }
  CHECK(equal_words <= 2);
}

}  // namespace
}  // namespace qfloat
