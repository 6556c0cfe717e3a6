// Aggregation over steps (THEORY.md §2.6): per-step records, the binomial confidence statement
// for low quantiles, step-weighted means, upper constants, per-tensor breakdowns.
#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <unordered_map>

#include "qfloat/analysis.h"

namespace qfloat {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

bool ValidProbability(double x) { return x > 0.0 && x < 1.0; }

std::vector<double> SortedFinite(std::span<const double> values) {
  std::vector<double> v;
  v.reserve(values.size());
  for (const double x : values) {
    if (!std::isnan(x)) v.push_back(x);
  }
  std::sort(v.begin(), v.end());
  return v;
}

QuantileBound MakeBound(std::span<const double> values, double p, double a, bool lower) {
  QuantileBound b;
  b.p = p;
  b.confidence = 1.0 - a;
  b.value = kNaN;
  if (!ValidProbability(p) || !ValidProbability(a)) return b;
  b.min_n_for_extreme = static_cast<uint64_t>(std::ceil(std::log(a) / std::log1p(-p)));
  const std::vector<double> v = SortedFinite(values);
  b.n = v.size();
  b.j = BinomialOrderIndex(b.n, p, a, &b.achieved);
  b.valid = b.j >= 1;
  if (b.valid) b.value = lower ? v[b.j - 1] : v[b.n - b.j];
  return b;
}

}  // namespace

StepRecord MakeStepRecord(int64_t step, double alpha, const ShrinkageSummary& s) {
  StepRecord r;
  r.step = step;
  r.alpha = alpha;
  r.defined = s.defined;
  r.broken = s.broken;
  r.q_hat = s.q_hat;
  r.deficit = s.deficit;
  r.rho_hat = s.rho_hat;
  r.residual_sq = s.residual_sq;
  r.grad_sq = s.s_gg;
  r.count = s.count;
  for (int c = 0; c < kNumElementClasses; ++c) {
    r.count_fraction[c] = s.classes[c].count_fraction;
    r.energy_fraction[c] = s.classes[c].energy_fraction;
  }
  return r;
}

double BinomialUpperTail(uint64_t n, double p, uint64_t j) {
  if (j == 0) return 1.0;
  if (j > n) return 0.0;
  if (!(p > 0.0)) return 0.0;
  if (!(p < 1.0)) return 1.0;
  const double log_ratio = std::log(p) - std::log1p(-p);
  const double nd = static_cast<double>(n);
  // log pmf(i), by the recurrence pmf(i+1)/pmf(i) = (n-i)/(i+1) p/(1-p) from pmf(0) = (1-p)^n.
  double lp = nd * std::log1p(-p);
  const double mode = std::floor((nd + 1.0) * p);
  if (static_cast<double>(j) > mode) {
    for (uint64_t i = 0; i < j; ++i) {
      lp += std::log((nd - static_cast<double>(i)) / (static_cast<double>(i) + 1.0)) + log_ratio;
    }
    double sum = 0.0;
    for (uint64_t i = j; i <= n; ++i) {
      const double term = std::exp(lp);
      sum += term;
      if (term < sum * 1e-18 && static_cast<double>(i) > mode) break;
      lp += std::log((nd - static_cast<double>(i)) / (static_cast<double>(i) + 1.0)) + log_ratio;
    }
    return std::min(1.0, sum);
  }
  double cdf = 0.0;
  for (uint64_t i = 0; i < j; ++i) {
    cdf += std::exp(lp);
    lp += std::log((nd - static_cast<double>(i)) / (static_cast<double>(i) + 1.0)) + log_ratio;
  }
  return std::max(0.0, 1.0 - cdf);
}

uint64_t BinomialOrderIndex(uint64_t n, double p, double a, double* achieved) {
  if (achieved != nullptr) *achieved = 0.0;
  if (n == 0 || !ValidProbability(p) || !ValidProbability(a)) return 0;
  const double log_ratio = std::log(p) - std::log1p(-p);
  const double nd = static_cast<double>(n);
  double lp = nd * std::log1p(-p);
  // P(Bin >= j) >= 1 - a  <=>  P(Bin <= j - 1) <= a: walk the CDF up from 0.
  double cdf = 0.0;
  uint64_t j = 0;
  for (uint64_t i = 0; i <= n; ++i) {
    const double next = cdf + std::exp(lp);
    if (next > a) break;
    cdf = next;
    j = i + 1;
    lp += std::log((nd - static_cast<double>(i)) / (static_cast<double>(i) + 1.0)) + log_ratio;
  }
  if (j > n) j = n;
  if (achieved != nullptr && j > 0) *achieved = 1.0 - cdf;
  return j;
}

QuantileBound LowerQuantileBound(std::span<const double> values, double p, double a) {
  return MakeBound(values, p, a, true);
}

QuantileBound UpperQuantileBound(std::span<const double> values, double p, double a) {
  return MakeBound(values, p, a, false);
}

StepSummary SummarizeSteps(std::span<const StepRecord> records, const StepSummaryOptions& o) {
  StepSummary s;
  std::vector<double> qs, rhos, residuals;
  CompensatedSum q_sum, alpha_sum, alpha_q_sum;
  s.q_min = kNaN;
  s.q_max = kNaN;
  s.delta_max = kNaN;
  s.sigma0_sq_max = kNaN;
  constexpr int kFlushed = static_cast<int>(ElementClass::kFlushed);
  constexpr int kSaturated = static_cast<int>(ElementClass::kSaturated);
  for (const StepRecord& r : records) {
    ++s.steps;
    if (r.broken) ++s.broken_steps;
    if (!std::isnan(r.residual_sq)) {
      residuals.push_back(r.residual_sq);
      if (!(r.residual_sq <= s.sigma0_sq_max)) s.sigma0_sq_max = r.residual_sq;
    }
    if (!r.defined) continue;
    ++s.defined_steps;
    qs.push_back(r.q_hat);
    rhos.push_back(r.rho_hat);
    if (!(r.q_hat >= s.q_min)) {
      s.q_min = r.q_hat;
      s.q_min_step = r.step;
    }
    if (!(r.q_hat <= s.q_max)) {
      s.q_max = r.q_hat;
      s.q_max_step = r.step;
    }
    if (!(r.rho_hat <= s.delta_max)) s.delta_max = r.rho_hat;
    q_sum.Add(r.q_hat);
    alpha_sum.Add(r.alpha);
    alpha_q_sum.Add(r.alpha * r.q_hat);
    s.max_flushed_energy_fraction =
        std::fmax(s.max_flushed_energy_fraction, r.energy_fraction[kFlushed]);
    s.max_saturated_energy_fraction =
        std::fmax(s.max_saturated_energy_fraction, r.energy_fraction[kSaturated]);
  }
  s.q_mean = s.defined_steps > 0 ? q_sum.Value() / static_cast<double>(s.defined_steps) : kNaN;
  s.q_weighted_mean = alpha_sum.Value() > 0.0 ? alpha_q_sum.Value() / alpha_sum.Value() : kNaN;
  s.q_low = LowerQuantileBound(qs, o.quantile_p, o.quantile_a);
  s.delta_high = UpperQuantileBound(rhos, o.quantile_p, o.quantile_a);
  s.sigma0_sq_high = UpperQuantileBound(residuals, o.quantile_p, o.quantile_a);
  return s;
}

std::vector<StepSummary> SummarizeWindows(std::span<const StepRecord> records, size_t window,
                                          const StepSummaryOptions& options) {
  std::vector<StepSummary> out;
  if (window == 0) return out;
  for (size_t b = 0; b < records.size(); b += window) {
    out.push_back(
        SummarizeSteps(records.subspan(b, std::min(window, records.size() - b)), options));
  }
  return out;
}

ShrinkageConstants DeriveShrinkageConstants(const StepSummary& s, const ConstantsChoice& choice) {
  ShrinkageConstants c;
  c.q_min = choice.q_min_from_quantile && s.q_low.valid ? s.q_low.value : s.q_min;
  c.q_max = s.q_max;
  const double delta =
      choice.noise_from_quantile && s.delta_high.valid ? s.delta_high.value : s.delta_max;
  const double sigma = choice.noise_from_quantile && s.sigma0_sq_high.valid ? s.sigma0_sq_high.value
                                                                            : s.sigma0_sq_max;
  c.delta = choice.noise == NoiseModel::kAbsolute ? 0.0 : delta;
  c.sigma0_sq = choice.noise == NoiseModel::kRelative ? 0.0 : sigma;
  return c;
}

std::vector<TrajectoryStep> ToTrajectorySteps(std::span<const StepRecord> records,
                                              NoiseModel noise) {
  std::vector<TrajectoryStep> steps;
  steps.reserve(records.size());
  for (const StepRecord& r : records) {
    if (!r.defined) continue;
    TrajectoryStep t;
    t.alpha = r.alpha;
    t.q = r.q_hat;
    t.delta = noise == NoiseModel::kAbsolute ? 0.0 : r.rho_hat;
    t.sigma0_sq = noise == NoiseModel::kRelative ? 0.0 : r.residual_sq;
    steps.push_back(t);
  }
  return steps;
}

Status StepLog::AddStep(int64_t step, double alpha, std::span<const NamedStats> tensors) {
  if (tensors.empty()) return InvalidArgument("step " + std::to_string(step) + ": no tensors");
  ShrinkageStats model(tensors[0].stats.path());
  std::unordered_map<std::string, size_t> seen;
  for (const NamedStats& t : tensors) {
    if (!seen.emplace(t.name, 0).second) {
      return InvalidArgument("step " + std::to_string(step) + ": tensor '" + t.name +
                             "' given twice");
    }
    Status st = model.Merge(t.stats);
    if (!st.ok()) {
      return InvalidArgument("step " + std::to_string(step) + ", tensor '" + t.name +
                             "': " + st.message());
    }
  }
  model_.push_back(MakeStepRecord(step, alpha, model.Summarize()));
  for (const NamedStats& t : tensors) {
    auto it = std::find_if(tensors_.begin(), tensors_.end(),
                           [&](const TensorBreakdown& b) { return b.name == t.name; });
    if (it == tensors_.end()) {
      tensors_.push_back(TensorBreakdown{t.name, {}});
      it = tensors_.end() - 1;
    }
    it->records.push_back(MakeStepRecord(step, alpha, t.stats.Summarize()));
  }
  return Status::Ok();
}

StepSummary StepLog::ModelSummary(const StepSummaryOptions& options) const {
  return SummarizeSteps(model_, options);
}

std::vector<std::pair<std::string, StepSummary>> StepLog::TensorSummaries(
    const StepSummaryOptions& options) const {
  std::vector<std::pair<std::string, StepSummary>> out;
  for (const TensorBreakdown& t : tensors_) {
    out.emplace_back(t.name, SummarizeSteps(t.records, options));
  }
  return out;
}

}  // namespace qfloat
