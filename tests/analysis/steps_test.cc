// Aggregation over steps (THEORY.md §2.6): the binomial confidence statement against
// Boost.Math, its coverage, the step summary, per-tensor breakdowns and the model-level q_k.
#include <algorithm>
#include <boost/math/distributions/binomial.hpp>
#include <catch2/catch.hpp>
#include <cmath>
#include <random>
#include <vector>

#include "qfloat/analysis.h"
#include "qfloat/format.h"

namespace qfloat {
namespace {

TEST_CASE("binomial order index and tails agree with Boost.Math") {
  struct C {
    uint64_t n;
    double p, a;
  };
  for (const C c : {C{299, 0.01, 0.05}, C{1000, 0.01, 0.05}, C{5000, 0.05, 0.01}, C{100, 0.1, 0.1},
                    C{20000, 0.001, 0.05}, C{50, 0.5, 0.05}}) {
    INFO("n " << c.n << " p " << c.p << " a " << c.a);
    const boost::math::binomial_distribution<double> bin(static_cast<double>(c.n), c.p);
    double achieved = 0.0;
    const uint64_t j = BinomialOrderIndex(c.n, c.p, c.a, &achieved);
    REQUIRE(j >= 1);
    // P(Bin >= j) = 1 - F(j - 1) >= 1 - a, and j + 1 fails.
    const double tail_j =
        boost::math::cdf(boost::math::complement(bin, static_cast<double>(j - 1)));
    const double tail_next = boost::math::cdf(boost::math::complement(bin, static_cast<double>(j)));
    CHECK(tail_j >= 1.0 - c.a - 1e-12);
    CHECK(tail_next < 1.0 - c.a + 1e-12);
    CHECK(achieved == Approx(tail_j).epsilon(1e-10));
    for (uint64_t k : {uint64_t{0}, uint64_t{1}, j, j + 3, c.n / 2, c.n}) {
      const double want =
          k == 0 ? 1.0 : boost::math::cdf(boost::math::complement(bin, static_cast<double>(k - 1)));
      INFO("k " << k);
      CHECK(BinomialUpperTail(c.n, c.p, k) == Approx(want).epsilon(1e-9).margin(1e-300));
    }
  }
  // The minimum is a 95% lower bound of the 1% quantile iff N >= ln a / ln(1 - p) = 298.07.
  CHECK(BinomialOrderIndex(299, 0.01, 0.05) == 1);
  CHECK(BinomialOrderIndex(298, 0.01, 0.05) == 0);
  const std::vector<double> v(298, 1.0);
  const QuantileBound b = LowerQuantileBound(v, 0.01, 0.05);
  CHECK(b.min_n_for_extreme == 299);
  CHECK_FALSE(b.valid);
  CHECK(std::isnan(b.value));
}

TEST_CASE("the quantile bound covers the true quantile with the stated confidence") {
  // X ~ U(0,1): xi_p = p. Over T trials, P(X_(j) <= p) >= 1 - a; allow 4 binomial sd of slack.
  std::mt19937_64 rng(41);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  constexpr int kTrials = 2000;
  const double p = 0.05, a = 0.1;
  int covered = 0, covered_upper = 0;
  for (int t = 0; t < kTrials; ++t) {
    std::vector<double> x(400);
    for (double& y : x) y = u(rng);
    const QuantileBound lo = LowerQuantileBound(x, p, a);
    const QuantileBound hi = UpperQuantileBound(x, p, a);
    REQUIRE(lo.valid);
    covered += lo.value <= p;
    covered_upper += hi.value >= 1.0 - p;
  }
  const double slack = 4 * std::sqrt(a * (1 - a) / kTrials);
  CHECK(covered >= (1 - a - slack) * kTrials);
  CHECK(covered_upper >= (1 - a - slack) * kTrials);
}

StepRecord Rec(int64_t k, double alpha, double q, double rho, double res, bool defined = true) {
  StepRecord r;
  r.step = k;
  r.alpha = alpha;
  r.defined = defined;
  r.q_hat = q;
  r.deficit = 1 - q;
  r.rho_hat = rho;
  r.residual_sq = res;
  r.grad_sq = 1.0;
  return r;
}

TEST_CASE("step summary: exact minimum, weighted mean, upper constants") {
  std::vector<StepRecord> r = {Rec(1, 0.1, 0.9, 0.01, 2.0), Rec(2, 0.2, 0.8, 0.03, 1.0),
                               Rec(3, 0.1, 1.1, 0.02, 4.0), Rec(4, 0.4, 0.95, 0.0, 0.5),
                               Rec(5, 1.0, 0.0, 0.0, 7.0, false)};
  r[2].broken = true;
  const StepSummary s = SummarizeSteps(r);
  CHECK(s.steps == 5);
  CHECK(s.defined_steps == 4);
  CHECK(s.broken_steps == 1);
  CHECK(s.q_min == 0.8);
  CHECK(s.q_min_step == 2);
  CHECK(s.q_max == 1.1);  // never clamped
  CHECK(s.q_max_step == 3);
  CHECK(s.q_mean == Approx((0.9 + 0.8 + 1.1 + 0.95) / 4).epsilon(1e-15));
  // q-bar_alpha = (0.09 + 0.16 + 0.11 + 0.38) / 0.8 = 0.925
  CHECK(s.q_weighted_mean == Approx(0.925).epsilon(1e-15));
  CHECK(s.delta_max == 0.03);
  CHECK(s.sigma0_sq_max == 7.0);  // S_gg = 0 steps still carry noise
  CHECK_FALSE(s.q_low.valid);     // 4 steps cannot bound a 1% quantile
  const ShrinkageConstants rel = DeriveShrinkageConstants(s);
  CHECK(rel.q_min == 0.8);
  CHECK(rel.q_max == 1.1);
  CHECK(rel.delta == 0.03);
  CHECK(rel.sigma0_sq == 0.0);
  ConstantsChoice abs_choice;
  abs_choice.noise = NoiseModel::kAbsolute;
  const ShrinkageConstants ab = DeriveShrinkageConstants(s, abs_choice);
  CHECK(ab.delta == 0.0);
  CHECK(ab.sigma0_sq == 7.0);
  const std::vector<TrajectoryStep> t = ToTrajectorySteps(r, NoiseModel::kCombined);
  REQUIRE(t.size() == 4);
  CHECK(t[1].alpha == 0.2);
  CHECK(t[1].q == 0.8);
  CHECK(t[1].delta == 0.03);
  CHECK(t[1].sigma0_sq == 1.0);
  // Windows.
  const std::vector<StepSummary> w = SummarizeWindows(r, 2);
  REQUIRE(w.size() == 3);
  CHECK(w[0].q_min == 0.8);
  CHECK(w[1].q_min == 0.95);
  CHECK(w[2].defined_steps == 0);
  CHECK(std::isnan(w[2].q_min));
}

TEST_CASE("a long run: quantile plug-ins from 1000 steps") {
  std::mt19937_64 rng(42);
  std::normal_distribution<double> n(0.9, 0.02);
  std::vector<StepRecord> r;
  for (int k = 1; k <= 1000; ++k) r.push_back(Rec(k, 0.01, n(rng), 1e-3 * (1 + k % 7), 1.0));
  const StepSummary s = SummarizeSteps(r);
  REQUIRE(s.q_low.valid);
  CHECK(s.q_low.n == 1000);
  CHECK(s.q_low.j >= 1);
  CHECK(s.q_low.value >= s.q_min);
  std::vector<double> qs;
  for (const StepRecord& x : r) qs.push_back(x.q_hat);
  std::sort(qs.begin(), qs.end());
  CHECK(s.q_low.value == qs[s.q_low.j - 1]);
  CHECK(s.delta_high.valid);
  CHECK(s.delta_high.value <= s.delta_max);
  ConstantsChoice c;
  c.q_min_from_quantile = true;
  c.noise_from_quantile = true;
  const ShrinkageConstants k = DeriveShrinkageConstants(s, c);
  CHECK(k.q_min == s.q_low.value);
  CHECK(k.delta == s.delta_high.value);
}

TEST_CASE("per-tensor breakdowns and the model-level q_k") {
  StatusOr<Format> f = ResolveFormat("e4m3fn");
  REQUIRE(f.ok());
  std::mt19937_64 rng(43);
  StepLog log;
  for (int step = 1; step <= 3; ++step) {
    std::vector<NamedStats> tensors;
    for (int t = 0; t < (step == 1 ? 2 : 3); ++t) {
      std::normal_distribution<float> n(0.0f, std::ldexp(1.0f, -4 * t - step));
      std::vector<float> g(5000 + 1000 * t);
      for (float& x : g) x = n(rng);
      AnalyzeOptions ao;
      ao.path = SumPath::kExact;
      StatusOr<ShrinkageStats> s = Analyze(f->spec, g, TensorOptions(), ao);
      REQUIRE(s.ok());
      tensors.push_back(NamedStats{"layer" + std::to_string(t), *s});
    }
    REQUIRE(log.AddStep(step, 0.1 / step, tensors).ok());
    // The model-level record is the merged stats; CombineParts over the tensors agrees.
    std::vector<PartSummary> parts;
    ShrinkageStats merged(SumPath::kExact);
    for (const NamedStats& t : tensors) {
      parts.push_back(ToPart(t.stats.Summarize()));
      REQUIRE(merged.Merge(t.stats).ok());
    }
    const ShrinkageSummary m = merged.Summarize();
    CHECK(log.model().back().q_hat == m.q_hat);
    CHECK(log.model().back().residual_sq == m.residual_sq);
    const CombinedParts c = CombineParts(parts);
    CHECK(c.q_hat == Approx(m.q_hat).epsilon(1e-14));
    CHECK(c.residual_sq == Approx(m.residual_sq).epsilon(1e-12));
  }
  REQUIRE(log.tensors().size() == 3);
  CHECK(log.tensors()[0].records.size() == 3);
  CHECK(log.tensors()[2].records.size() == 2);  // appeared at step 2
  CHECK(log.tensors()[2].records[0].step == 2);
  const auto per_tensor = log.TensorSummaries();
  REQUIRE(per_tensor.size() == 3);
  CHECK(per_tensor[0].first == "layer0");
  // Smaller gradients (later layers here) shrink more under unscaled FP8.
  CHECK(per_tensor[2].second.q_min < per_tensor[0].second.q_min);
  const StepSummary model = log.ModelSummary();
  CHECK(model.steps == 3);
  // Duplicated names and mixed paths are errors.
  std::vector<NamedStats> dup = {NamedStats{"a", ShrinkageStats()},
                                 NamedStats{"a", ShrinkageStats()}};
  CHECK(log.AddStep(4, 0.1, dup).code() == StatusCode::kInvalidArgument);
  std::vector<NamedStats> mixed = {NamedStats{"a", ShrinkageStats(SumPath::kExact)},
                                   NamedStats{"b", ShrinkageStats(SumPath::kFast)}};
  CHECK(log.AddStep(4, 0.1, mixed).code() == StatusCode::kInvalidArgument);
  CHECK(log.AddStep(4, 0.1, {}).code() == StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace qfloat
