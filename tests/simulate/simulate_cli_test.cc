// `qfloat simulate` end to end: a tiny run through the CLI produces valid JSON, a constants file
// that `predict --constants` reads, SVG figures, and one-line usage errors.
#include <catch2/catch.hpp>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "run_cli.h"

namespace qfloat::cli_test {
namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream f(path);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

TEST_CASE("simulate: a tiny run writes JSON and constants and plots") {
  const std::string dir = ScratchDir();
  const CliResult r = RunCli({"simulate",
                              "--problem",
                              "logreg",
                              "--samples",
                              "120",
                              "-f",
                              "bf16,e2m1fn,e4m3fn+tensor@sr",
                              "--steps",
                              "300",
                              "--seeds",
                              "3",
                              "--bootstrap",
                              "50",
                              "--json",
                              dir + "/sim.json",
                              "--constants-out",
                              dir + "/constants.json",
                              "--plot",
                              dir + "/plots",
                              "--markdown",
                              dir + "/sim.md",
                              "--progress",
                              "never"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find("constants L = ") != std::string::npos);
  CHECK(r.out.find("e4m3fn+tensor@sr") != std::string::npos);
  const nlohmann::json j = nlohmann::json::parse(ReadFile(dir + "/sim.json"));
  CHECK(j["command"] == "simulate");
  CHECK(j["problem"] == "logreg");
  CHECK(j["samples"] == 120);
  REQUIRE(j["results"].size() == 4);  // fp64 baseline + 3
  CHECK(j["results"][0]["label"] == "fp64");
  CHECK(j["results"][2]["label"] == "e2m1fn");
  CHECK(j["results"][3]["null_control"] == true);
  CHECK(j["grid"].size() == j["results"][1]["curves"]["mean"].size());
  for (const char* key : {"L", "c", "M", "M_V", "M_G", "mu", "mu_G", "Delta1"}) {
    CHECK(j["constants"].contains(key));
  }
  const nlohmann::json c = nlohmann::json::parse(ReadFile(dir + "/constants.json"));
  CHECK(c["L"].get<double>() == j["constants"]["L"].get<double>());
  CHECK(ReadFile(dir + "/plots/curves.svg").find("<svg") != std::string::npos);
  CHECK(ReadFile(dir + "/plots/bounds.svg").find("<svg") != std::string::npos);
  CHECK(ReadFile(dir + "/sim.md").find("| quantizer") != std::string::npos);
}

TEST_CASE("simulate: full batch on least squares with the diminishing schedule") {
  const CliResult r = RunCli({"simulate", "--problem", "lsq", "-f", "fp16", "--batch", "full",
                              "--steps", "200", "--seeds", "1", "--bootstrap", "0", "--schedule",
                              "diminishing", "--progress", "never"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find("diminishing:beta=") != std::string::npos);
}

TEST_CASE("simulate: usage errors are one line and exit 2") {
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"simulate", "--problem", "ridge", "-f", "bf16"},
        std::vector<std::string>{"simulate", "-f", "nosuchformat"},
        std::vector<std::string>{"simulate", "-f", "bf16", "--batch", "0"},
        std::vector<std::string>{"simulate", "-f", "bf16", "--schedule", "cosine"},
        std::vector<std::string>{"simulate", "-f", "bf16", "--dataset", "iris"},
        std::vector<std::string>{"simulate", "--problem", "lsq", "--dataset", "digits", "-f",
                                 "bf16"}}) {
    const CliResult r = RunCli(args);
    INFO(args[2] + " " + r.err);
    CHECK(r.exit_code == 2);
    CHECK(IsOneErrorLine(r.err));
    CHECK(r.out.empty());
  }
}

}  // namespace
}  // namespace qfloat::cli_test
