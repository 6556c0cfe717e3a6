// qfloat predict on an `analyze --json` document: every figure equals the library's
// (convergence.h) for the measured q_min, q_max and delta, under each theorem (a)-(d); the plot
// parses; constants come from a file and options override it; bad inputs exit 1 or 2.
#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "cli_files.h"
#include "qfloat/convergence.h"
#include "run_cli.h"

namespace qfloat::cli_test {
namespace {

double JNum(const nlohmann::json& v) {
  if (v.is_number()) return v.get<double>();
  const std::string s = v.get<std::string>();
  if (s == "inf") return std::numeric_limits<double>::infinity();
  if (s == "-inf") return -std::numeric_limits<double>::infinity();
  return std::numeric_limits<double>::quiet_NaN();
}

// Equal, or both NaN.
bool Same(double a, double b) { return a == b || (std::isnan(a) && std::isnan(b)); }

const std::string& AnalysisFile() {
  static const std::string path = [] {
    const std::string p = ScratchDir() + "/for_predict.json";
    const CliResult r =
        RunCli({"analyze", CliFixture("grads"), "-f", "e4m3fn,e5m2,mxfp4,e2m1fn", "--json", p});
    if (r.exit_code != 0) FAIL("analyze failed: " << r.err);
    return p;
  }();
  return path;
}

ProblemConstants FixtureProblem() {
  const nlohmann::json c = ReadJson(CliFixture("constants.json"));
  ProblemConstants p;
  p.L = c["L"];
  p.c = c["c"];
  p.M = c["M"];
  p.M_V = c["M_V"];
  p.mu = c["mu"];
  p.mu_G = c["mu_G"];
  p.Delta1 = c["Delta1"];
  return p;
}

ShrinkageConstants FromSummary(const nlohmann::json& analysis_result) {
  const auto& sm = analysis_result["summary"];
  ShrinkageConstants s;
  s.q_min = JNum(sm["q_min"]);
  s.q_max = JNum(sm["q_max"]);
  s.delta = JNum(sm["rho_max"]);
  s.sigma0_sq = 0;  // --noise rel (the default)
  return s;
}

nlohmann::json Predict(const std::vector<std::string>& extra) {
  const std::string out = ScratchDir() + "/prediction.json";
  std::vector<std::string> args = {"predict", AnalysisFile(), "--json", out};
  args.insert(args.end(), extra.begin(), extra.end());
  const CliResult r = RunCli(args);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find("theorem: ") != std::string::npos);
  return ReadJson(out);
}

TEST_CASE("predict (a): strongly convex, fixed step, as convergence.h computes it",
          "[cli][predict]") {
  const nlohmann::json analysis = ReadJson(AnalysisFile());
  const nlohmann::json j = Predict({"--constants", CliFixture("constants.json"), "--step", "0.05"});
  const ProblemConstants p = FixtureProblem();
  const StronglyConvexFixedStep fp = StronglyConvexFixedFP(p, 0.05);
  REQUIRE(j["targets"].size() == 1);
  const double eps = j["targets"][0];
  CHECK(eps == 2 * fp.floor);  // the default target
  CHECK(JNum(j["fp"]["iterations"][0]) == IterationsToTarget(fp, eps));
  REQUIRE(j["results"].size() == analysis["results"].size());
  for (size_t i = 0; i < j["results"].size(); ++i) {
    const auto& r = j["results"][i];
    INFO(r["label"]);
    const ShrinkageConstants s = FromSummary(analysis["results"][i]);
    CHECK(r["format"] == analysis["results"][i]["format"]);
    CHECK(JNum(r["shrinkage"]["q_min"]) == s.q_min);
    const StronglyConvexFixedStep lp = StronglyConvexFixedLP(p, s, 0.05, ShrinkageMode::kG);
    CHECK(r["admissible"] == lp.admissible);
    CHECK(JNum(r["max_step"]) == lp.max_step);
    CHECK(JNum(r["rate"]) == lp.rate);
    CHECK(JNum(r["floor"]) == lp.floor);
    CHECK(Same(JNum(r["floor_ratio"]), FloorRatio(p, s)));
    CHECK(Same(JNum(r["rate_ratio"]), RateRatio(p, s, 0.05)));
    const double k_lp = IterationsToTarget(lp, eps);
    CHECK(JNum(r["iterations"][0]) == k_lp);
    CHECK(Same(JNum(r["slowdown"][0]), Slowdown(k_lp, IterationsToTarget(fp, eps))));
  }
}

TEST_CASE("predict (b): beta/(gamma + k) and the beta flag", "[cli][predict]") {
  const nlohmann::json analysis = ReadJson(AnalysisFile());
  // beta c mu = 1.05: any q_min below 1/1.05 loses the O(1/k) rate (THEORY.md §3b).
  const nlohmann::json j = Predict({"--constants", CliFixture("constants.json"), "--beta", "2.1",
                                    "--gamma", "5", "--target", "0.05,0.01", "--mode", "P"});
  const ProblemConstants p = FixtureProblem();
  CHECK(j["mode"] == "P");
  REQUIRE(j["targets"].size() == 2);
  bool flagged = false;
  for (size_t i = 0; i < j["results"].size(); ++i) {
    const auto& r = j["results"][i];
    INFO(r["label"]);
    const ShrinkageConstants s = FromSummary(analysis["results"][i]);
    const StronglyConvexDiminishing lp =
        StronglyConvexDiminishingLP(p, s, 2.1, 5, ShrinkageMode::kP);
    CHECK(r["beta_check"] == ToString(lp.beta_check));
    CHECK(Same(JNum(r["nu"]), lp.nu));
    CHECK(r["admissible"] == lp.admissible);
    for (size_t t = 0; t < 2; ++t) {
      CHECK(Same(JNum(r["iterations"][t]), IterationsToTarget(lp, j["targets"][t].get<double>())));
    }
    if (lp.beta_check != BetaCheck::kOk) {
      flagged = true;
      CHECK(r["warnings"].size() >= 1);
    }
    CHECK(JNum(r["optimal_beta"]) == OptimalBeta(p, s));
  }
  CHECK(flagged);  // e2m1fn's q_min is far below 0.95
}

TEST_CASE("predict (c) and (d): nonconvex bounds; options override --constants", "[cli][predict]") {
  const nlohmann::json analysis = ReadJson(AnalysisFile());
  ProblemConstants p;
  p.L = 8;  // overrides the file's 4
  p.M = 2;
  p.Delta1 = 10;
  // (c): no --c, so the nonconvex theorem; --constants supplies c too, so drop it with a
  // constants file of our own.
  const std::string consts = WriteScratchFile("nc.json", R"({"L": 4, "M": 2, "Delta1": 10})");
  nlohmann::json j = Predict({"--constants", consts, "--L", "8", "--step", "0.02"});
  CHECK(j["problem"]["L"] == 8.0);
  CHECK(j["theorem"].get<std::string>().rfind("(c)", 0) == 0);
  const double eps_c = j["targets"][0];
  CHECK(eps_c == 2 * NonconvexFixedFP(p, 0.02).floor);
  for (size_t i = 0; i < j["results"].size(); ++i) {
    const ShrinkageConstants s = FromSummary(analysis["results"][i]);
    const NonconvexFixedStep lp = NonconvexFixedLP(p, s, 0.02, ShrinkageMode::kG);
    CHECK(JNum(j["results"][i]["floor"]) == lp.floor);
    CHECK(Same(JNum(j["results"][i]["iterations"][0]), IterationsToTarget(lp, eps_c)));
  }

  // (d)
  j = Predict(
      {"--L", "8", "--M", "2", "--delta1", "10", "--beta", "1", "--gamma", "10", "--target", "3"});
  CHECK(j["theorem"].get<std::string>().rfind("(d)", 0) == 0);
  for (size_t i = 0; i < j["results"].size(); ++i) {
    const ShrinkageConstants s = FromSummary(analysis["results"][i]);
    const auto bound = [&](double k) {
      return NonconvexDiminishingLP(p, s, HarmonicScheduleSums(1, 10, k));
    };
    CHECK(Same(JNum(j["results"][i]["iterations"][0]), InvertBound(bound, 3, 0)));
    CHECK(JNum(j["results"][i]["first_admissible_step"]) ==
          FirstAdmissibleHarmonicStep(1, 10, MaxStepLP(p, s, ShrinkageMode::kG)));
  }
}

TEST_CASE("predict --plot: one curve per format plus FP, valid SVG", "[cli][predict]") {
  const std::string svg_path = ScratchDir() + "/bounds.svg";
  const CliResult r = RunCli({"predict", AnalysisFile(), "--constants",
                              CliFixture("constants.json"), "--step", "0.05", "--plot", svg_path});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const SvgInfo svg = ParseSvg(ReadFileText(svg_path));
  INFO(svg.error);
  CHECK(svg.well_formed);
  CHECK(svg.root == "svg");
  CHECK(svg.series == 1 + 4 + 1);  // FP, four formats, the target line
  CHECK(SvgHasText(svg, "FP"));
  CHECK(SvgHasText(svg, "mxfp4"));
  // The table lists every format and FP.
  for (const char* f : {"FP", "e4m3fn", "e5m2", "mxfp4", "e2m1fn"})
    CHECK(r.out.find(f) != std::string::npos);
}

TEST_CASE("predict: bad inputs exit 1 or 2 with one line naming the input", "[cli][predict]") {
  const std::string consts = CliFixture("constants.json");
  const std::string not_json = WriteScratchFile("not.json", "{ this is not json");
  const std::string no_results = WriteScratchFile("noresults.json", R"({"other": []})");
  struct Case {
    std::vector<std::string> args;
    int exit_code;
    std::string mentions;
  };
  const std::vector<Case> cases = {
      {{"predict", AnalysisFile(), "--M", "1", "--delta1", "1", "--step", "0.1"}, 2, "--L"},
      {{"predict", AnalysisFile(), "--constants", consts}, 2, "--step"},
      {{"predict", AnalysisFile(), "--constants", consts, "--step", "0.1", "--beta", "1", "--gamma",
        "1"},
       2,
       "--step"},
      {{"predict", AnalysisFile(), "--constants", consts, "--beta", "1"}, 2, "--gamma"},
      {{"predict", AnalysisFile(), "--constants", consts, "--step", "abc"}, 2, "abc"},
      {{"predict", AnalysisFile(), "--constants", consts, "--step", "0.1", "--mode", "Q"},
       2,
       "--mode"},
      {{"predict", AnalysisFile(), "--constants", consts, "--step", "0.1", "--c", "99"}, 2, "c"},
      {{"predict", not_json, "--constants", consts, "--step", "0.1"}, 1, "not.json"},
      {{"predict", no_results, "--constants", consts, "--step", "0.1"}, 1, "results"},
      {{"predict", AnalysisFile(), "--constants", ScratchDir() + "/none.json", "--step", "0.1"},
       1,
       "none.json"},
  };
  for (const Case& c : cases) {
    const CliResult r = RunCli(c.args);
    INFO(r.err);
    CHECK(r.exit_code == c.exit_code);
    CHECK(IsOneErrorLine(r.err));
    CHECK(r.err.find(c.mentions) != std::string::npos);
    CHECK(r.out.empty());
  }
}

}  // namespace
}  // namespace qfloat::cli_test
