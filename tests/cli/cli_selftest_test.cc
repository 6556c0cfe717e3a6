// qfloat selftest: a sampled sweep prints its table and total and exits 0; a user format file
// works; bad options are usage errors (exit 2, one stderr line); an unavailable backend exits 1.
// (The full 2^32 sweeps run in tests/simd under the `exhaustive` label.)
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "run_cli.h"

namespace qfloat::cli_test {
namespace {

TEST_CASE("qfloat selftest: a sampled sweep reports inputs, mismatches and a total", "[cli]") {
  const CliResult r = RunCli({"selftest", "-f", "e4m3fn,posit8_2", "-r", "rne,sr:8", "--overflow",
                              "sat-finite", "--sample", "12", "--boundaries"});
  INFO(r.out << r.err);
  CHECK(r.exit_code == 0);
  CHECK(r.err.empty());
  const std::vector<std::string> lines = Lines(r.out);
  REQUIRE(lines.size() >= 6);
  CHECK(lines[0].find("mismatches") != std::string::npos);
  size_t rows = 0;
  for (const std::string& line : lines) {
    if (line.rfind("e4m3fn", 0) == 0 || line.rfind("posit8_2", 0) == 0) {
      ++rows;
      CHECK(line.find("sat-finite") != std::string::npos);
      CHECK(line.find("simd") != std::string::npos);
    }
  }
  CHECK(rows == 4);
  CHECK(lines.back().find("0 mismatches") != std::string::npos);
  CHECK(lines.back().rfind("total: ", 0) == 0);
}

TEST_CASE("qfloat selftest: all modes and policies of a user format file", "[cli]") {
  const std::string path =
      WriteScratchFile("e3m3.toml",
                       "name = \"e3m3\"\nkind = \"minifloat\"\nbits = 7\nexponent_bits = 3\n"
                       "mantissa_bits = 3\nspecials = \"fnuz\"\n");
  const CliResult r =
      RunCli({"selftest", "-f", path, "-r", "all", "--overflow", "all", "--sample", "10"});
  INFO(r.out << r.err);
  CHECK(r.exit_code == 0);
  size_t rows = 0;
  for (const std::string& line : Lines(r.out)) rows += line.rfind("e3m3 ", 0) == 0;
  CHECK(rows == 30);
}

TEST_CASE("qfloat selftest: bad options are usage errors", "[cli]") {
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"selftest", "--sample", "40"},
        std::vector<std::string>{"selftest", "--sample", "-1"},
        std::vector<std::string>{"selftest", "--exhaustive", "--sample", "8"},
        std::vector<std::string>{"selftest", "-f", "no_such_format", "--sample", "4"},
        std::vector<std::string>{"selftest", "-r", "sr:99", "--sample", "4"},
        std::vector<std::string>{"selftest", "--overflow", "wrap", "--sample", "4"},
        std::vector<std::string>{"selftest", "--backend", "gpu", "--sample", "4"},
        std::vector<std::string>{"selftest", "--threads", "-3", "--sample", "4"}}) {
    const CliResult r = RunCli(args);
    INFO(args[1] << " " << args[2] << ": " << r.err);
    CHECK(r.exit_code == 2);
    CHECK(IsOneErrorLine(r.err));
    CHECK(r.out.empty());
  }
}

TEST_CASE("qfloat selftest: an unavailable backend exits 1", "[cli]") {
  const CliResult r = RunCli({"selftest", "-f", "e4m3fn", "--backend", "cuda", "--sample", "4"});
  if (r.exit_code == 0) return;  // a CUDA build with a device: nothing to check here
  CHECK(r.exit_code == 1);
  CHECK(IsOneErrorLine(r.err));
  CHECK(r.err.find("cuda") != std::string::npos);
}

}  // namespace
}  // namespace qfloat::cli_test
