// The qfloat command's skeleton: help, version, exit codes and the one-line error contract.
#include <catch2/catch.hpp>

#include "run_cli.h"

namespace qfloat::cli_test {
namespace {

TEST_CASE("qfloat --help exits 0 and lists every command", "[cli]") {
  const CliResult r = RunCli({"--help"});
  CHECK(r.exit_code == 0);
  CHECK(r.err.empty());
  for (const char* command : {"formats", "encode", "decode"}) {
    INFO(command);
    CHECK(r.out.find(command) != std::string::npos);
  }
  CHECK(r.out.find("Exit codes") != std::string::npos);
}

TEST_CASE("qfloat <command> --help exits 0 with that command's options", "[cli]") {
  CliResult r = RunCli({"encode", "--help"});
  CHECK(r.exit_code == 0);
  CHECK(r.out.find("--rounding") != std::string::npos);
  CHECK(r.out.find("--input-type") != std::string::npos);
  r = RunCli({"formats", "show", "--help"});
  CHECK(r.exit_code == 0);
  CHECK(r.out.find("--json") != std::string::npos);
}

TEST_CASE("qfloat --version prints the project version", "[cli]") {
  const CliResult r = RunCli({"--version"});
  CHECK(r.exit_code == 0);
  CHECK(r.out.rfind(std::string("qfloat ") + QFLOAT_EXPECTED_VERSION, 0) == 0);
  CHECK(r.out.find("scalar") != std::string::npos);  // the scalar backend is always there
}

TEST_CASE("qfloat without a command is a usage error", "[cli]") {
  const CliResult r = RunCli({});
  CHECK(r.exit_code == 2);
  CHECK(IsOneErrorLine(r.err));
  CHECK(r.err.find("encode") != std::string::npos);  // it lists the commands
  CHECK(r.out.empty());
}

TEST_CASE("unknown commands and options are usage errors naming them", "[cli]") {
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"frobnicate"}, std::vector<std::string>{"--bogus"},
        std::vector<std::string>{"encode", "-f", "e4m3fn", "--bogus"},
        std::vector<std::string>{"formats", "--bogus"}}) {
    const CliResult r = RunCli(args);
    INFO(args.back() << ": " << r.err);
    CHECK(r.exit_code == 2);
    CHECK(IsOneErrorLine(r.err));
    CHECK(r.err.find(args.back()) != std::string::npos);
  }
}

TEST_CASE("a missing required option is a usage error naming it", "[cli]") {
  CliResult r = RunCli({"encode"});
  CHECK(r.exit_code == 2);
  CHECK(IsOneErrorLine(r.err));
  CHECK(r.err.find("--format") != std::string::npos);
  r = RunCli({"formats", "show"});
  CHECK(r.exit_code == 2);
  CHECK(IsOneErrorLine(r.err));
}

}  // namespace
}  // namespace qfloat::cli_test
