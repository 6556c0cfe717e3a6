// Convergence: the SGD bounds of THEORY.md §3, in full precision (FP, quoted from Bottou, Curtis
// and Nocedal, SIAM Rev. 60(2) 2018, §4: "BCN") and in low precision (LP, derived in THEORY.md §1
// from BCN and the shrinkage model Q~(g) = q g + eps).
//
// Everything here is a pure function of plain structs: ProblemConstants (the problem: L, c, mu,
// mu_G, M, M_V, M_G, Delta1) and ShrinkageConstants (the quantizer: q_min, q_max, delta,
// sigma0^2). Setting q_min = q_max = 1 and delta = sigma0^2 = 0 turns every LP formula into its FP
// theorem; the FP functions are written separately from the BCN statements so that tests can check
// that reduction.
//
// Notation (THEORY.md §1, §3): alpha = stepsize; mu~ = q_min mu; M~ = (q_max^2 + delta) M +
// sigma0^2; M_G~ = (q_max^2 + delta) M_G. "Iterations" are counts K >= 1 returned as doubles
// (exact integers below 2^53); +infinity means the target is at or below the bound's floor.
// Functions never clamp q: a measured q > 1 (posits) is used as given.
#ifndef QFLOAT_CONVERGENCE_H_
#define QFLOAT_CONVERGENCE_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "qfloat/status.h"

namespace qfloat {

// The problem's constants (BCN assumptions 4.1, 4.3, 4.5; THEORY.md §1 table).
struct ProblemConstants {
  double L = 0.0;       // Lipschitz constant of grad F (A4.1)
  double c = 0.0;       // strong-convexity constant (A4.5), c <= L; 0 for nonconvex problems
  double mu = 1.0;      // grad F^T E g >= mu |grad F|^2 (A4.3b)
  double mu_G = 1.0;    // |E g| <= mu_G |grad F| (A4.3b)
  double M = 0.0;       // V[g] <= M + M_V |grad F|^2 (A4.3c)
  double M_V = 0.0;     // as above
  double M_G = 0.0;     // E|g|^2 <= M + M_G |grad F|^2; 0 = derive M_V + mu_G^2 (BCN (4.9))
  double Delta1 = 0.0;  // F(w_1) - F_* (convex) or F(w_1) - F_inf (nonconvex)
};

// The quantizer's constants (THEORY.md §1 "Shrinkage range" and "Noise", model N).
struct ShrinkageConstants {
  double q_min = 1.0;      // inf_k q_k > 0
  double q_max = 1.0;      // sup_k q_k (never clamped to 1)
  double delta = 0.0;      // N-rel: E[|eps|^2 | g] <= delta |g|^2 (+ sigma0^2)
  double sigma0_sq = 0.0;  // N-abs: E|eps|^2 <= sigma0^2
};

// The FP case: q = 1, no noise.
inline constexpr ShrinkageConstants kFullPrecision{};

// THEORY.md §1 "Modes". G: q_k may depend on the sample; P: q_k is predictable.
enum class ShrinkageMode : uint8_t { kG = 0, kP = 1 };
std::string ToString(ShrinkageMode mode);
StatusOr<ShrinkageMode> ParseShrinkageMode(std::string_view text);  // "G" or "P"

// M_G as given, or M_V + mu_G^2 when M_G is 0 (BCN (4.9)).
double EffectiveMG(const ProblemConstants& p);

// Checks the constants (finite, L > 0, mu > 0, M >= 0, Delta1 >= 0, M_G >= mu^2 as BCN requires;
// with `strongly_convex`, 0 < c <= L). Messages name the field and value.
Status ValidateProblem(const ProblemConstants& p, bool strongly_convex);
// q_min > 0, q_max >= q_min, delta >= 0, sigma0^2 >= 0, all finite.
Status ValidateShrinkage(const ShrinkageConstants& s);

// Lemma Q (THEORY.md §1): BCN A4.3 holds for the quantized gradient with
// mu~ = q_min mu, M~ = (q_max^2 + delta) M + sigma0^2, M_G~ = (q_max^2 + delta) M_G.
struct EffectiveConstants {
  double mu = 0.0;
  double M = 0.0;
  double M_G = 0.0;
};
EffectiveConstants LowPrecisionConstants(const ProblemConstants& p, const ShrinkageConstants& s);

// FP admissible stepsize, BCN Lemma 4.4 / Thm 4.6 condition: alpha <= mu / (L M_G).
double MaxStepFP(const ProblemConstants& p);
// LP admissible stepsize alpha_max-bar (THEORY.md §1, LP Lemma 4.4):
//   G: q_min mu / ((q_max^2 + delta) L M_G);
//   P: min over q in {q_min, q_max} of q mu / ((q^2 + delta) L M_G)  (q -> q/(q^2 + delta) is
//      unimodal, so the minimum over [q_min, q_max] is at an end).
double MaxStepLP(const ProblemConstants& p, const ShrinkageConstants& s, ShrinkageMode mode);

// ---- (a) Strongly convex, fixed stepsize (BCN Thm 4.6) ----
// E[F(w_k) - F_*] <= floor + rate^(k-1) (Delta1 - floor).
//   FP: rate = 1 - alpha c mu,        floor = alpha L M / (2 c mu).
//   LP: rate = 1 - alpha c q_min mu,  floor = alpha L M~ / (2 c q_min mu).
// `admissible` records alpha <= the FP / LP (mode) limit; the bound is only a theorem when true.
struct StronglyConvexFixedStep {
  double alpha = 0.0;
  double rate = 1.0;
  double floor = 0.0;
  double delta1 = 0.0;
  double max_step = 0.0;
  bool admissible = false;
  double Bound(double k) const;  // floor + rate^(k-1) (delta1 - floor), k >= 1
};
StronglyConvexFixedStep StronglyConvexFixedFP(const ProblemConstants& p, double alpha);
StronglyConvexFixedStep StronglyConvexFixedLP(const ProblemConstants& p,
                                              const ShrinkageConstants& s, double alpha,
                                              ShrinkageMode mode);
// K_eps = 1 + ceil(ln((eps - floor) / (Delta1 - floor)) / ln rate) (THEORY.md §3a); 1 when
// eps >= Delta1; +inf when eps <= floor. Checked against Bound() so it is the least K with
// Bound(K) <= eps.
double IterationsToTarget(const StronglyConvexFixedStep& b, double eps);
// Floor ratio Phi = floor_LP / floor_FP = (q_max^2 + delta)/q_min + sigma0^2/(q_min M)
// (THEORY.md §3a); +inf when M = 0 < sigma0^2, NaN when M = sigma0^2 = 0 (both floors 0).
double FloorRatio(const ProblemConstants& p, const ShrinkageConstants& s);
// The floor increase floor_LP - floor_FP split as THEORY.md §3a:
//   shrinkage = floor_FP (q_max^2/q_min - 1), noise = alpha L (delta M + sigma0^2)/(2 c q_min mu).
struct FloorIncrease {
  double shrinkage = 0.0;
  double noise = 0.0;
};
FloorIncrease FloorIncreaseParts(const ProblemConstants& p, const ShrinkageConstants& s,
                                 double alpha);
// Transient rate ratio ln(rate_LP)/ln(rate_FP) (<= q_min when q_min <= 1, by concavity of
// q -> ln(1 - x q)); the transient slowdown is its inverse.
double RateRatio(const ProblemConstants& p, const ShrinkageConstants& s, double alpha);
// Compensated learning rate alpha/q (THEORY.md §3a): with constant q the FP rate returns.
double CompensatedStep(double alpha, double q);
// The floor under the compensated rate alpha/q with constant shrinkage q (q_min = q_max = q):
// alpha L / (2 c mu) (M + (delta M + sigma0^2)/q^2)  (THEORY.md §3a).
double CompensatedFloor(const ProblemConstants& p, double q, double delta, double sigma0_sq,
                        double alpha);

// ---- (b) Strongly convex, alpha_k = beta/(gamma + k) (BCN Thm 4.7) ----
// If beta c mu~ > 1, gamma > 0 and alpha_1 <= limit: E[F(w_k) - F_*] <= nu/(gamma + k), with
//   nu = max{beta^2 L M~ / (2 (beta c mu~ - 1)), (gamma + 1) Delta1}
// (FP: mu~ = mu, M~ = M). The beta check (THEORY.md §3b): if beta c mu~ <= 1 the O(1/k) rate is
// lost; by Chung's lemma the rate is O(k^-(beta c mu~)) below 1 and O(ln k / k) at 1. Then nu is
// +inf (the theorem gives no bound) and `beta_check` flags it.
enum class BetaCheck : uint8_t {
  kOk = 0,        // beta c mu~ > 1: O(1/k)
  kLogRate = 1,   // beta c mu~ = 1: O(ln k / k)
  kSlowRate = 2,  // beta c mu~ < 1: O(k^-(beta c mu~))
};
std::string ToString(BetaCheck check);
struct StronglyConvexDiminishing {
  double beta = 0.0;
  double gamma = 0.0;
  double nu = 0.0;      // +inf unless beta_check == kOk
  double alpha1 = 0.0;  // beta / (gamma + 1)
  double max_step = 0.0;
  double rate_exponent = 1.0;  // min(1, beta c mu~): the k exponent of the rate
  bool admissible = false;     // alpha1 <= max_step and gamma > 0
  BetaCheck beta_check = BetaCheck::kOk;
  double Bound(double k) const;  // nu / (gamma + k)
};
StronglyConvexDiminishing StronglyConvexDiminishingFP(const ProblemConstants& p, double beta,
                                                      double gamma);
StronglyConvexDiminishing StronglyConvexDiminishingLP(const ProblemConstants& p,
                                                      const ShrinkageConstants& s, double beta,
                                                      double gamma, ShrinkageMode mode);
// K_eps = max(1, ceil(nu/eps - gamma)) (THEORY.md §3b); +inf when nu is.
double IterationsToTarget(const StronglyConvexDiminishing& b, double eps);
// beta~* = 2/(c mu~) minimises the first branch of nu; it gives nu~* = 2 L M~ / (c^2 mu~^2)
// (FP: 2/(c mu) and 2 L M/(c^2 mu^2)).
double OptimalBeta(const ProblemConstants& p, const ShrinkageConstants& s);
double OptimalNu(const ProblemConstants& p, const ShrinkageConstants& s);
// Same beta, first branch: nu~/nu = (M~/M) (beta c mu - 1)/(beta c q_min mu - 1).
double SameBetaNuRatio(const ProblemConstants& p, const ShrinkageConstants& s, double beta);

// ---- (c) Nonconvex, fixed stepsize (BCN Thm 4.8) ----
// E (1/K) sum_{k<=K} |grad F(w_k)|^2 <= floor + transient / K, with
//   FP: floor = alpha L M / mu,          transient = 2 Delta1 / (mu alpha);
//   LP: floor = alpha L M~ / (q_min mu), transient = 2 Delta1 / (q_min mu alpha).
struct NonconvexFixedStep {
  double alpha = 0.0;
  double floor = 0.0;
  double transient = 0.0;
  double max_step = 0.0;
  bool admissible = false;
  double Bound(double k) const;  // floor + transient / k
};
NonconvexFixedStep NonconvexFixedFP(const ProblemConstants& p, double alpha);
NonconvexFixedStep NonconvexFixedLP(const ProblemConstants& p, const ShrinkageConstants& s,
                                    double alpha, ShrinkageMode mode);
// K_eps = ceil(transient / (eps - floor)); +inf when eps <= floor (THEORY.md §3c).
double IterationsToTarget(const NonconvexFixedStep& b, double eps);
// Closed-form slowdown (ceilings ignored): (1/q_min)(eps - G_FP)/(eps - G_LP); +inf when
// eps <= G_LP.
double NonconvexFixedSlowdown(const ProblemConstants& p, const ShrinkageConstants& s, double alpha,
                              double eps);
// Horizon-tuned step alpha* = sqrt(2 Delta1 / (K L M~)) and its bound 2 sqrt(2 Delta1 L M~ / K)
// / mu~ (THEORY.md §3c); the slowdown between them is M~/(q_min^2 M).
double HorizonTunedStep(const ProblemConstants& p, const ShrinkageConstants& s, double k);
double HorizonTunedBound(const ProblemConstants& p, const ShrinkageConstants& s, double k);
// Mode P with the realised q_k (THEORY.md §3c, derived):
//   sum q_k |grad F_k|^2 / sum q_k <= (2 Delta1 + alpha^2 L sum_k ((q_k^2 + delta) M + sigma0^2))
//                                     / (alpha mu sum_k q_k).
double NonconvexFixedModeP(const ProblemConstants& p, double alpha, double delta, double sigma0_sq,
                           std::span<const double> q);

// ---- (d) Nonconvex, sum alpha_k = inf, sum alpha_k^2 < inf (BCN Thms 4.9, 4.10) ----
// A_K = sum_{k<=K} alpha_k, S_K = sum_{k<=K} alpha_k^2.
struct ScheduleSums {
  double A = 0.0;
  double S = 0.0;
};
// For alpha_k = beta/(gamma + k): A_K = beta [psi(gamma+K+1) - psi(gamma+1)],
// S_K = beta^2 [psi'(gamma+1) - psi'(gamma+K+1)] (digamma, trigamma); K may be +inf (A = inf).
ScheduleSums HarmonicScheduleSums(double beta, double gamma, double k);
// Compensated sums of an explicit schedule.
ScheduleSums ScheduleSumsOf(std::span<const double> alphas);
// Weighted average bound sum alpha_k E|grad F_k|^2 / A_K (Thm 4.9):
//   FP: (2 Delta1 / mu + L M S_K / mu) / A_K;   LP: (2 Delta1 + L M~ S_K)/(q_min mu A_K).
// Thm 4.10 (F twice differentiable) adds only the limit statement; it has no numeric bound.
double NonconvexDiminishingFP(const ProblemConstants& p, const ScheduleSums& sums);
double NonconvexDiminishingLP(const ProblemConstants& p, const ShrinkageConstants& s,
                              const ScheduleSums& sums);
// k0: the first (1-based) index from which alpha_k <= max_step holds for every later k of the
// schedule; 0 when the last step is still too large. Restart the bound at w_{k0}.
size_t FirstAdmissibleStep(std::span<const double> alphas, double max_step);
// For beta/(gamma + k): the least k >= 1 with beta/(gamma + k) <= max_step.
double FirstAdmissibleHarmonicStep(double beta, double gamma, double max_step);
// Power-law slowdown exponent r = (2 Delta1 + L M~ S_inf) / (q_min (2 Delta1 + L M S_inf)):
// ln K~_eps ~ r ln K_eps (an artefact of a loose bound; THEORY.md §3d).
double PowerLawExponent(const ProblemConstants& p, const ShrinkageConstants& s, double s_inf);
// Effective-time ratio A_K / sum alpha_k q_k (compensated sums).
double EffectiveTimeRatio(std::span<const double> alphas, std::span<const double> q);

// ---- Generic ----
// K_eps = min{K >= 1 : bound(K) <= eps} for a bound nonincreasing in K, found by doubling then
// bisection (THEORY.md §3). +inf when eps <= floor, or when no K below 2^1023 reaches eps.
double InvertBound(const std::function<double(double)>& bound, double eps, double floor);
// S(eps) = K_LP / K_FP: +inf when only K_LP is infinite, NaN when K_FP is.
double Slowdown(double k_lp, double k_fp);

// ---- Trajectory bound, mode P (THEORY.md §2.6) ----
// D_{k+1} = (1 - alpha_k q_k c mu) D_k + alpha_k^2 L ((q_k^2 + delta_k) M + sigma0_k^2) / 2,
// D_1 = Delta1, with the realised q_k. Step k is admissible when
// alpha_k <= q_k mu / ((q_k^2 + delta_k) L M_G) (the mode-P condition at q = q_k).
struct TrajectoryStep {
  double alpha = 0.0;
  double q = 1.0;
  double delta = 0.0;
  double sigma0_sq = 0.0;
};
struct TrajectoryBoundResult {
  std::vector<double> bound;      // D_1 .. D_{K+1}
  size_t inadmissible_steps = 0;  // steps violating the condition above
  size_t first_inadmissible = 0;  // 1-based; 0 when none
};
TrajectoryBoundResult TrajectoryBound(const ProblemConstants& p,
                                      std::span<const TrajectoryStep> steps);

namespace detail {
// psi(x) and psi'(x) for x > 0 (recurrence to x >= 12, then the asymptotic series; relative
// error ~1e-15).
double Digamma(double x);
double Trigamma(double x);
}  // namespace detail

}  // namespace qfloat

#endif  // QFLOAT_CONVERGENCE_H_
