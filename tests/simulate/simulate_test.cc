// qfloat_simulate: the data sets, the problem constants against independent computations, the
// identity quantizer against plain SGD, common random numbers, the per-step records against
// ShrinkageStats, and the comparison on a small run.
#include "qfloat/simulate.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <numeric>
#include <random>
#include <vector>

#include "qfloat/analysis.h"
#include "qfloat/format.h"
#include "qfloat/quantize.h"
#include "qfloat/scaling.h"

namespace qfloat::sim {
namespace {

Dataset Load(const char* name, int64_t samples = 0) {
  StatusOr<Dataset> d = LoadDataset(name, samples);
  REQUIRE(d.ok());
  return std::move(d).value();
}

Problem Make(ProblemKind kind, Dataset d, double lambda) {
  StatusOr<Problem> p = Problem::Create(kind, std::move(d), lambda);
  REQUIRE(p.ok());
  return std::move(p).value();
}

double Norm2(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x * x;
  return s;
}

// Power iteration with Hessian-vector products: the largest |eigenvalue| of H(w).
double PowerIteration(const Problem& p, const std::vector<double>& w, int iterations) {
  std::vector<double> v(p.dim()), hv(p.dim());
  std::mt19937_64 rng(7);
  std::normal_distribution<double> normal;
  for (double& x : v) x = normal(rng);
  double lambda = 0.0;
  for (int it = 0; it < iterations; ++it) {
    const double n = std::sqrt(Norm2(v));
    for (double& x : v) x /= n;
    p.HessianVector(w, v, hv);
    lambda = std::inner_product(v.begin(), v.end(), hv.begin(), 0.0);
    v = hv;
  }
  return lambda;
}

Quantizer Make(const char* format, const char* scaling, RoundingMode mode) {
  StatusOr<ScaledFormat> sf = ResolveScaledFormat(format, scaling);
  REQUIRE(sf.ok());
  Quantizer q;
  q.label = std::string(format) + "+" + scaling;
  q.element = sf->format.spec;
  q.scaling = sf->scaling;
  q.quantize.rounding.mode = mode;
  return q;
}

TEST_CASE("bundled data sets have their documented shapes and are standardized") {
  const Dataset d = Load("diabetes");
  CHECK(d.samples == 442);
  CHECK(d.features == 11);
  CHECK(d.classes == 0);
  const Dataset b = Load("breast_cancer");
  CHECK(b.samples == 569);
  CHECK(b.features == 31);
  CHECK(std::count(b.y.begin(), b.y.end(), 1.0) == 357);  // benign
  const Dataset g = Load("digits");
  CHECK(g.samples == 1797);
  CHECK(g.features == 65);
  CHECK(g.classes == 10);
  for (const Dataset* set : {&d, &b}) {
    for (int64_t j = 0; j + 1 < set->features; ++j) {
      double m = 0, s = 0;
      for (int64_t i = 0; i < set->samples; ++i) m += set->x[i * set->features + j];
      m /= set->samples;
      for (int64_t i = 0; i < set->samples; ++i) {
        const double c = set->x[i * set->features + j] - m;
        s += c * c;
      }
      CHECK(std::abs(m) < 1e-12);
      CHECK(std::sqrt(s / set->samples) == Approx(1.0).epsilon(1e-12));
    }
    for (int64_t i = 0; i < set->samples; ++i)
      CHECK(set->x[i * set->features + set->features - 1] == 1.0);
  }
  CHECK(Load("digits", 100).samples == 100);
  CHECK(LoadDataset("iris").status().code() == StatusCode::kNotFound);
}

TEST_CASE("least-squares constants against power iteration and a closed form") {
  const Problem p = Make(ProblemKind::kLeastSquares, Load("diabetes"), 1e-2);
  StatusOr<ProblemAnalysis> a = AnalyzeProblem(p, 32);
  REQUIRE(a.ok());
  const ProblemConstants& c = a->constants;
  // L = lambda_max(H) by the eigensolver, against power iteration on H v (H does not depend on w).
  CHECK(PowerIteration(p, a->w_star, 400) == Approx(c.L).epsilon(1e-9));
  CHECK(c.c > 0.0);
  CHECK(c.c < c.L);
  // w* solves grad F = 0 to rounding level.
  CHECK(a->grad_norm_star < 1e-9 * (1 + c.L));
  CHECK(c.M_G == Approx(c.M_V + 1.0));
  CHECK(c.Delta1 == Approx(p.Value(a->w1) - a->F_star));
  // The exact variance V(w) = E|g - grad F|^2 never exceeds M + M_V |grad F|^2, and at w* it is
  // m0 / B.
  CHECK(GradientVariance(p, a->w_star, 32) == Approx(a->V_star).epsilon(1e-10));
  std::mt19937_64 rng(3);
  std::normal_distribution<double> normal;
  std::vector<double> w(p.dim()), g(p.dim());
  for (int trial = 0; trial < 20; ++trial) {
    const double scale = std::pow(10.0, trial % 5 - 2);
    for (size_t j = 0; j < w.size(); ++j) w[j] = a->w_star[j] + scale * 50 * normal(rng);
    p.Gradient(w, g);
    CHECK(GradientVariance(p, w, 32) <= c.M + c.M_V * Norm2(g) + 1e-9 * c.M);
  }

  // A tiny problem with a closed form: b = 2 x + 1 exactly, lambda = 0 -> w* = (2, 1) after
  // standardization of x = (0, 1, 2, 3): x_std = (x - 1.5)/sd, so w* = (2 sd, 2 * 1.5 + 1).
  Dataset tiny;
  tiny.name = "tiny";
  tiny.samples = 4;
  tiny.features = 2;
  const double xs[4] = {0, 1, 2, 3};
  tiny.x = StandardizeWithIntercept(xs, 4, 1);
  tiny.y = {1, 3, 5, 7};
  const Problem t = Make(ProblemKind::kLeastSquares, tiny, 0.0);
  StatusOr<ProblemAnalysis> ta = AnalyzeProblem(t, 0);
  REQUIRE(ta.ok());
  const double sd = std::sqrt(1.25);
  CHECK(ta->w_star[0] == Approx(2 * sd).epsilon(1e-14));
  CHECK(ta->w_star[1] == Approx(4.0).epsilon(1e-14));
  CHECK(std::abs(ta->F_star) < 1e-28);
  // H = diag(1, 1) (standardized column, intercept): L = c = 1; full batch M = 0.
  CHECK(ta->constants.L == Approx(1.0));
  CHECK(ta->constants.c == Approx(1.0));
  CHECK(ta->constants.M == 0.0);
}

TEST_CASE("logistic and softmax constants bound the curvature and the variance") {
  const Problem lr = Make(ProblemKind::kLogistic, Load("breast_cancer"), 1e-2);
  StatusOr<ProblemAnalysis> a = AnalyzeProblem(lr, 1);
  REQUIRE(a.ok());
  CHECK(a->grad_norm_star < 1e-10);
  // L bounds the Hessian everywhere: check at w* and at w1 = 0 (where sigma' = 1/4 exactly, so
  // L is attained up to power-iteration accuracy).
  CHECK(PowerIteration(lr, a->w_star, 300) <= a->constants.L * (1 + 1e-12));
  CHECK(PowerIteration(lr, a->w1, 300) == Approx(a->constants.L).epsilon(1e-6));
  CHECK(a->c_local >= a->constants.c * (1 - 1e-9));
  CHECK(a->constants.M_V == 0.0);
  std::mt19937_64 rng(5);
  std::normal_distribution<double> normal;
  std::vector<double> w(lr.dim());
  for (int trial = 0; trial < 5; ++trial) {
    for (double& x : w) x = 3 * normal(rng);
    CHECK(GradientVariance(lr, w, 1) <= a->constants.M);
  }

  const Problem sm = Make(ProblemKind::kSoftmax, Load("digits", 200), 1e-2);
  StatusOr<ProblemAnalysis> s = AnalyzeProblem(sm, 32);
  REQUIRE(s.ok());
  CHECK(s->grad_norm_star < 1e-9);
  CHECK(s->constants.c == 1e-2);
  w.assign(sm.dim(), 0.0);
  for (int trial = 0; trial < 3; ++trial) {
    CHECK(PowerIteration(sm, w, 200) <= s->constants.L * (1 + 1e-12));
    CHECK(GradientVariance(sm, w, 32) <= s->constants.M);
    for (double& x : w) x = normal(rng);
  }
  // Nonconvex: F_inf = 0, Delta1 = F(w1), c = 0; Newton reached a stationary point.
  const Problem nc = Make(ProblemKind::kNonconvex, Load("breast_cancer"), 1e-2);
  StatusOr<ProblemAnalysis> n = AnalyzeProblem(nc, 32);
  REQUIRE(n.ok());
  CHECK(n->constants.c == 0.0);
  CHECK(n->constants.Delta1 == Approx(n->F1));
  CHECK(n->grad_norm_star < 1e-10);
}

TEST_CASE("the identity quantizer reproduces plain SGD bit for bit") {
  const Problem p = Make(ProblemKind::kLogistic, Load("breast_cancer"), 1e-2);
  StatusOr<ProblemAnalysis> a = AnalyzeProblem(p, 32);
  REQUIRE(a.ok());
  SimulateOptions o;
  o.steps = 300;
  o.seeds = 2;
  o.seed = 11;
  o.batch = 32;
  o.record_points = 400;  // every step
  REQUIRE(ResolveSchedule(o.schedule, a->constants).ok());
  StatusOr<SimulationResult> r = Simulate(p, *a, {}, o);
  REQUIRE(r.ok());
  REQUIRE(r->grid.size() == 300);
  for (int s = 0; s < 2; ++s) {
    std::vector<double> w = a->w1, g(p.dim());
    std::vector<int64_t> batch(32);
    for (int64_t k = 1; k <= o.steps; ++k) {
      CHECK(r->runs[0][s].gap[k - 1] == p.Value(w) - a->F_star);
      MinibatchIndices(o.seed + s, k, p.samples(), batch);
      p.BatchGradient(w, batch, g);
      for (size_t j = 0; j < w.size(); ++j) w[j] -= o.schedule.alpha * g[j];
    }
    CHECK(r->runs[0][s].summary.q_min == 1.0);
    CHECK(r->runs[0][s].summary.q_max == 1.0);
  }
}

TEST_CASE("common random numbers: every quantizer of a seed draws the same minibatches") {
  const Problem p = Make(ProblemKind::kLeastSquares, Load("diabetes"), 1e-2);
  StatusOr<ProblemAnalysis> a = AnalyzeProblem(p, 32);
  REQUIRE(a.ok());
  SimulateOptions o;
  o.steps = 200;
  o.seeds = 3;
  o.batch = 32;
  o.threads = 2;
  REQUIRE(ResolveSchedule(o.schedule, a->constants).ok());
  std::vector<Quantizer> qs = {Make("bf16", "none", RoundingMode::kNearestEven),
                               Make("e2m1fn", "tensor", RoundingMode::kStochastic),
                               Make("mxfp4", "", RoundingMode::kNearestEven)};
  StatusOr<SimulationResult> r = Simulate(p, *a, qs, o);
  REQUIRE(r.ok());
  REQUIRE(r->runs.size() == 4);
  for (int s = 0; s < 3; ++s) {
    for (size_t q = 1; q < 4; ++q) CHECK(r->runs[q][s].batch_digest == r->runs[0][s].batch_digest);
  }
  CHECK(r->runs[0][0].batch_digest != r->runs[0][1].batch_digest);
  // Results do not depend on the thread count (SR keyed by seed, step, index).
  o.threads = 1;
  StatusOr<SimulationResult> r1 = Simulate(p, *a, qs, o);
  REQUIRE(r1.ok());
  for (size_t q = 0; q < 4; ++q) {
    for (int s = 0; s < 3; ++s) CHECK(r1->runs[q][s].gap == r->runs[q][s].gap);
  }
  // SR actually differs from RNE, and seeds differ.
  CHECK(r->runs[2][0].gap != r->runs[2][1].gap);
}

TEST_CASE("per-step records agree with ShrinkageStats and the direct estimator") {
  std::mt19937_64 rng(9);
  std::normal_distribution<double> normal;
  std::vector<double> g(80), out(80);
  for (double& x : g) x = 1e-3 * normal(rng);
  // Unscaled: QuantizeGradient's stats equal the fused Analyze pass.
  const Quantizer e4 = Make("e4m3fn", "none", RoundingMode::kNearestEven);
  const int64_t shape1[] = {80};
  ShrinkageStats stats(SumPath::kFast);
  REQUIRE(QuantizeGradient(e4, shape1, g, 1, 1, out, &stats).ok());
  TensorOptions to;
  StatusOr<ShrinkageStats> ref = Analyze(e4.element, std::span<const double>(g), to);
  REQUIRE(ref.ok());
  const ShrinkageSummary a = stats.Summarize(), b = ref->Summarize();
  CHECK(a.q_hat == Approx(b.q_hat).epsilon(1e-14));
  CHECK(a.residual_sq == Approx(b.residual_sq).epsilon(1e-12));
  CHECK(a.flushed_count_fraction == b.flushed_count_fraction);
  CHECK(a.flushed_count_fraction > 0.0);  // 1e-3-sized values flush in e4m3fn (x_sub/2 ~ 1e-3)
  // Scaled (MX blocks of 32 along the last axis of a 2 x 40 tensor): q^ = <Q, g>/<g, g>.
  const Quantizer mx = Make("mxfp4", "", RoundingMode::kNearestEven);
  const int64_t shape2[] = {2, 40};
  ShrinkageStats s2(SumPath::kFast);
  REQUIRE(QuantizeGradient(mx, shape2, g, 1, 1, out, &s2).ok());
  std::vector<double> direct(80);
  REQUIRE(QuantizeScaled(mx.element, mx.scaling, shape2, g, direct, to).ok());
  CHECK(out == direct);
  double gq = 0, gg = 0;
  for (size_t i = 0; i < g.size(); ++i) {
    gq += g[i] * out[i];
    gg += g[i] * g[i];
  }
  CHECK(s2.Summarize().q_hat == Approx(gq / gg).epsilon(1e-14));
  // MX clamps a block's largest elements when the normalized amax exceeds the element's max
  // (THEORY.md §2.4): those are classified as saturated against their block's scale.
  uint64_t classes = 0;
  for (int c = 0; c < kNumElementClasses; ++c) classes += s2.count(static_cast<ElementClass>(c));
  CHECK(classes == 80);
  CHECK(s2.count() == 80);

  // In a run that records every step, the grid records are the steps and the summary is theirs.
  const Problem p = Make(ProblemKind::kLogistic, Load("breast_cancer"), 1e-2);
  StatusOr<ProblemAnalysis> an = AnalyzeProblem(p, 0);
  REQUIRE(an.ok());
  SimulateOptions o;
  o.steps = 150;
  o.seeds = 1;
  o.batch = 0;
  o.record_points = 1000;
  REQUIRE(ResolveSchedule(o.schedule, an->constants).ok());
  StatusOr<SimulationResult> r =
      Simulate(p, *an, {Make("e3m2fn", "none", RoundingMode::kNearestEven)}, o);
  REQUIRE(r.ok());
  const RunRecord& run = r->runs[1][0];
  double q_min = 1e300, num = 0, den = 0;
  for (const StepRecord& s : run.steps) {
    q_min = std::min(q_min, s.q_hat);
    num += s.alpha * s.q_hat;
    den += s.alpha;
    CHECK(s.residual_sq == Approx(s.rho_hat * s.grad_sq).epsilon(1e-12));
  }
  CHECK(run.summary.q_min == q_min);
  CHECK(run.weighted_q == Approx(num / den).epsilon(1e-14));
  // Full batch: the gradient quantized at step k is grad F(w_k), whose norm the run records.
  for (size_t j = 0; j < run.steps.size(); ++j) {
    CHECK(run.steps[j].grad_sq == Approx(run.grad_sq[j]).epsilon(1e-12));
  }
}

TEST_CASE("comparison: null controls and stalls and the bound on a small run") {
  const Problem p = Make(ProblemKind::kLogistic, Load("breast_cancer"), 1e-2);
  StatusOr<ProblemAnalysis> a = AnalyzeProblem(p, 0);
  REQUIRE(a.ok());
  SimulateOptions o;
  o.steps = 3000;
  o.seeds = 1;
  o.batch = 0;
  o.record_points = 120;
  REQUIRE(ResolveSchedule(o.schedule, a->constants).ok());
  StatusOr<SimulationResult> r = Simulate(p, *a,
                                          {Make("bf16", "none", RoundingMode::kNearestEven),
                                           Make("e2m1fn", "none", RoundingMode::kNearestEven),
                                           Make("e4m3fn", "tensor", RoundingMode::kNearestEven)},
                                          o);
  REQUIRE(r.ok());
  CompareOptions co;
  co.bootstrap = 50;
  StatusOr<Comparison> c = Compare(p, *r, co);
  REQUIRE(c.ok());
  REQUIRE(c->rows.size() == 4);
  CHECK_FALSE(c->fp_bound_violated);  // our constants are right for the FP theorem
  const QuantizerComparison& bf16 = c->rows[1];
  REQUIRE_FALSE(bf16.targets.empty());
  for (const TargetResult& t : bf16.targets) {
    CHECK(t.s_obs == Approx(1.0).epsilon(0.02));  // bf16 ~ FP
    CHECK(t.bound_holds);
  }
  const QuantizerComparison& e2m1 = c->rows[2];
  CHECK(e2m1.stalled);  // unscaled FP4 flushes the gradient once it is small
  CHECK(e2m1.q_collapse_step > 0);
  CHECK(e2m1.final_gap > 10 * c->rows[0].final_gap);
  const QuantizerComparison& e4 = c->rows[3];
  CHECK(e4.shrinkage_valid);
  CHECK(e4.q_min > 0.9);
  CHECK(e4.bound_applicable);
  CHECK_FALSE(e4.stalled);
}

TEST_CASE("schedules parse and resolve and reject bad input") {
  StatusOr<Schedule> f = ParseSchedule("fixed:0.25");
  REQUIRE(f.ok());
  ProblemConstants p;
  p.L = 2;
  p.c = 0.1;
  p.M = 1;
  p.M_V = 3;
  REQUIRE(ResolveSchedule(*f, p).ok());
  CHECK(f->alpha == Approx(0.25 / (2 * 4)));
  StatusOr<Schedule> d = ParseSchedule("diminishing");
  REQUIRE(d.ok());
  REQUIRE(ResolveSchedule(*d, p).ok());
  CHECK(d->beta == Approx(20.0));
  CHECK(d->Alpha(1) == Approx(1.0 / 8));
  StatusOr<Schedule> e = ParseSchedule("diminishing:beta=5,gamma=3");
  REQUIRE(e.ok());
  CHECK(e->Alpha(2) == Approx(1.0));
  CHECK_FALSE(ParseSchedule("constant").ok());
  CHECK_FALSE(ParseSchedule("fixed:-1").ok());
  CHECK_FALSE(ParseSchedule("diminishing:delta=1").ok());
  CHECK(RecordGrid(5, 160) == std::vector<int64_t>{1, 2, 3, 4, 5});
  const std::vector<int64_t> grid = RecordGrid(100000, 100);
  CHECK(grid.front() == 1);
  CHECK(grid.back() == 100000);
  CHECK(std::is_sorted(grid.begin(), grid.end()));
  CHECK(grid.size() <= 102);
}

}  // namespace
}  // namespace qfloat::sim
