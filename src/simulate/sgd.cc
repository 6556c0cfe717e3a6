// The SGD runs of THEORY.md §5: fp64 iterates, the minibatch gradient rounded once by the
// library's quantizers, common random numbers across quantizers, one small record per step.
#include <algorithm>
#include <atomic>
#include <bit>
#include <charconv>
#include <cmath>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "qfloat/detail/philox.h"
#include "qfloat/detail/threads.h"
#include "qfloat/quantize.h"
#include "qfloat/report.h"
#include "qfloat/scalar.h"
#include "qfloat/simulate.h"

namespace qfloat::sim {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
// Philox words reserved for the minibatch draws (stochastic rounding uses words 0, 1, 2, ...).
constexpr uint32_t kBatchWordLo = 0xBA7C4000u;
constexpr uint32_t kBatchWordHi = 0xBA7C4001u;

// Sample j of the minibatch of step k under `seed`: uniform on [0, n) from 64 Philox bits
// (multiply-shift; bias below n / 2^64). Independent of the quantizer and of the iterate.
int64_t BatchIndex(uint64_t seed, uint64_t k, uint64_t j, int64_t n) {
  const uint64_t lo = StochasticBits(seed, static_cast<uint32_t>(k), j, kBatchWordLo);
  const uint64_t hi = StochasticBits(seed, static_cast<uint32_t>(k), j, kBatchWordHi);
  const unsigned __int128 u = (static_cast<unsigned __int128>(hi) << 32) | lo;
  return static_cast<int64_t>((u * static_cast<unsigned __int128>(n)) >> 64);
}

StatusOr<double> ParseNumber(std::string_view text, std::string_view what) {
  double v = 0.0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || p != text.data() + text.size() || !std::isfinite(v)) {
    return InvalidArgument("--schedule: " + std::string(what) + " '" + std::string(text) +
                           "' is not a finite number");
  }
  return v;
}

// The per-element factor that dequantization multiplies each element's value by, found by
// decoding the packed tensor with every element set to the code of 1.0 (as the analyze command
// does); float32, as DecodeScaled returns.
StatusOr<std::vector<float>> EffectiveScales(const ScaledTensor& packed) {
  const FormatSpec& el = packed.element;
  const uint32_t one = EncodeScalar(el, 1.0, QuantizeOptions{});
  if (DecodeScalar(el, one) != 1.0) {
    return Unavailable("format " + DescribeSpec(el) + " has no code for 1.0");
  }
  size_t n = 1;
  for (int64_t d : packed.shape) n *= static_cast<size_t>(d);
  ScaledTensor ones = packed;
  std::fill(ones.codes.begin(), ones.codes.end(), 0);
  for (size_t i = 0; i < n; ++i) WritePackedCode(el, ones.codes, i, one);
  std::vector<float> s(n);
  TensorOptions o;
  o.backend = Backend::kScalar;
  o.threads = 1;
  const Status st = DecodeScaled(ones, s, o);
  if (!st.ok()) return st;
  return s;
}

}  // namespace

void MinibatchIndices(uint64_t seed, uint64_t step, int64_t n, std::span<int64_t> out) {
  for (size_t j = 0; j < out.size(); ++j) out[j] = BatchIndex(seed, step, j, n);
}

// ---- schedules ----

double Schedule::Alpha(int64_t k) const {
  if (kind == Kind::kFixed) return alpha;
  return beta / (gamma + static_cast<double>(k));
}

StatusOr<Schedule> ParseSchedule(std::string_view text) {
  Schedule s;
  std::string_view head = text.substr(0, text.find(':'));
  std::string_view rest = head.size() < text.size() ? text.substr(head.size() + 1) : "";
  if (head == "fixed") {
    s.kind = Schedule::Kind::kFixed;
  } else if (head == "diminishing") {
    s.kind = Schedule::Kind::kDiminishing;
  } else {
    return InvalidArgument("--schedule '" + std::string(text) +
                           "': expected fixed[:THETA], fixed:alpha=A or "
                           "diminishing[:beta=B][:gamma=G]");
  }
  while (!rest.empty()) {
    size_t end = rest.find_first_of(":,");
    std::string_view item = rest.substr(0, end);
    rest = end == std::string_view::npos ? "" : rest.substr(end + 1);
    if (item.empty()) continue;
    const size_t eq = item.find('=');
    std::string_view key = eq == std::string_view::npos ? "theta" : item.substr(0, eq);
    std::string_view val = eq == std::string_view::npos ? item : item.substr(eq + 1);
    StatusOr<double> v = ParseNumber(val, key);
    if (!v.ok()) return v.status();
    if (s.kind == Schedule::Kind::kFixed && key == "theta") {
      if (*v <= 0) return InvalidArgument("--schedule: theta must be > 0");
      s.theta = *v;
    } else if (s.kind == Schedule::Kind::kFixed && key == "alpha") {
      if (*v <= 0) return InvalidArgument("--schedule: alpha must be > 0");
      s.alpha = *v;
    } else if (s.kind == Schedule::Kind::kDiminishing && key == "beta") {
      if (*v <= 0) return InvalidArgument("--schedule: beta must be > 0");
      s.beta = *v;
    } else if (s.kind == Schedule::Kind::kDiminishing && key == "gamma") {
      if (*v <= 0) return InvalidArgument("--schedule: gamma must be > 0 (BCN Thm 4.7)");
      s.gamma = *v;
    } else {
      return InvalidArgument("--schedule '" + std::string(text) + "': unknown parameter '" +
                             std::string(key) + "'");
    }
  }
  return s;
}

std::string ToString(const Schedule& s) {
  if (s.kind == Schedule::Kind::kFixed) {
    return "fixed:theta=" + FormatShortest(s.theta) + " (alpha=" + FormatSignificant(s.alpha, 6) +
           ")";
  }
  return "diminishing:beta=" + FormatSignificant(s.beta, 6) +
         ":gamma=" + FormatSignificant(s.gamma, 6);
}

Status ResolveSchedule(Schedule& s, const ProblemConstants& p) {
  const double limit = MaxStepFP(p);  // mu / (L M_G)
  if (!(limit > 0.0) || !std::isfinite(limit)) {
    return InvalidArgument("schedule: the constants give no admissible step (L M_G = " +
                           FormatSignificant(p.L * EffectiveMG(p)) + ")");
  }
  if (s.kind == Schedule::Kind::kFixed) {
    if (!(s.alpha > 0.0))
      s.alpha = s.theta * limit;
    else
      s.theta = s.alpha / limit;
    return Status::Ok();
  }
  if (!(s.beta > 0.0)) s.beta = p.c > 0.0 ? 2.0 / (p.c * p.mu) : 100.0 * limit;
  if (!(s.gamma > 0.0)) s.gamma = std::max(s.beta / limit - 1.0, 1e-9);
  return Status::Ok();
}

// ---- quantizers ----

bool IsNullControl(const FormatSpec& element, const Scaling& scaling, const Rounding& rounding) {
  if (element.kind == FormatKind::kMinifloat && element.mantissa_bits >= 7 &&
      element.exponent_bits >= 5) {
    return true;  // bf16, fp16, fp32: u <= 2^-8 with the range of the gradients
  }
  return rounding.mode == RoundingMode::kStochastic && scaling.kind != ScalingKind::kNone;
}

Status QuantizeGradient(const Quantizer& q, std::span<const int64_t> shape,
                        std::span<const double> g, uint64_t seed, uint64_t step,
                        std::span<double> out, ShrinkageStats* stats, ScalingState* state) {
  if (out.size() != g.size()) return InvalidArgument("QuantizeGradient: size mismatch");
  if (q.identity) {
    std::copy(g.begin(), g.end(), out.begin());
    if (stats != nullptr) return stats->Accumulate(g, std::span<const double>(out), {}, 1);
    return Status::Ok();
  }
  TensorOptions opt;
  opt.quantize = q.quantize;
  opt.quantize.seed = seed;
  opt.quantize.stream = static_cast<uint32_t>(step);
  opt.quantize.index_offset = 0;
  opt.backend = Backend::kScalar;  // small vectors: no dispatch or thread start-up
  opt.threads = 1;
  if (q.scaling.kind == ScalingKind::kNone) {
    Status st = Quantize(q.element, g, out, opt);
    if (!st.ok()) return st;
    if (stats != nullptr) {
      return stats->Accumulate(g, std::span<const double>(out),
                               ClassThresholds::ForFormat(q.element), 1);
    }
    return Status::Ok();
  }
  // Scaled: the image from QuantizeScaled, the per-element scales from the packed form (both
  // from the same delayed-scaling state).
  ScalingState before = state != nullptr ? *state : ScalingState{};
  Status st = QuantizeScaled(q.element, q.scaling, shape, g, out, opt, state);
  if (!st.ok()) return st;
  if (stats == nullptr) return Status::Ok();
  ScaledTensor packed;
  st = EncodeScaled(q.element, q.scaling, shape, g, &packed, opt,
                    state != nullptr ? &before : nullptr);
  if (!st.ok()) return st;
  StatusOr<std::vector<float>> s_eff = EffectiveScales(packed);
  if (!s_eff.ok()) return s_eff.status();
  // Classify each element against the thresholds of its own scale (THEORY.md §2.2 with
  // Q_s(g) = s Q(g/s)): group by scale, few distinct values.
  const ClassThresholds base = ClassThresholds::ForFormat(q.element);
  std::vector<float> scales;
  for (float s : *s_eff) {
    if (std::find(scales.begin(), scales.end(), s) == scales.end()) scales.push_back(s);
  }
  std::vector<double> gg, qq;
  gg.reserve(g.size());
  qq.reserve(g.size());
  for (float s : scales) {
    gg.clear();
    qq.clear();
    for (size_t i = 0; i < g.size(); ++i) {
      // NaN scales (never equal) are grouped by their bits' inequality: compare as bits.
      if (std::bit_cast<uint32_t>((*s_eff)[i]) != std::bit_cast<uint32_t>(s)) continue;
      gg.push_back(g[i]);
      qq.push_back(out[i]);
    }
    st = stats->Accumulate(std::span<const double>(gg), std::span<const double>(qq), base.Scaled(s),
                           1);
    if (!st.ok()) return st;
  }
  return Status::Ok();
}

// ---- record grid ----

std::vector<int64_t> RecordGrid(int64_t steps, int points) {
  std::vector<int64_t> grid;
  if (steps < 1) return grid;
  if (points < 2 || points >= steps) {
    for (int64_t k = 1; k <= steps; ++k) grid.push_back(k);
    return grid;
  }
  // Half the points geometric over [1, K] (the transient, on a log axis), half linear over
  // [K/2, K] (the plateau, whose mean is taken over the second half).
  const int64_t head = std::min<int64_t>(steps, 10);
  for (int64_t k = 1; k <= head; ++k) grid.push_back(k);
  const int geometric = std::max(points / 2 - static_cast<int>(head), 1);
  const double l0 = std::log(static_cast<double>(head));
  const double l1 = std::log(static_cast<double>(steps));
  for (int j = 1; j <= geometric; ++j) {
    grid.push_back(std::llround(std::exp(l0 + (l1 - l0) * j / geometric)));
  }
  const int linear = std::max(points - points / 2, 1);
  for (int j = 0; j <= linear; ++j) {
    grid.push_back(steps / 2 + std::llround(static_cast<double>(steps - steps / 2) * j / linear));
  }
  std::sort(grid.begin(), grid.end());
  grid.erase(std::unique(grid.begin(), grid.end()), grid.end());
  while (!grid.empty() && grid.back() > steps) grid.pop_back();
  while (!grid.empty() && grid.front() < 1) grid.erase(grid.begin());
  if (grid.back() != steps) grid.push_back(steps);
  return grid;
}

// ---- runs ----

namespace {

struct RunContext {
  const Problem* problem;
  const ProblemAnalysis* analysis;
  const SimulateOptions* options;
  const std::vector<int64_t>* grid;
};

StatusOr<RunRecord> RunOne(const RunContext& ctx, const Quantizer& q, uint64_t seed,
                           bool check_variance) {
  const Problem& p = *ctx.problem;
  const SimulateOptions& o = *ctx.options;
  const std::vector<int64_t>& grid = *ctx.grid;
  const size_t dim = p.dim();
  const std::vector<int64_t> shape = p.shape();
  std::vector<double> w = ctx.analysis->w1;
  std::vector<double> g(dim), gq(dim), full(dim);
  std::vector<int64_t> batch(static_cast<size_t>(std::max<int64_t>(o.batch, 0)));
  std::vector<StepRecord> all;
  all.reserve(static_cast<size_t>(o.steps));
  RunRecord run;
  run.gap.assign(grid.size(), kNaN);
  run.grad_sq.assign(grid.size(), kNaN);
  run.grad_sq_running.assign(grid.size(), kNaN);
  run.steps.assign(grid.size(), StepRecord{});
  if (check_variance) run.variance.assign(grid.size(), kNaN);
  ScalingState state;
  double sum_aq = 0.0, sum_a = 0.0, running = 0.0;
  size_t gi = 0;
  for (int64_t k = 1; k <= o.steps; ++k) {
    const double alpha = o.schedule.Alpha(k);
    const bool at_grid = gi < grid.size() && grid[gi] == k;
    bool have_full = false;
    if (at_grid || o.every_step_gradnorm || o.batch == 0) {
      p.Gradient(w, full);
      have_full = true;
      double s = 0.0;
      for (double v : full) s += v * v;
      running += s;
      if (at_grid) {
        if (check_variance) run.variance[gi] = GradientVariance(p, w, o.batch);
        run.gap[gi] = p.Value(w) - ctx.analysis->F_star;
        run.grad_sq[gi] = s;
        if (o.every_step_gradnorm) run.grad_sq_running[gi] = running / static_cast<double>(k);
      }
    }
    if (o.batch > 0) {
      MinibatchIndices(seed, static_cast<uint64_t>(k), p.samples(), batch);
      for (int64_t i : batch) {
        run.batch_digest = (run.batch_digest ^ static_cast<uint64_t>(i)) * 0x100000001B3ull;
      }
      p.BatchGradient(w, batch, g);
    } else {
      if (!have_full) p.Gradient(w, full);
      g = full;
    }
    ShrinkageStats stats(SumPath::kFast);
    Status st = QuantizeGradient(q, shape, g, seed, static_cast<uint64_t>(k), gq, &stats, &state);
    if (!st.ok()) return st;
    const StepRecord rec = MakeStepRecord(k, alpha, stats.Summarize());
    all.push_back(rec);
    if (at_grid) run.steps[gi] = rec;
    if (rec.defined && !rec.broken) {
      sum_aq += alpha * rec.q_hat;
      sum_a += alpha;
    }
    bool finite = true;
    for (size_t j = 0; j < dim; ++j) {
      if (!std::isfinite(gq[j])) finite = false;
      w[j] -= alpha * gq[j];
    }
    if (!finite) ++run.nonfinite_steps;
    if (at_grid) ++gi;
    bool w_finite = true;
    for (double v : w) w_finite = w_finite && std::isfinite(v);
    if (!w_finite) {
      // Training is broken (an overflow reached the weights): the rest of the curve is NaN.
      run.diverged = true;
      run.diverged_step = k;
      break;
    }
  }
  run.summary = SummarizeSteps(all);
  run.weighted_q = sum_a > 0.0 ? sum_aq / sum_a : kNaN;
  return run;
}

}  // namespace

StatusOr<SimulationResult> Simulate(const Problem& problem, const ProblemAnalysis& analysis,
                                    std::vector<Quantizer> quantizers,
                                    const SimulateOptions& options) {
  if (options.steps < 1) return InvalidArgument("--steps must be >= 1");
  if (options.steps >= (int64_t{1} << 32)) return InvalidArgument("--steps must be < 2^32");
  if (options.seeds < 1) return InvalidArgument("--seeds must be >= 1");
  if (options.batch < 0) return InvalidArgument("--batch must be >= 0 (0 = full)");
  if (options.threads < 0) return InvalidArgument("--threads must be >= 0");
  if (analysis.w1.size() != problem.dim() || analysis.batch != options.batch) {
    return InvalidArgument("the problem analysis does not match the problem and batch size");
  }
  const double a1 = options.schedule.Alpha(1);
  if (!(a1 > 0.0) || !std::isfinite(a1)) {
    return InvalidArgument("schedule: the first step " + FormatSignificant(a1) +
                           " is not positive (resolve the schedule first)");
  }
  SimulationResult r;
  r.kind = problem.kind();
  r.dataset = problem.data().name;
  r.lambda = problem.lambda();
  r.analysis = analysis;
  r.options = options;
  r.options.on_run_done = nullptr;
  r.grid = RecordGrid(options.steps, options.record_points);
  for (int64_t k : r.grid) r.alpha.push_back(options.schedule.Alpha(k));
  Quantizer fp;
  fp.label = "fp64";
  fp.identity = true;
  fp.null_control = true;
  quantizers.insert(quantizers.begin(), fp);
  r.quantizers = std::move(quantizers);
  const size_t nq = r.quantizers.size();
  const size_t ns = static_cast<size_t>(options.seeds);
  r.runs.assign(nq, std::vector<RunRecord>(ns));

  RunContext ctx{&problem, &r.analysis, &options, &r.grid};
  std::atomic<size_t> next{0};
  std::mutex mutex;
  Status error;
  auto worker = [&] {
    for (size_t job = next.fetch_add(1); job < nq * ns; job = next.fetch_add(1)) {
      {
        std::lock_guard<std::mutex> lock(mutex);
        if (!error.ok()) return;
      }
      const size_t qi = job / ns, si = job % ns;
      StatusOr<RunRecord> run =
          RunOne(ctx, r.quantizers[qi], options.seed + si, qi == 0 && si == 0);
      if (!run.ok()) {
        std::lock_guard<std::mutex> lock(mutex);
        if (error.ok()) {
          error =
              Status(run.status().code(), r.quantizers[qi].label + ": " + run.status().message());
        }
        return;
      }
      r.runs[qi][si] = std::move(run).value();
      if (options.on_run_done) options.on_run_done();
    }
  };
  int threads = detail::ResolveThreadCount(options.threads);
  threads = std::max(1, std::min<int>(threads, static_cast<int>(nq * ns)));
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) pool.emplace_back(worker);
  worker();
  for (std::thread& t : pool) t.join();
  if (!error.ok()) return error;
  return r;
}

}  // namespace qfloat::sim
