// The bounds of THEORY.md §3: the LP forms reduce to BCN's FP theorems at q = 1, delta = sigma0
// = 0; hand-checked numbers for each theorem (worked in the comments); closed-form iteration
// counts agree with the generic inversion; digamma/trigamma against Boost.Math.
#include "qfloat/convergence.h"

#include <boost/math/special_functions/digamma.hpp>
#include <boost/math/special_functions/trigamma.hpp>
#include <catch2/catch.hpp>
#include <cmath>
#include <random>
#include <vector>

namespace qfloat {
namespace {

// The running example: L = 2, c = 0.5, mu = mu_G = 1, M = 4, M_V = 0 (M_G = M_V + mu_G^2 = 1),
// Delta1 = 10. LP: q_min = 0.5, q_max = 0.8, delta = 0.01, sigma0^2 = 0.5, so
//   M~ = (0.64 + 0.01) 4 + 0.5 = 3.1, mu~ = 0.5, M_G~ = 0.65.
ProblemConstants Example() {
  ProblemConstants p;
  p.L = 2;
  p.c = 0.5;
  p.M = 4;
  p.Delta1 = 10;
  return p;
}
ShrinkageConstants ExampleQ() { return ShrinkageConstants{0.5, 0.8, 0.01, 0.5}; }

TEST_CASE("Lemma Q constants and admissible steps (hand-checked)") {
  const ProblemConstants p = Example();
  const ShrinkageConstants s = ExampleQ();
  CHECK(EffectiveMG(p) == 1.0);
  const EffectiveConstants e = LowPrecisionConstants(p, s);
  CHECK(e.mu == 0.5);
  CHECK(e.M == Approx(3.1).epsilon(1e-15));
  CHECK(e.M_G == Approx(0.65).epsilon(1e-15));
  // FP: mu/(L M_G) = 1/2.
  CHECK(MaxStepFP(p) == 0.5);
  // G: q_min mu / ((q_max^2 + delta) L M_G) = 0.5 / 1.3 = 0.384615...
  CHECK(MaxStepLP(p, s, ShrinkageMode::kG) == Approx(0.5 / 1.3).epsilon(1e-15));
  // P: min(0.5/(0.26 * 2), 0.8/(0.65 * 2)) = min(0.961538, 0.615385) = 0.615385.
  CHECK(MaxStepLP(p, s, ShrinkageMode::kP) == Approx(0.8 / 1.3).epsilon(1e-15));
  // With delta = 0, mode P gives mu/(q_max L M_G), above the FP limit when q_max <= 1.
  const ShrinkageConstants s0{0.5, 0.8, 0.0, 0.0};
  CHECK(MaxStepLP(p, s0, ShrinkageMode::kP) == Approx(1.0 / (0.8 * 2)).epsilon(1e-15));
  CHECK(MaxStepLP(p, s0, ShrinkageMode::kP) > MaxStepFP(p));
  CHECK(ValidateProblem(p, true).ok());
  CHECK(ValidateShrinkage(s).ok());
  ProblemConstants bad = p;
  bad.c = 3;  // c > L
  const Status st = ValidateProblem(bad, true);
  CHECK(st.code() == StatusCode::kInvalidArgument);
  CHECK(st.message().find("c = 3") != std::string::npos);
  CHECK_FALSE(ValidateShrinkage(ShrinkageConstants{0.0, 1.0, 0, 0}).ok());
  CHECK_FALSE(ValidateShrinkage(ShrinkageConstants{0.9, 0.8, 0, 0}).ok());
  CHECK(ParseShrinkageMode("P").value() == ShrinkageMode::kP);
  CHECK_FALSE(ParseShrinkageMode("Q").ok());
}

TEST_CASE("(a) strongly convex, fixed step (Thm 4.6), hand-checked") {
  const ProblemConstants p = Example();
  const ShrinkageConstants s = ExampleQ();
  const double alpha = 0.25;
  // FP: rate = 1 - 0.25 * 0.5 = 0.875, floor = 0.25 * 2 * 4 / (2 * 0.5) = 2.
  const StronglyConvexFixedStep fp = StronglyConvexFixedFP(p, alpha);
  CHECK(fp.rate == 0.875);
  CHECK(fp.floor == 2.0);
  CHECK(fp.admissible);
  // Bound(3) = 2 + 0.875^2 * 8 = 8.125.
  CHECK(fp.Bound(3) == Approx(8.125).epsilon(1e-15));
  // eps = 3: 0.875^(K-1) 8 <= 1 -> K - 1 >= ln(1/8)/ln(0.875) = 15.57 -> K = 17.
  CHECK(IterationsToTarget(fp, 3.0) == 17.0);
  // eps = 4: K - 1 >= ln(1/4)/ln(0.875) = 10.38 -> K = 12.
  CHECK(IterationsToTarget(fp, 4.0) == 12.0);
  CHECK(IterationsToTarget(fp, 2.0) == HUGE_VAL);  // at the floor
  CHECK(IterationsToTarget(fp, 11.0) == 1.0);      // Delta1 already below
  // LP: rate = 1 - 0.25 * 0.5 * 0.5 = 0.9375, floor = 0.25 * 2 * 3.1 / (2 * 0.5 * 0.5) = 3.1.
  const StronglyConvexFixedStep lp = StronglyConvexFixedLP(p, s, alpha, ShrinkageMode::kG);
  CHECK(lp.rate == 0.9375);
  CHECK(lp.floor == Approx(3.1).epsilon(1e-15));
  CHECK(lp.admissible);  // 0.25 <= 0.3846
  // eps = 4: K - 1 >= ln(0.9/6.9)/ln(0.9375) = 31.56 -> K = 33; slowdown 33/12 = 2.75.
  CHECK(IterationsToTarget(lp, 4.0) == 33.0);
  CHECK(Slowdown(IterationsToTarget(lp, 4.0), IterationsToTarget(fp, 4.0)) == 2.75);
  CHECK(Slowdown(IterationsToTarget(lp, 3.0), IterationsToTarget(fp, 3.0)) == HUGE_VAL);
  // Phi = (0.64 + 0.01)/0.5 + 0.5/(0.5 * 4) = 1.3 + 0.25 = 1.55 = 3.1 / 2.
  CHECK(FloorRatio(p, s) == Approx(1.55).epsilon(1e-15));
  CHECK(FloorRatio(p, s) == Approx(lp.floor / fp.floor).epsilon(1e-15));
  // Parts: shrinkage 2 (0.64/0.5 - 1) = 0.56; noise 0.25 * 2 (0.04 + 0.5)/(2 * 0.5 * 0.5) = 0.54.
  const FloorIncrease parts = FloorIncreaseParts(p, s, alpha);
  CHECK(parts.shrinkage == Approx(0.56).epsilon(1e-14));
  CHECK(parts.noise == Approx(0.54).epsilon(1e-14));
  CHECK(parts.shrinkage + parts.noise == Approx(lp.floor - fp.floor).epsilon(1e-14));
  // ln(0.9375)/ln(0.875) = 0.48332 <= q_min = 0.5.
  CHECK(RateRatio(p, s, alpha) == Approx(std::log(0.9375) / std::log(0.875)).epsilon(1e-14));
  CHECK(RateRatio(p, s, alpha) <= s.q_min);
  // Constant q = 0.5, no noise: the floor drops to q F_inf = 1.
  const ShrinkageConstants constant{0.5, 0.5, 0.0, 0.0};
  CHECK(StronglyConvexFixedLP(p, constant, alpha, ShrinkageMode::kP).floor == Approx(1.0));
  // Compensated rate alpha/q = 0.5 with q = 0.5, delta 0.01, sigma0^2 0.5: the FP rate returns
  // and the floor is 0.25 * 2 / 1 * (4 + 0.54/0.25) = 3.08.
  const ShrinkageConstants cq{0.5, 0.5, 0.01, 0.5};
  const StronglyConvexFixedStep comp =
      StronglyConvexFixedLP(p, cq, CompensatedStep(alpha, 0.5), ShrinkageMode::kP);
  CHECK(comp.rate == fp.rate);
  CHECK(comp.floor == Approx(3.08).epsilon(1e-14));
  CHECK(CompensatedFloor(p, 0.5, 0.01, 0.5, alpha) == Approx(3.08).epsilon(1e-14));
  CHECK(comp.admissible);  // 0.5 <= 0.5/(0.26 * 2) = 0.96
  // M = 0: no FP floor; Phi is infinite with sigma0 > 0, undefined without.
  ProblemConstants m0 = p;
  m0.M = 0;
  CHECK(FloorRatio(m0, s) == HUGE_VAL);
  CHECK(std::isnan(FloorRatio(m0, ShrinkageConstants{0.5, 0.8, 0.01, 0.0})));
}

TEST_CASE("(b) strongly convex, beta/(gamma + k) (Thm 4.7), hand-checked") {
  const ProblemConstants p = Example();
  const ShrinkageConstants s = ExampleQ();
  // FP, beta = 4, gamma = 8: beta c mu = 2 > 1; alpha_1 = 4/9 <= 0.5;
  // nu = max(16 * 2 * 4 / (2 * 1), 9 * 10) = max(64, 90) = 90; eps = 1: K = ceil(90 - 8) = 82.
  const StronglyConvexDiminishing fp = StronglyConvexDiminishingFP(p, 4, 8);
  CHECK(fp.beta_check == BetaCheck::kOk);
  CHECK(fp.admissible);
  CHECK(fp.nu == 90.0);
  CHECK(IterationsToTarget(fp, 1.0) == 82.0);
  CHECK(fp.Bound(82) == 1.0);
  // LP, beta = 4: beta c q_min mu = 1 exactly: the O(1/k) rate is lost (O(ln k / k)).
  const StronglyConvexDiminishing lp4 = StronglyConvexDiminishingLP(p, s, 4, 8, ShrinkageMode::kG);
  CHECK(lp4.beta_check == BetaCheck::kLogRate);
  CHECK(lp4.nu == HUGE_VAL);
  CHECK(IterationsToTarget(lp4, 1.0) == HUGE_VAL);
  const StronglyConvexDiminishing lp3 = StronglyConvexDiminishingLP(p, s, 3, 8, ShrinkageMode::kG);
  CHECK(lp3.beta_check == BetaCheck::kSlowRate);
  CHECK(lp3.rate_exponent == 0.75);  // O(k^-0.75)
  // LP, beta = 8: nu~ = max(64 * 2 * 3.1 / (2 * 1), 90) = 198.4; alpha_1 = 8/9 > 0.3846: flagged.
  const StronglyConvexDiminishing lp8 = StronglyConvexDiminishingLP(p, s, 8, 8, ShrinkageMode::kG);
  CHECK(lp8.beta_check == BetaCheck::kOk);
  CHECK(lp8.nu == Approx(198.4).epsilon(1e-14));
  CHECK_FALSE(lp8.admissible);
  CHECK(IterationsToTarget(lp8, 1.0) == 191.0);  // ceil(198.4 - 8) = 191
  // Optimal beta: FP 2/(c mu) = 4, nu* = 2 * 2 * 4 / 0.25 = 64; LP 2/(c mu~) = 8, nu~* = 198.4;
  // ratio M~/(q_min^2 M) = 3.1.
  CHECK(OptimalBeta(p, kFullPrecision) == 4.0);
  CHECK(OptimalNu(p, kFullPrecision) == 64.0);
  CHECK(OptimalBeta(p, s) == 8.0);
  CHECK(OptimalNu(p, s) == Approx(198.4).epsilon(1e-14));
  // Same beta = 8: (3.1/4) (4 - 1)/(2 - 1) = 2.325 = 198.4 / (512/6).
  CHECK(SameBetaNuRatio(p, s, 8) == Approx(2.325).epsilon(1e-14));
  CHECK(ToString(BetaCheck::kSlowRate) == "slow-rate");
}

TEST_CASE("(c) nonconvex, fixed step (Thm 4.8), hand-checked") {
  const ProblemConstants p = Example();
  const ShrinkageConstants s = ExampleQ();
  // FP: floor = 0.25 * 2 * 4 = 2, transient = 2 * 10 / 0.25 = 80; Bound(10) = 10.
  const NonconvexFixedStep fp = NonconvexFixedFP(p, 0.25);
  CHECK(fp.floor == 2.0);
  CHECK(fp.transient == 80.0);
  CHECK(fp.Bound(10) == 10.0);
  CHECK(IterationsToTarget(fp, 3.0) == 80.0);
  CHECK(IterationsToTarget(fp, 4.0) == 40.0);
  // LP: floor = 0.25 * 2 * 3.1 / 0.5 = 3.1, transient = 20 / 0.125 = 160; eps = 4: ceil(177.8).
  const NonconvexFixedStep lp = NonconvexFixedLP(p, s, 0.25, ShrinkageMode::kG);
  CHECK(lp.floor == Approx(3.1).epsilon(1e-15));
  CHECK(lp.transient == 160.0);
  CHECK(IterationsToTarget(lp, 4.0) == 178.0);
  // Closed-form slowdown (1/0.5)(4 - 2)/(4 - 3.1) = 4.444 against 178/40 = 4.45 with ceilings.
  CHECK(NonconvexFixedSlowdown(p, s, 0.25, 4.0) == Approx(40.0 / 9.0).epsilon(1e-13));
  CHECK(NonconvexFixedSlowdown(p, s, 0.25, 3.0) == HUGE_VAL);
  // Horizon-tuned, K = 1000: alpha* = sqrt(20/6200) = 0.0567962, bound = 4 sqrt(0.124) = 1.408544,
  // which is the LP bound at alpha*.
  const double a = HorizonTunedStep(p, s, 1000);
  CHECK(a == Approx(std::sqrt(20.0 / 6200.0)).epsilon(1e-15));
  CHECK(HorizonTunedBound(p, s, 1000) == Approx(4 * std::sqrt(0.124)).epsilon(1e-14));
  CHECK(NonconvexFixedLP(p, s, a, ShrinkageMode::kG).Bound(1000) ==
        Approx(HorizonTunedBound(p, s, 1000)).epsilon(1e-14));
  // Slowdown of the horizon-tuned bound: M~/(q_min^2 M) = 3.1.
  CHECK(HorizonTunedBound(p, s, 1000) / HorizonTunedBound(p, kFullPrecision, 1000) ==
        Approx(std::sqrt(3.1)).epsilon(1e-14));
  // Mode P with q = {0.5, 1, 0.75}: noise sum 1.54 + 4.54 + 2.79 = 8.87;
  // (20 + 0.0625 * 2 * 8.87) / (0.25 * 2.25) = 21.10875 / 0.5625 = 37.5266667.
  const std::vector<double> q = {0.5, 1.0, 0.75};
  CHECK(NonconvexFixedModeP(p, 0.25, 0.01, 0.5, q) == Approx(21.10875 / 0.5625).epsilon(1e-14));
}

TEST_CASE("(d) nonconvex, diminishing steps (Thms 4.9, 4.10), hand-checked") {
  const ProblemConstants p = Example();
  const ShrinkageConstants s = ExampleQ();
  // beta = 1, gamma = 1, K = 3: alphas 1/2, 1/3, 1/4; A = 13/12, S = 1/4 + 1/9 + 1/16 = 61/144.
  const ScheduleSums sums = HarmonicScheduleSums(1, 1, 3);
  CHECK(sums.A == Approx(13.0 / 12).epsilon(1e-15));
  CHECK(sums.S == Approx(61.0 / 144).epsilon(1e-15));
  const std::vector<double> alphas = {0.5, 1.0 / 3, 0.25};
  CHECK(ScheduleSumsOf(alphas).A == Approx(sums.A).epsilon(1e-15));
  // FP: (20 + 8 * 61/144)/(13/12) = 21.5897436; LP: (20 + 6.2 * 61/144)/(0.5 * 13/12) = 41.772.
  CHECK(NonconvexDiminishingFP(p, sums) == Approx((20 + 8 * 61.0 / 144) * 12 / 13).epsilon(1e-14));
  CHECK(NonconvexDiminishingLP(p, s, sums) ==
        Approx((20 + 6.2 * 61.0 / 144) * 24 / 13).epsilon(1e-14));
  // k0: the last too-large step is the 4th (0.7 > 0.5), so the bound restarts at k0 = 5.
  const std::vector<double> sched = {1, 0.6, 0.4, 0.7, 0.3, 0.2};
  CHECK(FirstAdmissibleStep(sched, 0.5) == 5);
  CHECK(FirstAdmissibleStep(sched, 2.0) == 1);
  CHECK(FirstAdmissibleStep(sched, 0.1) == 0);
  // 1/(1 + k) <= 0.3 from k = 3.
  CHECK(FirstAdmissibleHarmonicStep(1, 1, 0.3) == 3.0);
  // r with S_inf = psi'(2) = pi^2/6 - 1 = 0.644934:
  // (20 + 6.2 * 0.644934)/(0.5 (20 + 8 * 0.644934)) = 1.907722.
  const double s_inf = HarmonicScheduleSums(1, 1, HUGE_VAL).S;
  CHECK(s_inf == Approx(M_PI * M_PI / 6 - 1).epsilon(1e-14));
  CHECK(PowerLawExponent(p, s, s_inf) ==
        Approx((20 + 6.2 * s_inf) / (0.5 * (20 + 8 * s_inf))).epsilon(1e-14));
  CHECK(HarmonicScheduleSums(1, 1, HUGE_VAL).A == HUGE_VAL);
  // Effective time: A_K / sum alpha_k q_k = 2 / 1.5.
  const std::vector<double> ones = {1, 1};
  const std::vector<double> qs = {0.5, 1};
  CHECK(EffectiveTimeRatio(ones, qs) == Approx(4.0 / 3).epsilon(1e-15));
}

TEST_CASE("digamma and trigamma schedule sums against Boost.Math and direct sums") {
  for (const double x : {1e-3, 0.5, 1.0, 2.5, 11.9, 12.0, 100.0, 1e6, 1e15}) {
    INFO(x);
    CHECK(detail::Digamma(x) == Approx(boost::math::digamma(x)).epsilon(1e-14));
    CHECK(detail::Trigamma(x) == Approx(boost::math::trigamma(x)).epsilon(1e-14));
  }
  // Just above the direct-summation threshold: the digamma form against a direct sum.
  for (const double gamma : {0.5, 3.0, 100.0}) {
    const double beta = 2.0;
    const int k = 5000;
    double a = 0.0, s = 0.0;
    for (int i = k; i >= 1; --i) {  // small terms first
      a += beta / (gamma + i);
      s += beta * beta / ((gamma + i) * (gamma + i));
    }
    const ScheduleSums sums = HarmonicScheduleSums(beta, gamma, k);
    CHECK(sums.A == Approx(a).epsilon(1e-13));
    CHECK(sums.S == Approx(s).epsilon(1e-13));
  }
}

TEST_CASE("LP bounds reduce exactly to BCN's theorems at q = 1, delta = sigma0 = 0") {
  std::mt19937_64 rng(51);
  std::uniform_real_distribution<double> u(0.1, 10.0);
  for (int trial = 0; trial < 200; ++trial) {
    ProblemConstants p;
    p.L = u(rng);
    p.c = p.L / u(rng) / 2;
    p.mu = 1.0 / u(rng) + 0.05;
    p.mu_G = p.mu * (1 + u(rng));
    p.M = u(rng);
    p.M_V = u(rng);
    p.Delta1 = 10 * u(rng);
    const double alpha = MaxStepFP(p) * u(rng) / 10;
    for (const ShrinkageMode mode : {ShrinkageMode::kG, ShrinkageMode::kP}) {
      CHECK(MaxStepLP(p, kFullPrecision, mode) == MaxStepFP(p));
      const StronglyConvexFixedStep a = StronglyConvexFixedFP(p, alpha);
      const StronglyConvexFixedStep al = StronglyConvexFixedLP(p, kFullPrecision, alpha, mode);
      CHECK(al.rate == a.rate);
      CHECK(al.floor == a.floor);
      CHECK(al.admissible == a.admissible);
      CHECK(IterationsToTarget(al, a.floor * 1.5 + 1e-3) ==
            IterationsToTarget(a, a.floor * 1.5 + 1e-3));
      const double beta = 3 / (p.c * p.mu);
      const StronglyConvexDiminishing b = StronglyConvexDiminishingFP(p, beta, 5);
      const StronglyConvexDiminishing bl =
          StronglyConvexDiminishingLP(p, kFullPrecision, beta, 5, mode);
      CHECK(bl.nu == b.nu);
      CHECK(bl.beta_check == b.beta_check);
      const NonconvexFixedStep c = NonconvexFixedFP(p, alpha);
      const NonconvexFixedStep cl = NonconvexFixedLP(p, kFullPrecision, alpha, mode);
      CHECK(cl.floor == c.floor);
      CHECK(cl.transient == c.transient);
      const ScheduleSums sums = HarmonicScheduleSums(beta, 5, 1000);
      CHECK(NonconvexDiminishingLP(p, kFullPrecision, sums) == NonconvexDiminishingFP(p, sums));
    }
    CHECK(FloorRatio(p, kFullPrecision) == 1.0);
    CHECK(RateRatio(p, kFullPrecision, alpha) == 1.0);
    CHECK(SameBetaNuRatio(p, kFullPrecision, 3 / (p.c * p.mu)) == 1.0);
    CHECK(PowerLawExponent(p, kFullPrecision, 2.0) == 1.0);
  }
}

TEST_CASE("closed-form iteration counts equal the generic doubling-bisection inversion") {
  std::mt19937_64 rng(52);
  std::uniform_real_distribution<double> u(0.05, 1.0);
  const ProblemConstants p = Example();
  for (int trial = 0; trial < 300; ++trial) {
    const ShrinkageConstants s{u(rng) * 0.9 + 0.05, 1.0, u(rng) * 0.1, u(rng)};
    const ShrinkageConstants sq{s.q_min, std::max(s.q_min, u(rng)), s.delta, s.sigma0_sq};
    const double alpha = MaxStepLP(p, sq, ShrinkageMode::kG) * u(rng);
    const StronglyConvexFixedStep a = StronglyConvexFixedLP(p, sq, alpha, ShrinkageMode::kG);
    const double eps_a = a.floor + (p.Delta1 - a.floor) * u(rng) * 0.5;
    CHECK(IterationsToTarget(a, eps_a) ==
          InvertBound([&](double k) { return a.Bound(k); }, eps_a, a.floor));
    const NonconvexFixedStep c = NonconvexFixedLP(p, sq, alpha, ShrinkageMode::kG);
    const double eps_c = c.floor * (1 + u(rng));
    CHECK(IterationsToTarget(c, eps_c) ==
          InvertBound([&](double k) { return c.Bound(k); }, eps_c, c.floor));
    const StronglyConvexDiminishing b =
        StronglyConvexDiminishingLP(p, sq, 4 / (p.c * sq.q_min), 20, ShrinkageMode::kG);
    const double eps_b = b.nu / (50 + 1000 * u(rng));
    CHECK(IterationsToTarget(b, eps_b) ==
          InvertBound([&](double k) { return b.Bound(k); }, eps_b, 0.0));
  }
  // Unreachable targets.
  CHECK(InvertBound([](double k) { return 1.0 + 1.0 / k; }, 1.0, 1.0) == HUGE_VAL);
  CHECK(InvertBound([](double) { return 5.0; }, 1.0, 0.0) == HUGE_VAL);
  CHECK(std::isnan(Slowdown(3.0, HUGE_VAL)));
}

TEST_CASE("mode-P trajectory bound (THEORY.md 2.6), hand-iterated") {
  ProblemConstants p = Example();
  // D1 = 10; step 1: alpha 0.1, q 0.5, delta 0, sigma0^2 0:
  //   D2 = (1 - 0.1 * 0.5 * 0.5) 10 + 0.5 * 0.01 * 2 * (0.25 * 4) = 9.75 + 0.01 = 9.76;
  // step 2: alpha 0.2, q 1, delta 0.01, sigma0^2 0.5:
  //   D3 = (1 - 0.2 * 0.5) 9.76 + 0.5 * 0.04 * 2 * (1.01 * 4 + 0.5) = 8.784 + 0.1816 = 8.9656;
  // step 3: alpha 2 violates 2 <= 1 * 1 / ((1 + 0) * 2 * 1) = 0.5.
  const std::vector<TrajectoryStep> steps = {
      {0.1, 0.5, 0.0, 0.0}, {0.2, 1.0, 0.01, 0.5}, {2.0, 1.0, 0.0, 0.0}};
  const TrajectoryBoundResult r = TrajectoryBound(p, steps);
  REQUIRE(r.bound.size() == 4);
  CHECK(r.bound[0] == 10.0);
  CHECK(r.bound[1] == Approx(9.76).epsilon(1e-15));
  CHECK(r.bound[2] == Approx(8.9656).epsilon(1e-15));
  CHECK(r.inadmissible_steps == 1);
  CHECK(r.first_inadmissible == 3);
  // With q = 1 and no noise it is BCN's recursion (the proof of Thm 4.6 step by step): the fixed
  // point is alpha L M / (2 c mu).
  std::vector<TrajectoryStep> fp(5000, TrajectoryStep{0.25, 1.0, 0.0, 0.0});
  const TrajectoryBoundResult f = TrajectoryBound(p, fp);
  CHECK(f.bound.back() == Approx(StronglyConvexFixedFP(p, 0.25).floor).epsilon(1e-12));
  CHECK(f.bound[3] == Approx(StronglyConvexFixedFP(p, 0.25).Bound(4)).epsilon(1e-14));
}

}  // namespace
}  // namespace qfloat
