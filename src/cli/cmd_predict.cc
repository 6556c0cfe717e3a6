// qfloat predict ANALYSIS.json [--constants FILE] --L L [--c C] --M M [--MV MV] [--MG MG]
//                [--mu MU] [--muG MUG] --delta1 D (--step A | --beta B --gamma G)
//                [--target E[,E...]] [--mode G|P] [--noise rel|abs|combined]
//                [--q-from min|quantile] [--json FILE] [--plot FILE]
// The SGD bounds of THEORY.md §3 for every result of an `analyze --json` document: FP (Bottou,
// Curtis, Nocedal 2018, Thms 4.6-4.10) against LP with that format's measured q_min, q_max,
// delta and sigma0^2. Which theorem applies follows from the options: --c (strongly convex) or
// not, and a fixed --step or the schedule beta/(gamma + k):
//   (a) strongly convex, fixed step     (b) strongly convex, beta/(gamma + k)
//   (c) nonconvex, fixed step           (d) nonconvex, beta/(gamma + k)
// Per format: admissibility of the step (LP Lemma 4.4), slowdown K_LP/K_FP at each target,
// floor ratio, the beta flag of (b), iterations to target; a table, JSON, and an SVG of the
// predicted bound curves.
//
// Problem constants come from --constants FILE (JSON keys L, c, M, M_V, M_G, mu, mu_G, Delta1,
// at the top level or under "constants"), then from a "constants" object in ANALYSIS.json, and
// the options override both.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "cli/command.h"
#include "cli/output.h"
#include "cli/tensor_cli.h"
#include "qfloat/convergence.h"
#include "qfloat/plot.h"
#include "qfloat/report.h"

namespace qfloat::cli {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

struct PredictArgs {
  std::string analysis;
  std::string constants;
  std::map<std::string, std::string> values;  // option name -> text, for the constants
  std::string step, beta, gamma;
  std::string target;
  std::string mode = "G";
  std::string noise = "rel";
  std::string q_from = "min";
  std::string json;
  std::string plot;
};

// The constants' JSON keys and the options that set them.
struct ConstantKey {
  const char* json;
  const char* option;
};
constexpr ConstantKey kConstantKeys[] = {{"L", "--L"},      {"c", "--c"},          {"M", "--M"},
                                         {"M_V", "--MV"},   {"M_G", "--MG"},       {"mu", "--mu"},
                                         {"mu_G", "--muG"}, {"Delta1", "--delta1"}};

StatusOr<double> ParseNumber(const std::string& option, const std::string& text) {
  double v = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, v);
  if (text.empty() || ec != std::errc() || ptr != end || !std::isfinite(v)) {
    return InvalidArgument(option + ": '" + text + "' is not a finite number");
  }
  return v;
}

StatusOr<Json> ReadJsonFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return DataError(path + ": cannot open");
  std::ostringstream s;
  s << in.rdbuf();
  Json j = Json::parse(s.str(), nullptr, false);
  if (j.is_discarded()) return DataError(path + ": not valid JSON");
  return j;
}

// A number from a JSON value ("inf"/"nan" strings as written by the CLI).
std::optional<double> JsonNumber(const Json& v) {
  if (v.is_number()) return v.get<double>();
  if (v.is_string()) {
    const std::string s = v.get<std::string>();
    if (s == "nan" || s == "-nan") return kNaN;
    if (s == "inf") return kInf;
    if (s == "-inf") return -kInf;
  }
  return std::nullopt;
}

Status MergeConstants(const Json& j, const std::string& where, std::map<std::string, double>& out) {
  const Json* obj = &j;
  if (j.is_object() && j.contains("constants") && j["constants"].is_object()) {
    obj = &j["constants"];
  }
  if (!obj->is_object()) return DataError(where + ": expected a JSON object of constants");
  for (const ConstantKey& k : kConstantKeys) {
    if (!obj->contains(k.json)) continue;
    std::optional<double> v = JsonNumber((*obj)[k.json]);
    if (!v || !std::isfinite(*v)) {
      return DataError(where + ": constant '" + k.json + "' is not a finite number");
    }
    out[k.json] = *v;
  }
  return Status::Ok();
}

// Iteration counts: whole numbers with thousands separators; "inf" past any K; "-" for NaN.
std::string FormatIterations(double k) {
  if (std::isnan(k)) return "-";
  if (std::isinf(k)) return "inf";
  if (k < 1e15) return FormatCount(static_cast<uint64_t>(k));
  return FormatScientific(k, 3);
}

struct Result {
  std::string format, rounding, overflow, scaling, label;
  ShrinkageConstants s;
  double q_mean_weighted = kNaN;
  double flushed_max = kNaN, saturated_max = kNaN;  // largest fractions over steps (display)
  Status valid;
};

struct Row {
  bool admissible = false;
  double max_step = kNaN;
  double rate = kNaN, floor = kNaN, floor_ratio = kNaN, rate_ratio = kNaN;
  double nu = kNaN, rate_exponent = kNaN;
  std::string beta_check;
  double first_admissible = kNaN;
  double power_law = kNaN;
  std::vector<double> k;         // per target
  std::vector<double> slowdown;  // per target
  std::vector<std::string> warnings;
  bool q_max_above_one = false;
  std::function<double(double)> bound;  // for the plot
};

int RunPredict(const PredictArgs& args) {
  // ---- options ----
  StatusOr<ShrinkageMode> mode = ParseShrinkageMode(args.mode);
  if (!mode.ok()) return Fail(kExitUsage, "--mode: " + mode.status().message());
  if (args.noise != "rel" && args.noise != "abs" && args.noise != "combined") {
    return Fail(kExitUsage, "--noise: '" + args.noise + "' is not rel, abs or combined");
  }
  if (args.q_from != "min" && args.q_from != "quantile") {
    return Fail(kExitUsage, "--q-from: '" + args.q_from + "' is not min or quantile");
  }
  const bool fixed = !args.step.empty();
  const bool diminishing = !args.beta.empty() || !args.gamma.empty();
  if (fixed == diminishing) {
    return Fail(kExitUsage,
                "give either --step A (fixed stepsize) or --beta B --gamma G "
                "(stepsize B/(G + k))");
  }
  double alpha = 0, beta = 0, gamma = 0;
  if (fixed) {
    StatusOr<double> a = ParseNumber("--step", args.step);
    if (!a.ok()) return FailStatus(a.status());
    if (!(*a > 0)) return Fail(kExitUsage, "--step: must be > 0");
    alpha = *a;
  } else {
    if (args.beta.empty() || args.gamma.empty()) {
      return Fail(kExitUsage, "--beta and --gamma go together (stepsize beta/(gamma + k))");
    }
    StatusOr<double> b = ParseNumber("--beta", args.beta);
    if (!b.ok()) return FailStatus(b.status());
    StatusOr<double> g = ParseNumber("--gamma", args.gamma);
    if (!g.ok()) return FailStatus(g.status());
    if (!(*b > 0)) return Fail(kExitUsage, "--beta: must be > 0");
    if (!(*g > 0)) return Fail(kExitUsage, "--gamma: must be > 0 (BCN Thm 4.7)");
    beta = *b;
    gamma = *g;
  }
  std::vector<double> targets;
  if (!args.target.empty()) {
    size_t start = 0;
    while (start <= args.target.size()) {
      size_t end = args.target.find(',', start);
      if (end == std::string::npos) end = args.target.size();
      StatusOr<double> t = ParseNumber("--target", args.target.substr(start, end - start));
      if (!t.ok()) return FailStatus(t.status());
      if (!(*t > 0)) return Fail(kExitUsage, "--target: must be > 0");
      targets.push_back(*t);
      start = end + 1;
    }
  }
  std::map<std::string, double> given;
  for (const ConstantKey& k : kConstantKeys) {
    auto it = args.values.find(k.option);
    if (it == args.values.end() || it->second.empty()) continue;
    StatusOr<double> v = ParseNumber(k.option, it->second);
    if (!v.ok()) return FailStatus(v.status());
    given[k.json] = *v;
  }

  // ---- data ----
  std::map<std::string, double> constants;
  if (!args.constants.empty()) {
    StatusOr<Json> c = ReadJsonFile(args.constants);
    if (!c.ok()) return Fail(kExitData, "--constants " + c.status().message());
    if (Status st = MergeConstants(*c, args.constants, constants); !st.ok()) {
      return Fail(kExitData, st.message());
    }
  }
  StatusOr<Json> doc = ReadJsonFile(args.analysis);
  if (!doc.ok()) return Fail(kExitData, doc.status().message());
  if (doc->is_object() && doc->contains("constants")) {
    std::map<std::string, double> from_doc;
    if (Status st = MergeConstants((*doc)["constants"], args.analysis, from_doc); !st.ok()) {
      return Fail(kExitData, st.message());
    }
    for (const auto& [k, v] : from_doc) constants.emplace(k, v);  // --constants wins
  }
  for (const auto& [k, v] : given) constants[k] = v;
  for (const char* required : {"L", "M", "Delta1"}) {
    if (!constants.count(required)) {
      std::string option;
      for (const ConstantKey& k : kConstantKeys) {
        if (std::string(k.json) == required) option = k.option;
      }
      return Fail(kExitUsage, "missing constant " + std::string(required) + ": give " + option +
                                  " (or --constants FILE)");
    }
  }
  ProblemConstants p;
  p.L = constants["L"];
  p.M = constants["M"];
  p.Delta1 = constants["Delta1"];
  if (constants.count("c")) p.c = constants["c"];
  if (constants.count("M_V")) p.M_V = constants["M_V"];
  if (constants.count("M_G")) p.M_G = constants["M_G"];
  if (constants.count("mu")) p.mu = constants["mu"];
  if (constants.count("mu_G")) p.mu_G = constants["mu_G"];
  const bool convex = constants.count("c") > 0;
  if (Status st = ValidateProblem(p, convex); !st.ok()) return Fail(kExitUsage, st.message());

  if (!doc->is_object() || !doc->contains("results") || !(*doc)["results"].is_array()) {
    return Fail(kExitData, args.analysis +
                               ": no \"results\" array (expected `qfloat analyze "
                               "--json` output)");
  }
  std::vector<Result> results;
  const Json& rs = (*doc)["results"];
  for (size_t i = 0; i < rs.size(); ++i) {
    const Json& r = rs[i];
    const std::string where = args.analysis + ": results[" + std::to_string(i) + "]";
    if (!r.is_object() || !r.contains("summary") || !r["summary"].is_object()) {
      return Fail(kExitData, where + ": no \"summary\" object");
    }
    const Json& sm = r["summary"];
    Result res;
    auto str = [&](const char* key) {
      return r.contains(key) && r[key].is_string() ? r[key].get<std::string>() : std::string();
    };
    res.format = str("format");
    res.rounding = str("rounding");
    res.overflow = str("overflow");
    res.scaling = str("scaling");
    res.label = str("label").empty() ? res.format : str("label");
    auto num = [&](const char* key) -> StatusOr<double> {
      if (!sm.contains(key)) return DataError(where + ".summary: no \"" + key + "\"");
      std::optional<double> v = JsonNumber(sm[key]);
      if (!v) return DataError(where + ".summary." + key + ": not a number");
      return *v;
    };
    StatusOr<double> q_min = num("q_min");
    StatusOr<double> q_max = num("q_max");
    StatusOr<double> rho = num("rho_max");
    StatusOr<double> sigma = num("sigma0_sq_max");
    for (const auto* s : {&q_min, &q_max, &rho, &sigma}) {
      if (!s->ok()) return Fail(kExitData, s->status().message());
    }
    res.s.q_min = *q_min;
    if (args.q_from == "quantile") {
      if (!sm.contains("q_quantiles") || !sm["q_quantiles"].is_array() ||
          sm["q_quantiles"].empty()) {
        return Fail(kExitData, where + ".summary: no \"q_quantiles\" for --q-from quantile");
      }
      const Json& qq = sm["q_quantiles"][0];
      std::optional<double> v = qq.contains("value") ? JsonNumber(qq["value"]) : std::nullopt;
      if (v && std::isfinite(*v)) res.s.q_min = *v;
    }
    res.s.q_max = *q_max;
    res.s.delta = args.noise == "abs" ? 0.0 : *rho;
    res.s.sigma0_sq = args.noise == "rel" ? 0.0 : *sigma;
    auto optional_num = [&](const char* key) {
      return sm.contains(key) ? JsonNumber(sm[key]).value_or(kNaN) : kNaN;
    };
    res.q_mean_weighted = optional_num("q_mean_weighted");
    res.flushed_max = optional_num("flushed_max");
    res.saturated_max = optional_num("saturated_max");
    res.valid = ValidateShrinkage(res.s);
    results.push_back(res);
  }
  if (results.empty()) return Fail(kExitData, args.analysis + ": \"results\" is empty");

  // ---- FP ----
  std::string theorem;
  if (convex && fixed) {
    theorem = "(a) strongly convex, fixed step (BCN Thm 4.6)";
  } else if (convex) {
    theorem = "(b) strongly convex, stepsize beta/(gamma + k) (BCN Thm 4.7)";
  } else if (fixed) {
    theorem = "(c) nonconvex, fixed step (BCN Thm 4.8)";
  } else {
    theorem = "(d) nonconvex, stepsize beta/(gamma + k) (BCN Thms 4.9, 4.10)";
  }
  // The FP functions are BCN's statements; LP with q = 1 and no noise reduces to them, but the
  // FP column is computed from the FP functions themselves.
  Row fp;
  if (convex && fixed) {
    const StronglyConvexFixedStep b = StronglyConvexFixedFP(p, alpha);
    fp.admissible = b.admissible;
    fp.max_step = b.max_step;
    fp.rate = b.rate;
    fp.floor = b.floor;
    fp.bound = [b](double k) { return b.Bound(k); };
  } else if (convex) {
    const StronglyConvexDiminishing b = StronglyConvexDiminishingFP(p, beta, gamma);
    fp.admissible = b.admissible;
    fp.max_step = b.max_step;
    fp.nu = b.nu;
    fp.rate_exponent = b.rate_exponent;
    fp.beta_check = ToString(b.beta_check);
    fp.floor = 0;
    fp.bound = [b](double k) { return b.Bound(k); };
  } else if (fixed) {
    const NonconvexFixedStep b = NonconvexFixedFP(p, alpha);
    fp.admissible = b.admissible;
    fp.max_step = b.max_step;
    fp.floor = b.floor;
    fp.bound = [b](double k) { return b.Bound(k); };
  } else {
    fp.max_step = MaxStepFP(p);
    fp.first_admissible = FirstAdmissibleHarmonicStep(beta, gamma, fp.max_step);
    fp.admissible = beta / (gamma + 1) <= fp.max_step;
    fp.floor = 0;
    fp.bound = [&, b = beta, g = gamma](double k) {
      return NonconvexDiminishingFP(p, HarmonicScheduleSums(b, g, k));
    };
  }
  if (targets.empty()) {
    // Twice the FP floor, or 1% of the FP bound at k = 1 when the floor is 0.
    targets.push_back(fp.floor > 0 ? 2 * fp.floor : 1e-2 * fp.bound(1.0));
  }
  for (double eps : targets) {
    double k = kNaN;
    if (convex && fixed) {
      k = IterationsToTarget(StronglyConvexFixedFP(p, alpha), eps);
    } else if (convex) {
      k = IterationsToTarget(StronglyConvexDiminishingFP(p, beta, gamma), eps);
    } else if (fixed) {
      k = IterationsToTarget(NonconvexFixedFP(p, alpha), eps);
    } else {
      k = InvertBound(fp.bound, eps, 0.0);
    }
    fp.k.push_back(k);
  }
  if (!fp.admissible) {
    fp.warnings.push_back("FP: the stepsize exceeds mu/(L M_G) = " + ShortestDecimal(fp.max_step) +
                          ": BCN's bound does not apply");
  }

  // ---- per format ----
  std::vector<Row> rows;
  for (const Result& r : results) {
    Row row;
    if (!r.valid.ok()) {
      row.warnings.push_back(r.label + ": no bound (" + r.valid.message() + ")");
      rows.push_back(row);
      continue;
    }
    const ShrinkageConstants& s = r.s;
    if (convex && fixed) {
      const StronglyConvexFixedStep b = StronglyConvexFixedLP(p, s, alpha, *mode);
      row.admissible = b.admissible;
      row.max_step = b.max_step;
      row.rate = b.rate;
      row.floor = b.floor;
      row.floor_ratio = FloorRatio(p, s);
      row.rate_ratio = RateRatio(p, s, alpha);
      for (double eps : targets) row.k.push_back(IterationsToTarget(b, eps));
      row.bound = [b](double k) { return b.Bound(k); };
    } else if (convex) {
      const StronglyConvexDiminishing b = StronglyConvexDiminishingLP(p, s, beta, gamma, *mode);
      row.admissible = b.admissible;
      row.max_step = b.max_step;
      row.nu = b.nu;
      row.rate_exponent = b.rate_exponent;
      row.beta_check = ToString(b.beta_check);
      row.floor = 0;
      row.floor_ratio = fp.nu > 0 ? b.nu / fp.nu : kNaN;  // nu~/nu: the bound's constant ratio
      for (double eps : targets) row.k.push_back(IterationsToTarget(b, eps));
      row.bound = [b](double k) { return b.Bound(k); };
      if (b.beta_check != BetaCheck::kOk) {
        row.warnings.push_back(
            r.label + ": beta c mu q_min = " + ShortestDecimal(beta * p.c * p.mu * s.q_min) +
            " <= 1: the O(1/k) rate is lost (" +
            (b.beta_check == BetaCheck::kLogRate
                 ? std::string("O(ln k / k)")
                 : "O(k^-" + FormatSignificant(b.rate_exponent, 3) + ")") +
            "); beta > " + FormatSignificant(1.0 / (p.c * p.mu * s.q_min), 4) +
            " restores it (optimal beta " + FormatSignificant(OptimalBeta(p, s), 4) + ")");
      }
    } else if (fixed) {
      const NonconvexFixedStep b = NonconvexFixedLP(p, s, alpha, *mode);
      row.admissible = b.admissible;
      row.max_step = b.max_step;
      row.floor = b.floor;
      row.floor_ratio = fp.floor > 0 ? b.floor / fp.floor : kNaN;
      for (double eps : targets) row.k.push_back(IterationsToTarget(b, eps));
      row.bound = [b](double k) { return b.Bound(k); };
    } else {
      row.max_step = MaxStepLP(p, s, *mode);
      row.first_admissible = FirstAdmissibleHarmonicStep(beta, gamma, row.max_step);
      row.admissible = beta / (gamma + 1) <= row.max_step;
      row.floor = 0;
      row.power_law = PowerLawExponent(p, s, HarmonicScheduleSums(beta, gamma, kInf).S);
      row.bound = [&p, s, b = beta, g = gamma](double k) {
        return NonconvexDiminishingLP(p, s, HarmonicScheduleSums(b, g, k));
      };
      for (double eps : targets) row.k.push_back(InvertBound(row.bound, eps, 0.0));
    }
    for (size_t t = 0; t < targets.size(); ++t) row.slowdown.push_back(Slowdown(row.k[t], fp.k[t]));
    if (!row.admissible) {
      std::string w = r.label + ": the stepsize exceeds the LP limit " +
                      ShortestDecimal(row.max_step) + " (mode " + ToString(*mode) + ")";
      if (!std::isnan(row.first_admissible)) {
        w += "; admissible from k0 = " + ShortestDecimal(row.first_admissible) +
             " (restart the bound there)";
      } else {
        w += ": the bound is not a theorem here";
      }
      row.warnings.push_back(w);
    }
    if (s.q_max > 1) {
      row.q_max_above_one = true;
      row.warnings.push_back(r.label + ": q_max = " + ShortestDecimal(s.q_max) +
                             " > 1 (used as measured, never clamped)");
    }
    rows.push_back(row);
  }

  // ---- JSON ----
  if (!args.json.empty()) {
    Json j;
    j["command"] = "predict";
    j["analysis"] = args.analysis;
    j["theorem"] = theorem;
    j["mode"] = ToString(*mode);
    j["noise"] = args.noise;
    j["q_from"] = args.q_from;
    j["problem"] = {{"L", p.L},
                    {"c", convex ? Json(p.c) : Json(nullptr)},
                    {"mu", p.mu},
                    {"mu_G", p.mu_G},
                    {"M", p.M},
                    {"M_V", p.M_V},
                    {"M_G", EffectiveMG(p)},
                    {"Delta1", p.Delta1}};
    if (fixed) {
      j["schedule"] = {{"kind", "fixed"}, {"step", alpha}};
    } else {
      j["schedule"] = {{"kind", "diminishing"}, {"beta", beta}, {"gamma", gamma}};
    }
    j["targets"] = targets;
    auto row_json = [&](const Row& row) {
      Json o;
      o["admissible"] = row.admissible;
      o["max_step"] = JsonValue(row.max_step);
      if (!std::isnan(row.rate)) o["rate"] = JsonValue(row.rate);
      o["floor"] = JsonValue(row.floor);
      if (!std::isnan(row.nu)) o["nu"] = JsonValue(row.nu);
      if (!std::isnan(row.rate_exponent)) o["rate_exponent"] = JsonValue(row.rate_exponent);
      if (!row.beta_check.empty()) o["beta_check"] = row.beta_check;
      if (!std::isnan(row.first_admissible)) {
        o["first_admissible_step"] = JsonValue(row.first_admissible);
      }
      Json ks = Json::array();
      for (double k : row.k) ks.push_back(JsonValue(k));
      o["iterations"] = ks;
      return o;
    };
    j["fp"] = row_json(fp);
    j["results"] = Json::array();
    for (size_t i = 0; i < results.size(); ++i) {
      const Result& r = results[i];
      const Row& row = rows[i];
      Json o;
      o["format"] = r.format;
      o["rounding"] = r.rounding;
      o["overflow"] = r.overflow;
      o["scaling"] = r.scaling;
      o["label"] = r.label;
      o["shrinkage"] = {{"q_min", JsonValue(r.s.q_min)},
                        {"q_max", JsonValue(r.s.q_max)},
                        {"delta", JsonValue(r.s.delta)},
                        {"sigma0_sq", JsonValue(r.s.sigma0_sq)}};
      o["valid"] = r.valid.ok();
      if (!r.valid.ok()) {
        o["error"] = r.valid.message();
      } else {
        Json body = row_json(row);
        for (auto it = body.begin(); it != body.end(); ++it) o[it.key()] = it.value();
        Json sd = Json::array();
        for (double v : row.slowdown) sd.push_back(JsonValue(v));
        o["slowdown"] = sd;
        o["floor_ratio"] = JsonValue(row.floor_ratio);
        if (!std::isnan(row.rate_ratio)) {
          o["rate_ratio"] = JsonValue(row.rate_ratio);
          o["transient_slowdown"] = JsonValue(1.0 / row.rate_ratio);
        }
        if (!std::isnan(row.power_law)) o["power_law_exponent"] = JsonValue(row.power_law);
        if (convex && fixed && std::isfinite(r.q_mean_weighted) && r.q_mean_weighted > 0) {
          o["compensated_step"] = JsonValue(CompensatedStep(alpha, r.q_mean_weighted));
        }
        if (convex && !fixed) o["optimal_beta"] = JsonValue(OptimalBeta(p, r.s));
      }
      o["warnings"] = row.warnings;
      j["results"].push_back(std::move(o));
    }
    j["warnings"] = fp.warnings;
    const Status st = WriteTextOutput(args.json, j.dump(2) + "\n");
    if (!st.ok()) return Fail(kExitData, "--json " + args.json + ": " + st.message());
  }

  // ---- plot ----
  if (!args.plot.empty()) {
    double k_max = std::isfinite(fp.k[0]) ? fp.k[0] : 1e3;
    for (const Row& row : rows) {
      if (!row.k.empty() && std::isfinite(row.k[0])) k_max = std::max(k_max, row.k[0]);
    }
    k_max = std::clamp(std::ceil(k_max * 1.5), 10.0, 1e9);
    std::vector<double> ks;
    for (int i = 0; i <= 200; ++i) {
      const double k = std::round(std::pow(k_max, i / 200.0));
      if (ks.empty() || k > ks.back()) ks.push_back(k);
    }
    plot::Figure fig(760, 480);
    plot::Axes& ax = fig.axes();
    ax.SetTitle("Predicted bounds: " + theorem)
        .SetXLabel("iteration k")
        .SetYLabel(convex ? "bound on E[F(w_k) - F*]" : "bound on the average |grad F|^2")
        .SetXScale(plot::Scale::kLog10)
        .SetYScale(plot::Scale::kLog10);
    auto curve = [&](const std::function<double(double)>& bound) {
      std::vector<double> y;
      for (double k : ks) y.push_back(bound ? bound(k) : kNaN);
      return y;
    };
    plot::Style fp_style;
    fp_style.color = "#000000";
    fp_style.dash = plot::Dash::kDashed;
    ax.AddLine("FP", ks, curve(fp.bound), fp_style);
    for (size_t i = 0; i < results.size(); ++i) {
      if (!rows[i].bound) continue;
      ax.AddLine(results[i].label + (results[i].rounding.empty() ? "" : " " + results[i].rounding),
                 ks, curve(rows[i].bound));
    }
    ax.AddHLine(targets[0], "target");
    if (Status st = fig.WriteSvg(args.plot); !st.ok()) {
      return Fail(kExitData, "--plot " + args.plot + ": " + st.message());
    }
  }

  // ---- table ----
  if (args.json != "-") {
    std::string text;
    text += "theorem: " + theorem + "; mode " + ToString(*mode) + ", noise " + args.noise + "\n";
    text += "problem: L=" + ShortestDecimal(p.L) +
            (convex ? " c=" + ShortestDecimal(p.c) : std::string()) +
            " mu=" + ShortestDecimal(p.mu) + " M=" + ShortestDecimal(p.M) +
            " M_G=" + ShortestDecimal(EffectiveMG(p)) + " Delta1=" + ShortestDecimal(p.Delta1) +
            "; " +
            (fixed ? "step " + ShortestDecimal(alpha)
                   : "step " + ShortestDecimal(beta) + "/(" + ShortestDecimal(gamma) + " + k)") +
            "; target " + ShortestDecimal(targets[0]) + "\n";
    const bool harmonic_convex = convex && !fixed;
    const bool harmonic_nonconvex = !convex && !fixed;
    const std::string col9 = harmonic_convex      ? "nu ratio"
                             : harmonic_nonconvex ? "power law r"
                                                  : "floor ratio";
    const std::string col10 = harmonic_convex ? "beta check" : harmonic_nonconvex ? "k0" : "floor";
    // The table a user reads first: what the format does to the gradients (measured), then
    // what that does to SGD (predicted).
    qfloat::Table table({"format", "rounding", "scaling", "q_min", "q_mean", "q_max", "rho_max",
                         "flushed", "saturated", "admissible", "K_FP", "K_LP", "slowdown", col9,
                         col10});
    for (const size_t c : {0, 1, 2, 9}) table.SetAlign(c, Align::kLeft);
    table.SetAlign(14, harmonic_convex ? Align::kLeft : Align::kRight);
    auto col10_of = [&](const Row& row) {
      if (harmonic_convex) return row.beta_check;
      if (harmonic_nonconvex) return FormatIterations(row.first_admissible);
      return FormatSignificant(row.floor, 4);
    };
    auto percent = [](double f) { return std::isfinite(f) ? FormatPercent(f) : std::string("-"); };
    auto measured = [&](const Result& r) {
      return std::vector<std::string>{
          r.label,
          r.rounding,
          r.scaling.empty() ? "-" : r.scaling,
          FormatSignificant(r.s.q_min, 6),
          std::isfinite(r.q_mean_weighted) ? FormatSignificant(r.q_mean_weighted, 6) : "-",
          FormatSignificant(r.s.q_max, 6),
          FormatSignificant(r.s.delta, 4),
          percent(r.flushed_max),
          percent(r.saturated_max)};
    };
    auto with = [](std::vector<std::string> cells, std::initializer_list<std::string> more) {
      cells.insert(cells.end(), more);
      return cells;
    };
    table.AddRow({"FP", "-", "-", "1", "1", "1", "0", "-", "-", fp.admissible ? "yes" : "NO",
                  FormatIterations(fp.k[0]), "-", "1", "1", col10_of(fp)});
    std::string above_one;
    for (size_t i = 0; i < results.size(); ++i) {
      const Result& r = results[i];
      const Row& row = rows[i];
      if (!r.valid.ok()) {
        table.AddRow(with(measured(r), {"n/a", "-", "-", "-", "-", "-"}));
        continue;
      }
      if (row.q_max_above_one)
        above_one += (above_one.empty() ? "" : ", ") + r.label + " " + r.rounding;
      table.AddRow(with(measured(r),
                        {row.admissible ? "yes" : "NO", FormatIterations(fp.k[0]),
                         FormatIterations(row.k[0]), FormatSignificant(row.slowdown[0], 4),
                         FormatSignificant(harmonic_nonconvex ? row.power_law : row.floor_ratio, 4),
                         col10_of(row)}));
    }
    text += table.ToText();
    for (const std::string& n : fp.warnings) text += "note: " + n + "\n";
    for (const Row& row : rows) {
      for (const std::string& n : row.warnings) {
        if (n.find("never clamped") == std::string::npos) text += "note: " + n + "\n";
      }
    }
    if (!above_one.empty()) {
      text += "note: q_max > 1 for " + above_one + " (used as measured, never clamped)\n";
    }
    std::fwrite(text.data(), 1, text.size(), stdout);
  }
  const Status flushed = FlushStdout();
  return flushed.ok() ? kExitOk : FailStatus(flushed);
}

RunFn SetupPredict(CLI::App& command) {
  auto args = std::make_shared<PredictArgs>();
  command.add_option("ANALYSIS", args->analysis, "the JSON written by `qfloat analyze --json`")
      ->required();
  command.add_option("--constants", args->constants,
                     "JSON file with L, c, M, M_V, M_G, mu, mu_G, Delta1 (options override it)");
  static const std::map<std::string, std::string> kHelp = {
      {"--L", "Lipschitz constant of grad F (A4.1)"},
      {"--c", "strong-convexity constant (A4.5); omit for nonconvex bounds"},
      {"--M", "variance bound: V[g] <= M + M_V |grad F|^2 (A4.3c)"},
      {"--MV", "M_V (default 0)"},
      {"--MG", "M_G (default M_V + mu_G^2)"},
      {"--mu", "descent constant mu (default 1)"},
      {"--muG", "mu_G (default 1)"},
      {"--delta1", "Delta1 = F(w_1) - F_* (or - F_inf)"}};
  for (const ConstantKey& k : kConstantKeys) {
    command.add_option(k.option, args->values[k.option], kHelp.at(k.option))->type_name("NUM");
  }
  command.add_option("--step", args->step, "fixed stepsize alpha")->type_name("NUM");
  command.add_option("--beta", args->beta, "stepsize beta/(gamma + k): beta")->type_name("NUM");
  command.add_option("--gamma", args->gamma, "stepsize beta/(gamma + k): gamma")->type_name("NUM");
  command.add_option("--target", args->target,
                     "target(s) epsilon, comma-separated (default: twice the FP floor, or 1% "
                     "of the FP bound at k = 1)");
  command.add_option("--mode", args->mode, "G (q may depend on the sample; default) or P");
  command.add_option("--noise", args->noise,
                     "rel (delta = rho_max; default), abs (sigma0^2 = max |eps|^2) or combined");
  command.add_option("--q-from", args->q_from,
                     "min (observed q_min; default) or quantile (the first low-quantile bound)");
  command.add_option("--json", args->json, "write JSON to FILE ('-': stdout)");
  command.add_option("--plot", args->plot, "write an SVG of the bound curves to FILE");
  return [args] { return RunPredict(*args); };
}

}  // namespace

QFLOAT_CLI_COMMAND(predict, 70, "convergence bounds (slowdown, floor) from an analysis",
                   SetupPredict);

}  // namespace qfloat::cli
