// Stochastic rounding (THEORY.md §2.3): the analytic moments against an exact rational oracle
// (neighbours found by enumerating every code of the format, independently of the reference's
// directed modes), and against 10^4 draws.
//
// Statistical tests: each compares a mean over R = 10^4 independent draws with its analytic value
// using a 5-standard-error band. Under the central limit theorem a correct implementation fails a
// single such check with probability 5.7e-7 (two-sided normal tail at 5 sigma); the 12 checks
// below together fail with probability < 1e-5 per fresh seed. The seeds are fixed, so the suite
// is deterministic.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <random>
#include <vector>

#include "exact_oracle.h"
#include "qfloat/analysis.h"
#include "qfloat/format.h"
#include "qfloat/scalar.h"

namespace qfloat {
namespace {

using test::BigInt;
using test::ExactRational;
using test::Rational;

FormatSpec Spec(const char* name) {
  StatusOr<Format> f = ResolveFormat(name);
  REQUIRE(f.ok());
  return f->spec;
}

// Nonnegative finite values of a format of <= 16 bits, sorted.
std::vector<double> Grid(const FormatSpec& spec) {
  std::vector<double> v;
  for (uint32_t c = 0; c < (1u << spec.bits); ++c) {
    const double x = DecodeScalar(spec, c);
    if (std::isfinite(x) && x >= 0) v.push_back(x);
  }
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
  return v;
}

struct OracleMoments {
  Rational s, b, v_g, v, ee;  // sum x^2, sum x e, sum x^2 v, sum v, sum e^2
};

// Exact E d and Var d of one element between grid points (no overflow, no posit clamps).
void OracleElement(const std::vector<double>& grid, double x, int sr_bits, double max_finite,
                   OracleMoments& m) {
  const Rational rx = ExactRational(x);
  const double ax = std::fabs(x);
  Rational e = 0, var = 0;
  if (ax > max_finite) {  // saturating clamp (sat-finite): deterministic
    e = ExactRational(max_finite) - ExactRational(ax);
  } else {
    const auto hi_it = std::lower_bound(grid.begin(), grid.end(), ax);
    const double h = *hi_it;
    if (h != ax) {
      const double l = *(hi_it - 1);
      const Rational rl = ExactRational(l), rh = ExactRational(h), ra = ExactRational(ax);
      Rational p = (ra - rl) / (rh - rl);
      if (sr_bits > 0) {
        const Rational scaled = p * Rational(BigInt(1) << sr_bits);
        const BigInt fl = numerator(scaled) / denominator(scaled);
        p = Rational(fl, BigInt(1) << sr_bits);
      }
      e = rl + p * (rh - rl) - ra;
      var = p * (1 - p) * (rh - rl) * (rh - rl);
    }
  }
  if (x < 0) e = -e;
  m.s += rx * rx;
  m.b += rx * e;
  m.v_g += rx * rx * var;
  m.v += var;
  m.ee += e * e;
}

void CheckRel(double got, const Rational& want, double tol) {
  const double w = static_cast<double>(want);
  INFO("got " << got << " want " << w);
  CHECK(std::fabs(got - w) <= tol * std::fabs(w) + 1e-300);
}

TEST_CASE("SR analytic moments equal the exact rational values") {
  std::mt19937_64 rng(31);
  struct C {
    const char* name;
    int sr_bits;
    Overflow ovf;
    double lo, hi;  // |x| range
  };
  const std::vector<C> cases = {{"e4m3fn", 0, Overflow::kSatFinite, 1e-4, 400},
                                {"e4m3fn", 3, Overflow::kSatFinite, 1e-4, 400},
                                {"e4m3fn", 0, Overflow::kSatFinite, 1e-3, 2000},
                                {"e2m1fn", 0, Overflow::kSatFinite, 0.01, 5.9},
                                {"e2m1fn", 2, Overflow::kSatFinite, 0.01, 20},
                                {"bf16", 0, Overflow::kInf, 1e-30, 1e30},
                                {"fp16", 8, Overflow::kInf, 1e-9, 6e4},
                                {"posit8_2", 0, Overflow::kInf, 1e-6, 1e6},
                                {"posit16_1", 5, Overflow::kInf, 1e-6, 1e6},
                                {"e5m2", 1, Overflow::kSatFinite, 1e-7, 5e4}};
  for (const C& c : cases) {
    INFO(c.name << " sr:" << c.sr_bits);
    const FormatSpec spec = Spec(c.name);
    const std::vector<double> grid = Grid(spec);
    std::uniform_real_distribution<double> le(std::log(c.lo), std::log(c.hi));
    std::vector<float> g(3000);
    for (float& x : g) x = static_cast<float>(std::exp(le(rng)) * ((rng() & 1) ? -1 : 1));
    g[0] = static_cast<float>(grid[grid.size() / 2]);  // on the grid: deterministic
    TensorOptions opts;
    opts.quantize.rounding = Rounding{RoundingMode::kStochastic, static_cast<uint8_t>(c.sr_bits)};
    opts.quantize.overflow = c.ovf;
    StatusOr<StochasticSummary> s = AnalyzeStochastic(spec, g, opts, 0);
    REQUIRE(s.ok());
    OracleMoments m;
    for (const float x : g) OracleElement(grid, x, c.sr_bits, MaxFinite(spec), m);
    REQUIRE(s->defined);
    CHECK(s->nonfinite_count == 0);
    CheckRel(s->s_gg, m.s, 1e-15);
    CheckRel(s->expected_deficit, -m.b / m.s, 1e-13);
    if (m.b == 0) {
      CHECK(s->expected_q_hat == 1.0);  // unbiased: exactly 1
      CHECK(s->biased_count == 0);
    }
    CheckRel(s->sd_q_hat * s->sd_q_hat, m.v_g / (m.s * m.s), 1e-13);
    const Rational expected_r = m.v - m.v_g / m.s + m.ee - m.b * m.b / m.s;
    CheckRel(s->expected_residual_sq, expected_r, 1e-13);
    CheckRel(s->expected_rho, expected_r / m.s, 1e-13);
    CheckRel(s->variance_sum, m.v, 1e-14);
    CHECK(s->random_count > 0);
  }
}

TEST_CASE("SR outcomes at the edges of the grid") {
  const FormatSpec e4 = Spec("e4m3fn");
  QuantizeOptions o;
  o.rounding = Rounding{RoundingMode::kStochastic, 0};
  // On the grid: deterministic.
  SrOutcome r = StochasticOutcome(e4, 1.5, o);
  CHECK(r.down == 1.5);
  CHECK(r.up == 1.5);
  CHECK(r.p_up == 0.0);
  CHECK(r.variance == 0.0);
  // Between neighbours: p = (x - l)/(h - l), E d = 0, v = (x - l)(h - x).
  r = StochasticOutcome(e4, -1.1, o);
  CHECK(r.down == -1.0);
  CHECK(r.up == -1.125);
  CHECK(r.p_up == Approx(0.8).epsilon(1e-15));
  CHECK(r.mean_error == 0.0);
  CHECK(r.variance == (1.1 - 1.0) * (1.125 - 1.1));  // both differences are exact
  // Above max with sat-finite: both choices clamp to max (the bias of saturation).
  o.overflow = Overflow::kSatFinite;
  r = StochasticOutcome(e4, 460.0, o);
  CHECK(r.down == 448.0);
  CHECK(r.up == 448.0);
  CHECK(r.mean_error == -12.0);
  // e4m3fn has no inf: ovf-inf overflows to NaN with probability (460-448)/(480-448).
  o.overflow = Overflow::kInf;
  r = StochasticOutcome(e4, 460.0, o);
  CHECK_FALSE(r.finite);
  CHECK(r.p_up == 0.375);
  r = StochasticOutcome(e4, 500.0, o);  // beyond the next grid point: always NaN
  CHECK_FALSE(r.finite);
  CHECK(std::isnan(r.down));
  CHECK(std::isnan(r.up));
  // Posits never round to 0: below minpos is a deterministic round-up.
  const FormatSpec p8 = Spec("posit8_2");
  r = StochasticOutcome(p8, 1e-10, o);
  CHECK(r.down == 0x1p-24);
  CHECK(r.up == 0x1p-24);
  CHECK(r.mean_error == 0x1p-24 - 1e-10);
  // sr:K: P(up) = floor(f 2^K) / 2^K; E d = -(f - P(up)) (h - l).
  o.rounding = Rounding{RoundingMode::kStochastic, 2};
  r = StochasticOutcome(e4, 1.1, o);  // f = 0.8 -> P(up) = 0.75
  CHECK(r.p_up == 0.75);
  CHECK(r.mean_error == -((1.1 - 1.0) - 0.75 * 0.125));  // -(x - l - P(up)(h - l)), exact
  // float64 inputs: the same analytic moments for the same values, and draws run.
  {
    std::vector<float> gf = {0.3f, -1.1f, 7.7f, 250.0f, -0.001f};
    std::vector<double> gd(gf.begin(), gf.end());
    TensorOptions sr;
    sr.quantize.rounding = Rounding{RoundingMode::kStochastic, 0};
    StatusOr<StochasticSummary> a = AnalyzeStochastic(e4, gf, sr, 3);
    StatusOr<StochasticSummary> b = AnalyzeStochastic(e4, std::span<const double>(gd), sr, 3);
    REQUIRE(a.ok());
    REQUIRE(b.ok());
    CHECK(a->expected_residual_sq == b->expected_residual_sq);
    CHECK(a->sd_q_hat == b->sd_q_hat);
    CHECK(a->draw_deficits == b->draw_deficits);
  }
  // Non-SR rounding is refused.
  TensorOptions rne;
  std::vector<float> g = {1.0f};
  CHECK(AnalyzeStochastic(e4, g, rne, 10).status().code() == StatusCode::kInvalidArgument);
}

struct DrawCase {
  const char* name;
  int sr_bits;
  Overflow ovf;
  double lo, hi;
};

TEST_CASE("SR closed forms against 10^4 draws (5-SE bands: false-failure rate < 1e-5)") {
  const std::vector<DrawCase> cases = {
      {"e4m3fn", 0, Overflow::kSatFinite, 0.01, 300},  // unbiased
      {"e4m3fn", 0, Overflow::kSatFinite, 100, 2000},  // saturation: biased toward 0
      {"e2m1fn", 2, Overflow::kSatFinite, 0.1, 5.5}};  // sr:2: biased toward 0
  std::mt19937_64 rng(32);
  constexpr int kDraws = 10000;
  for (const DrawCase& c : cases) {
    INFO(c.name << " sr:" << c.sr_bits << " |x| in [" << c.lo << ", " << c.hi << "]");
    const FormatSpec spec = Spec(c.name);
    std::uniform_real_distribution<double> le(std::log(c.lo), std::log(c.hi));
    std::vector<float> g(256);
    for (float& x : g) x = static_cast<float>(std::exp(le(rng)) * ((rng() & 1) ? -1 : 1));
    TensorOptions opts;
    opts.threads = 1;
    opts.quantize.rounding = Rounding{RoundingMode::kStochastic, static_cast<uint8_t>(c.sr_bits)};
    opts.quantize.overflow = c.ovf;
    opts.quantize.seed = 77;
    StatusOr<StochasticSummary> s = AnalyzeStochastic(spec, g, opts, kDraws);
    REQUIRE(s.ok());
    REQUIRE(s->draws == kDraws);
    REQUIRE(s->draw_deficits.size() == static_cast<size_t>(kDraws));
    const double se = s->sd_q_hat / std::sqrt(double{kDraws});
    INFO("E deficit " << s->expected_deficit << " mean " << s->mean_deficit << " se " << se);
    CHECK(std::fabs(s->mean_deficit - s->expected_deficit) <= 5 * se);
    CHECK(std::fabs(s->mean_q_hat - s->expected_q_hat) <= 5 * se + 1e-16);
    INFO("E |eps|^2 " << s->expected_residual_sq << " mean " << s->mean_residual_sq << " se "
                      << s->se_residual_sq);
    CHECK(std::fabs(s->mean_residual_sq - s->expected_residual_sq) <= 5 * s->se_residual_sq);
    // Sample sd of q^ against sd(q^): sd(s)/sigma ~ sqrt((2 + kurtosis)/(4 R)) <= sqrt(3/(4R)).
    INFO("sd analytic " << s->sd_q_hat << " sample " << s->sample_sd_q_hat);
    CHECK(std::fabs(s->sample_sd_q_hat / s->sd_q_hat - 1.0) <= 5 * std::sqrt(3.0 / (4 * kDraws)));
    CHECK(s->se_q_hat == Approx(s->sample_sd_q_hat / 100.0));
    if (c.sr_bits > 0 || c.hi > 448) {
      CHECK(s->biased_count > 0);
      CHECK(s->expected_deficit > 0.0);  // shrinkage: q < 1
    } else {
      CHECK(s->expected_q_hat == 1.0);
    }
  }
}

}  // namespace
}  // namespace qfloat
