// The prediction/observation comparison of THEORY.md §5 "Report": slowdowns from seed-averaged
// curves with a paired bootstrap over seeds, the bound S_pred(q_min) and the point prediction
// S_pred(q-bar_alpha), floor ratios, the validity of the LP bound against the observed curve, the
// null controls and the stall of unscaled low-precision formats.
#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "qfloat/report.h"
#include "qfloat/simulate.h"

namespace qfloat::sim {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

// The curve the comparison is about: F - F* (strongly convex) or |grad F|^2 (nonconvex, the
// quantity of BCN Thm 4.8).
const std::vector<double>& Curve(const RunRecord& run, bool convex) {
  return convex ? run.gap : run.grad_sq;
}

// First crossing of eps by a curve on the grid, interpolated linearly in log(value) between the
// grid points that bracket it; +inf when never reached (or the curve is NaN first).
double FirstCrossing(const std::vector<int64_t>& grid, const std::vector<double>& v, double eps) {
  for (size_t j = 0; j < v.size(); ++j) {
    if (std::isnan(v[j])) return kInf;
    if (v[j] <= eps) {
      if (j == 0) return static_cast<double>(grid[0]);
      const double v0 = v[j - 1], v1 = v[j];
      const double k0 = static_cast<double>(grid[j - 1]), k1 = static_cast<double>(grid[j]);
      if (!(v0 > 0.0) || !(v1 > 0.0)) return k1;
      const double t = (std::log(v0) - std::log(eps)) / (std::log(v0) - std::log(v1));
      return k0 + std::clamp(t, 0.0, 1.0) * (k1 - k0);
    }
  }
  return kInf;
}

// Mean of the grid values with k > K/2 (the plateau), and of the third and fourth quarters.
struct PlateauMeans {
  double half = kNaN, q3 = kNaN, q4 = kNaN;
};
PlateauMeans Plateau(const std::vector<int64_t>& grid, const std::vector<double>& v, int64_t k) {
  double s = 0, s3 = 0, s4 = 0;
  int n = 0, n3 = 0, n4 = 0;
  for (size_t j = 0; j < v.size(); ++j) {
    if (2 * grid[j] <= k) continue;
    s += v[j];
    ++n;
    if (4 * grid[j] <= 3 * k) {
      s3 += v[j];
      ++n3;
    } else {
      s4 += v[j];
      ++n4;
    }
  }
  PlateauMeans m;
  if (n > 0) m.half = s / n;
  if (n3 > 0) m.q3 = s3 / n3;
  if (n4 > 0) m.q4 = s4 / n4;
  return m;
}

std::vector<double> MeanCurve(const std::vector<RunRecord>& runs, const std::vector<size_t>& idx,
                              bool convex) {
  const size_t g = Curve(runs[0], convex).size();
  std::vector<double> m(g, 0.0);
  for (size_t s : idx) {
    const std::vector<double>& c = Curve(runs[s], convex);
    for (size_t j = 0; j < g; ++j) m[j] += c[j];
  }
  for (double& v : m) v /= static_cast<double>(idx.size());
  return m;
}

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return kNaN;
  std::sort(v.begin(), v.end(), [](double a, double b) {
    if (std::isnan(a)) return false;
    if (std::isnan(b)) return true;
    return a < b;
  });
  const double pos = p * static_cast<double>(v.size() - 1);
  const size_t lo = static_cast<size_t>(std::floor(pos));
  const size_t hi = std::min(lo + 1, v.size() - 1);
  if (std::isinf(v[lo]) || std::isinf(v[hi])) return v[pos - lo < 0.5 ? lo : hi];
  return v[lo] + (pos - static_cast<double>(lo)) * (v[hi] - v[lo]);
}

// A small deterministic generator for the bootstrap (splitmix64): the same resamples on every
// platform, unlike std::uniform_int_distribution.
struct SplitMix {
  uint64_t state;
  uint64_t Next() {
    uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  size_t Below(size_t n) {
    return static_cast<size_t>((static_cast<unsigned __int128>(Next()) * n) >> 64);
  }
};

// K_eps of the theorem that applies (a, b, c; d has no K_eps) with shrinkage s; `floor_fp_obs`
// > 0 replaces the FP floor of (a)/(c) by the observed FP plateau and scales the LP floor by the
// theorem's ratio (the point prediction; THEORY.md §5.2: absolute floors are loose by O(kappa)).
double PredictedIterations(ProblemKind kind, const ProblemConstants& p, const Schedule& sched,
                           const ShrinkageConstants& s, bool fp, double eps, double delta0,
                           double floor_fp_obs, ShrinkageMode mode) {
  const bool convex = StronglyConvex(kind);
  if (sched.kind == Schedule::Kind::kFixed) {
    if (convex) {
      StronglyConvexFixedStep b = fp ? StronglyConvexFixedFP(p, sched.alpha)
                                     : StronglyConvexFixedLP(p, s, sched.alpha, mode);
      b.delta1 = delta0;
      if (floor_fp_obs >= 0.0) {
        const double ratio = fp ? 1.0 : FloorRatio(p, s);
        b.floor = p.M > 0.0 ? floor_fp_obs * ratio : 0.0;
      }
      return IterationsToTarget(b, eps);
    }
    NonconvexFixedStep b =
        fp ? NonconvexFixedFP(p, sched.alpha) : NonconvexFixedLP(p, s, sched.alpha, mode);
    if (floor_fp_obs >= 0.0) {
      const double ratio = fp ? 1.0 : FloorRatio(p, s);
      b.floor = p.M > 0.0 ? floor_fp_obs * ratio : 0.0;
    }
    return IterationsToTarget(b, eps);
  }
  if (convex) {
    StronglyConvexDiminishing b =
        fp ? StronglyConvexDiminishingFP(p, sched.beta, sched.gamma)
           : StronglyConvexDiminishingLP(p, s, sched.beta, sched.gamma, mode);
    return IterationsToTarget(b, eps);
  }
  return kNaN;  // (d) bounds a weighted average with no K_eps in closed form
}

double SafeRatio(double a, double b) {
  if (std::isnan(a) || std::isnan(b)) return kNaN;
  if (std::isinf(b)) return kNaN;
  return a / b;
}

std::string TargetName(double value, bool transient) {
  if (transient) return FormatScientific(value, 1) + (" x start");
  return FormatShortest(value) + "x FP plateau";
}

}  // namespace

StatusOr<Comparison> Compare(const Problem& problem, const SimulationResult& r,
                             const CompareOptions& options) {
  if (r.runs.empty() || r.runs[0].empty()) return InvalidArgument("Compare: no runs");
  if (options.bootstrap < 0) return InvalidArgument("Compare: bootstrap must be >= 0");
  if (!(options.confidence > 0.0 && options.confidence < 1.0)) {
    return InvalidArgument("Compare: confidence must be in (0, 1)");
  }
  const bool convex = StronglyConvex(r.kind);
  const ProblemConstants& p = r.analysis.constants;
  const Schedule& sched = r.options.schedule;
  const bool fixed = sched.kind == Schedule::Kind::kFixed;
  const bool minibatch = r.options.batch > 0;
  const int64_t k_max = r.options.steps;
  const size_t ns = r.runs[0].size();
  const size_t nb = static_cast<size_t>(options.bootstrap);
  const double a_lo = (1.0 - options.confidence) / 2.0, a_hi = 1.0 - a_lo;

  Comparison out;
  out.metric = convex ? "F - F*" : "|grad F|^2";

  // Paired bootstrap: one set of seed resamples shared by every quantizer.
  std::vector<std::vector<size_t>> resamples(nb, std::vector<size_t>(ns));
  SplitMix rng{options.bootstrap_seed};
  for (auto& idx : resamples) {
    for (size_t& i : idx) i = rng.Below(ns);
  }
  std::vector<size_t> all(ns);
  for (size_t i = 0; i < ns; ++i) all[i] = i;

  const std::vector<double> fp_mean = MeanCurve(r.runs[0], all, convex);
  const double start = fp_mean.empty() ? kNaN : fp_mean[0];
  const PlateauMeans fp_pl = Plateau(r.grid, fp_mean, k_max);
  out.fp_plateau = fp_pl.half;
  out.fp_stationary = std::abs(fp_pl.q3 / fp_pl.q4 - 1.0) <= 0.15;
  std::vector<std::vector<double>> fp_boot(nb);
  for (size_t b = 0; b < nb; ++b) fp_boot[b] = MeanCurve(r.runs[0], resamples[b], convex);

  // Targets.
  std::vector<double> fractions = options.delta_fractions;
  if (fractions.empty()) fractions = {1e-1, 1e-2, 1e-3, 1e-4, 1e-6, 1e-8};
  std::vector<double> multiples = options.plateau_multiples;
  if (multiples.empty() && minibatch && fixed) multiples = {1.5, 2.0, 4.0};
  struct Target {
    double eps;
    bool transient;
    std::string name;
  };
  std::vector<Target> targets;
  for (double f : fractions) {
    const double eps = f * start;
    // A transient target must be reached by the FP curve and lie clearly above its plateau.
    if (!std::isfinite(FirstCrossing(r.grid, fp_mean, eps))) continue;
    if (minibatch && fixed && !(eps > 4.0 * fp_pl.half)) continue;
    targets.push_back({eps, true, TargetName(f, true)});
  }
  if (out.fp_stationary && fp_pl.half > 0.0) {
    for (double m : multiples) targets.push_back({m * fp_pl.half, false, TargetName(m, false)});
  }

  // FP bound against the FP curve (our constants are wrong, or there is a bug, if it fails).
  if (convex && fixed) {
    const StronglyConvexFixedStep b = StronglyConvexFixedFP(p, sched.alpha);
    out.fp_bound_ratio = 0.0;
    for (size_t j = 0; j < fp_mean.size(); ++j) {
      const double bound = b.Bound(static_cast<double>(r.grid[j]));
      out.fp_bound_ratio = std::max(out.fp_bound_ratio, fp_mean[j] / bound);
    }
    out.fp_bound_violated = out.fp_bound_ratio > 1.0 + 1e-9;
  } else {
    out.fp_bound_ratio = kNaN;
  }
  // V(w) <= M + M_V |grad F|^2 along the FP trajectory (first seed).
  out.variance_check = kNaN;
  if (minibatch && !r.runs[0][0].variance.empty()) {
    double worst = 0.0;
    for (size_t j = 0; j < r.grid.size(); ++j) {
      const double v = r.runs[0][0].variance[j];
      const double bound = p.M + p.M_V * r.runs[0][0].grad_sq[j];
      if (std::isfinite(v) && bound > 0.0) worst = std::max(worst, v / bound);
    }
    out.variance_check = worst;
  }

  for (size_t qi = 0; qi < r.runs.size(); ++qi) {
    const std::vector<RunRecord>& runs = r.runs[qi];
    const Quantizer& quant = r.quantizers[qi];
    QuantizerComparison row;
    row.label = quant.label;
    row.identity = quant.identity;
    row.null_control = quant.null_control;
    // Statistics over every step of every seed.
    row.q_min = kInf;
    row.q_max = -kInf;
    double qw = 0.0, qp = 0.0, rp = 0.0, ep = 0.0;
    int nqw = 0, nqp = 0;
    for (const RunRecord& run : runs) {
      const StepSummary& s = run.summary;
      if (s.defined_steps > 0) {
        row.q_min = std::min(row.q_min, s.q_min);
        row.q_max = std::max(row.q_max, s.q_max);
        row.rho_max = std::max(row.rho_max, s.delta_max);
        row.sigma0_sq_max = std::max(row.sigma0_sq_max, s.sigma0_sq_max);
        row.flushed_energy_max = std::max(row.flushed_energy_max, s.max_flushed_energy_fraction);
        row.saturated_energy_max =
            std::max(row.saturated_energy_max, s.max_saturated_energy_fraction);
      }
      if (std::isfinite(run.weighted_q)) {
        qw += run.weighted_q;
        ++nqw;
      }
      row.nonfinite_steps += run.nonfinite_steps;
      if (run.diverged) ++row.diverged_runs;
      for (size_t j = 0; j < r.grid.size(); ++j) {
        const StepRecord& st = run.steps[j];
        if (2 * r.grid[j] <= k_max || !st.defined) continue;
        qp += st.q_hat;
        rp += st.rho_hat;
        ep += st.residual_sq;
        ++nqp;
      }
    }
    if (!std::isfinite(row.q_min)) row.q_min = row.q_max = kNaN;
    row.q_weighted = nqw > 0 ? qw / nqw : kNaN;
    row.q_plateau = nqp > 0 ? qp / nqp : kNaN;
    row.rho_plateau = nqp > 0 ? rp / nqp : kNaN;
    const double eps_plateau = nqp > 0 ? ep / nqp : kNaN;
    ShrinkageConstants s;
    s.q_min = row.q_min;
    s.q_max = row.q_max;
    s.delta = options.noise == NoiseModel::kAbsolute ? 0.0 : row.rho_max;
    s.sigma0_sq = options.noise == NoiseModel::kRelative ? 0.0 : row.sigma0_sq_max;
    row.shrinkage = s;
    row.shrinkage_valid = ValidateShrinkage(s).ok() && row.q_min > 0.0;
    ShrinkageConstants point;
    point.q_min = point.q_max = row.q_weighted;
    point.delta = options.noise == NoiseModel::kAbsolute ? 0.0 : row.rho_plateau;
    point.sigma0_sq = options.noise == NoiseModel::kRelative ? 0.0 : eps_plateau;
    const bool point_valid = ValidateShrinkage(point).ok() && point.q_min > 0.0;

    // Curves.
    row.mean_gap = MeanCurve(runs, all, convex);
    std::vector<std::vector<double>> boot(nb);
    for (size_t b = 0; b < nb; ++b) boot[b] = MeanCurve(runs, resamples[b], convex);
    row.gap_lo.assign(row.mean_gap.size(), kNaN);
    row.gap_hi.assign(row.mean_gap.size(), kNaN);
    if (nb > 0) {
      std::vector<double> col(nb);
      for (size_t j = 0; j < row.mean_gap.size(); ++j) {
        for (size_t b = 0; b < nb; ++b) col[b] = boot[b][j];
        row.gap_lo[j] = Percentile(col, a_lo);
        row.gap_hi[j] = Percentile(col, a_hi);
      }
    }
    row.mean_q.assign(r.grid.size(), 0.0);
    for (size_t j = 0; j < r.grid.size(); ++j) {
      double sq = 0.0;
      int n = 0;
      for (const RunRecord& run : runs) {
        if (run.steps[j].defined) {
          sq += run.steps[j].q_hat;
          ++n;
        }
      }
      row.mean_q[j] = n > 0 ? sq / n : kNaN;
    }

    // Slowdown at every target.
    // The point prediction's FP floor: the observed plateau when it is stationary, else 0 (the
    // transient targets lie at least 4x above the plateau); diminishing steps: the theorem's.
    const double floor_for_point =
        fixed ? (minibatch && out.fp_stationary ? fp_pl.half : 0.0) : -1.0;
    for (const Target& t : targets) {
      TargetResult tr;
      tr.name = t.name;
      tr.epsilon = t.eps;
      tr.transient = t.transient;
      tr.k_fp = FirstCrossing(r.grid, fp_mean, t.eps);
      tr.k_lp = FirstCrossing(r.grid, row.mean_gap, t.eps);
      tr.s_obs = SafeRatio(tr.k_lp, tr.k_fp);
      std::vector<double> ratios(nb);
      for (size_t b = 0; b < nb; ++b) {
        ratios[b] = SafeRatio(FirstCrossing(r.grid, boot[b], t.eps),
                              FirstCrossing(r.grid, fp_boot[b], t.eps));
      }
      tr.s_ci = {Percentile(ratios, a_lo), Percentile(ratios, a_hi)};
      tr.ci_contains_one = tr.s_ci.lo <= 1.0 && 1.0 <= tr.s_ci.hi;
      tr.within_one_percent = std::abs(tr.s_obs - 1.0) < 0.01;
      tr.s_rate = kNaN;
      if (row.identity) {
        tr.s_bound = tr.s_point = tr.s_rate = 1.0;
      } else {
        if (row.shrinkage_valid && fixed) {
          tr.s_rate = convex ? 1.0 / RateRatio(p, s, sched.alpha) : 1.0 / s.q_min;
        } else if (!row.shrinkage_valid) {
          tr.s_rate = kInf;
        }
        tr.s_bound = row.shrinkage_valid
                         ? Slowdown(PredictedIterations(r.kind, p, sched, s, false, t.eps, start,
                                                        -1.0, options.mode),
                                    PredictedIterations(r.kind, p, sched, kFullPrecision, true,
                                                        t.eps, start, -1.0, options.mode))
                         : kInf;
        tr.s_point =
            point_valid ? Slowdown(PredictedIterations(r.kind, p, sched, point, false, t.eps, start,
                                                       floor_for_point, options.mode),
                                   PredictedIterations(r.kind, p, sched, kFullPrecision, true,
                                                       t.eps, start, floor_for_point, options.mode))
                        : kInf;
      }
      // Violated only when the whole CI lies above the bound (0.1% slack for the interpolation
      // of K between grid points; with one seed the CI is the point itself).
      const double limit = std::isnan(tr.s_bound) ? tr.s_rate : tr.s_bound;
      const double low = nb > 0 && !std::isnan(tr.s_ci.lo) ? tr.s_ci.lo : tr.s_obs;
      tr.bound_holds = !(std::min(low, tr.s_obs) > limit * (1.0 + 1e-3));
      row.targets.push_back(tr);
    }
    // Transient log-slope ratio LP/FP between the first and the last transient target.
    row.log_slope_ratio = kNaN;
    {
      const TargetResult* first = nullptr;
      const TargetResult* last = nullptr;
      for (const TargetResult& tr : row.targets) {
        if (!tr.transient || !std::isfinite(tr.k_lp)) continue;
        if (first == nullptr) first = &tr;
        last = &tr;
      }
      if (first != nullptr && last != first && last->k_lp > first->k_lp) {
        row.log_slope_ratio = (last->k_fp - first->k_fp) / (last->k_lp - first->k_lp);
      }
    }

    // Floors.
    const PlateauMeans pl = Plateau(r.grid, row.mean_gap, k_max);
    row.plateau = pl.half;
    row.stationary = std::abs(pl.q3 / pl.q4 - 1.0) <= 0.15;
    row.phi_obs = row.phi_bound = row.phi_point = kNaN;
    row.phi_ci = {kNaN, kNaN};
    if (minibatch && fixed && fp_pl.half > 0.0) {
      row.phi_obs = pl.half / fp_pl.half;
      std::vector<double> phis(nb);
      for (size_t b = 0; b < nb; ++b) {
        phis[b] = Plateau(r.grid, boot[b], k_max).half / Plateau(r.grid, fp_boot[b], k_max).half;
      }
      row.phi_ci = {Percentile(phis, a_lo), Percentile(phis, a_hi)};
      row.phi_bound = row.identity ? 1.0 : (row.shrinkage_valid ? FloorRatio(p, s) : kInf);
      const double q = row.q_plateau;
      const double m_star = r.analysis.V_star;
      if (row.identity) {
        row.phi_point = 1.0;
      } else if (q > 0.0) {
        row.phi_point = options.noise == NoiseModel::kAbsolute ? q + eps_plateau / (q * m_star)
                                                               : q + row.rho_plateau / q;
      }
    }

    // Validity of the LP bound against the seed-averaged curve.
    row.bound_curve.assign(r.grid.size(), kNaN);
    row.admissible = fixed ? sched.alpha <= MaxStepLP(p, s, options.mode) * (1 + 1e-12)
                           : sched.Alpha(1) <= MaxStepLP(p, s, options.mode) * (1 + 1e-12);
    if (row.identity)
      row.admissible = fixed ? sched.alpha <= MaxStepFP(p) * (1 + 1e-12)
                             : sched.Alpha(1) <= MaxStepFP(p) * (1 + 1e-12);
    const ShrinkageConstants& sb = row.identity ? kFullPrecision : s;
    if (row.identity || row.shrinkage_valid) {
      if (convex && fixed) {
        const StronglyConvexFixedStep b = StronglyConvexFixedLP(p, sb, sched.alpha, options.mode);
        for (size_t j = 0; j < r.grid.size(); ++j) {
          row.bound_curve[j] = b.Bound(static_cast<double>(r.grid[j]));
        }
        row.bound_applicable = true;
      } else if (convex) {
        const StronglyConvexDiminishing b =
            StronglyConvexDiminishingLP(p, sb, sched.beta, sched.gamma, options.mode);
        if (b.beta_check == BetaCheck::kOk) {
          for (size_t j = 0; j < r.grid.size(); ++j) {
            row.bound_curve[j] = b.Bound(static_cast<double>(r.grid[j]));
          }
          row.bound_applicable = true;
        }
      } else if (fixed && r.options.every_step_gradnorm) {
        const NonconvexFixedStep b = NonconvexFixedLP(p, sb, sched.alpha, options.mode);
        for (size_t j = 0; j < r.grid.size(); ++j) {
          row.bound_curve[j] = b.Bound(static_cast<double>(r.grid[j]));
        }
        row.bound_applicable = true;
      }
    }
    row.violation_ratio = 0.0;
    if (row.bound_applicable) {
      // Nonconvex: BCN Thm 4.8 bounds the running average of |grad F|^2.
      std::vector<double> observed = row.mean_gap;
      if (!convex) {
        for (size_t j = 0; j < observed.size(); ++j) {
          double sum = 0.0;
          for (const RunRecord& run : runs) sum += run.grad_sq_running[j];
          observed[j] = sum / static_cast<double>(runs.size());
        }
      }
      for (size_t j = 0; j < r.grid.size(); ++j) {
        const double ratio = observed[j] / row.bound_curve[j];
        if (!(ratio <= row.violation_ratio)) row.violation_ratio = ratio;
        if (!(observed[j] <= row.bound_curve[j] * (1.0 + 1e-9)) && !row.bound_violated) {
          row.bound_violated = true;
          row.violation_step = r.grid[j];
        }
      }
    } else {
      row.violation_ratio = kNaN;
    }

    // Stall.
    row.final_gap = row.mean_gap.empty() ? kNaN : row.mean_gap.back();
    for (size_t j = 0; j < r.grid.size(); ++j) {
      if (row.mean_q[j] < 0.5) {
        row.q_collapse_step = r.grid[j];
        break;
      }
    }
    const double fp_final = fp_mean.empty() ? kNaN : fp_mean.back();
    const double end_q = row.mean_q.empty() ? kNaN : row.mean_q.back();
    row.stalled = !row.identity && (row.final_gap > 10.0 * fp_final || std::isnan(row.final_gap)) &&
                  !(end_q >= 0.5);

    // In words.
    std::string note;
    if (row.identity) {
      note = "FP baseline";
    } else {
      if (row.diverged_runs > 0) {
        note += "diverged in " + std::to_string(row.diverged_runs) + " runs (non-finite); ";
      }
      if (row.stalled) {
        note += "stalled at " + FormatSignificant(row.final_gap, 3) +
                " (q < 0.5 from k = " + std::to_string(row.q_collapse_step) + "); ";
      }
      if (!row.shrinkage_valid)
        note += "bound vacuous (q_min = " + FormatSignificant(row.q_min, 3) + "); ";
      if (row.bound_violated) {
        note += "LP bound VIOLATED at k = " + std::to_string(row.violation_step) +
                " (observed/bound up to " + FormatSignificant(row.violation_ratio, 3) + "); ";
      }
      if (!row.admissible && row.shrinkage_valid) note += "alpha > LP step limit; ";
      bool all_hold = true;
      for (const TargetResult& tr : row.targets) all_hold = all_hold && tr.bound_holds;
      if (!all_hold) note += "S_obs > S_bound at some target; ";
      if (row.null_control) {
        bool contains = true, close = true;
        for (const TargetResult& tr : row.targets) {
          contains = contains && tr.ci_contains_one;
          close = close && tr.within_one_percent;
        }
        note += contains ? "null control: CI contains 1; "
                         : (close ? "null control: CI excludes 1 but |S - 1| < 1%; "
                                  : "null control: CI EXCLUDES 1; ");
      }
    }
    if (note.size() >= 2 && note.substr(note.size() - 2) == "; ") note.resize(note.size() - 2);
    row.note = note;
    out.rows.push_back(std::move(row));
  }
  (void)problem;
  return out;
}

}  // namespace qfloat::sim
