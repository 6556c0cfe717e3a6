// qfloat formats show on block presets (mxfp4, mxint8, nvfp4): the block section of issue 5.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <string>

#include "run_cli.h"

namespace qfloat::cli_test {
namespace {

TEST_CASE("formats show describes a block format", "[cli][scaling]") {
  const CliResult r = RunCli({"formats", "show", "mxfp4"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find("block format") != std::string::npos);
  CHECK(r.out.find("block:32:e8m0fnu:floor") != std::string::npos);
  CHECK(r.out.find("32 elements along axis -1") != std::string::npos);
  CHECK(r.out.find("bits per element  4.25") != std::string::npos);
  CHECK(r.out.find("6 x 2^127") != std::string::npos);

  const CliResult j = RunCli({"formats", "show", "mxint8", "--json"});
  REQUIRE(j.exit_code == 0);
  const nlohmann::json doc = nlohmann::json::parse(j.out, nullptr, false);
  REQUIRE(doc.contains("block"));
  CHECK(doc["block"]["element codes"] == "two's complement");
  CHECK(doc["block"]["emax_elem"] == "0");
  CHECK(doc["element"] == "int8_mx");

  const CliResult n = RunCli({"formats", "show", "nvfp4_torchao"});
  REQUIRE(n.exit_code == 0);
  CHECK(n.out.find("torchao op order") != std::string::npos);
  CHECK(n.out.find("e4m3fn") != std::string::npos);
}

}  // namespace
}  // namespace qfloat::cli_test
