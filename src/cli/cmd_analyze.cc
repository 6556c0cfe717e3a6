// qfloat analyze GRADS... -f F[,F...] [-r R[,R...]] [--scaling S[,S...]] [--overflow P]
//                [--seed N] [--stream T] [--draws R] [--sum fast|exact] [--tensors GLOB]...
//                [--json FILE] [--jsonl FILE] [--csv FILE] [--plot DIR]
//                [--progress auto|always|never] [--fail-if EXPR]... [--backend B] [--threads N]
// What each (format, rounding, scaling) combination does to recorded gradients (THEORY.md §2):
// GRADS are files, directories or globs of one tensor file per step, ordered naturally by name
// (step_2 before step_10). Each step file is read once, and every combination runs on the same
// values. Per step (model level: all tensors combined, THEORY.md §2.4) and per tensor: q^, 1 - q^,
// rho^, |eps|^2, |g|^2, flushed and saturated fractions; over steps: q_min, low quantiles with
// their binomial confidence statement, q-bar, q-bar_alpha (alpha = the step file's `lr`
// metadata, else 1), q_max, delta, sigma0^2 (THEORY.md §2.6).
//
// The --json document is a contract scripts rely on (src/cli/README.md, issue 7): keys are added,
// never renamed.
//
// Stochastic rounding: element i of tensor t at step file k (0-based, in the sorted order) uses
// seed --seed, stream --stream + k, index offset(t) + i (offset(t) = elements of the tensors
// before t in its file). --draws R repeats each step with seeds seed + 1 .. seed + R - 1.
#include <dirent.h>
#include <glob.h>
#include <sys/stat.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "cli/command.h"
#include "cli/output.h"
#include "cli/tensor_cli.h"
#include "qfloat/analysis.h"
#include "qfloat/io.h"
#include "qfloat/plot.h"
#include "qfloat/progress.h"
#include "qfloat/report.h"
#include "qfloat/scaling.h"

namespace qfloat::cli {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr int kFlushed = static_cast<int>(ElementClass::kFlushed);
constexpr int kSaturated = static_cast<int>(ElementClass::kSaturated);
constexpr int kNonFinite = static_cast<int>(ElementClass::kNonFinite);

struct AnalyzeArgs {
  QuantizerArgs q;
  std::vector<std::string> grads;
  int draws = 0;
  std::string sum = "fast";
  std::vector<std::string> tensors;
  std::string json;
  std::string jsonl;
  std::string csv;
  std::string plot;
  std::string progress = "auto";
  std::vector<std::string> fail_if;
  std::string quantiles = "0.01,0.05,0.1";
  double confidence = 0.95;
};

std::vector<std::string> SplitList(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find(',', start);
    if (end == std::string::npos) end = text.size();
    std::string item = text.substr(start, end - start);
    while (!item.empty() && item.front() == ' ') item.erase(item.begin());
    while (!item.empty() && item.back() == ' ') item.pop_back();
    out.push_back(item);
    start = end + 1;
  }
  return out;
}

std::optional<double> ParseDouble(std::string_view text) {
  double v = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, v);
  if (ec != std::errc() || ptr != end || text.empty()) return std::nullopt;
  return v;
}

// ---- --fail-if ----

struct Condition {
  std::string text;
  std::string key;
  std::string op;
  double value = 0;
};

const std::vector<std::string>& FailIfKeys() {
  static const std::vector<std::string> keys = {"q_min",
                                                "q_max",
                                                "q_mean",
                                                "q_mean_weighted",
                                                "one_minus_q_max",
                                                "rho_max",
                                                "delta",
                                                "sigma0_sq_max",
                                                "flushed_max",
                                                "saturated_max",
                                                "flushed_energy_max",
                                                "saturated_energy_max",
                                                "nonfinite_max",
                                                "broken_steps"};
  return keys;
}

StatusOr<std::vector<Condition>> ParseFailIf(const std::vector<std::string>& exprs) {
  std::vector<Condition> out;
  for (const std::string& expr : exprs) {
    for (const std::string& part : SplitList(expr)) {
      Condition c;
      c.text = part;
      size_t op_pos = part.find_first_of("<>=!");
      if (part.empty() || op_pos == std::string::npos || op_pos == 0) {
        return InvalidArgument("--fail-if '" + part + "': expected KEY OP NUMBER (e.g. q_min<0.9)");
      }
      c.key = part.substr(0, op_pos);
      while (!c.key.empty() && c.key.back() == ' ') c.key.pop_back();
      size_t rest = op_pos;
      for (std::string_view op : {"<=", ">=", "==", "!=", "<", ">"}) {
        if (part.compare(op_pos, op.size(), op) == 0) {
          c.op = std::string(op);
          rest = op_pos + op.size();
          break;
        }
      }
      if (c.op.empty()) {
        return InvalidArgument("--fail-if '" + part + "': unknown operator (use < <= > >= == !=)");
      }
      std::string number = part.substr(rest);
      while (!number.empty() && number.front() == ' ') number.erase(number.begin());
      std::optional<double> v = ParseDouble(number);
      if (!v) return InvalidArgument("--fail-if '" + part + "': '" + number + "' is not a number");
      c.value = *v;
      const auto& keys = FailIfKeys();
      if (std::find(keys.begin(), keys.end(), c.key) == keys.end()) {
        std::string list;
        for (const std::string& k : keys) list += (list.empty() ? "" : ", ") + k;
        return InvalidArgument("--fail-if '" + part + "': unknown figure '" + c.key +
                               "' (known: " + list + ")");
      }
      out.push_back(c);
    }
  }
  return out;
}

bool Holds(const Condition& c, double v) {
  if (std::isnan(v)) return true;  // an undefined figure never passes a gate
  if (c.op == "<") return v < c.value;
  if (c.op == "<=") return v <= c.value;
  if (c.op == ">") return v > c.value;
  if (c.op == ">=") return v >= c.value;
  if (c.op == "==") return v == c.value;
  return v != c.value;
}

// ---- step files ----

bool HasTensorExtension(const std::string& name) {
  for (std::string_view ext : {".npy", ".npz", ".safetensors"}) {
    if (name.size() > ext.size() && name.compare(name.size() - ext.size(), ext.size(), ext) == 0) {
      return true;
    }
  }
  return false;
}

std::string BaseName(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

StatusOr<std::vector<std::string>> ExpandGrads(const std::vector<std::string>& grads) {
  std::vector<std::string> files;
  for (const std::string& g : grads) {
    struct stat st {};
    if (stat(g.c_str(), &st) == 0) {
      if (S_ISDIR(st.st_mode)) {
        DIR* dir = opendir(g.c_str());
        if (dir == nullptr) return DataError(g + ": cannot read the directory");
        std::vector<std::string> found;
        while (dirent* e = readdir(dir)) {
          const std::string name = e->d_name;
          if (name.empty() || name[0] == '.' || !HasTensorExtension(name)) continue;
          const std::string path = g + (g.back() == '/' ? "" : "/") + name;
          struct stat fs {};
          if (stat(path.c_str(), &fs) == 0 && S_ISREG(fs.st_mode)) found.push_back(path);
        }
        closedir(dir);
        if (found.empty()) {
          return DataError(g + ": the directory holds no .npy, .npz or .safetensors files");
        }
        files.insert(files.end(), found.begin(), found.end());
      } else {
        files.push_back(g);
      }
      continue;
    }
    if (g.find_first_of("*?[") != std::string::npos) {
      glob_t gl{};
      const int rc = glob(g.c_str(), 0, nullptr, &gl);
      std::vector<std::string> found;
      if (rc == 0) {
        for (size_t i = 0; i < gl.gl_pathc; ++i) {
          struct stat fs {};
          if (stat(gl.gl_pathv[i], &fs) == 0 && S_ISREG(fs.st_mode)) {
            found.push_back(gl.gl_pathv[i]);
          }
        }
      }
      globfree(&gl);
      if (found.empty()) return DataError(g + ": the pattern matches no files");
      files.insert(files.end(), found.begin(), found.end());
      continue;
    }
    return DataError(g + ": no such file or directory");
  }
  std::sort(files.begin(), files.end(), [](const std::string& a, const std::string& b) {
    const std::string ba = BaseName(a), bb = BaseName(b);
    if (ba != bb) return NaturalLess(ba, bb);
    return NaturalLess(a, b);
  });
  files.erase(std::unique(files.begin(), files.end()), files.end());
  return files;
}

// The last run of digits in the file name's stem ("step_000123.safetensors" -> 123).
std::optional<int64_t> StepFromName(const std::string& path) {
  std::string stem = BaseName(path);
  const size_t dot = stem.find('.');
  if (dot != std::string::npos) stem.resize(dot);
  size_t end = stem.size();
  while (end > 0 && !(stem[end - 1] >= '0' && stem[end - 1] <= '9')) --end;
  if (end == 0) return std::nullopt;
  size_t begin = end;
  while (begin > 0 && stem[begin - 1] >= '0' && stem[begin - 1] <= '9') --begin;
  int64_t v = 0;
  auto [ptr, ec] = std::from_chars(stem.data() + begin, stem.data() + end, v);
  if (ec != std::errc()) return std::nullopt;
  return v;
}

// ---- per combination ----

struct Combination {
  Quantizer q;
  std::string label;
  std::string format_arg;
  std::map<std::string, ScalingState> states;  // delayed scaling, per tensor
};

struct SrStep {
  int draws = 0;
  double q_mean = kNaN, q_se = kNaN, deficit_mean = kNaN, deficit_se = kNaN, eps_mean = kNaN;
  bool analytic = false;
  double expected_q = kNaN, expected_deficit = kNaN, sd_q = kNaN;
};

struct StepOut {
  std::string file;
  StepRecord model;
  uint64_t nonfinite = 0;
  std::vector<std::pair<std::string, StepRecord>> tensors;
  std::optional<SrStep> sr;
};

struct ComboOut {
  std::vector<StepOut> steps;
  ShrinkageStats total;  // every element of every step: the elementwise ratio histogram
  explicit ComboOut(SumPath path) : total(path) {}
};

Json RecordJson(const StepRecord& r) {
  Json j;
  j["q"] = r.defined ? JsonValue(r.q_hat) : Json("nan");
  j["one_minus_q"] = r.defined ? JsonValue(r.deficit) : Json("nan");
  j["rho"] = r.defined ? JsonValue(r.rho_hat) : Json("nan");
  j["eps_norm2"] = JsonValue(r.residual_sq);
  j["grad_norm2"] = JsonValue(r.grad_sq);
  j["flushed_fraction"] = JsonValue(r.count_fraction[kFlushed]);
  j["saturated_fraction"] = JsonValue(r.count_fraction[kSaturated]);
  j["flushed_energy_fraction"] = JsonValue(r.energy_fraction[kFlushed]);
  j["saturated_energy_fraction"] = JsonValue(r.energy_fraction[kSaturated]);
  j["elements"] = r.count;
  j["defined"] = r.defined;
  j["broken"] = r.broken;
  return j;
}

Json BoundJson(const QuantileBound& b) {
  return Json{{"p", b.p},
              {"confidence", b.confidence},
              {"value", JsonValue(b.value)},
              {"valid", b.valid},
              {"order_statistic", b.j},
              {"n", b.n},
              {"achieved_confidence", JsonValue(b.achieved)},
              {"min_n_for_extreme", b.min_n_for_extreme}};
}

// Worst (largest) value of a per-step figure.
template <typename Fn>
double MaxOver(const std::vector<StepOut>& steps, Fn fn) {
  double m = kNaN;
  for (const StepOut& s : steps) {
    const double v = fn(s);
    if (!std::isnan(v) && !(v <= m)) m = v;
  }
  return m;
}

struct SummaryFigures {
  StepSummary s;
  std::vector<QuantileBound> quantiles;
  double one_minus_q_max = kNaN;
  double flushed_max = kNaN, saturated_max = kNaN;
  double flushed_energy_max = kNaN, saturated_energy_max = kNaN;
  double nonfinite_max = kNaN;
};

SummaryFigures Summarize(const ComboOut& c, const std::vector<double>& ps, double confidence) {
  SummaryFigures f;
  std::vector<StepRecord> records;
  std::vector<double> qs;
  for (const StepOut& s : c.steps) {
    records.push_back(s.model);
    if (s.model.defined) qs.push_back(s.model.q_hat);
  }
  StepSummaryOptions o;
  o.quantile_p = ps.empty() ? 0.01 : ps[0];
  o.quantile_a = 1.0 - confidence;
  f.s = SummarizeSteps(records, o);
  for (double p : ps) f.quantiles.push_back(LowerQuantileBound(qs, p, 1.0 - confidence));
  f.one_minus_q_max =
      MaxOver(c.steps, [](const StepOut& s) { return s.model.defined ? s.model.deficit : kNaN; });
  f.flushed_max =
      MaxOver(c.steps, [](const StepOut& s) { return s.model.count_fraction[kFlushed]; });
  f.saturated_max =
      MaxOver(c.steps, [](const StepOut& s) { return s.model.count_fraction[kSaturated]; });
  f.flushed_energy_max =
      MaxOver(c.steps, [](const StepOut& s) { return s.model.energy_fraction[kFlushed]; });
  f.saturated_energy_max =
      MaxOver(c.steps, [](const StepOut& s) { return s.model.energy_fraction[kSaturated]; });
  f.nonfinite_max =
      MaxOver(c.steps, [](const StepOut& s) { return s.model.count_fraction[kNonFinite]; });
  return f;
}

double FigureByKey(const SummaryFigures& f, const std::string& key) {
  if (key == "q_min") return f.s.q_min;
  if (key == "q_max") return f.s.q_max;
  if (key == "q_mean") return f.s.q_mean;
  if (key == "q_mean_weighted") return f.s.q_weighted_mean;
  if (key == "one_minus_q_max") return f.one_minus_q_max;
  if (key == "rho_max" || key == "delta") return f.s.delta_max;
  if (key == "sigma0_sq_max") return f.s.sigma0_sq_max;
  if (key == "flushed_max") return f.flushed_max;
  if (key == "saturated_max") return f.saturated_max;
  if (key == "flushed_energy_max") return f.flushed_energy_max;
  if (key == "saturated_energy_max") return f.saturated_energy_max;
  if (key == "nonfinite_max") return f.nonfinite_max;
  if (key == "broken_steps") return static_cast<double>(f.s.broken_steps);
  return kNaN;
}

// Stats of one tensor under one combination (the fused pass when unscaled).
StatusOr<ShrinkageStats> TensorStats(const Combination& c, std::span<const int64_t> shape,
                                     const TensorValues& g, const TensorOptions& options,
                                     SumPath path, ScalingState* state) {
  if (c.q.scaling.kind == ScalingKind::kNone) {
    AnalyzeOptions a;
    a.path = path;
    return g.wide ? Analyze(c.q.spec, std::span<const double>(g.f64), options, a)
                  : Analyze(c.q.spec, std::span<const float>(g.f32), options, a);
  }
  StatusOr<ScaledResult> image = QuantizeTensor(c.q, shape, g, options, state, true);
  if (!image.ok()) return image.status();
  ShrinkageStats stats(path);
  const Status st = AccumulateScaled(stats, c.q.spec, g, *image, options.threads);
  if (!st.ok()) return st;
  return stats;
}

std::string Fixed(double v) { return FormatSignificant(v, 6); }

// ---- plots ----

Status WritePlots(const std::string& dir, const std::vector<Combination>& combos,
                  const std::vector<ComboOut>& outs) {
  if (Status st = MakeDirectories(dir); !st.ok()) return st;
  const std::string prefix = dir + (dir.back() == '/' ? "" : "/");
  std::vector<std::string> warnings;
  const bool markers = !outs.empty() && outs[0].steps.size() <= 40;
  auto style = [&](size_t i) {
    plot::Style s;
    if (markers) s.marker = static_cast<plot::Marker>(1 + i % 5);
    return s;
  };
  {
    plot::Figure fig(760, 460);
    plot::Axes& ax = fig.axes();
    ax.SetTitle("Shrinkage q_k per step").SetXLabel("step").SetYLabel("q_k (model level)");
    for (size_t i = 0; i < combos.size(); ++i) {
      std::vector<double> x, y;
      for (const StepOut& s : outs[i].steps) {
        x.push_back(static_cast<double>(s.model.step));
        y.push_back(s.model.defined ? s.model.q_hat : kNaN);
      }
      ax.AddLine(combos[i].label, x, y, style(i));
    }
    ax.AddHLine(1.0, "q = 1");
    if (Status st = fig.WriteSvg(prefix + "q_steps.svg", &warnings); !st.ok()) return st;
  }
  {
    plot::Figure fig(760, 460);
    plot::Axes& ax = fig.axes();
    ax.SetTitle("Shrinkage deficit 1 - q_k per step")
        .SetXLabel("step")
        .SetYLabel("1 - q_k")
        .SetYScale(plot::Scale::kLog10);
    for (size_t i = 0; i < combos.size(); ++i) {
      std::vector<double> x, y;
      for (const StepOut& s : outs[i].steps) {
        x.push_back(static_cast<double>(s.model.step));
        y.push_back(s.model.defined ? s.model.deficit : kNaN);
      }
      ax.AddLine(combos[i].label, x, y, style(i));
    }
    if (Status st = fig.WriteSvg(prefix + "one_minus_q_steps.svg", &warnings); !st.ok()) {
      return st;
    }
  }
  {
    // Histogram of q_k: common bins over every combination.
    std::vector<double> all;
    for (const ComboOut& o : outs) {
      for (const StepOut& s : o.steps) {
        if (s.model.defined) all.push_back(s.model.q_hat);
      }
    }
    plot::Binned common = plot::Histogram(all);
    plot::Figure fig(760, 460);
    plot::Axes& ax = fig.axes();
    ax.SetTitle("Distribution of q_k over steps").SetXLabel("q_k").SetYLabel("steps");
    for (size_t i = 0; i < combos.size(); ++i) {
      std::vector<double> counts(common.counts.size(), 0.0);
      for (const StepOut& s : outs[i].steps) {
        if (!s.model.defined || common.edges.size() < 2) continue;
        const double v = s.model.q_hat;
        auto it = std::upper_bound(common.edges.begin(), common.edges.end(), v);
        size_t b = static_cast<size_t>(it - common.edges.begin());
        b = b == 0 ? 0 : b - 1;
        if (b >= counts.size()) b = counts.size() - 1;
        counts[b] += 1;
      }
      plot::Style s;
      s.opacity = combos.size() > 1 ? 0.45 : -1.0;
      ax.AddHistogram(combos[i].label, common.edges, counts, s);
    }
    if (Status st = fig.WriteSvg(prefix + "q_hist.svg", &warnings); !st.ok()) return st;
  }
  {
    plot::Figure fig(2, 1, 760, 720);
    fig.SetTitle("Flushed and saturated elements per step");
    plot::Axes& top = fig.At(0, 0);
    plot::Axes& bottom = fig.At(1, 0);
    // Fractions are never negative; one legend serves both panels.
    top.SetXLabel("step").SetYLabel("flushed fraction").SetYLimits(0, kNaN);
    bottom.SetXLabel("step").SetYLabel("saturated fraction").SetYLimits(0, kNaN);
    bottom.SetLegend(plot::LegendPosition::kNone);
    for (size_t i = 0; i < combos.size(); ++i) {
      std::vector<double> x, fl, sa;
      for (const StepOut& s : outs[i].steps) {
        x.push_back(static_cast<double>(s.model.step));
        fl.push_back(s.model.count_fraction[kFlushed]);
        sa.push_back(s.model.count_fraction[kSaturated]);
      }
      top.AddLine(combos[i].label, x, fl, style(i));
      bottom.AddLine(combos[i].label, x, sa, style(i));
    }
    if (Status st = fig.WriteSvg(prefix + "fractions.svg", &warnings); !st.ok()) return st;
  }
  {
    plot::Figure fig(760, 460);
    plot::Axes& ax = fig.axes();
    ax.SetTitle("Elementwise ratios r = Q(g)/g, all steps")
        .SetXLabel("log2 |r - 1|  (rounded elements)")
        .SetYLabel("share of elements")
        .SetYScale(plot::Scale::kLog10);
    for (size_t i = 0; i < combos.size(); ++i) {
      const ShrinkageSummary sum = outs[i].total.Summarize();
      std::vector<double> edges, counts;
      const double n = static_cast<double>(sum.included_count);
      for (int bin = 2; bin < kRatioBins - 1; ++bin) {
        edges.push_back(RatioBinLowerLog2(bin));
        counts.push_back(n > 0 ? static_cast<double>(outs[i].total.bin_count(bin)) / n : 0.0);
      }
      // Trim empty bins at both ends so the axis shows where the data is.
      size_t lo = 0, hi = counts.size();
      while (lo < hi && counts[lo] == 0) ++lo;
      while (hi > lo && counts[hi - 1] == 0) --hi;
      if (lo == hi) continue;
      std::vector<double> e(edges.begin() + static_cast<std::ptrdiff_t>(lo),
                            edges.begin() + static_cast<std::ptrdiff_t>(hi));
      e.push_back(edges[hi - 1] + 1.0);
      std::vector<double> cnt(counts.begin() + static_cast<std::ptrdiff_t>(lo),
                              counts.begin() + static_cast<std::ptrdiff_t>(hi));
      if (combos.size() <= 2) {
        plot::Style s;
        s.opacity = combos.size() > 1 ? 0.45 : -1.0;
        ax.AddHistogram(combos[i].label, e, cnt, s);
      } else {
        // Many combinations: outlines (a step per bin) stay readable where bars would not.
        std::vector<double> x(e.begin(), e.end()), y(cnt.begin(), cnt.end());
        y.push_back(cnt.back());
        ax.AddStep(combos[i].label, x, y, plot::StepWhere::kPost, style(i));
      }
    }
    if (Status st = fig.WriteSvg(prefix + "ratio_hist.svg", &warnings); !st.ok()) return st;
  }
  return Status::Ok();
}

// ---- the command ----

int RunAnalyze(const AnalyzeArgs& args) {
  // Options first (exit 2), then the data (exit 1).
  QuantizerArgs common = args.q;
  common.rounding = "rne";  // -r is a list here: parsed per combination below
  StatusOr<TensorOptions> base = ResolveTensorOptions(common);
  if (!base.ok()) return Fail(kExitUsage, base.status().message());
  StatusOr<SumPath> path = ParseSumPath(args.sum);
  if (!path.ok()) return Fail(kExitUsage, "--sum: " + path.status().message());
  StatusOr<ProgressMode> progress = ParseProgressMode(args.progress);
  if (!progress.ok()) return Fail(kExitUsage, "--progress: " + progress.status().message());
  if (args.draws < 0 || args.draws > 100000) {
    return Fail(kExitUsage, "--draws: " + std::to_string(args.draws) + " is not in 0..100000");
  }
  if (!(args.confidence > 0 && args.confidence < 1)) {
    return Fail(kExitUsage, "--confidence: must be in (0, 1)");
  }
  std::vector<double> ps;
  for (const std::string& p : SplitList(args.quantiles)) {
    std::optional<double> v = ParseDouble(p);
    if (!v || !(*v > 0 && *v < 1)) {
      return Fail(kExitUsage, "--quantiles: '" + p + "' is not a probability in (0, 1)");
    }
    ps.push_back(*v);
  }
  StatusOr<std::vector<Condition>> conditions = ParseFailIf(args.fail_if);
  if (!conditions.ok()) return Fail(kExitUsage, conditions.status().message());
  int to_stdout = (args.json == "-") + (args.jsonl == "-") + (args.csv == "-");
  if (to_stdout > 1) return Fail(kExitUsage, "only one of --json, --jsonl, --csv can be '-'");

  std::vector<std::string> formats = SplitList(args.q.format);
  std::vector<std::string> roundings = SplitList(args.q.rounding);
  std::vector<std::string> scalings =
      args.q.scaling.empty() ? std::vector<std::string>{""} : SplitList(args.q.scaling);
  std::vector<Combination> combos;
  for (const std::string& f : formats) {
    for (const std::string& r : roundings) {
      StatusOr<Rounding> rounding = ParseRounding(r);
      if (!rounding.ok()) return Fail(kExitUsage, "-r: " + rounding.status().message());
      for (const std::string& s : scalings) {
        QuantizeOptions qo = base->quantize;
        qo.rounding = *rounding;
        StatusOr<Quantizer> q = ResolveQuantizer(f, s, qo, *base);
        if (!q.ok()) return Fail(kExitUsage, q.status().message());
        Combination c;
        c.q = *q;
        c.format_arg = f;
        c.label = QuantizerLabel(*q) + (roundings.size() > 1 ? " " + ToString(*rounding) : "");
        combos.push_back(std::move(c));
      }
    }
  }
  const TensorFilter filter(args.tensors);

  StatusOr<std::vector<std::string>> files = ExpandGrads(args.grads);
  if (!files.ok()) return Fail(kExitData, files.status().message());

  ProgressOptions po;
  po.mode = *progress;
  po.label = "analyze";
  po.unit = "steps";
  ProgressBar bar(files->size(), po);

  std::vector<ComboOut> outs(combos.size(), ComboOut(*path));
  bool alpha_from_lr = false, alpha_default = false;
  std::set<int64_t> seen_steps;
  for (size_t k = 0; k < files->size(); ++k) {
    const std::string& file_path = (*files)[k];
    StatusOr<TensorFile> file = OpenInput(file_path, args.q.as_format);
    if (!file.ok()) {
      bar.Finish();
      return Fail(kExitData, file.status().message());
    }
    const auto& meta = file->metadata();
    int64_t step = static_cast<int64_t>(k);
    if (auto it = meta.find("step"); it != meta.end()) {
      int64_t v = 0;
      auto [ptr, ec] = std::from_chars(it->second.data(), it->second.data() + it->second.size(), v);
      if (ec != std::errc() || ptr != it->second.data() + it->second.size()) {
        bar.Finish();
        return Fail(kExitData,
                    file_path + ": __metadata__ step '" + it->second + "' is not an integer");
      }
      step = v;
    } else if (std::optional<int64_t> s = StepFromName(file_path)) {
      step = *s;
    }
    if (!seen_steps.insert(step).second) {
      bar.Finish();
      return Fail(kExitData, file_path + ": step " + std::to_string(step) +
                                 " appears in two files (one file per step)");
    }
    double alpha = 1.0;
    if (auto it = meta.find("lr"); it != meta.end()) {
      std::optional<double> lr = ParseDouble(it->second);
      if (!lr || !std::isfinite(*lr) || *lr < 0) {
        bar.Finish();
        return Fail(kExitData, file_path + ": __metadata__ lr '" + it->second +
                                   "' is not a finite non-negative number");
      }
      alpha = *lr;
      alpha_from_lr = true;
    } else {
      alpha_default = true;
    }

    std::vector<std::vector<NamedStats>> named(combos.size());
    std::vector<std::vector<std::vector<ShrinkageStats>>> draw_stats(combos.size());
    std::vector<std::vector<StochasticSummary>> analytic(combos.size());
    uint64_t offset = 0;
    size_t used = 0;
    for (size_t t = 0; t < file->size(); ++t) {
      const TensorInfo& info = file->info(t);
      const uint64_t tensor_offset = offset;
      offset += info.numel;
      if (!filter.Matches(info.name) || !IsRealFloat(info)) continue;
      ++used;
      StatusOr<TensorView> view = file->Load(t);
      if (!view.ok()) {
        bar.Finish();
        return Fail(kExitData, view.status().message());
      }
      StatusOr<TensorValues> g = LoadValues(*view);
      if (!g.ok()) {
        bar.Finish();
        return Fail(kExitData, g.status().message());
      }
      const std::string state_key = file->kind() == FileKind::kNpy ? "" : info.name;
      for (size_t c = 0; c < combos.size(); ++c) {
        Combination& combo = combos[c];
        TensorOptions options = combo.q.options;
        options.quantize.stream = static_cast<uint32_t>(base->quantize.stream + k);
        options.quantize.index_offset = tensor_offset;
        ScalingState* state =
            combo.q.scaling.kind == ScalingKind::kDelayed ? &combo.states[state_key] : nullptr;
        ScalingState before = state != nullptr ? *state : ScalingState{};
        StatusOr<ShrinkageStats> stats = TensorStats(combo, info.shape, *g, options, *path, state);
        if (!stats.ok()) {
          bar.Finish();
          return FailStatus(stats.status(),
                            file_path + ": tensor '" + info.name + "' (" + combo.label + ")");
        }
        named[c].push_back(NamedStats{info.name, *stats});
        const bool sr = combo.q.options.quantize.rounding.mode == RoundingMode::kStochastic;
        if (sr && args.draws > 1) {
          draw_stats[c].resize(static_cast<size_t>(args.draws - 1));
          for (int r = 1; r < args.draws; ++r) {
            TensorOptions o = options;
            o.quantize.seed = options.quantize.seed + static_cast<uint64_t>(r);
            ScalingState s = before;
            StatusOr<ShrinkageStats> ds = TensorStats(combo, info.shape, *g, o, SumPath::kFast,
                                                      state != nullptr ? &s : nullptr);
            if (!ds.ok()) {
              bar.Finish();
              return FailStatus(ds.status(), file_path + ": tensor '" + info.name + "'");
            }
            draw_stats[c][static_cast<size_t>(r - 1)].push_back(std::move(ds).value());
          }
        }
        if (sr && args.draws > 0 && combo.q.scaling.kind == ScalingKind::kNone && !g->wide) {
          StatusOr<StochasticSummary> a =
              AnalyzeStochastic(combo.q.spec, g->f32, options, 0, SumPath::kFast);
          if (a.ok()) analytic[c].push_back(*a);
        }
      }
    }
    if (used == 0) {
      bar.Finish();
      return Fail(kExitData, file_path + ": no real-valued tensor" +
                                 (filter.empty() ? "" : " matches --tensors " + filter.Describe()));
    }
    for (size_t c = 0; c < combos.size(); ++c) {
      StepOut so;
      so.file = file_path;
      ShrinkageStats model(*path);
      for (const NamedStats& ns : named[c]) {
        if (Status st = model.Merge(ns.stats); !st.ok()) {
          bar.Finish();
          return FailStatus(st, file_path);
        }
        if (Status st = outs[c].total.Merge(ns.stats); !st.ok()) {
          bar.Finish();
          return FailStatus(st, file_path);
        }
        so.tensors.emplace_back(ns.name, MakeStepRecord(step, alpha, ns.stats.Summarize()));
      }
      const ShrinkageSummary ms = model.Summarize();
      so.model = MakeStepRecord(step, alpha, ms);
      so.nonfinite = ms.nonfinite_count;
      const bool sr = combos[c].q.options.quantize.rounding.mode == RoundingMode::kStochastic;
      if (sr && args.draws > 0) {
        SrStep sr_step;
        sr_step.draws = args.draws;
        std::vector<double> qd = {ms.q_hat}, dd = {ms.deficit}, ed = {ms.residual_sq};
        for (const std::vector<ShrinkageStats>& draw : draw_stats[c]) {
          ShrinkageStats m(SumPath::kFast);
          for (const ShrinkageStats& s : draw) {
            if (Status st = m.Merge(s); !st.ok()) return FailStatus(st, file_path);
          }
          const ShrinkageSummary d = m.Summarize();
          qd.push_back(d.q_hat);
          dd.push_back(d.deficit);
          ed.push_back(d.residual_sq);
        }
        auto mean_se = [](const std::vector<double>& v, double* mean, double* se) {
          double s = 0;
          for (double x : v) s += x;
          *mean = s / static_cast<double>(v.size());
          if (v.size() < 2) {
            *se = kNaN;
            return;
          }
          double ss = 0;
          for (double x : v) ss += (x - *mean) * (x - *mean);
          *se = std::sqrt(ss / static_cast<double>(v.size() - 1) / static_cast<double>(v.size()));
        };
        double unused = 0;
        mean_se(qd, &sr_step.q_mean, &sr_step.q_se);
        mean_se(dd, &sr_step.deficit_mean, &sr_step.deficit_se);
        mean_se(ed, &sr_step.eps_mean, &unused);
        if (!analytic[c].empty() && analytic[c].size() == named[c].size()) {
          double sgg = 0, eq = 0, ed2 = 0, var = 0;
          for (const StochasticSummary& a : analytic[c]) {
            sgg += a.s_gg;
            eq += a.s_gg * a.expected_q_hat;
            ed2 += a.s_gg * a.expected_deficit;
            var += a.sd_q_hat * a.s_gg * a.sd_q_hat * a.s_gg;
          }
          if (sgg > 0) {
            sr_step.analytic = true;
            sr_step.expected_q = eq / sgg;
            sr_step.expected_deficit = ed2 / sgg;
            sr_step.sd_q = std::sqrt(var) / sgg;
          }
        }
        so.sr = sr_step;
      }
      outs[c].steps.push_back(std::move(so));
    }
    bar.Advance();
  }
  bar.Finish();

  std::vector<SummaryFigures> summaries;
  for (const ComboOut& o : outs) summaries.push_back(Summarize(o, ps, args.confidence));
  const std::string alpha_source = alpha_from_lr && alpha_default
                                       ? "lr metadata where present, else 1"
                                   : alpha_from_lr ? "lr metadata"
                                                   : "1 (no lr metadata)";

  // ---- JSON ----
  if (!args.json.empty()) {
    Json doc;
    doc["qfloat_version"] = QFLOAT_VERSION;
    doc["command"] = "analyze";
    doc["inputs"] = *files;
    doc["sum_path"] = ToString(*path);
    doc["results"] = Json::array();
    for (size_t c = 0; c < combos.size(); ++c) {
      const Combination& combo = combos[c];
      const SummaryFigures& f = summaries[c];
      Json r;
      r["format"] = combo.q.format.name;
      r["rounding"] = ToString(combo.q.options.quantize.rounding);
      r["overflow"] = ToString(combo.q.options.quantize.overflow);
      r["scaling"] = ToString(combo.q.scaling);
      r["label"] = QuantizerLabel(combo.q);
      r["element"] = combo.q.element;
      r["seed"] = combo.q.options.quantize.seed;
      r["steps"] = Json::array();
      for (const StepOut& s : outs[c].steps) {
        Json sj;
        sj["step"] = s.model.step;
        sj["file"] = s.file;
        sj["alpha"] = JsonValue(s.model.alpha);
        Json rec = RecordJson(s.model);
        for (auto it = rec.begin(); it != rec.end(); ++it) sj[it.key()] = it.value();
        sj["nonfinite"] = s.nonfinite;
        sj["tensors"] = Json::array();
        for (const auto& [name, tr] : s.tensors) {
          Json tj;
          tj["name"] = name;
          Json trj = RecordJson(tr);
          for (auto it = trj.begin(); it != trj.end(); ++it) tj[it.key()] = it.value();
          sj["tensors"].push_back(std::move(tj));
        }
        if (s.sr) {
          Json srj;
          srj["draws"] = s.sr->draws;
          srj["q_mean"] = JsonValue(s.sr->q_mean);
          srj["q_se"] = JsonValue(s.sr->q_se);
          srj["one_minus_q_mean"] = JsonValue(s.sr->deficit_mean);
          srj["one_minus_q_se"] = JsonValue(s.sr->deficit_se);
          srj["eps_norm2_mean"] = JsonValue(s.sr->eps_mean);
          if (s.sr->analytic) {
            srj["expected_q"] = JsonValue(s.sr->expected_q);
            srj["expected_one_minus_q"] = JsonValue(s.sr->expected_deficit);
            srj["sd_q"] = JsonValue(s.sr->sd_q);
          }
          sj["stochastic"] = std::move(srj);
        }
        r["steps"].push_back(std::move(sj));
      }
      Json sm;
      sm["steps"] = f.s.steps;
      sm["defined_steps"] = f.s.defined_steps;
      sm["broken_steps"] = f.s.broken_steps;
      sm["q_min"] = JsonValue(f.s.q_min);
      sm["q_min_step"] = f.s.q_min_step;
      sm["q_max"] = JsonValue(f.s.q_max);
      sm["q_max_step"] = f.s.q_max_step;
      sm["q_mean"] = JsonValue(f.s.q_mean);
      sm["q_mean_weighted"] = JsonValue(f.s.q_weighted_mean);
      sm["alpha_source"] = alpha_source;
      sm["q_quantiles"] = Json::array();
      for (const QuantileBound& b : f.quantiles) sm["q_quantiles"].push_back(BoundJson(b));
      sm["one_minus_q_max"] = JsonValue(f.one_minus_q_max);
      sm["rho_max"] = JsonValue(f.s.delta_max);
      sm["delta"] = JsonValue(f.s.delta_max);
      sm["delta_high"] = BoundJson(f.s.delta_high);
      sm["sigma0_sq_max"] = JsonValue(f.s.sigma0_sq_max);
      sm["sigma0_sq_high"] = BoundJson(f.s.sigma0_sq_high);
      sm["flushed_max"] = JsonValue(f.flushed_max);
      sm["saturated_max"] = JsonValue(f.saturated_max);
      sm["flushed_energy_max"] = JsonValue(f.flushed_energy_max);
      sm["saturated_energy_max"] = JsonValue(f.saturated_energy_max);
      sm["nonfinite_max"] = JsonValue(f.nonfinite_max);
      const ShrinkageSummary total = outs[c].total.Summarize();
      Json hist = Json::array();
      for (const HistogramBin& b : total.histogram) {
        hist.push_back({{"bin", b.bin},
                        {"lower_log2", JsonValue(b.lower_log2)},
                        {"count", b.count},
                        {"energy_fraction", JsonValue(b.energy_fraction)}});
      }
      sm["ratio_histogram"] = std::move(hist);
      r["summary"] = std::move(sm);
      doc["results"].push_back(std::move(r));
    }
    const Status st = WriteTextOutput(args.json, doc.dump(2) + "\n");
    if (!st.ok()) return Fail(kExitData, "--json " + args.json + ": " + st.message());
  }

  // ---- JSON lines and CSV: one row per (combination, step, level) ----
  if (!args.jsonl.empty() || !args.csv.empty()) {
    std::string jsonl;
    qfloat::Table csv({"format", "rounding", "overflow", "scaling", "step", "file", "alpha",
                       "tensor", "q", "one_minus_q", "rho", "eps_norm2", "grad_norm2",
                       "flushed_fraction", "saturated_fraction", "flushed_energy_fraction",
                       "saturated_energy_fraction", "elements"});
    for (size_t c = 0; c < combos.size(); ++c) {
      const Combination& combo = combos[c];
      for (const StepOut& s : outs[c].steps) {
        auto emit = [&](const std::string* tensor, const StepRecord& rec) {
          const Json rj = RecordJson(rec);
          if (!args.jsonl.empty()) {
            Json line;
            line["format"] = combo.q.format.name;
            line["rounding"] = ToString(combo.q.options.quantize.rounding);
            line["overflow"] = ToString(combo.q.options.quantize.overflow);
            line["scaling"] = ToString(combo.q.scaling);
            line["step"] = s.model.step;
            line["file"] = s.file;
            line["alpha"] = JsonValue(s.model.alpha);
            line["tensor"] = tensor == nullptr ? Json(nullptr) : Json(*tensor);
            for (auto it = rj.begin(); it != rj.end(); ++it) line[it.key()] = it.value();
            jsonl += line.dump() + "\n";
          }
          std::vector<std::string> row = {combo.q.format.name,
                                          ToString(combo.q.options.quantize.rounding),
                                          ToString(combo.q.options.quantize.overflow),
                                          ToString(combo.q.scaling),
                                          std::to_string(s.model.step),
                                          s.file,
                                          ShortestDecimal(s.model.alpha),
                                          tensor == nullptr ? "" : *tensor};
          const double values[] = {rec.defined ? rec.q_hat : kNaN,
                                   rec.defined ? rec.deficit : kNaN,
                                   rec.defined ? rec.rho_hat : kNaN,
                                   rec.residual_sq,
                                   rec.grad_sq,
                                   rec.count_fraction[kFlushed],
                                   rec.count_fraction[kSaturated],
                                   rec.energy_fraction[kFlushed],
                                   rec.energy_fraction[kSaturated]};
          for (double v : values) row.push_back(ShortestDecimal(v));
          row.push_back(std::to_string(rec.count));
          csv.AddRow(std::move(row));
        };
        emit(nullptr, s.model);
        for (const auto& [name, rec] : s.tensors) emit(&name, rec);
      }
    }
    if (!args.jsonl.empty()) {
      const Status st = WriteTextOutput(args.jsonl, jsonl);
      if (!st.ok()) return Fail(kExitData, "--jsonl " + args.jsonl + ": " + st.message());
    }
    if (!args.csv.empty()) {
      const Status st = WriteTextOutput(args.csv, csv.ToCsv());
      if (!st.ok()) return Fail(kExitData, "--csv " + args.csv + ": " + st.message());
    }
  }

  if (!args.plot.empty()) {
    const Status st = WritePlots(args.plot, combos, outs);
    if (!st.ok()) return Fail(kExitData, "--plot " + args.plot + ": " + st.message());
  }

  // ---- the table ----
  if (to_stdout == 0) {
    qfloat::Table table({"format", "rounding", "scaling", "steps", "q_min", "q_mean", "q_max",
                         "rho_max", "flushed", "saturated"});
    table.SetAlign(0, Align::kLeft).SetAlign(1, Align::kLeft).SetAlign(2, Align::kLeft);
    table.SetAlign(4, Align::kLeft);
    for (size_t c = 0; c < combos.size(); ++c) {
      const SummaryFigures& f = summaries[c];
      const Combination& combo = combos[c];
      table.AddRow({combo.q.format.name, ToString(combo.q.options.quantize.rounding),
                    ToString(combo.q.scaling), std::to_string(f.s.steps),
                    Fixed(f.s.q_min) + " (step " + std::to_string(f.s.q_min_step) + ")",
                    Fixed(f.s.q_mean), Fixed(f.s.q_max), FormatSignificant(f.s.delta_max, 4),
                    FormatPercent(f.flushed_max), FormatPercent(f.saturated_max)});
    }
    std::string text = table.ToText();
    text += std::to_string(files->size()) + " step file" + (files->size() == 1 ? "" : "s") +
            "; q = <Q(g), g>/|g|^2 over all tensors of a step; flushed/saturated: largest "
            "fraction of elements over steps; alpha: " +
            alpha_source + "\n";
    std::fwrite(text.data(), 1, text.size(), stdout);
  }
  if (const Status st = FlushStdout(); !st.ok()) return FailStatus(st);

  // ---- gates ----
  std::string failures;
  for (const Condition& cond : *conditions) {
    for (size_t c = 0; c < combos.size(); ++c) {
      const double v = FigureByKey(summaries[c], cond.key);
      if (!Holds(cond, v)) continue;
      if (!failures.empty()) failures += "; ";
      failures += QuantizerLabel(combos[c].q) + " " +
                  ToString(combos[c].q.options.quantize.rounding) + ": " + cond.key + " = " +
                  ShortestDecimal(v);
      if (cond.key == "q_min")
        failures += " (step " + std::to_string(summaries[c].s.q_min_step) + ")";
      failures += " (" + cond.text + ")";
    }
  }
  if (!failures.empty()) return Fail(kExitThreshold, "--fail-if: " + failures);
  return kExitOk;
}

RunFn SetupAnalyze(CLI::App& command) {
  auto args = std::make_shared<AnalyzeArgs>();
  command
      .add_option("GRADS", args->grads,
                  "step files, directories of them, or globs (one file per step)")
      ->required();
  AddQuantizerOptions(command, args->q);
  // -f, -r and --scaling take comma-separated lists here.
  command.get_option("--format")->description("formats, comma-separated (e4m3fn,e5m2,mxfp4)");
  command.get_option("--rounding")->description("rounding modes, comma-separated (rne,sr)");
  command.get_option("--scaling")
      ->description("scaling recipes, comma-separated (none,tensor,block:32:e8m0fnu)");
  command.add_option("--draws", args->draws,
                     "stochastic rounding: R draws per step (seeds seed..seed+R-1) and the "
                     "analytic moments (default 0: one draw)");
  command.add_option("--sum", args->sum, "fast (compensated, default) or exact (superaccumulator)");
  command.add_option("--tensors", args->tensors, "only tensors matching this glob (repeatable)");
  command.add_option("--json", args->json, "write the JSON document to FILE ('-': stdout)");
  command.add_option("--jsonl", args->jsonl, "one JSON record per step and tensor to FILE");
  command.add_option("--csv", args->csv, "the same records as CSV to FILE");
  command.add_option("--plot", args->plot, "write SVG figures into DIR");
  command.add_option("--progress", args->progress,
                     "auto (default: when stderr is a terminal), "
                     "always, never");
  command.add_option("--fail-if", args->fail_if,
                     "exit 3 when KEY OP NUMBER holds for any combination, e.g. 'q_min<0.9' "
                     "(repeatable; comma-separated)");
  command.add_option("--quantiles", args->quantiles,
                     "low quantiles of q reported with confidence (default 0.01,0.05,0.1)");
  command.add_option("--confidence", args->confidence,
                     "confidence of the quantile bounds "
                     "(default 0.95)");
  command.footer(
      "--fail-if keys: q_min q_max q_mean q_mean_weighted one_minus_q_max rho_max delta "
      "sigma0_sq_max flushed_max saturated_max flushed_energy_max saturated_energy_max "
      "nonfinite_max broken_steps. A figure that is undefined (nan) fails every gate.");
  return [args] { return RunAnalyze(*args); };
}

}  // namespace

QFLOAT_CLI_COMMAND(analyze, 60,
                   "measure gradient shrinkage q, noise and flush/saturation over steps",
                   SetupAnalyze);

}  // namespace qfloat::cli
