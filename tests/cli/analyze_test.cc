// qfloat analyze on real per-step gradients (tests/data/cli/grads: a torch MLP's gradients written
// by safetensors.torch; grads_npz: np.savez as JAX users write them): the JSON contract, natural
// step order, values equal to the library's ShrinkageStats for the same data, SVG plots that parse
// as XML, CSV/JSONL records, --fail-if gates, the progress bar, and error exits.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include "cli_files.h"
#include "qfloat/analysis.h"
#include "qfloat/io.h"
#include "qfloat/scaling.h"
#include "run_cli.h"

namespace qfloat::cli_test {
namespace {

const std::vector<std::string> kStepKeys = {
    "step",      "q",          "one_minus_q",      "rho",
    "eps_norm2", "grad_norm2", "flushed_fraction", "saturated_fraction",
    "tensors"};
const std::vector<std::string> kSummaryKeys = {
    "q_min", "q_max", "q_mean", "q_mean_weighted", "q_quantiles", "rho_max", "sigma0_sq_max"};

nlohmann::json AnalyzeJson(const std::vector<std::string>& extra) {
  const std::string path = ScratchDir() + "/analysis.json";
  std::vector<std::string> args = {"analyze", CliFixture("grads"), "--json", path};
  args.insert(args.end(), extra.begin(), extra.end());
  const CliResult r = RunCli(args);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  return ReadJson(path);
}

double Num(const nlohmann::json& v) {
  if (v.is_string()) return std::nan("");
  return v.get<double>();
}

TEST_CASE("analyze --json: the contract's keys, in natural step order", "[cli][analyze]") {
  const nlohmann::json j = AnalyzeJson({"-f", "e4m3fn,mxfp4", "-r", "rne,sr"});
  REQUIRE(j["results"].size() == 4);
  const nlohmann::json expected = ReadJson(CliFixture("expected.json"))["grads"];
  for (const auto& r : j["results"]) {
    for (const char* k : {"format", "rounding", "overflow", "scaling", "steps", "summary"}) {
      INFO(k);
      CHECK(r.contains(k));
    }
    REQUIRE(r["steps"].size() == 3);
    std::vector<int> steps;
    for (const auto& s : r["steps"]) {
      steps.push_back(s["step"].get<int>());
      for (const std::string& k : kStepKeys) {
        INFO(k);
        CHECK(s.contains(k));
      }
      REQUIRE(s["tensors"].size() == expected["tensors"].size());
      for (const auto& t : s["tensors"]) {
        CHECK(t.contains("name"));
        for (const std::string& k : kStepKeys) {
          if (k == "step" || k == "tensors") continue;
          INFO(k);
          CHECK(t.contains(k));
        }
      }
    }
    // step_1, step_2, step_10: natural order, not 1, 10, 2.
    CHECK(steps == std::vector<int>{1, 2, 10});
    for (const std::string& k : kSummaryKeys) {
      INFO(k);
      CHECK(r["summary"].contains(k));
    }
    CHECK(r["summary"]["q_quantiles"].size() == 3);
    CHECK(r["summary"]["q_quantiles"][0].contains("confidence"));
  }
  CHECK(j["results"][0]["format"] == "e4m3fn");
  CHECK(j["results"][0]["rounding"] == "rne");
  CHECK(j["results"][1]["rounding"] == "sr");
  CHECK(j["results"][2]["format"] == "mxfp4");
  CHECK(j["results"][2]["scaling"] == "block:32:e8m0fnu:floor");
}

// The library's figures for the fixture, one step at a time, as the CLI's contract says: step
// file k (sorted) uses stream k; tensor t's element i uses index offset(t) + i.
std::vector<ShrinkageSummary> LibrarySteps(const std::string& format, const QuantizeOptions& q,
                                           bool scaled_path) {
  StatusOr<ScaledFormat> sf = ResolveScaledFormat(format);
  REQUIRE(sf.ok());
  std::vector<ShrinkageSummary> out;
  const std::vector<std::string> files = {"step_1.safetensors", "step_2.safetensors",
                                          "step_10.safetensors"};
  for (size_t k = 0; k < files.size(); ++k) {
    StatusOr<TensorFile> f = OpenTensorFile(CliFixture("grads/" + files[k]));
    REQUIRE(f.ok());
    ShrinkageStats model(SumPath::kExact);
    uint64_t offset = 0;
    for (size_t t = 0; t < f->size(); ++t) {
      StatusOr<TensorView> v = f->Load(t);
      REQUIRE(v.ok());
      StatusOr<std::vector<float>> g = ToFloat32(*v);
      REQUIRE(g.ok());
      TensorOptions o;
      o.quantize = q;
      o.quantize.stream = static_cast<uint32_t>(k);
      o.quantize.index_offset = offset;
      offset += v->numel;
      if (!scaled_path) {
        AnalyzeOptions a;
        a.path = SumPath::kExact;
        StatusOr<ShrinkageStats> s = Analyze(sf->format.spec, std::span<const float>(*g), o, a);
        REQUIRE(s.ok());
        REQUIRE(model.Merge(*s).ok());
      } else {
        std::vector<float> image(g->size());
        REQUIRE(QuantizeScaled(sf->format.spec, sf->scaling, v->shape, *g, image, o).ok());
        ShrinkageStats s(SumPath::kExact);
        // The exact sums do not depend on the class thresholds.
        REQUIRE(s.Accumulate(std::span<const float>(*g), std::span<const float>(image),
                             ClassThresholds::ForFormat(sf->format.spec))
                    .ok());
        REQUIRE(model.Merge(s).ok());
      }
    }
    out.push_back(model.Summarize());
  }
  return out;
}

TEST_CASE("analyze: values equal the library's ShrinkageStats for the same data",
          "[cli][analyze]") {
  const nlohmann::json j =
      AnalyzeJson({"-f", "e4m3fn,e2m1fn,mxfp4", "-r", "rne,sr:4", "--seed", "9", "--sum", "exact"});
  REQUIRE(j["results"].size() == 6);
  const nlohmann::json expected = ReadJson(CliFixture("expected.json"))["grads"];
  for (const auto& r : j["results"]) {
    const std::string format = r["format"];
    const std::string rounding = r["rounding"];
    INFO(format << " " << rounding);
    QuantizeOptions q;
    StatusOr<Rounding> rd = ParseRounding(rounding);
    REQUIRE(rd.ok());
    q.rounding = *rd;
    q.seed = 9;
    const std::vector<ShrinkageSummary> lib = LibrarySteps(format, q, format == "mxfp4");
    std::vector<StepRecord> records;
    for (size_t k = 0; k < lib.size(); ++k) {
      const auto& s = r["steps"][k];
      const double alpha = expected["lr"][std::to_string(s["step"].get<int>())].get<double>();
      CHECK(s["alpha"].get<double>() == alpha);
      CHECK(s["q"].get<double>() == lib[k].q_hat);
      CHECK(s["one_minus_q"].get<double>() == lib[k].deficit);
      CHECK(s["rho"].get<double>() == lib[k].rho_hat);
      CHECK(s["eps_norm2"].get<double>() == lib[k].residual_sq);
      CHECK(s["grad_norm2"].get<double>() == lib[k].s_gg);
      if (format != "mxfp4") {
        CHECK(s["flushed_fraction"].get<double>() == lib[k].flushed_count_fraction);
        CHECK(s["saturated_fraction"].get<double>() == lib[k].saturated_count_fraction);
      }
      records.push_back(MakeStepRecord(s["step"].get<int64_t>(), alpha, lib[k]));
    }
    // The summary over steps is the library's SummarizeSteps of those records.
    const StepSummary sum = SummarizeSteps(records);
    const auto& sm = r["summary"];
    CHECK(Num(sm["q_min"]) == sum.q_min);
    CHECK(sm["q_min_step"].get<int64_t>() == sum.q_min_step);
    CHECK(Num(sm["q_max"]) == sum.q_max);
    CHECK(Num(sm["q_mean"]) == sum.q_mean);
    CHECK(Num(sm["q_mean_weighted"]) == sum.q_weighted_mean);
    CHECK(Num(sm["rho_max"]) == sum.delta_max);
    CHECK(Num(sm["sigma0_sq_max"]) == sum.sigma0_sq_max);
    // alpha differs between steps (lr 0.1 then 0.05), so the weighted mean is not the plain one.
    CHECK(Num(sm["q_mean_weighted"]) != Num(sm["q_mean"]));
  }
}

TEST_CASE("analyze: MX elements are classified against their own block's scale", "[cli][analyze]") {
  // An independent count: OCP MX v1.0 §6.3 scale X = 2^(floor(log2 amax) - emax_elem) per block of
  // 32 along the last axis (emax = 2 for E2M1, max 6); an element saturates when |g| > 6 X (it is
  // clamped to 6 X) and is flushed when Q = 0 != g. The CLI's per-step fractions must be exactly
  // these counts over the step's elements (the thresholds of one global scale would differ).
  const nlohmann::json j = AnalyzeJson({"-f", "mxfp4", "-r", "rne"});
  const std::vector<std::string> files = {"step_1.safetensors", "step_2.safetensors",
                                          "step_10.safetensors"};
  StatusOr<ScaledFormat> sf = ResolveScaledFormat("mxfp4");
  REQUIRE(sf.ok());
  uint64_t total_saturated = 0, total_flushed = 0;
  for (size_t k = 0; k < files.size(); ++k) {
    StatusOr<TensorFile> f = OpenTensorFile(CliFixture("grads/" + files[k]));
    REQUIRE(f.ok());
    uint64_t n = 0, saturated = 0, flushed = 0;
    for (size_t t = 0; t < f->size(); ++t) {
      StatusOr<TensorView> v = f->Load(t);
      REQUIRE(v.ok());
      StatusOr<std::vector<float>> g = ToFloat32(*v);
      REQUIRE(g.ok());
      std::vector<float> image(g->size());
      REQUIRE(
          QuantizeScaled(sf->format.spec, sf->scaling, v->shape, *g, image, TensorOptions{}).ok());
      const size_t len = v->shape.empty() ? 1 : static_cast<size_t>(v->shape.back());
      for (size_t row = 0; row * len < g->size(); ++row) {
        for (size_t b0 = 0; b0 < len; b0 += 32) {
          const size_t b1 = std::min(len, b0 + 32);
          double amax = 0;
          for (size_t i = b0; i < b1; ++i)
            amax = std::max(amax, std::fabs(double{(*g)[row * len + i]}));
          int e = 0;
          std::frexp(amax, &e);  // amax = m 2^e, m in [0.5, 1): floor(log2 amax) = e - 1
          const double x = std::ldexp(1.0, e - 1 - 2);
          for (size_t i = b0; i < b1; ++i) {
            const double gi = (*g)[row * len + i];
            const double qi = image[row * len + i];
            if (gi != 0 && qi == 0) ++flushed;
            if (amax > 0 && qi != 0 && std::fabs(gi) > 6 * x) ++saturated;
          }
        }
      }
      n += g->size();
    }
    const auto& s = j["results"][0]["steps"][k];
    INFO(files[k] << ": " << n << " elements, " << saturated << " saturated, " << flushed
                  << " flushed");
    CHECK(s["saturated_fraction"].get<double>() == static_cast<double>(saturated) / n);
    CHECK(s["flushed_fraction"].get<double>() == static_cast<double>(flushed) / n);
    total_saturated += saturated;
    total_flushed += flushed;
  }
  // The fixture exercises both classes (else the check above could not fail).
  CHECK(total_saturated > 0);
  CHECK(total_flushed > 0);
}

TEST_CASE("analyze: npz step files from numpy, no lr metadata", "[cli][analyze]") {
  const std::string path = ScratchDir() + "/npz.json";
  const CliResult r =
      RunCli({"analyze", CliFixture("grads_npz") + "/step_*.npz", "-f", "bf16", "--json", path});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const nlohmann::json j = ReadJson(path);
  const auto& steps = j["results"][0]["steps"];
  REQUIRE(steps.size() == 2);
  CHECK(steps[0]["step"] == 3);
  CHECK(steps[1]["step"] == 20);
  CHECK(steps[0]["alpha"] == 1.0);
  CHECK(j["results"][0]["summary"]["alpha_source"] == "1 (no lr metadata)");
  CHECK(steps[0]["tensors"][0]["name"].get<std::string>().rfind("['params']", 0) == 0);
  // The readable table names the format and the step of q_min.
  const CliResult t = RunCli({"analyze", CliFixture("grads_npz"), "-f", "bf16,e5m2"});
  CHECK(t.exit_code == 0);
  CHECK(t.out.find("bf16") != std::string::npos);
  CHECK(t.out.find("e5m2") != std::string::npos);
  CHECK(t.out.find("(step ") != std::string::npos);
}

TEST_CASE("analyze --plot writes SVG figures that parse as XML", "[cli][analyze]") {
  const std::string dir = ScratchSubdir("analyze_plots") + "/figs";  // created by the command
  const CliResult r =
      RunCli({"analyze", CliFixture("grads"), "-f", "e4m3fn,e5m2,mxfp4", "--plot", dir});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  for (const char* name :
       {"q_steps.svg", "one_minus_q_steps.svg", "q_hist.svg", "fractions.svg", "ratio_hist.svg"}) {
    INFO(name);
    const std::string text = ReadFileText(dir + "/" + name);
    REQUIRE(!text.empty());
    const SvgInfo svg = ParseSvg(text);
    INFO(svg.error);
    CHECK(svg.well_formed);
    CHECK(svg.root == "svg");
    CHECK(svg.series >= 3);  // one per format at least
    CHECK(SvgHasText(svg, "e4m3fn"));
    CHECK(SvgHasText(svg, "mxfp4"));
  }
  CHECK(HiddenFiles(dir).empty());
}

TEST_CASE("analyze --csv and --jsonl: one record per step and tensor", "[cli][analyze]") {
  const std::string csv = ScratchDir() + "/a.csv";
  const std::string jsonl = ScratchDir() + "/a.jsonl";
  const CliResult r =
      RunCli({"analyze", CliFixture("grads"), "-f", "e4m3fn,e5m2", "--csv", csv, "--jsonl", jsonl});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const size_t per_step = 1 + 4;  // the model-level record plus 4 tensors
  const std::vector<std::string> rows = Lines(ReadFileText(csv));
  CHECK(rows.size() == 1 + 2 * 3 * per_step);
  CHECK(rows[0].rfind("format,rounding,overflow,scaling,step,", 0) == 0);
  const std::vector<std::string> lines = Lines(ReadFileText(jsonl));
  REQUIRE(lines.size() == 2 * 3 * per_step);
  const nlohmann::json first = nlohmann::json::parse(lines[0]);
  CHECK(first["tensor"].is_null());
  CHECK(first["step"] == 1);
  CHECK(nlohmann::json::parse(lines[1])["tensor"].is_string());
}

TEST_CASE("analyze --fail-if gates exit 3 and say why", "[cli][analyze]") {
  CliResult r =
      RunCli({"analyze", CliFixture("grads"), "-f", "e4m3fn,e2m1fn", "--fail-if", "q_min<0.9"});
  CHECK(r.exit_code == 3);
  CHECK(IsOneErrorLine(r.err));
  CHECK(r.err.find("e2m1fn") != std::string::npos);
  CHECK(r.err.find("q_min") != std::string::npos);
  CHECK(r.err.find("e4m3fn") == std::string::npos);  // e4m3fn passes the gate
  CHECK(r.out.find("q_min") != std::string::npos);   // the report is still printed

  r = RunCli(
      {"analyze", CliFixture("grads"), "-f", "e4m3fn", "--fail-if", "q_min<0.5, flushed_max>0.5"});
  CHECK(r.exit_code == 0);
  CHECK(r.err.empty());

  for (const char* bad : {"q_min", "q_min<<1", "nosuch<1", "q_min<abc"}) {
    INFO(bad);
    r = RunCli({"analyze", CliFixture("grads"), "-f", "e4m3fn", "--fail-if", bad});
    CHECK(r.exit_code == 2);
    CHECK(IsOneErrorLine(r.err));
    CHECK(r.out.empty());
  }
}

TEST_CASE("analyze --progress: drawn on stderr only when asked or on a terminal",
          "[cli][analyze]") {
  CliResult r = RunCli({"analyze", CliFixture("grads"), "-f", "e4m3fn", "--progress", "always"});
  CHECK(r.exit_code == 0);
  CHECK(r.err.find("analyze") != std::string::npos);
  CHECK(r.err.find("steps") != std::string::npos);
  r = RunCli({"analyze", CliFixture("grads"), "-f", "e4m3fn"});  // stderr is a file here
  CHECK(r.exit_code == 0);
  CHECK(r.err.empty());
  r = RunCli({"analyze", CliFixture("grads"), "-f", "e4m3fn", "--progress", "sometimes"});
  CHECK(r.exit_code == 2);
}

TEST_CASE("analyze: bad inputs exit 1 or 2 with one line naming the input", "[cli][analyze]") {
  struct Case {
    std::vector<std::string> args;
    int exit_code;
    std::string mentions;
  };
  const std::string dir = ScratchSubdir("analyze_bad");
  const std::string empty_dir = ScratchSubdir("analyze_empty");
  WriteScratchFile("analyze_bad/step_1.safetensors", "not a safetensors file at all");
  const std::vector<Case> cases = {
      {{"analyze", dir + "/nothing_here", "-f", "e4m3fn"}, 1, "nothing_here"},
      {{"analyze", empty_dir, "-f", "e4m3fn"}, 1, "analyze_empty"},
      {{"analyze", dir + "/*.npz", "-f", "e4m3fn"}, 1, "*.npz"},
      {{"analyze", dir, "-f", "e4m3fn"}, 1, "step_1.safetensors"},
      {{"analyze", CliFixture("grads"), "-f", "e4m3fn,bogus"}, 2, "bogus"},
      {{"analyze", CliFixture("grads"), "-f", "e4m3fn", "-r", "rne,up"}, 2, "up"},
      {{"analyze", CliFixture("grads"), "-f", "e4m3fn", "--scaling", "tensor,block:7"},
       2,
       "block:7"},
      {{"analyze", CliFixture("grads"), "-f", "e4m3fn", "--tensors", "nomatch*"}, 1, "nomatch*"},
      {{"analyze", CliFixture("grads"), "-f", "e4m3fn", "--sum", "slow"}, 2, "slow"},
      {{"analyze", CliFixture("grads"), "-f", "e4m3fn", "--json", "-", "--csv", "-"}, 2, "-"},
  };
  for (const Case& c : cases) {
    const CliResult r = RunCli(c.args);
    INFO(c.args[1] << ": " << r.err);
    CHECK(r.exit_code == c.exit_code);
    CHECK(IsOneErrorLine(r.err));
    CHECK(r.err.find(c.mentions) != std::string::npos);
    CHECK(r.out.empty());
  }
}

}  // namespace
}  // namespace qfloat::cli_test
