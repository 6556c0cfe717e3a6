// qfloat verify against a third-party quantizer's files (tests/data/cli, written by
// scripts/make_cli_fixtures.py with ml_dtypes, numpy and safetensors.torch): an identical output
// exits 0; a perturbed copy exits 3 and every perturbation lands in its mismatch class.
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "cli_files.h"
#include "run_cli.h"

namespace qfloat::cli_test {
namespace {

nlohmann::json VerifyJson(const std::vector<std::string>& args, int expected_exit) {
  std::vector<std::string> full = {"verify"};
  full.insert(full.end(), args.begin(), args.end());
  full.push_back("--json");
  const CliResult r = RunCli(full);
  INFO(r.err);
  REQUIRE(r.exit_code == expected_exit);
  CHECK(r.err.empty());
  return nlohmann::json::parse(r.out);
}

TEST_CASE("verify: ml_dtypes' e4m3fn cast and a numpy MXFP4 reference match bit for bit",
          "[cli][verify]") {
  const std::string in = CliFixture("verify_in.safetensors");
  const std::string good = CliFixture("verify_good.safetensors");
  nlohmann::json j = VerifyJson({in, good, "-f", "e4m3fn", "--tensors", "x"}, 0);
  CHECK(j["match"] == true);
  CHECK(j["mismatches"] == 0);
  CHECK(j["elements"] == 96);
  CHECK(j["tensors"][0]["mode"] == "codes");

  j = VerifyJson({in, good, "-f", "mxfp4", "--tensors", "m"}, 0);
  CHECK(j["match"] == true);
  CHECK(j["tensors"][0]["scales"] == "compared");
  CHECK(j["tensors"][0]["scales_compared"] == 4);
  CHECK(j["tensors"][0]["scales_mismatched"] == 0);

  // The readable report says so, and exits 0.
  const CliResult r = RunCli({"verify", in, good, "-f", "e4m3fn", "--tensors", "x"});
  CHECK(r.exit_code == 0);
  CHECK(r.out.find("match: all 96 elements agree bit for bit") != std::string::npos);
}

TEST_CASE("verify: each perturbation is explained by its class", "[cli][verify]") {
  const nlohmann::json expected = ReadJson(CliFixture("expected.json"))["verify_bad"];
  const std::string in = CliFixture("verify_in.safetensors");
  const std::string bad = CliFixture("verify_bad.safetensors");

  nlohmann::json j = VerifyJson({in, bad, "-f", "e4m3fn", "--tensors", "x", "--examples", "20"}, 3);
  CHECK(j["match"] == false);
  CHECK(j["mismatches"] == expected["x_mismatches"]);
  CHECK(j["classes"]["tie"] == expected["tie"]);
  CHECK(j["classes"]["nan"] == expected["nan"]);
  CHECK(j["classes"]["overflow"] == expected["overflow"]);
  CHECK(j["classes"]["subnormal"] == expected["subnormal"]);
  CHECK(j["classes"]["other"] == 0);
  // Examples name the index, and give input/expected/actual in hex.
  const nlohmann::json& idx = expected["indices"];
  bool saw_tie = false, saw_nan = false;
  for (const auto& e : j["examples"]) {
    if (e["index"] == idx["tie_a"]) {
      saw_tie = true;
      CHECK(e["class"] == "tie");
      CHECK(e["input_hex"] == "3f880000");  // 1.0625f
      CHECK(e["expected_hex"] == "38");
      CHECK(e["actual_hex"] == "39");
    }
    if (e["index"] == idx["nan_pos"]) {
      saw_nan = true;
      CHECK(e["class"] == "nan");
      CHECK(e["expected_hex"] == "7f");
      CHECK(e["actual_hex"] == "ff");
    }
  }
  CHECK(saw_tie);
  CHECK(saw_nan);

  j = VerifyJson({in, bad, "-f", "mxfp4", "--tensors", "m"}, 3);
  CHECK(j["mismatches"] == expected["m_mismatches"]);
  CHECK(j["classes"]["scale_off_by_one"] == expected["scale_off_by_one"]);
  CHECK(j["tensors"][0]["scales_off_by_one"] == expected["m_scales_off_by_one"]);

  // Both tensors at once: the per-tensor formats differ, so run e4m3fn over x only and check the
  // text report's class table and exit code.
  const CliResult r = RunCli({"verify", in, bad, "-f", "e4m3fn", "--tensors", "x"});
  CHECK(r.exit_code == 3);
  CHECK(r.out.find("MISMATCH: 6 of 96 elements differ") != std::string::npos);
  for (const char* cls : {"tie", "nan", "overflow", "subnormal boundary"}) {
    CHECK(r.out.find(cls) != std::string::npos);
  }
}

TEST_CASE("verify: dequantized values (np.save) are compared exactly", "[cli][verify]") {
  const nlohmann::json expected = ReadJson(CliFixture("expected.json"))["verify_values"];
  // One tensor each side: matched by position although the names differ.
  const nlohmann::json j =
      VerifyJson({CliFixture("verify_in.safetensors"), CliFixture("verify_values.npy"), "-f",
                  "e4m3fn", "--tensors", "x"},
                 3);
  CHECK(j["tensors"][0]["mode"] == "values");
  CHECK(j["tensors"][0]["codes_tensor"] == "verify_values");
  CHECK(j["mismatches"] == expected["mismatches"]);
  CHECK(j["classes"]["nan"] == expected["nan"]);
}

TEST_CASE("verify: qfloat's own quantize output verifies, other settings do not", "[cli][verify]") {
  const std::string dir = ScratchSubdir("verify_self");
  const std::string in = IoFixture("compressed.npz");
  for (const char* format : {"mxfp4", "nvfp4", "e5m2"}) {
    INFO(format);
    const std::string packed = dir + "/" + format + ".safetensors";
    const std::string fake = dir + "/" + format + "_fake.safetensors";
    REQUIRE(RunCli({"quantize", in, packed, "-f", format, "--packed", "-q"}).exit_code == 0);
    REQUIRE(RunCli({"quantize", in, fake, "-f", format, "-q"}).exit_code == 0);
    CHECK(VerifyJson({in, packed, "-f", format}, 0)["match"] == true);
    CHECK(VerifyJson({in, fake, "-f", format}, 0)["match"] == true);
  }
  // A different block rule: every mismatch is a scale off by one.
  nlohmann::json j =
      VerifyJson({in, dir + "/mxfp4.safetensors", "-f", "mxfp4", "--scaling", "ceil"}, 3);
  CHECK(j["classes"]["scale_off_by_one"] == j["mismatches"]);
  j = VerifyJson({in, dir + "/mxfp4_fake.safetensors", "-f", "mxfp4", "--scaling", "ceil"}, 3);
  CHECK(j["classes"]["scale_off_by_one"] == j["mismatches"]);

  // Stochastic rounding with another seed: the other neighbour, element by element.
  const std::string sr = dir + "/sr.safetensors";
  REQUIRE(RunCli({"quantize", in, sr, "-f", "e4m3fn", "-r", "sr", "--seed", "1", "--packed", "-q"})
              .exit_code == 0);
  CHECK(VerifyJson({in, sr, "-f", "e4m3fn", "-r", "sr", "--seed", "1"}, 0)["match"] == true);
  j = VerifyJson({in, sr, "-f", "e4m3fn", "-r", "sr", "--seed", "2"}, 3);
  CHECK(j["mismatches"].get<int>() > 100);
  CHECK(j["classes"]["stochastic"] == j["mismatches"]);
}

TEST_CASE("verify: bad inputs exit 1 or 2 with one line naming the input", "[cli][verify]") {
  const std::string in = CliFixture("verify_in.safetensors");
  struct Case {
    std::vector<std::string> args;
    int exit_code;
    std::string mentions;
  };
  const std::vector<Case> cases = {
      {{"verify", in, IoFixture("nothere.safetensors"), "-f", "e4m3fn"}, 1, "nothere"},
      {{"verify", in, CliFixture("verify_good.safetensors"), "-f", "e4m3fn", "--tensors", "zz"},
       2,
       "zz"},
      // 'x' (96 elements) against a file whose only tensor has 12.
      {{"verify", in, IoFixture("f4.npy"), "-f", "e4m3fn", "--tensors", "x"}, 1, "f4"},
      // Two input tensors, no tensor 'x' in CODES.
      {{"verify", in, IoFixture("numpy.safetensors"), "-f", "e4m3fn"}, 1, "no tensor"},
      {{"verify", in, CliFixture("verify_good.safetensors"), "-f", "e4m3fn", "--overflow", "wrap"},
       2,
       "wrap"},
      {{"verify", in, CliFixture("verify_good.safetensors"), "-f", "e4m3fn", "--examples", "-1"},
       2,
       "--examples"},
  };
  for (const Case& c : cases) {
    const CliResult r = RunCli(c.args);
    INFO(c.args[2] << ": " << r.err);
    CHECK(r.exit_code == c.exit_code);
    CHECK(IsOneErrorLine(r.err));
    CHECK(r.err.find(c.mentions) != std::string::npos);
  }
}

}  // namespace
}  // namespace qfloat::cli_test
