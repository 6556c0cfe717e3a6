// The bounds of THEORY.md §3. Formulas are written so that the LP form with q = 1, delta =
// sigma0^2 = 0 performs the same floating-point operations as the FP form (tests check the
// reduction bit for bit where the association allows it).
#include "qfloat/convergence.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <string>

namespace qfloat {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
// Above this, K is no longer an exact integer in double: skip the +-1 consistency checks.
constexpr double kExactIntLimit = 9007199254740992.0;  // 2^53

std::string Num(double x) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.17g", x);
  return buf;
}

Status Field(bool ok, const char* name, double value, const char* rule) {
  if (ok) return Status::Ok();
  return InvalidArgument(std::string(name) + " = " + Num(value) + ": " + rule);
}

// Neumaier summation (one-signed or not), used for schedule sums.
struct Neumaier {
  double s = 0.0;
  double c = 0.0;
  void Add(double x) {
    const double t = s + x;
    if (std::fabs(s) >= std::fabs(x)) {
      c += (s - t) + x;
    } else {
      c += (x - t) + s;
    }
    s = t;
  }
  double Value() const { return s + c; }
};

double MTilde(const ProblemConstants& p, const ShrinkageConstants& s) {
  return (s.q_max * s.q_max + s.delta) * p.M + s.sigma0_sq;
}

// Makes k the least integer >= 1 with bound(k) <= eps, starting from a closed-form estimate
// (floating-point rounding in ln/ceil can be off by one).
template <typename B>
double AdjustIterations(double k, double eps, const B& bound) {
  if (!(k < kExactIntLimit)) return k;
  if (k < 1.0) k = 1.0;
  for (int i = 0; i < 64 && k > 1.0 && bound(k - 1.0) <= eps; ++i) k -= 1.0;
  for (int i = 0; i < 64 && !(bound(k) <= eps); ++i) k += 1.0;
  return k;
}

}  // namespace

std::string ToString(ShrinkageMode mode) { return mode == ShrinkageMode::kG ? "G" : "P"; }

StatusOr<ShrinkageMode> ParseShrinkageMode(std::string_view text) {
  if (text == "G" || text == "g") return ShrinkageMode::kG;
  if (text == "P" || text == "p") return ShrinkageMode::kP;
  return InvalidArgument("unknown shrinkage mode '" + std::string(text) + "' (expected G or P)");
}

std::string ToString(BetaCheck check) {
  switch (check) {
    case BetaCheck::kOk:
      return "ok";
    case BetaCheck::kLogRate:
      return "log-rate";
    case BetaCheck::kSlowRate:
      return "slow-rate";
  }
  return "?";
}

double EffectiveMG(const ProblemConstants& p) {
  return p.M_G != 0.0 ? p.M_G : p.M_V + p.mu_G * p.mu_G;
}

Status ValidateProblem(const ProblemConstants& p, bool strongly_convex) {
  const double mg = EffectiveMG(p);
  Status st = Field(std::isfinite(p.L) && p.L > 0, "L", p.L, "must be finite and > 0");
  if (st.ok()) st = Field(std::isfinite(p.mu) && p.mu > 0, "mu", p.mu, "must be finite and > 0");
  if (st.ok()) {
    st = Field(std::isfinite(p.mu_G) && p.mu_G >= p.mu, "mu_G", p.mu_G,
               "must be finite and >= mu (BCN (4.8b))");
  }
  if (st.ok()) st = Field(std::isfinite(p.M) && p.M >= 0, "M", p.M, "must be finite and >= 0");
  if (st.ok()) {
    st = Field(std::isfinite(p.M_V) && p.M_V >= 0, "M_V", p.M_V, "must be finite and >= 0");
  }
  if (st.ok()) {
    st = Field(std::isfinite(mg) && mg >= p.mu * p.mu, "M_G", mg,
               "must be finite and >= mu^2 (BCN (4.9): M_G = M_V + mu_G^2)");
  }
  if (st.ok()) {
    st = Field(std::isfinite(p.Delta1) && p.Delta1 >= 0, "Delta1", p.Delta1,
               "must be finite and >= 0");
  }
  if (st.ok() && strongly_convex) {
    st = Field(std::isfinite(p.c) && p.c > 0 && p.c <= p.L, "c", p.c,
               "must satisfy 0 < c <= L for the strongly convex bounds");
  }
  return st;
}

Status ValidateShrinkage(const ShrinkageConstants& s) {
  Status st = Field(std::isfinite(s.q_min) && s.q_min > 0, "q_min", s.q_min,
                    "must be finite and > 0 (q_min = 0 makes every bound vacuous)");
  if (st.ok()) {
    st = Field(std::isfinite(s.q_max) && s.q_max >= s.q_min, "q_max", s.q_max,
               "must be finite and >= q_min");
  }
  if (st.ok()) {
    st = Field(std::isfinite(s.delta) && s.delta >= 0, "delta", s.delta, "must be finite, >= 0");
  }
  if (st.ok()) {
    st = Field(std::isfinite(s.sigma0_sq) && s.sigma0_sq >= 0, "sigma0_sq", s.sigma0_sq,
               "must be finite and >= 0");
  }
  return st;
}

EffectiveConstants LowPrecisionConstants(const ProblemConstants& p, const ShrinkageConstants& s) {
  EffectiveConstants e;
  const double factor = s.q_max * s.q_max + s.delta;
  e.mu = s.q_min * p.mu;
  e.M = factor * p.M + s.sigma0_sq;
  e.M_G = factor * EffectiveMG(p);
  return e;
}

double MaxStepFP(const ProblemConstants& p) { return p.mu / (p.L * EffectiveMG(p)); }

double MaxStepLP(const ProblemConstants& p, const ShrinkageConstants& s, ShrinkageMode mode) {
  const double mg = EffectiveMG(p);
  auto at = [&](double q_mu, double q_sq) { return q_mu / ((q_sq + s.delta) * p.L * mg); };
  if (mode == ShrinkageMode::kG) return at(s.q_min * p.mu, s.q_max * s.q_max);
  return std::min(at(s.q_min * p.mu, s.q_min * s.q_min), at(s.q_max * p.mu, s.q_max * s.q_max));
}

// ---- (a) ----

double StronglyConvexFixedStep::Bound(double k) const {
  return floor + std::pow(rate, k - 1.0) * (delta1 - floor);
}

StronglyConvexFixedStep StronglyConvexFixedFP(const ProblemConstants& p, double alpha) {
  StronglyConvexFixedStep b;
  b.alpha = alpha;
  b.rate = 1.0 - alpha * p.c * p.mu;
  b.floor = alpha * p.L * p.M / (2.0 * p.c * p.mu);
  b.delta1 = p.Delta1;
  b.max_step = MaxStepFP(p);
  b.admissible = alpha > 0 && alpha <= b.max_step;
  return b;
}

StronglyConvexFixedStep StronglyConvexFixedLP(const ProblemConstants& p,
                                              const ShrinkageConstants& s, double alpha,
                                              ShrinkageMode mode) {
  const double mu_t = s.q_min * p.mu;
  StronglyConvexFixedStep b;
  b.alpha = alpha;
  b.rate = 1.0 - alpha * p.c * mu_t;
  b.floor = alpha * p.L * MTilde(p, s) / (2.0 * p.c * mu_t);
  b.delta1 = p.Delta1;
  b.max_step = MaxStepLP(p, s, mode);
  b.admissible = alpha > 0 && alpha <= b.max_step;
  return b;
}

double IterationsToTarget(const StronglyConvexFixedStep& b, double eps) {
  if (!(eps > b.floor)) return kInf;
  if (b.delta1 <= eps) return 1.0;
  if (b.rate <= 0.0) return 2.0;  // one step reaches the floor
  if (!(b.rate < 1.0)) return kInf;
  const double k =
      1.0 + std::ceil(std::log((eps - b.floor) / (b.delta1 - b.floor)) / std::log(b.rate));
  return AdjustIterations(k, eps, [&](double kk) { return b.Bound(kk); });
}

double FloorRatio(const ProblemConstants& p, const ShrinkageConstants& s) {
  const double shrink = (s.q_max * s.q_max + s.delta) / s.q_min;
  if (p.M == 0.0) return s.sigma0_sq > 0.0 ? kInf : kNaN;
  return shrink + s.sigma0_sq / (s.q_min * p.M);
}

FloorIncrease FloorIncreaseParts(const ProblemConstants& p, const ShrinkageConstants& s,
                                 double alpha) {
  FloorIncrease f;
  const double fp_floor = alpha * p.L * p.M / (2.0 * p.c * p.mu);
  f.shrinkage = fp_floor * (s.q_max * s.q_max / s.q_min - 1.0);
  f.noise = alpha * p.L * (s.delta * p.M + s.sigma0_sq) / (2.0 * p.c * s.q_min * p.mu);
  return f;
}

double RateRatio(const ProblemConstants& p, const ShrinkageConstants& s, double alpha) {
  return std::log1p(-alpha * p.c * (s.q_min * p.mu)) / std::log1p(-alpha * p.c * p.mu);
}

double CompensatedStep(double alpha, double q) { return alpha / q; }

double CompensatedFloor(const ProblemConstants& p, double q, double delta, double sigma0_sq,
                        double alpha) {
  return alpha * p.L / (2.0 * p.c * p.mu) * (p.M + (delta * p.M + sigma0_sq) / (q * q));
}

// ---- (b) ----

double StronglyConvexDiminishing::Bound(double k) const { return nu / (gamma + k); }

namespace {

StronglyConvexDiminishing Diminishing(const ProblemConstants& p, double mu_t, double m_t,
                                      double beta, double gamma, double max_step) {
  StronglyConvexDiminishing b;
  b.beta = beta;
  b.gamma = gamma;
  b.alpha1 = beta / (gamma + 1.0);
  b.max_step = max_step;
  b.admissible = gamma > 0 && b.alpha1 <= max_step;
  const double x = beta * p.c * mu_t;
  b.rate_exponent = std::min(1.0, x);
  if (x > 1.0) {
    b.beta_check = BetaCheck::kOk;
    b.nu = std::max(beta * beta * p.L * m_t / (2.0 * (x - 1.0)), (gamma + 1.0) * p.Delta1);
  } else {
    b.beta_check = x == 1.0 ? BetaCheck::kLogRate : BetaCheck::kSlowRate;
    b.nu = kInf;
  }
  return b;
}

}  // namespace

StronglyConvexDiminishing StronglyConvexDiminishingFP(const ProblemConstants& p, double beta,
                                                      double gamma) {
  return Diminishing(p, p.mu, p.M, beta, gamma, MaxStepFP(p));
}

StronglyConvexDiminishing StronglyConvexDiminishingLP(const ProblemConstants& p,
                                                      const ShrinkageConstants& s, double beta,
                                                      double gamma, ShrinkageMode mode) {
  return Diminishing(p, s.q_min * p.mu, MTilde(p, s), beta, gamma, MaxStepLP(p, s, mode));
}

double IterationsToTarget(const StronglyConvexDiminishing& b, double eps) {
  if (!(b.nu < kInf) || !(eps > 0.0)) return kInf;
  const double k = std::max(1.0, std::ceil(b.nu / eps - b.gamma));
  return AdjustIterations(k, eps, [&](double kk) { return b.Bound(kk); });
}

double OptimalBeta(const ProblemConstants& p, const ShrinkageConstants& s) {
  return 2.0 / (p.c * (s.q_min * p.mu));
}

double OptimalNu(const ProblemConstants& p, const ShrinkageConstants& s) {
  const double mu_t = s.q_min * p.mu;
  return 2.0 * p.L * MTilde(p, s) / (p.c * p.c * mu_t * mu_t);
}

double SameBetaNuRatio(const ProblemConstants& p, const ShrinkageConstants& s, double beta) {
  return MTilde(p, s) / p.M * (beta * p.c * p.mu - 1.0) / (beta * p.c * (s.q_min * p.mu) - 1.0);
}

// ---- (c) ----

double NonconvexFixedStep::Bound(double k) const { return floor + transient / k; }

NonconvexFixedStep NonconvexFixedFP(const ProblemConstants& p, double alpha) {
  NonconvexFixedStep b;
  b.alpha = alpha;
  b.floor = alpha * p.L * p.M / p.mu;
  b.transient = 2.0 * p.Delta1 / (p.mu * alpha);
  b.max_step = MaxStepFP(p);
  b.admissible = alpha > 0 && alpha <= b.max_step;
  return b;
}

NonconvexFixedStep NonconvexFixedLP(const ProblemConstants& p, const ShrinkageConstants& s,
                                    double alpha, ShrinkageMode mode) {
  const double mu_t = s.q_min * p.mu;
  NonconvexFixedStep b;
  b.alpha = alpha;
  b.floor = alpha * p.L * MTilde(p, s) / mu_t;
  b.transient = 2.0 * p.Delta1 / (mu_t * alpha);
  b.max_step = MaxStepLP(p, s, mode);
  b.admissible = alpha > 0 && alpha <= b.max_step;
  return b;
}

double IterationsToTarget(const NonconvexFixedStep& b, double eps) {
  if (!(eps > b.floor)) return kInf;
  const double k = std::max(1.0, std::ceil(b.transient / (eps - b.floor)));
  return AdjustIterations(k, eps, [&](double kk) { return b.Bound(kk); });
}

double NonconvexFixedSlowdown(const ProblemConstants& p, const ShrinkageConstants& s, double alpha,
                              double eps) {
  const double g_fp = alpha * p.L * p.M / p.mu;
  const double g_lp = alpha * p.L * MTilde(p, s) / (s.q_min * p.mu);
  if (!(eps > g_lp)) return kInf;
  return (eps - g_fp) / (s.q_min * (eps - g_lp));
}

double HorizonTunedStep(const ProblemConstants& p, const ShrinkageConstants& s, double k) {
  return std::sqrt(2.0 * p.Delta1 / (k * p.L * MTilde(p, s)));
}

double HorizonTunedBound(const ProblemConstants& p, const ShrinkageConstants& s, double k) {
  return 2.0 * std::sqrt(2.0 * p.Delta1 * p.L * MTilde(p, s) / k) / (s.q_min * p.mu);
}

double NonconvexFixedModeP(const ProblemConstants& p, double alpha, double delta, double sigma0_sq,
                           std::span<const double> q) {
  Neumaier noise;
  Neumaier q_sum;
  for (const double qk : q) {
    noise.Add((qk * qk + delta) * p.M + sigma0_sq);
    q_sum.Add(qk);
  }
  return (2.0 * p.Delta1 + alpha * alpha * p.L * noise.Value()) / (alpha * p.mu * q_sum.Value());
}

// ---- (d) ----

namespace detail {

double Digamma(double x) {
  if (!(x > 0.0)) return kNaN;
  if (std::isinf(x)) return kInf;
  double result = 0.0;
  while (x < 12.0) {  // psi(x) = psi(x + 1) - 1/x
    result -= 1.0 / x;
    x += 1.0;
  }
  const double r = 1.0 / x;
  const double r2 = r * r;
  // ln x - 1/(2x) - sum B_2n / (2n x^2n), n = 1..7.
  const double series =
      r2 * (1.0 / 12 -
            r2 * (1.0 / 120 -
                  r2 * (1.0 / 252 -
                        r2 * (1.0 / 240 - r2 * (1.0 / 132 - r2 * (691.0 / 32760 - r2 / 12))))));
  return result + std::log(x) - 0.5 * r - series;
}

double Trigamma(double x) {
  if (!(x > 0.0)) return kNaN;
  if (std::isinf(x)) return 0.0;
  double result = 0.0;
  while (x < 12.0) {  // psi'(x) = psi'(x + 1) + 1/x^2
    result += 1.0 / (x * x);
    x += 1.0;
  }
  const double r = 1.0 / x;
  const double r2 = r * r;
  // 1/x + 1/(2x^2) + sum B_2n / x^(2n+1), n = 1..7.
  const double series =
      r * r2 *
      (1.0 / 6 -
       r2 * (1.0 / 30 - r2 * (1.0 / 42 - r2 * (1.0 / 30 - r2 * (5.0 / 66 - r2 * (691.0 / 2730 -
                                                                                 r2 * 7 / 6))))));
  return result + r + 0.5 * r2 + series;
}

}  // namespace detail

ScheduleSums HarmonicScheduleSums(double beta, double gamma, double k) {
  ScheduleSums sums;
  if (!(k >= 1.0)) return sums;
  // Short schedules are summed directly (the digamma difference loses a few digits for small K).
  constexpr double kDirect = 4096.0;
  if (k <= kDirect) {
    Neumaier a;
    Neumaier s;
    const int n = static_cast<int>(k);
    for (int i = 1; i <= n; ++i) {
      const double alpha = beta / (gamma + i);
      a.Add(alpha);
      s.Add(alpha * alpha);
    }
    sums.A = a.Value();
    sums.S = s.Value();
    return sums;
  }
  k = std::floor(k);
  sums.A = std::isinf(k) ? kInf
                         : beta * (detail::Digamma(gamma + k + 1.0) - detail::Digamma(gamma + 1.0));
  sums.S = beta * beta * (detail::Trigamma(gamma + 1.0) - detail::Trigamma(gamma + k + 1.0));
  return sums;
}

ScheduleSums ScheduleSumsOf(std::span<const double> alphas) {
  Neumaier a;
  Neumaier s;
  for (const double x : alphas) {
    a.Add(x);
    s.Add(x * x);
  }
  return ScheduleSums{a.Value(), s.Value()};
}

double NonconvexDiminishingFP(const ProblemConstants& p, const ScheduleSums& sums) {
  // BCN Thm 4.9: sum alpha_k E|grad F_k|^2 <= 2 Delta1/mu + (L M/mu) S_K, divided by A_K.
  return (2.0 * p.Delta1 + p.L * p.M * sums.S) / (p.mu * sums.A);
}

double NonconvexDiminishingLP(const ProblemConstants& p, const ShrinkageConstants& s,
                              const ScheduleSums& sums) {
  return (2.0 * p.Delta1 + p.L * MTilde(p, s) * sums.S) / ((s.q_min * p.mu) * sums.A);
}

size_t FirstAdmissibleStep(std::span<const double> alphas, double max_step) {
  for (size_t i = alphas.size(); i > 0; --i) {
    if (!(alphas[i - 1] <= max_step)) return i == alphas.size() ? 0 : i + 1;
  }
  return alphas.empty() ? 0 : 1;
}

double FirstAdmissibleHarmonicStep(double beta, double gamma, double max_step) {
  if (!(max_step > 0.0)) return kInf;
  const double k = std::max(1.0, std::ceil(beta / max_step - gamma));
  return AdjustIterations(k, max_step, [&](double kk) { return beta / (gamma + kk); });
}

double PowerLawExponent(const ProblemConstants& p, const ShrinkageConstants& s, double s_inf) {
  return (2.0 * p.Delta1 + p.L * MTilde(p, s) * s_inf) /
         (s.q_min * (2.0 * p.Delta1 + p.L * p.M * s_inf));
}

double EffectiveTimeRatio(std::span<const double> alphas, std::span<const double> q) {
  Neumaier a;
  Neumaier aq;
  const size_t n = std::min(alphas.size(), q.size());
  for (size_t i = 0; i < n; ++i) {
    a.Add(alphas[i]);
    aq.Add(alphas[i] * q[i]);
  }
  return a.Value() / aq.Value();
}

// ---- Generic ----

double InvertBound(const std::function<double(double)>& bound, double eps, double floor) {
  if (!(eps > floor)) return kInf;
  if (bound(1.0) <= eps) return 1.0;
  double lo = 1.0;  // bound(lo) > eps
  double hi = 2.0;
  while (!(bound(hi) <= eps)) {
    lo = hi;
    hi *= 2.0;
    if (hi > 0x1p1023) return kInf;
  }
  // Bisection over integers: bound(lo) > eps >= bound(hi).
  while (hi - lo > 1.0) {
    const double mid = std::floor(lo + (hi - lo) / 2.0);
    if (mid <= lo || mid >= hi) break;  // beyond 2^53: integers are no longer exact
    if (bound(mid) <= eps) {
      hi = mid;
    } else {
      lo = mid;
    }
  }
  return hi;
}

double Slowdown(double k_lp, double k_fp) {
  if (std::isinf(k_fp) || std::isnan(k_fp) || std::isnan(k_lp)) return kNaN;
  if (std::isinf(k_lp)) return kInf;
  return k_lp / k_fp;
}

// ---- Trajectory ----

TrajectoryBoundResult TrajectoryBound(const ProblemConstants& p,
                                      std::span<const TrajectoryStep> steps) {
  TrajectoryBoundResult r;
  r.bound.reserve(steps.size() + 1);
  const double mg = EffectiveMG(p);
  double d = p.Delta1;
  r.bound.push_back(d);
  for (size_t k = 0; k < steps.size(); ++k) {
    const TrajectoryStep& s = steps[k];
    const double q_sq = s.q * s.q;
    const bool ok = s.alpha <= s.q * p.mu / ((q_sq + s.delta) * p.L * mg);
    if (!ok) {
      ++r.inadmissible_steps;
      if (r.first_inadmissible == 0) r.first_inadmissible = k + 1;
    }
    d = (1.0 - s.alpha * s.q * p.c * p.mu) * d +
        0.5 * s.alpha * s.alpha * p.L * ((q_sq + s.delta) * p.M + s.sigma0_sq);
    r.bound.push_back(d);
  }
  return r;
}

}  // namespace qfloat
