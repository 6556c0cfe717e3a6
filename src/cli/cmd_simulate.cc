// qfloat simulate --problem lsq|logreg|nonconvex|softmax [--dataset NAME] [--lambda L]
//                 [-f F[+RECIPE][@ROUNDING],...] [-r R,...] [--scaling S,...] [--overflow P]
//                 [--batch 1|32|full|N] [--schedule fixed:THETA|diminishing[:beta=B][:gamma=G]]
//                 [--steps K] [--seeds R] [--seed S] [--target F,...] [--plateau-multiples M,...]
//                 [--json FILE] [--constants-out FILE] [--markdown FILE] [--plot DIR]
//                 [--progress auto|always|never] [--threads N]
// SGD in fp64 where only the minibatch gradient is quantized (THEORY.md §4-5; include/qfloat/
// simulate.h): prints the problem constants, runs every quantizer (plus the FP baseline) for R
// seeds with common random numbers, and compares the observed slowdown and floor with the
// bounds' predictions (table, JSON, SVG). `--model` is an alias of `--problem` (DESIGN.md's CLI
// contract); `--dataset` defaults to the problem's (lsq: diabetes, logreg/nonconvex:
// breast_cancer, softmax: digits).
//
// -f items: a format or preset name (as everywhere), optionally "+RECIPE" (a --scaling recipe for
// this item only) and "@ROUNDING" (a rounding for this item only): "e4m3fn+tensor@sr". Items
// without them are crossed with the -r and --scaling lists, as `analyze` does.
#include <CLI/CLI.hpp>
#include <cmath>
#include <cstdio>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "cli/command.h"
#include "cli/output.h"
#include "cli/tensor_cli.h"
#include "qfloat/plot.h"
#include "qfloat/progress.h"
#include "qfloat/report.h"
#include "qfloat/simulate.h"

namespace qfloat::cli {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

struct SimulateArgs {
  std::string problem;
  std::string model;
  std::string dataset;
  double lambda = 1e-2;
  int64_t samples = 0;
  std::string formats;
  std::string rounding = "rne";
  std::string scaling;
  std::string overflow = "ovf-inf";
  std::string batch = "32";
  std::string schedule = "fixed:1";
  int64_t steps = 2000;
  int seeds = 8;
  std::string seed = "0";
  std::string targets;
  std::string multiples;
  int record = 160;
  int bootstrap = 1000;
  double confidence = 0.95;
  std::string noise = "rel";
  std::string mode = "G";
  std::string json;
  std::string constants_out;
  std::string markdown;
  std::string plot;
  std::string progress = "auto";
  int threads = 0;
};

std::vector<std::string> Split(const std::string& text, char sep = ',') {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find(sep, start);
    if (end == std::string::npos) end = text.size();
    std::string item = text.substr(start, end - start);
    if (!item.empty()) out.push_back(item);
    start = end + 1;
  }
  return out;
}

StatusOr<std::vector<double>> ParseDoubles(const std::string& text, const std::string& option) {
  std::vector<double> out;
  for (const std::string& item : Split(text)) {
    char* end = nullptr;
    const double v = std::strtod(item.c_str(), &end);
    if (end != item.c_str() + item.size() || !std::isfinite(v) || v <= 0.0) {
      return InvalidArgument(option + " '" + item + "' is not a positive number");
    }
    out.push_back(v);
  }
  return out;
}

StatusOr<std::vector<sim::Quantizer>> ResolveQuantizers(const SimulateArgs& args) {
  std::vector<sim::Quantizer> out;
  StatusOr<Overflow> overflow = ParseOverflow(args.overflow);
  if (!overflow.ok()) return InvalidArgument("--overflow: " + overflow.status().message());
  const std::vector<std::string> roundings = Split(args.rounding);
  const std::vector<std::string> scalings =
      args.scaling.empty() ? std::vector<std::string>{""} : Split(args.scaling);
  for (const std::string& item : Split(args.formats)) {
    std::string name = item;
    std::vector<std::string> item_roundings = roundings;
    std::vector<std::string> item_scalings = scalings;
    if (size_t at = name.find('@'); at != std::string::npos) {
      item_roundings = {name.substr(at + 1)};
      name = name.substr(0, at);
    }
    if (size_t plus = name.find('+'); plus != std::string::npos) {
      item_scalings = {name.substr(plus + 1)};
      name = name.substr(0, plus);
    }
    for (const std::string& r : item_roundings) {
      StatusOr<Rounding> rounding = ParseRounding(r);
      if (!rounding.ok()) return InvalidArgument("-r " + r + ": " + rounding.status().message());
      for (const std::string& sc : item_scalings) {
        QuantizeOptions qo;
        qo.rounding = *rounding;
        qo.overflow = *overflow;
        StatusOr<Quantizer> q = ResolveQuantizer(name, sc, qo, TensorOptions{});
        if (!q.ok()) return q.status();
        sim::Quantizer s;
        s.label = QuantizerLabel(*q);
        if (rounding->mode != RoundingMode::kNearestEven) s.label += "@" + ToString(*rounding);
        s.element = q->spec;
        s.scaling = q->scaling;
        s.quantize = qo;
        s.null_control = sim::IsNullControl(s.element, s.scaling, *rounding);
        for (const sim::Quantizer& other : out) {
          if (other.label == s.label) return InvalidArgument("-f: '" + s.label + "' given twice");
        }
        out.push_back(std::move(s));
      }
    }
  }
  return out;
}

Json ConstantsJson(const sim::ProblemAnalysis& a, bool convex) {
  const ProblemConstants& c = a.constants;
  Json j;
  j["L"] = JsonValue(c.L);
  if (convex) j["c"] = JsonValue(c.c);
  j["M"] = JsonValue(c.M);
  j["M_V"] = JsonValue(c.M_V);
  j["M_G"] = JsonValue(EffectiveMG(c));
  j["mu"] = JsonValue(c.mu);
  j["mu_G"] = JsonValue(c.mu_G);
  j["Delta1"] = JsonValue(c.Delta1);
  return j;
}

std::string Cell(double v, int digits = 4) {
  if (std::isnan(v)) return "-";
  return FormatSignificant(v, digits);
}

std::string KCell(double k) { return std::isfinite(k) ? FormatFixed(k, 1) : Cell(k); }

// The theorem's slowdown: NaN means its FP floor is above the target (no K_FP): vacuous.
std::string BoundCell(double v) { return std::isnan(v) ? "vacuous" : Cell(v, 3); }

std::string CiCell(const sim::TargetResult& t) {
  return Cell(t.s_obs, 3) + " [" + Cell(t.s_ci.lo, 3) + ", " + Cell(t.s_ci.hi, 3) + "]";
}

// The headline target: the smallest transient target every quantizer that did not stall reached,
// else the first.
size_t HeadlineTarget(const sim::Comparison& cmp) {
  if (cmp.rows.empty() || cmp.rows[0].targets.empty()) return 0;
  size_t best = 0;
  for (size_t t = 0; t < cmp.rows[0].targets.size(); ++t) {
    if (!cmp.rows[0].targets[t].transient) continue;
    bool ok = true;
    for (const sim::QuantizerComparison& row : cmp.rows) {
      if (!row.stalled && !std::isfinite(row.targets[t].k_lp)) ok = false;
    }
    if (ok) best = t;
  }
  return best;
}

qfloat::Table SummaryTable(const sim::Comparison& cmp, size_t headline) {
  const std::string target =
      cmp.rows.empty() || cmp.rows[0].targets.empty() ? "" : cmp.rows[0].targets[headline].name;
  qfloat::Table t({"quantizer", "q_min", "q_bar_alpha", "rho_max", "flushed",
                   "S_obs [95% CI] @" + target, "S_thm(q_min)", "S_rate(q_min)", "S_pred(q_bar)",
                   "Phi_obs", "Phi_bound", "Phi_pred", "note"});
  for (const sim::QuantizerComparison& row : cmp.rows) {
    std::string s_obs = "-", s_b = "-", s_r = "-", s_p = "-";
    if (headline < row.targets.size()) {
      s_obs = CiCell(row.targets[headline]);
      s_b = BoundCell(row.targets[headline].s_bound);
      s_r = Cell(row.targets[headline].s_rate, 3);
      s_p = Cell(row.targets[headline].s_point, 3);
    }
    t.AddRow({row.label, Cell(row.q_min), Cell(row.q_weighted), Cell(row.rho_max, 3),
              FormatPercent(row.flushed_energy_max), s_obs, s_b, s_r, s_p, Cell(row.phi_obs, 3),
              Cell(row.phi_bound, 3), Cell(row.phi_point, 3), row.note});
  }
  return t;
}

qfloat::Table TargetTable(const sim::Comparison& cmp) {
  qfloat::Table t({"quantizer", "target", "epsilon", "K_FP", "K_LP", "S_obs [95% CI]",
                   "S_thm(q_min)", "S_rate(q_min)", "S_pred(q_bar)", "holds"});
  for (const sim::QuantizerComparison& row : cmp.rows) {
    if (row.identity) continue;
    for (const sim::TargetResult& tr : row.targets) {
      t.AddRow({row.label, tr.name, FormatSignificant(tr.epsilon, 3), KCell(tr.k_fp),
                KCell(tr.k_lp), CiCell(tr), BoundCell(tr.s_bound), Cell(tr.s_rate, 3),
                Cell(tr.s_point, 3), tr.bound_holds ? "yes" : "NO"});
    }
    t.AddSeparator();
  }
  return t;
}

Json ComparisonJson(const sim::SimulationResult& r, const sim::Comparison& cmp) {
  Json j = Json::array();
  for (size_t i = 0; i < cmp.rows.size(); ++i) {
    const sim::QuantizerComparison& row = cmp.rows[i];
    const sim::Quantizer& q = r.quantizers[i];
    Json o;
    o["label"] = row.label;
    o["identity"] = row.identity;
    o["element"] = q.identity ? "fp64" : DescribeSpec(q.element);
    o["scaling"] = q.identity ? "none" : ToString(q.scaling);
    o["rounding"] = ToString(q.quantize.rounding);
    o["overflow"] = ToString(q.quantize.overflow);
    o["null_control"] = row.null_control;
    o["q_min"] = JsonValue(row.q_min);
    o["q_max"] = JsonValue(row.q_max);
    o["q_bar_alpha"] = JsonValue(row.q_weighted);
    o["q_plateau"] = JsonValue(row.q_plateau);
    o["rho_max"] = JsonValue(row.rho_max);
    o["rho_plateau"] = JsonValue(row.rho_plateau);
    o["sigma0_sq_max"] = JsonValue(row.sigma0_sq_max);
    o["flushed_energy_max"] = JsonValue(row.flushed_energy_max);
    o["saturated_energy_max"] = JsonValue(row.saturated_energy_max);
    o["nonfinite_steps"] = row.nonfinite_steps;
    o["diverged_runs"] = row.diverged_runs;
    o["shrinkage"] = {{"q_min", JsonValue(row.shrinkage.q_min)},
                      {"q_max", JsonValue(row.shrinkage.q_max)},
                      {"delta", JsonValue(row.shrinkage.delta)},
                      {"sigma0_sq", JsonValue(row.shrinkage.sigma0_sq)},
                      {"valid", row.shrinkage_valid}};
    Json targets = Json::array();
    for (const sim::TargetResult& tr : row.targets) {
      targets.push_back({{"name", tr.name},
                         {"epsilon", JsonValue(tr.epsilon)},
                         {"transient", tr.transient},
                         {"k_fp", JsonValue(tr.k_fp)},
                         {"k_lp", JsonValue(tr.k_lp)},
                         {"s_obs", JsonValue(tr.s_obs)},
                         {"s_ci", {JsonValue(tr.s_ci.lo), JsonValue(tr.s_ci.hi)}},
                         {"ci_contains_one", tr.ci_contains_one},
                         {"s_bound", JsonValue(tr.s_bound)},
                         {"s_rate", JsonValue(tr.s_rate)},
                         {"within_one_percent", tr.within_one_percent},
                         {"s_pred", JsonValue(tr.s_point)},
                         {"bound_holds", tr.bound_holds}});
    }
    o["targets"] = targets;
    o["log_slope_ratio"] = JsonValue(row.log_slope_ratio);
    o["plateau"] = JsonValue(row.plateau);
    o["stationary"] = row.stationary;
    o["phi_obs"] = JsonValue(row.phi_obs);
    o["phi_ci"] = {JsonValue(row.phi_ci.lo), JsonValue(row.phi_ci.hi)};
    o["phi_bound"] = JsonValue(row.phi_bound);
    o["phi_pred"] = JsonValue(row.phi_point);
    o["bound_applicable"] = row.bound_applicable;
    o["admissible"] = row.admissible;
    o["bound_violated"] = row.bound_violated;
    o["violation_step"] = row.violation_step;
    o["violation_ratio"] = JsonValue(row.violation_ratio);
    o["final"] = JsonValue(row.final_gap);
    o["stalled"] = row.stalled;
    o["q_collapse_step"] = row.q_collapse_step;
    o["note"] = row.note;
    Json curve = Json::object();
    auto arr = [](const std::vector<double>& v) {
      Json a = Json::array();
      for (double x : v) a.push_back(JsonValue(x));
      return a;
    };
    curve["mean"] = arr(row.mean_gap);
    curve["lo"] = arr(row.gap_lo);
    curve["hi"] = arr(row.gap_hi);
    curve["q"] = arr(row.mean_q);
    curve["bound"] = arr(row.bound_curve);
    std::vector<double> rho(r.grid.size(), 0.0), flushed(r.grid.size(), 0.0),
        eps(r.grid.size(), 0.0);
    const auto& runs = r.runs[i];
    for (size_t k = 0; k < r.grid.size(); ++k) {
      for (const sim::RunRecord& run : runs) {
        rho[k] += run.steps[k].rho_hat / static_cast<double>(runs.size());
        eps[k] += run.steps[k].residual_sq / static_cast<double>(runs.size());
        flushed[k] += run.steps[k].energy_fraction[static_cast<int>(ElementClass::kFlushed)] /
                      static_cast<double>(runs.size());
      }
    }
    curve["rho"] = arr(rho);
    curve["residual_sq"] = arr(eps);
    curve["flushed_energy"] = arr(flushed);
    o["curves"] = curve;
    j.push_back(o);
  }
  return j;
}

Status WritePlots(const std::string& dir, const sim::SimulationResult& r,
                  const sim::Comparison& cmp, size_t headline) {
  if (Status st = MakeDirectories(dir); !st.ok()) return st;
  const std::string prefix = dir + (dir.back() == '/' ? "" : "/");
  std::vector<double> x;
  for (int64_t k : r.grid) x.push_back(static_cast<double>(k));
  const std::string title = sim::ToString(r.kind) + " on " + r.dataset + ", batch " +
                            (r.options.batch > 0 ? std::to_string(r.options.batch) : "full") +
                            ", " + sim::ToString(r.options.schedule);
  // 1. Seed-averaged curves of every quantizer.
  {
    plot::Figure fig(860, 520);
    plot::Axes& ax = fig.axes();
    ax.SetTitle("Seed-averaged " + cmp.metric + ": " + title)
        .SetXLabel("iteration k")
        .SetYLabel(cmp.metric)
        .SetXScale(plot::Scale::kLog10)
        .SetYScale(plot::Scale::kLog10)
        .SetLegend(plot::LegendPosition::kOutsideRight);
    for (const sim::QuantizerComparison& row : cmp.rows) ax.AddLine(row.label, x, row.mean_gap);
    if (Status st = fig.WriteSvg(prefix + "curves.svg"); !st.ok()) return st;
  }
  // 2. q_k trajectories.
  {
    plot::Figure fig(860, 520);
    plot::Axes& ax = fig.axes();
    ax.SetTitle("Shrinkage q_k (seed mean): " + title)
        .SetXLabel("iteration k")
        .SetYLabel("q_k")
        .SetXScale(plot::Scale::kLog10)
        .SetLegend(plot::LegendPosition::kOutsideRight);
    for (const sim::QuantizerComparison& row : cmp.rows) {
      if (!row.identity) ax.AddLine(row.label, x, row.mean_q);
    }
    ax.AddHLine(1.0, "q = 1");
    if (Status st = fig.WriteSvg(prefix + "q.svg"); !st.ok()) return st;
  }
  // 3. Small multiples: each quantizer against FP, with its bootstrap band and the LP bound.
  {
    const size_t n = cmp.rows.size() > 1 ? cmp.rows.size() - 1 : 0;
    if (n > 0) {
      const size_t cols = std::min<size_t>(4, n);
      const size_t rows = (n + cols - 1) / cols;
      plot::Figure fig(rows, cols, 300.0 * cols, 240.0 * rows + 40);
      fig.SetTitle(cmp.metric + " against the LP bound: " + title);
      for (size_t i = 0; i < n; ++i) {
        const sim::QuantizerComparison& row = cmp.rows[i + 1];
        plot::Axes& ax = fig.At(i / cols, i % cols);
        ax.SetTitle(row.label)
            .SetXScale(plot::Scale::kLog10)
            .SetYScale(plot::Scale::kLog10)
            .SetLegend(i == 0 ? plot::LegendPosition::kAuto : plot::LegendPosition::kNone);
        plot::Style band;
        band.color = std::string(plot::kPalette[1]);
        ax.AddBand("", x, row.gap_lo, row.gap_hi, band);
        plot::Style fp;
        fp.color = std::string(plot::kPalette[0]);
        ax.AddLine("FP", x, cmp.rows[0].mean_gap, fp);
        plot::Style lp;
        lp.color = std::string(plot::kPalette[1]);
        ax.AddLine("LP", x, row.mean_gap, lp);
        plot::Style bound = plot::ReferenceStyle();
        ax.AddLine("LP bound", x, row.bound_curve, bound);
      }
      if (Status st = fig.WriteSvg(prefix + "bounds.svg"); !st.ok()) return st;
    }
  }
  // 4. Observed against predicted slowdown at the headline target.
  {
    plot::Figure fig(640, 480);
    plot::Axes& ax = fig.axes();
    ax.SetTitle("Slowdown at the headline target: observed vs predicted")
        .SetXLabel("predicted S")
        .SetYLabel("observed S (95% CI)")
        .SetXScale(plot::Scale::kLog10)
        .SetYScale(plot::Scale::kLog10);
    std::vector<double> xb, xp, y, lo, hi;
    for (const sim::QuantizerComparison& row : cmp.rows) {
      if (row.identity || headline >= row.targets.size()) continue;
      const sim::TargetResult& t = row.targets[headline];
      if (!std::isfinite(t.s_obs)) continue;
      xb.push_back(std::isnan(t.s_bound) ? t.s_rate : t.s_bound);
      xp.push_back(t.s_point);
      y.push_back(t.s_obs);
      lo.push_back(t.s_ci.lo);
      hi.push_back(t.s_ci.hi);
    }
    plot::Style bound;
    bound.marker = plot::Marker::kTriangle;
    ax.AddScatter("bound with q_min (theorem, else its rate)", xb, y, bound);
    plot::Style point;
    point.marker = plot::Marker::kCircle;
    ax.AddScatter("S_pred(q_bar)", xp, y, point);
    std::vector<double> diag_x = {0.8, 20.0};
    ax.AddLine("y = x", diag_x, diag_x, plot::ReferenceStyle());
    if (Status st = fig.WriteSvg(prefix + "slowdown.svg"); !st.ok()) return st;
  }
  return Status::Ok();
}

int Run(const SimulateArgs& args) {
  // ---- options, all checked before any work ----
  std::string problem_text = !args.problem.empty() ? args.problem : args.model;
  if (problem_text.empty()) problem_text = "logreg";
  StatusOr<sim::ProblemKind> kind = sim::ParseProblemKind(problem_text);
  if (!kind.ok()) return Fail(kExitUsage, "--problem: " + kind.status().message());
  const std::string dataset = args.dataset.empty() ? sim::DefaultDataset(*kind) : args.dataset;
  int64_t batch = 0;
  if (args.batch != "full") {
    StatusOr<uint64_t> b = ParseUnsignedOption("--batch", args.batch, 1u << 30);
    if (!b.ok()) return Fail(kExitUsage, b.status().message() + " (or 'full')");
    if (*b == 0) return Fail(kExitUsage, "--batch must be >= 1 or 'full'");
    batch = static_cast<int64_t>(*b);
  }
  StatusOr<sim::Schedule> schedule = sim::ParseSchedule(args.schedule);
  if (!schedule.ok()) return FailStatus(schedule.status());
  StatusOr<uint64_t> seed = ParseUnsignedOption("--seed", args.seed, ~uint64_t{0});
  if (!seed.ok()) return Fail(kExitUsage, seed.status().message());
  if (args.steps < 1 || args.steps >= (int64_t{1} << 32)) {
    return Fail(kExitUsage, "--steps " + std::to_string(args.steps) + " must be in 1..2^32-1");
  }
  if (args.seeds < 1) return Fail(kExitUsage, "--seeds must be >= 1");
  if (args.samples < 0) return Fail(kExitUsage, "--samples must be >= 0");
  if (args.threads < 0) return Fail(kExitUsage, "--threads must be >= 0");
  if (args.bootstrap < 0) return Fail(kExitUsage, "--bootstrap must be >= 0");
  if (!(args.confidence > 0.0 && args.confidence < 1.0)) {
    return Fail(kExitUsage, "--confidence must be in (0, 1)");
  }
  if (args.record < 2) return Fail(kExitUsage, "--record must be >= 2");
  StatusOr<std::vector<double>> targets = ParseDoubles(args.targets, "--target");
  if (!targets.ok()) return Fail(kExitUsage, targets.status().message());
  StatusOr<std::vector<double>> multiples = ParseDoubles(args.multiples, "--plateau-multiples");
  if (!multiples.ok()) return Fail(kExitUsage, multiples.status().message());
  sim::CompareOptions co;
  co.bootstrap = args.bootstrap;
  co.confidence = args.confidence;
  co.delta_fractions = *targets;
  co.plateau_multiples = *multiples;
  if (args.noise == "rel") {
    co.noise = NoiseModel::kRelative;
  } else if (args.noise == "abs") {
    co.noise = NoiseModel::kAbsolute;
  } else if (args.noise == "combined") {
    co.noise = NoiseModel::kCombined;
  } else {
    return Fail(kExitUsage, "--noise '" + args.noise + "': expected rel, abs or combined");
  }
  StatusOr<ShrinkageMode> mode = ParseShrinkageMode(args.mode);
  if (!mode.ok()) return Fail(kExitUsage, "--mode: " + mode.status().message());
  co.mode = *mode;
  StatusOr<ProgressMode> progress = ParseProgressMode(args.progress);
  if (!progress.ok()) return Fail(kExitUsage, "--progress: " + progress.status().message());
  StatusOr<std::vector<sim::Quantizer>> quantizers = ResolveQuantizers(args);
  if (!quantizers.ok()) return Fail(kExitUsage, quantizers.status().message());

  // ---- the problem and its constants ----
  StatusOr<sim::Dataset> data = sim::LoadDataset(dataset, args.samples);
  if (!data.ok()) {
    return Fail(data.status().code() == StatusCode::kNotFound ? kExitUsage : kExitData,
                "--dataset: " + data.status().message());
  }
  StatusOr<sim::Problem> problem =
      sim::Problem::Create(*kind, std::move(data).value(), args.lambda);
  if (!problem.ok()) return Fail(kExitUsage, problem.status().message());
  StatusOr<sim::ProblemAnalysis> analysis = sim::AnalyzeProblem(*problem, batch);
  if (!analysis.ok()) return FailStatus(analysis.status(), "constants");
  sim::Schedule sched = *schedule;
  if (Status st = sim::ResolveSchedule(sched, analysis->constants); !st.ok()) {
    return FailStatus(st);
  }
  const bool convex = sim::StronglyConvex(*kind);

  // ---- the runs ----
  sim::SimulateOptions so;
  so.steps = args.steps;
  so.seeds = args.seeds;
  so.seed = *seed;
  so.batch = batch;
  so.schedule = sched;
  so.record_points = args.record;
  so.threads = args.threads;
  so.every_step_gradnorm = !convex;
  ProgressOptions po;
  po.mode = *progress;
  po.label = "simulate";
  po.unit = "runs";
  ProgressBar bar((quantizers->size() + 1) * static_cast<uint64_t>(args.seeds), po);
  so.on_run_done = [&bar] { bar.Advance(); };
  StatusOr<sim::SimulationResult> result =
      sim::Simulate(*problem, *analysis, std::move(quantizers).value(), so);
  bar.Finish();
  if (!result.ok()) return FailStatus(result.status());
  StatusOr<sim::Comparison> cmp = sim::Compare(*problem, *result, co);
  if (!cmp.ok()) return FailStatus(cmp.status());
  const size_t headline = HeadlineTarget(*cmp);

  // ---- outputs: files first (atomic), then stdout ----
  const sim::ProblemAnalysis& a = result->analysis;
  Json constants = ConstantsJson(a, convex);
  if (!args.constants_out.empty()) {
    if (Status st = WriteTextOutput(args.constants_out, constants.dump(2) + "\n"); !st.ok()) {
      return Fail(kExitData, "--constants-out " + args.constants_out + ": " + st.message());
    }
  }
  if (!args.json.empty()) {
    Json j;
    j["qfloat_version"] = QFLOAT_VERSION;
    j["command"] = "simulate";
    j["problem"] = sim::ToString(*kind);
    j["dataset"] = result->dataset;
    j["samples"] = problem->samples();
    j["dimension"] = problem->dim();
    j["lambda"] = JsonValue(args.lambda);
    j["batch"] = batch > 0 ? Json(batch) : Json("full");
    j["schedule"] = {{"text", sim::ToString(sched)},
                     {"kind", sched.kind == sim::Schedule::Kind::kFixed ? "fixed" : "diminishing"},
                     {"theta", JsonValue(sched.theta)},
                     {"alpha", JsonValue(sched.alpha)},
                     {"beta", JsonValue(sched.beta)},
                     {"gamma", JsonValue(sched.gamma)}};
    j["steps"] = args.steps;
    j["seeds"] = args.seeds;
    j["seed"] = *seed;
    j["constants"] = constants;
    j["analysis"] = {{"F_star", JsonValue(a.F_star)},
                     {"F_inf", JsonValue(a.F_inf)},
                     {"F1", JsonValue(a.F1)},
                     {"c_local", JsonValue(a.c_local)},
                     {"lambda_max_data", JsonValue(a.lambda_max_data)},
                     {"grad_norm_star", JsonValue(a.grad_norm_star)},
                     {"V_star", JsonValue(a.V_star)},
                     {"M_V_min", JsonValue(a.M_V_min)},
                     {"M_simple", JsonValue(a.M_simple)},
                     {"M_V_simple", JsonValue(a.M_V_simple)},
                     {"w_star", a.w_star},
                     {"notes", a.notes}};
    j["metric"] = cmp->metric;
    j["fp_plateau"] = JsonValue(cmp->fp_plateau);
    j["fp_stationary"] = cmp->fp_stationary;
    j["fp_bound_violated"] = cmp->fp_bound_violated;
    j["fp_bound_ratio"] = JsonValue(cmp->fp_bound_ratio);
    j["variance_check"] = JsonValue(cmp->variance_check);
    j["headline_target"] = headline;
    j["grid"] = result->grid;
    j["alpha"] = Json::array();
    for (double v : result->alpha) j["alpha"].push_back(JsonValue(v));
    j["results"] = ComparisonJson(*result, *cmp);
    if (Status st = WriteTextOutput(args.json, j.dump(1) + "\n"); !st.ok()) {
      return Fail(kExitData, "--json " + args.json + ": " + st.message());
    }
  }
  if (!args.plot.empty()) {
    if (Status st = WritePlots(args.plot, *result, *cmp, headline); !st.ok()) {
      return Fail(kExitData, "--plot " + args.plot + ": " + st.message());
    }
  }
  const qfloat::Table summary = SummaryTable(*cmp, headline);
  const qfloat::Table per_target = TargetTable(*cmp);
  const ProblemConstants& c = a.constants;
  std::string head;
  head +=
      "problem   " + sim::ToString(*kind) + " on " + result->dataset +
      " (n = " + std::to_string(problem->samples()) + ", dim = " + std::to_string(problem->dim()) +
      ", lambda = " + FormatShortest(args.lambda) + "), batch " +
      (batch > 0 ? std::to_string(batch) : std::string("full")) + ", " + sim::ToString(sched) +
      ", K = " + std::to_string(args.steps) + ", R = " + std::to_string(args.seeds) + " seeds\n";
  head += "constants L = " + FormatSignificant(c.L, 6) +
          (convex ? ", c = " + FormatSignificant(c.c, 6) : std::string()) +
          ", M = " + FormatSignificant(c.M, 6) + ", M_V = " + FormatSignificant(c.M_V, 6) +
          ", M_G = " + FormatSignificant(EffectiveMG(c), 6) +
          ", mu = mu_G = 1, Delta1 = " + FormatSignificant(c.Delta1, 6) + "\n";
  head += "          F* = " + FormatSignificant(a.F_star, 10) +
          " (|grad F(w*)| = " + FormatScientific(a.grad_norm_star, 2) +
          "), c_local = " + FormatSignificant(a.c_local, 4) +
          ", V(w*) = " + FormatSignificant(a.V_star, 4) + "\n";
  head += "checks    FP bound / FP curve max = " + Cell(cmp->fp_bound_ratio, 3) +
          (cmp->fp_bound_violated ? " (VIOLATED)" : "") +
          ", max V(w)/(M + M_V |grad F|^2) on the FP path = " + Cell(cmp->variance_check, 3) +
          ", FP plateau = " + Cell(cmp->fp_plateau, 4) +
          (cmp->fp_stationary ? "" : " (not stationary)") + "\n\n";
  std::fputs(head.c_str(), stdout);
  std::fputs(summary.ToText().c_str(), stdout);
  std::fputs("\n", stdout);
  std::fputs(per_target.ToText().c_str(), stdout);
  if (!args.markdown.empty()) {
    const std::string md =
        "**" + sim::ToString(*kind) + " on " + result->dataset + "**, batch " +
        (batch > 0 ? std::to_string(batch) : std::string("full")) + ", `" + sim::ToString(sched) +
        "`, K = " + std::to_string(args.steps) + ", R = " + std::to_string(args.seeds) +
        " seeds\n\n```\n" + head + "```\n\n" + summary.ToMarkdown() + "\n<details><summary>" +
        "every target</summary>\n\n" + per_target.ToMarkdown() + "\n</details>\n";
    if (Status st = WriteTextOutput(args.markdown, md); !st.ok()) {
      return Fail(kExitData, "--markdown " + args.markdown + ": " + st.message());
    }
  }
  if (Status st = FlushStdout(); !st.ok()) return Fail(kExitData, st.message());
  return kExitOk;
}

RunFn Setup(CLI::App& command) {
  auto args = std::make_shared<SimulateArgs>();
  command.add_option("--problem", args->problem,
                     "lsq, logreg, nonconvex or softmax (default logreg)");
  command.add_option("--model", args->model, "alias of --problem");
  command.add_option("--dataset", args->dataset,
                     "diabetes, breast_cancer or digits (default: the problem's)");
  command.add_option("--lambda", args->lambda, "L2 (or nonconvex) regularization (default 1e-2)");
  command.add_option("--samples", args->samples, "use the first N samples only (0 = all)");
  command
      .add_option("-f,--format", args->formats,
                  "formats: NAME[+RECIPE][@ROUNDING],... (the FP baseline is always run)")
      ->required();
  command.add_option("-r,--rounding", args->rounding, "roundings crossed with -f (default rne)");
  command.add_option("--scaling", args->scaling, "scaling recipes crossed with -f");
  command.add_option("--overflow", args->overflow, "ovf-inf (default), sat-finite, sat-propagate");
  command.add_option("--batch", args->batch, "minibatch size or 'full' (default 32)");
  command.add_option("--schedule", args->schedule,
                     "fixed[:THETA] (alpha = THETA mu/(L M_G)), fixed:alpha=A, or "
                     "diminishing[:beta=B][:gamma=G] (default fixed:1)");
  command.add_option("--steps", args->steps, "iterations K (default 2000)");
  command.add_option("--seeds", args->seeds, "replications R (default 8)");
  command.add_option("--seed", args->seed, "first seed (default 0)");
  command.add_option("--target", args->targets,
                     "targets as fractions of the starting value (default 1e-1,...,1e-8)");
  command.add_option("--plateau-multiples", args->multiples,
                     "targets as multiples of the FP plateau (default 1.5,2,4)");
  command.add_option("--record", args->record, "record-grid points (default 160)");
  command.add_option("--bootstrap", args->bootstrap, "bootstrap resamples (default 1000)");
  command.add_option("--confidence", args->confidence, "CI level (default 0.95)");
  command.add_option("--noise", args->noise, "noise model for the bounds: rel, abs, combined");
  command.add_option("--mode", args->mode, "shrinkage mode G or P (default G)");
  command.add_option("--json", args->json, "write the full result as JSON");
  command.add_option("--constants-out", args->constants_out,
                     "write the problem constants as JSON for `qfloat predict --constants`");
  command.add_option("--markdown", args->markdown, "write the tables as Markdown");
  command.add_option("--plot", args->plot, "write SVG figures into this directory");
  command.add_option("--progress", args->progress, "auto, always or never");
  command.add_option("--threads", args->threads, "worker threads (0 = all)");
  return [args] { return Run(*args); };
}

}  // namespace

QFLOAT_CLI_COMMAND(simulate, 80, "SGD with quantized gradients on real data vs the bounds", Setup);

}  // namespace qfloat::cli
