// qfloat formats [--json] and qfloat formats show F [--json].
#include <bit>
#include <catch2/catch.hpp>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "qfloat/format.h"
#include "qfloat/scalar.h"
#include "run_cli.h"

namespace qfloat::cli_test {
namespace {

using Json = nlohmann::json;

Json RunJson(const std::vector<std::string>& args) {
  const CliResult r = RunCli(args);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  REQUIRE(r.err.empty());
  Json j = Json::parse(r.out, nullptr, /*allow_exceptions=*/false);
  REQUIRE(!j.is_discarded());
  return j;
}

// Rows of the code listing of `formats show`: "<hex>  <value>  <class>", split into their three
// fields. (No std::regex: GCC 12 warns inside it under the sanitizers.)
using Row = std::vector<std::string>;
std::vector<Row> CodeRows(const std::string& out) {
  static const std::set<std::string> kClasses = {"zero", "subnormal", "normal",
                                                 "inf",  "nan",       "nar"};
  std::vector<Row> rows;
  for (const std::string& line : Lines(out)) {
    std::istringstream in(line);
    Row fields;
    for (std::string field; in >> field;) fields.push_back(field);
    if (fields.size() != 3 || kClasses.count(fields[2]) == 0) continue;
    if (fields[0].find_first_not_of("0123456789abcdef") != std::string::npos) continue;
    if (line.back() == ' ' || line.front() == ' ') continue;
    rows.push_back(fields);
  }
  return rows;
}

TEST_CASE("formats --json lists every built-in format", "[cli]") {
  const Json j = RunJson({"formats", "--json"});
  REQUIRE(j.contains("formats"));
  const Json& list = j["formats"];
  REQUIRE(list.is_array());
  CHECK(list.size() >= 27);
  CHECK(list.size() == BuiltinFormats().size());
  std::set<std::string> names;
  for (const Json& f : list) {
    names.insert(f["name"].get<std::string>());
    CHECK(f["bits"].is_number_integer());
    CHECK(f["max"].is_number());
    CHECK((f["min_normal"].is_number() || f["min_normal"].is_null()));
    CHECK(f["descriptor"].is_string());
    CHECK(f["aliases"].is_array());
  }
  for (const char* want :
       {"e4m3fn",    "e5m2",      "e4m3fnuz",  "e5m2fnuz",  "e4m3b11fnuz", "e3m4",      "e4m3",
        "e2m3fn",    "e3m2fn",    "e2m1fn",    "e8m0fnu",   "fp16",        "bf16",      "posit8_0",
        "posit8_1",  "posit8_2",  "posit16_1", "posit16_2", "posit32_2",   "binary8p1", "binary8p2",
        "binary8p3", "binary8p4", "binary8p5", "binary8p6", "binary8p7"}) {
    INFO(want);
    CHECK(names.count(want) == 1);
  }
  for (const Json& f : list) {
    if (f["name"] == "e4m3fn") {
      CHECK(f["max"].get<double>() == 448.0);
      CHECK(f["min_normal"].get<double>() == 0.015625);
      CHECK(f["min_subnormal"].get<double>() == 0.001953125);
      CHECK(f["kind"] == "minifloat");
      CHECK(f["descriptor"] == DescribeSpec(ResolveFormat("e4m3fn")->spec));
    }
    if (f["name"] == "posit8_2") {
      CHECK(f["kind"] == "posit");
      CHECK(f["min_subnormal"].is_null());
      CHECK(f["max"].get<double>() == 16777216.0);
    }
    if (f["name"] == "e8m0fnu") CHECK(f["min_subnormal"].is_null());
  }
}

TEST_CASE("formats prints an aligned table with one row per format", "[cli]") {
  const CliResult r = RunCli({"formats"});
  REQUIRE(r.exit_code == 0);
  const std::vector<std::string> lines = Lines(r.out);
  REQUIRE(lines.size() == BuiltinFormats().size() + 1);
  CHECK(lines[0].rfind("name", 0) == 0);
  const size_t descriptor_column = lines[0].find("descriptor");
  REQUIRE(descriptor_column != std::string::npos);
  for (size_t i = 0; i < BuiltinFormats().size(); ++i) {
    const Format& f = BuiltinFormats()[i];
    INFO(lines[i + 1]);
    CHECK(lines[i + 1].rfind(f.name + " ", 0) == 0);
    // Aligned: every row's descriptor starts in the header's column (a block preset's names its
    // element format).
    const std::string descriptor =
        f.element.empty() ? DescribeSpec(f.spec) : f.element + " elements, " + f.scaling;
    CHECK(lines[i + 1].compare(descriptor_column, descriptor.size(), descriptor) == 0);
    CHECK(lines[i + 1].back() != ' ');
  }
}

TEST_CASE("formats show e2m1fn lists its 16 codes", "[cli]") {
  const CliResult r = RunCli({"formats", "show", "e2m1fn"});
  REQUIRE(r.exit_code == 0);
  const std::vector<Row> rows = CodeRows(r.out);
  REQUIRE(rows.size() == 16);
  CHECK(rows[0] == Row{"0", "0", "zero"});
  CHECK(rows[1] == Row{"1", "0.5", "subnormal"});
  CHECK(rows[7] == Row{"7", "6", "normal"});
  CHECK(rows[8] == Row{"8", "-0", "zero"});
  CHECK(rows[15] == Row{"f", "-6", "normal"});
  CHECK(r.out.find("e2m1 bias 1") != std::string::npos);

  const Json j = RunJson({"formats", "show", "e2m1fn", "--json"});
  CHECK(j["name"] == "e2m1fn");
  CHECK(j["range"]["max"].get<double>() == 6.0);
  CHECK(j["range"]["min_positive"].get<double>() == 0.5);
  CHECK(j["range"]["has_nan"] == false);
  CHECK(j["range"]["canonical_nan"].is_null());
  REQUIRE(j["codes"].size() == 16);
  const double values[8] = {0, 0.5, 1, 1.5, 2, 3, 4, 6};
  for (int c = 0; c < 16; ++c) {
    INFO(c);
    CHECK(j["codes"][c]["value"].get<double>() == (c < 8 ? values[c] : -values[c - 8]));
  }
}

TEST_CASE("formats show lists the reference's value and class of every code (<= 16 bits)",
          "[cli]") {
  for (const Format& f : BuiltinFormats()) {
    if (f.spec.bits > 16) continue;
    INFO(f.name);
    const CliResult r = RunCli({"formats", "show", f.name});
    REQUIRE(r.exit_code == 0);
    const std::vector<Row> rows = CodeRows(r.out);
    REQUIRE(rows.size() == (size_t{1} << f.spec.bits));
    size_t mismatches = 0;
    for (uint32_t c = 0; c < rows.size(); ++c) {
      // The code in hex, its value, its class.
      const double v = DecodeScalar(f.spec, c);
      double shown = 0;
      const std::string& text = rows[c][1];
      const bool nan_ok = std::isnan(v) && text.find("nan") != std::string::npos;
      const bool inf_ok = std::isinf(v) && text == (v < 0 ? "-inf" : "inf");
      const bool finite_ok =
          std::isfinite(v) &&
          std::from_chars(text.data(), text.data() + text.size(), shown).ec == std::errc() &&
          std::bit_cast<uint64_t>(shown) == std::bit_cast<uint64_t>(v);
      mismatches += std::stoul(rows[c][0], nullptr, 16) != c || !(nan_ok || inf_ok || finite_ok) ||
                    rows[c][2] != ToString(ClassifyCode(f.spec, c));
    }
    CHECK(mismatches == 0);
  }
}

TEST_CASE("formats show resolves aliases and reports specials", "[cli]") {
  Json j = RunJson({"formats", "show", "float8_e4m3fn", "--json"});
  CHECK(j["name"] == "e4m3fn");
  CHECK(j["range"]["canonical_nan"] == "7f");
  CHECK(j["range"]["has_inf"] == false);
  CHECK(j["range"]["has_negative_zero"] == true);
  REQUIRE(j["codes"].size() == 256);
  CHECK(j["codes"][0x7e]["value"].get<double>() == 448.0);
  CHECK(j["codes"][0x7f]["class"] == "nan");
  CHECK(j["codes"][0x7f]["value"] == "nan");

  j = RunJson({"formats", "show", "e5m2", "--json"});
  CHECK(j["codes"][0x7c]["value"] == "inf");
  CHECK(j["codes"][0x7c]["class"] == "inf");
  CHECK(j["codes"][0xfc]["value"] == "-inf");

  j = RunJson({"formats", "show", "posit8_2", "--json"});
  CHECK(j["codes"][0x80]["class"] == "nar");
  CHECK(j["range"]["canonical_nan"] == "80");
}

TEST_CASE("formats show of a 16-bit format lists 65536 codes; 32-bit ones none", "[cli]") {
  CliResult r = RunCli({"formats", "show", "fp16"});
  REQUIRE(r.exit_code == 0);
  CHECK(CodeRows(r.out).size() == 65536);
  r = RunCli({"formats", "show", "fp32"});
  REQUIRE(r.exit_code == 0);
  CHECK(CodeRows(r.out).empty());
  CHECK(r.out.find("3.4028234663852886e+38") != std::string::npos);
  const Json j = RunJson({"formats", "show", "fp32", "--json"});
  CHECK(!j.contains("codes"));
  CHECK(j["range"]["max"].get<double>() == 3.4028234663852886e+38);
}

TEST_CASE("formats show accepts a user format file and block presets", "[cli]") {
  const std::string path = WriteScratchFile(
      "e3m1_show.toml",
      "name = \"e3m1_user\"\nbits = 5\nexponent_bits = 3\nmantissa_bits = 1\nspecials = \"fn\"\n");
  Json j = RunJson({"formats", "show", path, "--json"});
  CHECK(j["name"] == "e3m1_user");
  CHECK(j["source"] == path);
  CHECK(j["codes"].size() == 32);
  CHECK(j["range"]["max"].get<double>() == 16.0);
  CHECK(j["range"]["canonical_nan"] == "0f");

  const std::string block = WriteScratchFile(
      "mx_show.toml",
      "name = \"mxfp4_user\"\nelement = \"e2m1fn\"\n[block]\nsize = 32\nscale = \"e8m0fnu\"\n"
      "rule = \"floor\"\n");
  const CliResult r = RunCli({"formats", "show", block});
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find("e2m1fn") != std::string::npos);
  CHECK(r.out.find("block:32:e8m0fnu:floor") != std::string::npos);
  CHECK(CodeRows(r.out).size() == 16);
  j = RunJson({"formats", "show", block, "--json"});
  CHECK(j["kind"] == "block");
  CHECK(j["element"] == "e2m1fn");
  CHECK(j["scaling"] == "block:32:e8m0fnu:floor");
}

}  // namespace
}  // namespace qfloat::cli_test
