// ShrinkageStats against the exact oracle (exact_oracle.h): every estimator of THEORY.md §2.1-2.2
// on random and adversarial tensors. The exact path must equal the oracle's exact rational
// rounded once (IsCorrectlyRounded); the fast path must lie within the bound stated below.
//
// Fast-path bound (THEORY.md §2.7 error model; docs/theory-notes.md §3). With u = 2^-53:
// S_dg is TwoSum-accumulated per element and folded in double-double, so its error is
// O(n u^2) sum|g d|; S_gg, S_dd, S_gQ, S_QQ and the class sums are two-level sums (plain lane
// sums over at most 64 terms, then TwoSum), so a one-signed sum is within 64u relative; the
// derived figures are formed in double-double and rounded once (u/2). Where d = Q - g is not a
// double (clamps far from g), the fast path rounds d and g d: <= 2u |g d| per such element. q^
// and |eps|^2 use the d-sums when S_dd <= S_QQ and the Q-sums (q^ = S_gQ/S_gg, |eps|^2 = S_QQ -
// S_gQ^2/S_gg, no cancellation when q^ is near 0) otherwise. Hence
//   |deficit_fast - deficit| <= 68u |deficit| + (2u F_gd + 2^-90 A_gd) / S_gg,
//   |q_fast - q| <= 136u |q| + (2u F_gd + 2^-90 A_gd) / S_gg            (d-form),
//                   68u |q|                                               (Q-form),
//   |R_fast - R| <= 4u R + 132u S_dd + 8u (F_dd + 2|b| F_gd) + 2^-90 2|b| A_gd   (d-form),
//                   4u R + 132u S_QQ                                          (Q-form),
// with b = S_dg/S_gg, A_gd = sum |g d| (the condition number's numerator), F_gd, F_dd the sums of
// |g d| and d^2 over elements whose d is not a double. Class energy fractions: <= 130u relative.
// Histogram bin energies: plain sums over at most 2048 elements per chunk and copy, then TwoSum:
// <= 2050u relative.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "exact_oracle.h"
#include "fast_path_bounds.h"
#include "qfloat/analysis.h"
#include "qfloat/format.h"
#include "qfloat/quantize.h"

namespace qfloat {
namespace {

using test::ExactRational;
using test::IsCorrectlyRounded;
using test::OracleStats;
using test::Rational;

constexpr double kU = test::kUnitRoundoff;

FormatSpec Spec(const char* name) {
  StatusOr<Format> f = ResolveFormat(name);
  REQUIRE(f.ok());
  return f->spec;
}

float RandomFloat(std::mt19937_64& rng, int emin, int emax) {
  // Any float32 with exponent in [emin, emax] (emin < -126 reaches the subnormals).
  std::uniform_int_distribution<int> e(emin, emax);
  std::uniform_real_distribution<float> m(1.0f, 2.0f);
  const float x = std::ldexp(m(rng), e(rng));
  return (rng() & 1) ? -x : x;
}

double ToDoubleR(const Rational& r) { return static_cast<double>(r); }

struct Case {
  const char* format;
  QuantizeOptions quantize;
  bool with_bins = true;
  bool check_fast = true;
};

// Exact rationals of the derived figures.
struct Derived {
  Rational gg, dg, dd, deficit, q_hat, residual, rho;
  bool defined = false;
};

Derived DeriveExact(const OracleStats& o) {
  Derived d;
  d.gg = o.tgg.Value();
  d.dg = o.tgd.Value();
  d.dd = o.tdd.Value();
  d.defined = d.gg > 0;
  if (d.defined) {
    d.deficit = -d.dg / d.gg;
    d.q_hat = (d.gg + d.dg) / d.gg;
    d.residual = d.dd - d.dg * d.dg / d.gg;
    d.rho = d.residual / d.gg;
  } else {
    d.residual = d.dd;
  }
  return d;
}

// Checks an exact-path summary against the oracle, to the last bit.
void CheckExact(const ShrinkageSummary& s, const OracleStats& o, bool with_bins) {
  const Derived d = DeriveExact(o);
  for (int c = 0; c < kNumElementClasses; ++c) {
    INFO("class " << ToString(static_cast<ElementClass>(c)));
    CHECK(s.classes[c].count == o.counts[c]);
    if (c == static_cast<int>(ElementClass::kNonFinite)) continue;
    CHECK(IsCorrectlyRounded(s.classes[c].s_gg, o.gg[c].Value()));
    CHECK(IsCorrectlyRounded(s.classes[c].s_dg, o.gd[c].Value()));
    CHECK(IsCorrectlyRounded(s.classes[c].s_dd, o.dd[c].Value()));
    if (d.defined) {
      CHECK(IsCorrectlyRounded(s.classes[c].energy_fraction, o.gg[c].Value() / d.gg));
      CHECK(IsCorrectlyRounded(s.classes[c].deficit_share, -o.gd[c].Value() / d.gg));
    }
  }
  CHECK(IsCorrectlyRounded(s.s_gg, d.gg));
  CHECK(IsCorrectlyRounded(s.s_dg, d.dg));
  CHECK(IsCorrectlyRounded(s.s_dd, d.dd));
  CHECK(s.defined == d.defined);
  CHECK(IsCorrectlyRounded(s.residual_sq, d.residual));
  if (d.defined) {
    CHECK(IsCorrectlyRounded(s.deficit, d.deficit));
    CHECK(IsCorrectlyRounded(s.q_hat, d.q_hat));
    CHECK(IsCorrectlyRounded(s.rho_hat, d.rho));
  } else {
    CHECK(std::isnan(s.q_hat));
    CHECK(std::isnan(s.deficit));
    CHECK(std::isnan(s.rho_hat));
  }
  if (s.included_count > 0 && d.dd >= 0) {
    CHECK(IsCorrectlyRounded(s.mse, d.dd / Rational(s.included_count)));
  }
  if (o.min_g <= o.max_g) {
    CHECK(s.min_g == o.min_g);
    CHECK(s.max_g == o.max_g);
  }
  if (with_bins) {
    std::vector<uint64_t> counts(kRatioBins, 0);
    for (const HistogramBin& h : s.histogram) {
      counts[h.bin] = h.count;
      CHECK(IsCorrectlyRounded(h.energy, o.bin_energy[h.bin].Value()));
    }
    for (int b = 0; b < kRatioBins; ++b) {
      INFO("bin " << b);
      CHECK(counts[b] == o.bin_counts[b]);
    }
  }
}

// Checks a fast-path summary against the exact figures with the bound stated at the top.
void CheckFast(const ShrinkageSummary& f, const ShrinkageSummary& e, const OracleStats& o) {
  const Derived d = DeriveExact(o);
  const double a_gd = ToDoubleR(o.abs_gd.Value());
  const double far_gd = ToDoubleR(o.far_gd.Value());
  const double far_dd = ToDoubleR(o.far_dd.Value());
  test::CheckFastCountsAndBins(f, e);
  CHECK(f.defined == e.defined);
  if (!d.defined) return;
  const double sgg = e.s_gg;
  const double bound_deficit =
      68 * kU * std::fabs(e.deficit) + (2 * kU * far_gd + 0x1p-90 * a_gd) / sgg + 0x1p-1074;
  INFO("deficit exact " << e.deficit << " fast " << f.deficit << " bound " << bound_deficit
                        << " condition " << a_gd / std::fabs(e.s_dg));
  CHECK(std::fabs(f.deficit - e.deficit) <= bound_deficit);
  const double b = std::fabs(e.s_dg / sgg);
  const double sqq = ToDoubleR(d.dd + 2 * d.dg + d.gg);  // S_QQ = S_dd + 2 S_dg + S_gg
  const bool q_form = sqq < e.s_dd;
  const double far_q = (2 * kU * far_gd + 0x1p-90 * a_gd) / sgg;
  const double bound_q =
      q_form ? 68 * kU * std::fabs(e.q_hat) : 136 * kU * std::fabs(e.q_hat) + far_q + 0x1p-1074;
  INFO("q exact " << e.q_hat << " fast " << f.q_hat << " bound " << bound_q);
  CHECK(std::fabs(f.q_hat - e.q_hat) <= bound_q);
  const double bound_residual = q_form ? 4 * kU * e.residual_sq + 132 * kU * sqq + 0x1p-1074
                                       : 4 * kU * e.residual_sq + 132 * kU * e.s_dd +
                                             8 * kU * (far_dd + 2 * b * far_gd) +
                                             0x1p-90 * (2 * b * a_gd) + 0x1p-1074;
  INFO("residual exact " << e.residual_sq << " fast " << f.residual_sq << " bound "
                         << bound_residual);
  CHECK(std::fabs(f.residual_sq - e.residual_sq) <= bound_residual);
  for (int c = 0; c < kNumElementClasses; ++c) {
    INFO("class " << c);
    CHECK(std::fabs(f.classes[c].energy_fraction - e.classes[c].energy_fraction) <=
          130 * kU * e.classes[c].energy_fraction + 1e-300);
  }
}

// Quantizes with the scalar reference, analyses on both paths, and checks both against the
// oracle. Returns the exact summary.
ShrinkageSummary RunCase(const Case& c, const std::vector<float>& g, int threads = 2) {
  const FormatSpec spec = Spec(c.format);
  TensorOptions opts;
  opts.quantize = c.quantize;
  opts.backend = Backend::kScalar;
  opts.threads = threads;
  std::vector<float> q(g.size());
  REQUIRE(Quantize(spec, g, q, opts).ok());

  std::vector<float> q_out(g.size());
  AnalyzeOptions exact_opts;
  exact_opts.path = SumPath::kExact;
  exact_opts.quantized_f32 = q_out;
  StatusOr<ShrinkageStats> exact = Analyze(spec, g, opts, exact_opts);
  REQUIRE(exact.ok());
  CHECK(std::equal(q.begin(), q.end(), q_out.begin(),
                   [](float a, float b) { return std::memcmp(&a, &b, sizeof(a)) == 0; }));
  AnalyzeOptions fast_opts;
  fast_opts.path = SumPath::kFast;
  StatusOr<ShrinkageStats> fast = Analyze(spec, g, opts, fast_opts);
  REQUIRE(fast.ok());

  const ClassThresholds t = ClassThresholds::ForFormat(spec);
  const OracleStats o = test::ComputeOracle<float>(std::span<const float>(g),
                                                   std::span<const float>(q), t, c.with_bins);
  const ShrinkageSummary es = exact->Summarize();
  const ShrinkageSummary fs = fast->Summarize();
  CHECK(es.count == g.size());
  CheckExact(es, o, c.with_bins);
  if (c.check_fast) CheckFast(fs, es, o);
  return es;
}

QuantizeOptions Rne(Overflow ovf = Overflow::kInf) {
  QuantizeOptions q;
  q.overflow = ovf;
  return q;
}

TEST_CASE("1e6-element gradient, mixed scales, e4m3fn: exact to the last bit, fast in bound") {
  std::mt19937_64 rng(11);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::uniform_real_distribution<float> scale(-5.0f, 1.0f);
  std::vector<float> g(1000000);
  for (float& x : g) x = normal(rng) * std::pow(10.0f, scale(rng));
  g[17] = 0.0f;
  g[18] = -0.0f;
  const ShrinkageSummary s = RunCase({"e4m3fn", Rne(), false, true}, g);
  // Every class of an unscaled FP8 gradient is present.
  CHECK(s.classes[static_cast<int>(ElementClass::kFlushed)].count > 0);
  CHECK(s.classes[static_cast<int>(ElementClass::kSubnormal)].count > 0);
  CHECK(s.classes[static_cast<int>(ElementClass::kNormal)].count > 0);
  CHECK(s.classes[static_cast<int>(ElementClass::kZero)].count == 2);
  CHECK(s.q_hat < 1.0);
}

TEST_CASE("huge dynamic range (all float32 exponents, subnormals included)") {
  std::mt19937_64 rng(12);
  std::vector<float> g(20000);
  for (float& x : g) x = RandomFloat(rng, -149, 127);
  for (const char* name :
       {"bf16", "fp16", "e5m2", "e4m3fn", "e2m1fn", "posit8_2", "posit16_1", "e8m0fnu", "fp32"}) {
    INFO(name);
    for (const Overflow ovf : {Overflow::kSatFinite, Overflow::kInf}) {
      // e8m0fnu is unsigned: negative inputs go to the lowest code or NaN (counted non-finite).
      RunCase({name, Rne(ovf), true, true}, g);
    }
  }
  // Directed and to-odd rounding exercise the far-from-g images (up to x_sub from tiny g).
  for (const RoundingMode m : {RoundingMode::kUp, RoundingMode::kDown, RoundingMode::kTowardZero,
                               RoundingMode::kToOdd, RoundingMode::kNearestAway}) {
    QuantizeOptions q = Rne(Overflow::kSatFinite);
    q.rounding.mode = m;
    RunCase({"e4m3fn", q, true, true}, g);
  }
}

TEST_CASE("all flushed: q^ = 0, deficit 1, residual 0 exactly") {
  std::mt19937_64 rng(13);
  std::vector<float> g(50000);
  std::uniform_real_distribution<float> u(-0.25f, 0.25f);  // e2m1: x_sub/2 = 0.25 ties to 0
  for (float& x : g) {
    x = u(rng);
    if (x == 0.0f) x = 0.25f;
  }
  g[0] = 0.25f;
  g[1] = -0.25f;
  const ShrinkageSummary s = RunCase({"e2m1fn", Rne(), true, true}, g);
  CHECK(s.classes[static_cast<int>(ElementClass::kFlushed)].count == g.size());
  CHECK(s.q_hat == 0.0);
  CHECK(s.deficit == 1.0);
  CHECK(s.residual_sq == 0.0);
  CHECK(s.flushed_energy_fraction == 1.0);
  CHECK(s.flushed_count_fraction == 1.0);
  AnalyzeOptions fast;
  fast.path = SumPath::kFast;
  const ShrinkageSummary f = Analyze(Spec("e2m1fn"), g, TensorOptions(), fast).value().Summarize();
  CHECK(f.q_hat == 0.0);  // the Q-form: S_gQ = 0 exactly
  CHECK(f.residual_sq == 0.0);
}

TEST_CASE("all saturated (sat-finite, |g| up to 1e30)") {
  std::mt19937_64 rng(14);
  std::vector<float> g(50000);
  for (float& x : g) x = RandomFloat(rng, 9, 100);  // >= 512 > 448
  const ShrinkageSummary s = RunCase({"e4m3fn", Rne(Overflow::kSatFinite), true, true}, g);
  CHECK(s.classes[static_cast<int>(ElementClass::kSaturated)].count == g.size());
  CHECK(s.saturated_energy_fraction == 1.0);
  CHECK(s.q_hat > 0.0);
  CHECK(s.q_hat < 1e-10);
  // The fast path keeps q^ accurate relative to itself (Q-form), not merely to 1.
  AnalyzeOptions fast;
  fast.path = SumPath::kFast;
  TensorOptions sat;
  sat.quantize.overflow = Overflow::kSatFinite;
  const ShrinkageSummary f = Analyze(Spec("e4m3fn"), g, sat, fast).value().Summarize();
  CHECK(std::fabs(f.q_hat - s.q_hat) <= 68 * kU * s.q_hat);
  CHECK(std::fabs(f.residual_sq - s.residual_sq) <= 1e-13 * s.residual_sq);
}

TEST_CASE("NaN, inf and overflow to inf are counted, excluded, and flag the tensor") {
  std::mt19937_64 rng(15);
  std::vector<float> g(30000);
  for (float& x : g) x = RandomFloat(rng, -20, 14);  // below e5m2's max 57344
  g[3] = std::numeric_limits<float>::quiet_NaN();
  g[4] = std::numeric_limits<float>::infinity();
  g[5] = -std::numeric_limits<float>::infinity();
  g[6] = 1e6f;  // e5m2 overflows to inf under ovf-inf
  const ShrinkageSummary s = RunCase({"e5m2", Rne(Overflow::kInf), true, true}, g);
  CHECK(s.broken);
  CHECK(s.nonfinite_count == 4);
  CHECK(s.included_count == g.size() - 4);
  CHECK(std::isfinite(s.q_hat));
}

TEST_CASE("S_dg cancelling (condition number >= 1e6): exact to the last bit, fast in bound") {
  std::mt19937_64 rng(16);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> g(200000);
  for (float& x : g) x = normal(rng);
  const FormatSpec spec = Spec("bf16");
  TensorOptions opts;
  opts.backend = Backend::kScalar;
  // Greedily append elements whose g d cancels S_dg: (1 + 2^-9) 2^e rounds down by 2^(e-9)
  // (g d = -2^(2e-9)(1 + 2^-9)), (1 + 2^-7 - 2^-9) 2^e rounds up by 2^(e-9).
  for (int step = 0; step < 80; ++step) {
    std::vector<float> q(g.size());
    REQUIRE(Quantize(spec, g, q, opts).ok());
    const OracleStats o = test::ComputeOracle<float>(g, q, ClassThresholds::ForFormat(spec), false);
    const double sdg = ToDoubleR(o.tgd.Value());
    const double sabs = ToDoubleR(o.abs_gd.Value());
    if (std::fabs(sdg) * 1e7 < sabs) break;
    const int e = static_cast<int>(std::floor((std::log2(std::fabs(sdg)) + 9.0) / 2.0));
    const float base = sdg > 0 ? 1.0f + 0x1p-9f : 1.0f + 0x1p-7f - 0x1p-9f;
    g.push_back(std::ldexp(base, e));
  }
  std::vector<float> q(g.size());
  REQUIRE(Quantize(spec, g, q, opts).ok());
  const OracleStats o = test::ComputeOracle<float>(g, q, ClassThresholds::ForFormat(spec), false);
  const double condition = ToDoubleR(o.abs_gd.Value()) / std::fabs(ToDoubleR(o.tgd.Value()));
  INFO("condition number " << condition);
  CHECK(condition >= 1e6);
  RunCase({"bf16", Rne(), false, true}, g);
}

TEST_CASE("S_gg = 0 is reported as undefined, not as a crash") {
  std::vector<float> zeros(1000, 0.0f);
  const ShrinkageSummary s = RunCase({"e4m3fn", Rne(), true, true}, zeros);
  CHECK_FALSE(s.defined);
  CHECK(std::isnan(s.q_hat));
  CHECK(s.residual_sq == 0.0);
  // A format without zero maps g = 0 to its smallest value: the noise is S_dd.
  const ShrinkageSummary e8 = RunCase({"e8m0fnu", Rne(Overflow::kSatFinite), true, true}, zeros);
  CHECK_FALSE(e8.defined);
  CHECK(e8.residual_sq > 0.0);
  CHECK(e8.residual_sq == e8.s_dd);
  ShrinkageStats empty(SumPath::kExact);
  const ShrinkageSummary es = empty.Summarize();
  CHECK(es.count == 0);
  CHECK_FALSE(es.defined);
  CHECK(std::isnan(es.min_g));
}

TEST_CASE("float64 inputs: exact products over the whole double range") {
  std::mt19937_64 rng(17);
  std::vector<double> g(20000);
  std::uniform_int_distribution<int> e(-1074, 1023);
  std::uniform_real_distribution<double> m(1.0, 2.0);
  for (double& x : g) x = std::ldexp(m(rng), e(rng)) * ((rng() & 1) ? -1 : 1);
  for (const char* name : {"e4m3fn", "fp32", "bf16", "posit32_2", "fp16"}) {
    INFO(name);
    const FormatSpec spec = Spec(name);
    TensorOptions opts;
    opts.backend = Backend::kScalar;
    opts.quantize.overflow = Overflow::kSatFinite;
    std::vector<double> q(g.size());
    REQUIRE(Quantize(spec, g, q, opts).ok());
    AnalyzeOptions ao;
    ao.path = SumPath::kExact;
    StatusOr<ShrinkageStats> s = Analyze(spec, g, opts, ao);
    REQUIRE(s.ok());
    const OracleStats o = test::ComputeOracle<double>(g, q, ClassThresholds::ForFormat(spec), true);
    CheckExact(s->Summarize(), o, true);
    // Accumulate with the same image gives the same bits.
    ShrinkageStats acc(SumPath::kExact);
    REQUIRE(acc.Accumulate(std::span<const double>(g), std::span<const double>(q),
                           ClassThresholds::ForFormat(spec), 3)
                .ok());
    CHECK(acc.Serialize() == s->Serialize());
  }
  // The fast path on float64 inputs whose products stay in double's range.
  std::vector<double> moderate(20000);
  for (double& x : moderate) x = std::ldexp(m(rng), e(rng) % 200) * ((rng() & 1) ? -1 : 1);
  const FormatSpec spec = Spec("e5m2");
  TensorOptions opts;
  opts.backend = Backend::kScalar;
  opts.quantize.overflow = Overflow::kSatFinite;
  std::vector<double> q(moderate.size());
  REQUIRE(Quantize(spec, moderate, q, opts).ok());
  AnalyzeOptions ex;
  ex.path = SumPath::kExact;
  AnalyzeOptions fa;
  fa.path = SumPath::kFast;
  StatusOr<ShrinkageStats> se = Analyze(spec, moderate, opts, ex);
  StatusOr<ShrinkageStats> sf = Analyze(spec, moderate, opts, fa);
  REQUIRE(se.ok());
  REQUIRE(sf.ok());
  const OracleStats o =
      test::ComputeOracle<double>(moderate, q, ClassThresholds::ForFormat(spec), false);
  CheckExact(se->Summarize(), o, false);
  CheckFast(sf->Summarize(), se->Summarize(), o);
}

TEST_CASE("formats wider than float32 are analysed in float64 (posit32 from float32 inputs)") {
  const FormatSpec spec = Spec("posit32_2");
  CHECK_FALSE(FitsInFloat(spec));
  CHECK(FitsInFloat(Spec("posit16_1")));
  CHECK(FitsInFloat(Spec("fp32")));
  CHECK(FitsInFloat(Spec("e8m0fnu")));
  std::mt19937_64 rng(18);
  std::vector<float> g(20000);
  for (float& x : g) x = RandomFloat(rng, -149, 127);
  TensorOptions opts;
  opts.backend = Backend::kScalar;
  std::vector<double> g64(g.begin(), g.end());
  std::vector<double> q(g.size());
  REQUIRE(Quantize(spec, g64, q, opts).ok());
  AnalyzeOptions ao;
  ao.path = SumPath::kExact;
  std::vector<double> q_out(g.size());
  ao.quantized_f64 = q_out;
  StatusOr<ShrinkageStats> s = Analyze(spec, g, opts, ao);
  REQUIRE(s.ok());
  CHECK(q_out == q);
  const OracleStats o = test::ComputeOracle<double>(g64, q, ClassThresholds::ForFormat(spec), true);
  CheckExact(s->Summarize(), o, true);
}

TEST_CASE("thread count and shard merge order do not change a bit (exact and fast)") {
  std::mt19937_64 rng(19);
  std::vector<float> g(700001);
  std::normal_distribution<float> normal(0.0f, 0.01f);
  for (float& x : g) x = normal(rng);
  const FormatSpec spec = Spec("e4m3fn");
  for (const SumPath path : {SumPath::kExact, SumPath::kFast}) {
    INFO(ToString(path));
    AnalyzeOptions ao;
    ao.path = path;
    std::vector<uint8_t> reference;
    for (const int threads : {1, 2, 3, 7}) {
      TensorOptions opts;
      opts.threads = threads;
      StatusOr<ShrinkageStats> s = Analyze(spec, g, opts, ao);
      REQUIRE(s.ok());
      if (reference.empty()) {
        reference = s->Serialize();
      } else {
        CHECK(s->Serialize() == reference);
      }
    }
    if (path != SumPath::kExact) continue;
    // Uneven shards, each analysed with its own index offset, merged in random orders.
    std::vector<size_t> cuts = {0, 1, 4095, 70000, 70001, 333333, 600000, g.size()};
    std::vector<ShrinkageStats> shards;
    for (size_t i = 0; i + 1 < cuts.size(); ++i) {
      TensorOptions opts;
      opts.threads = 2;
      opts.quantize.index_offset = cuts[i];
      StatusOr<ShrinkageStats> s = Analyze(
          spec, std::span<const float>(g).subspan(cuts[i], cuts[i + 1] - cuts[i]), opts, ao);
      REQUIRE(s.ok());
      shards.push_back(*s);
    }
    std::vector<size_t> order(shards.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    for (int trial = 0; trial < 10; ++trial) {
      std::shuffle(order.begin(), order.end(), rng);
      ShrinkageStats merged(SumPath::kExact);
      for (const size_t i : order) REQUIRE(merged.Merge(shards[i]).ok());
      CHECK(merged.Serialize() == reference);
    }
  }
}

TEST_CASE("stochastic rounding in the fused pass draws the bits of one whole-tensor call") {
  std::mt19937_64 rng(20);
  std::vector<float> g(200000);
  for (float& x : g) x = RandomFloat(rng, -12, 8);
  const FormatSpec spec = Spec("e4m3fn");
  TensorOptions opts;
  opts.quantize.rounding = Rounding{RoundingMode::kStochastic, 0};
  opts.quantize.seed = 1234;
  opts.quantize.stream = 7;
  opts.quantize.index_offset = 99;
  opts.backend = Backend::kScalar;
  std::vector<float> q(g.size());
  REQUIRE(Quantize(spec, g, q, opts).ok());
  for (const int threads : {1, 4}) {
    opts.threads = threads;
    std::vector<float> q_out(g.size());
    AnalyzeOptions ao;
    ao.quantized_f32 = q_out;
    REQUIRE(Analyze(spec, g, opts, ao).ok());
    CHECK(std::memcmp(q_out.data(), q.data(), q.size() * sizeof(float)) == 0);
  }
}

TEST_CASE("caller-provided images (scaled recipes) with scaled thresholds") {
  // Q_s(g) = s Q(g / s) with s = 2^-20: classes follow the scaled thresholds.
  std::mt19937_64 rng(21);
  std::vector<float> g(30000);
  for (float& x : g) x = RandomFloat(rng, -40, -10);
  const FormatSpec spec = Spec("e4m3fn");
  const float s = 0x1p-20f;
  std::vector<float> scaled(g.size());
  for (size_t i = 0; i < g.size(); ++i) scaled[i] = g[i] / s;
  TensorOptions opts;
  opts.quantize.overflow = Overflow::kSatFinite;
  std::vector<float> q(g.size());
  REQUIRE(Quantize(spec, scaled, q, opts).ok());
  for (float& x : q) x *= s;
  const ClassThresholds t = ClassThresholds::ForFormat(spec).Scaled(s);
  ShrinkageStats stats(SumPath::kExact);
  REQUIRE(stats.Accumulate(g, q, t, 0).ok());
  const OracleStats o = test::ComputeOracle<float>(g, q, t, true);
  CheckExact(stats.Summarize(), o, true);
  CHECK(stats.count(ElementClass::kSaturated) > 0);
  CHECK(stats.count(ElementClass::kSubnormal) > 0);
  CHECK(stats.count(ElementClass::kFlushed) > 0);
  // Mismatched lengths and paths are errors, not crashes.
  CHECK(
      stats.Accumulate(std::span<const float>(g), std::span<const float>(q).subspan(1), t).code() ==
      StatusCode::kInvalidArgument);
  ShrinkageStats fast(SumPath::kFast);
  CHECK(stats.Merge(fast).code() == StatusCode::kInvalidArgument);
}

TEST_CASE("block/tensor decomposition (THEORY.md 2.4) and the residual merge (2.7)") {
  std::mt19937_64 rng(22);
  const FormatSpec spec = Spec("e3m2fn");
  std::vector<ShrinkageStats> parts;
  std::vector<PartSummary> summaries;
  ShrinkageStats whole(SumPath::kExact);
  TensorOptions opts;
  opts.quantize.overflow = Overflow::kSatFinite;
  AnalyzeOptions ao;
  ao.path = SumPath::kExact;
  for (int b = 0; b < 12; ++b) {
    // Blocks at different scales shrink differently: the between-block term is visible.
    std::vector<float> g(997 + 131 * b);
    std::normal_distribution<float> normal(0.0f, std::ldexp(1.0f, b - 6));
    for (float& x : g) x = normal(rng);
    StatusOr<ShrinkageStats> s = Analyze(spec, g, opts, ao);
    REQUIRE(s.ok());
    summaries.push_back(ToPart(s->Summarize()));
    REQUIRE(whole.Merge(*s).ok());
    parts.push_back(*s);
  }
  const ShrinkageSummary exact = whole.Summarize();
  const CombinedParts combined = CombineParts(summaries);
  REQUIRE(combined.defined);
  CHECK(std::fabs(combined.q_hat - exact.q_hat) <= 4 * kU);
  CHECK(std::fabs(combined.deficit - exact.deficit) <= 1e-14 * exact.deficit);
  CHECK(std::fabs(combined.residual_sq - exact.residual_sq) <= 1e-13 * exact.residual_sq);
  CHECK(combined.between_parts > 0.0);
  // q^ = sum S_b q^_b / S.
  double weighted = 0.0;
  for (const PartSummary& p : summaries) weighted += p.s_gg * (1.0 + p.s_dg / p.s_gg);
  CHECK(std::fabs(weighted / combined.s_gg - exact.q_hat) <= 1e-14);
  // Two-part merge formula.
  ShrinkageStats ab = parts[0];
  REQUIRE(ab.Merge(parts[7]).ok());
  const double r = MergeResidual(summaries[0], summaries[7]);
  CHECK(std::fabs(r - ab.Summarize().residual_sq) <= 1e-13 * r);
  // A part with S_gg = 0 adds its S_dd only.
  const PartSummary zero{0.0, 0.0, 3.0};
  CHECK(MergeResidual(summaries[0], zero) == summaries[0].residual_sq + 3.0);
}

TEST_CASE("serialization round-trips both paths; corrupted blobs are DataError") {
  std::mt19937_64 rng(23);
  std::vector<float> g(50000);
  for (float& x : g) x = RandomFloat(rng, -30, 10);
  const FormatSpec spec = Spec("e5m2");
  for (const SumPath path : {SumPath::kExact, SumPath::kFast}) {
    AnalyzeOptions ao;
    ao.path = path;
    StatusOr<ShrinkageStats> s = Analyze(spec, g, TensorOptions(), ao);
    REQUIRE(s.ok());
    const std::vector<uint8_t> bytes = s->Serialize();
    StatusOr<ShrinkageStats> back = ShrinkageStats::Deserialize(bytes);
    REQUIRE(back.ok());
    CHECK(back->Serialize() == bytes);
    const ShrinkageSummary a = s->Summarize();
    const ShrinkageSummary b = back->Summarize();
    CHECK(a.q_hat == b.q_hat);
    CHECK(a.residual_sq == b.residual_sq);
    for (size_t cut : {size_t{0}, size_t{3}, size_t{20}, bytes.size() / 2, bytes.size() - 1}) {
      std::vector<uint8_t> bad(bytes.begin(), bytes.begin() + static_cast<long>(cut));
      CHECK(ShrinkageStats::Deserialize(bad).status().code() == StatusCode::kDataError);
    }
    std::vector<uint8_t> extra = bytes;
    extra.push_back(0);
    CHECK(ShrinkageStats::Deserialize(extra).status().code() == StatusCode::kDataError);
    std::vector<uint8_t> version = bytes;
    version[4] = 9;
    CHECK(ShrinkageStats::Deserialize(version).status().code() == StatusCode::kDataError);
  }
}

TEST_CASE("the ratio histogram's bins") {
  CHECK(RatioBin(1.0, 1.0) == 0);
  CHECK(RatioBin(0.0, 1.0) == -1);
  CHECK(RatioBin(1.0, std::numeric_limits<double>::quiet_NaN()) == -1);
  CHECK(RatioBinLowerLog2(RatioBin(1.0, 0.0)) == 0.0);              // flushed: |r - 1| = 1
  CHECK(RatioBinLowerLog2(RatioBin(1.0, 1.25)) == -2.0);            // 0.25
  CHECK(RatioBinLowerLog2(RatioBin(1.0, 1.5)) == -1.0);             // 0.5 lies in [2^-1, 2^0)
  CHECK(RatioBinLowerLog2(RatioBin(3.0, 2.0)) == -2.0);             // 1/3
  CHECK(RatioBinLowerLog2(RatioBin(1.0, 1.0 + 0x1p-52)) == -52.0);  // the smallest in fp64
  CHECK(RatioBin(0x1p-100, 1.0) == kRatioBins - 1);                 // overflow bin
  // |d| rounds up onto 2^k |g| but the exact difference is below it: the lower bin.
  const double g = 0x1p60;
  const double q = 0x1p-5;  // d = 2^-5 - 2^60 rounds to -2^60 = -|g|
  CHECK(RatioBinLowerLog2(RatioBin(g, q)) == -1.0);
}

}  // namespace
}  // namespace qfloat
