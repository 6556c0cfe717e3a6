// The golden conformance vectors (tests/data/golden, see its README.md and PROVENANCE.md) through
// the SIMD backend on every compiled Highway target: every encode vector of every file, and
// every decode table. Policies as tests/reference/golden_test.cc reads them:
//   rne = rne + ovf-inf, rne_sat = rne + sat-propagate, trunc = rtz + ovf-inf,
//   trunc_sat = rtz + sat-propagate.
// The SIMD codes must equal the reference's on every vector, and the golden codes on every
// vector of the files the reference matches completely: all but `trunc` (ml_dtypes' truncation
// is not IEEE at overflow) and float8_e8m0fnu rne / rne_sat (ml_dtypes' rounding defects), where
// the reference's own test pins down the documented differences.
#include <zlib.h>

#include <bit>
#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include "common/golden_data.h"
#include "qfloat/format.h"
#include "qfloat/quantize.h"
#include "qfloat/scalar.h"
#include "simd_test_util.h"

namespace qfloat::simd_test {
namespace {

namespace fs = std::filesystem;

const fs::path kGoldenDir = golden::Dir();
using golden::ParseHex;
using golden::ReadRows;

struct Policy {
  RoundingMode mode;
  Overflow overflow;
};

bool PolicyOf(const std::string& name, Policy* p) {
  if (name == "rne")
    *p = {RoundingMode::kNearestEven, Overflow::kInf};
  else if (name == "rne_sat")
    *p = {RoundingMode::kNearestEven, Overflow::kSatPropagate};
  else if (name == "trunc")
    *p = {RoundingMode::kTowardZero, Overflow::kInf};
  else if (name == "trunc_sat")
    *p = {RoundingMode::kTowardZero, Overflow::kSatPropagate};
  else
    return false;
  return true;
}

std::vector<fs::path> Files(const fs::path& dir, const std::string& prefix) {
  std::vector<fs::path> out;
  for (const fs::directory_entry& e : fs::directory_iterator(dir)) {
    if (e.path().filename().string().rfind(prefix, 0) == 0) out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<fs::path> FormatDirs() {
  std::vector<fs::path> dirs;
  if (!fs::is_directory(kGoldenDir)) return dirs;
  for (const fs::directory_entry& e : fs::directory_iterator(kGoldenDir)) {
    if (e.is_directory()) dirs.push_back(e.path());
  }
  std::sort(dirs.begin(), dirs.end());
  return dirs;
}

TEST_CASE("golden encode vectors through the SIMD backend", "[simd][golden]") {
  const std::vector<fs::path> dirs = FormatDirs();
  REQUIRE(dirs.size() >= 18);
  size_t files = 0, vectors = 0;
  for (const fs::path& dir : dirs) {
    const std::string name = dir.filename().string();
    const StatusOr<Format> format = ResolveFormat(name);
    INFO("golden directory " << name);
    REQUIRE(format.ok());
    const FormatSpec& spec = format->spec;
    for (const fs::path& file : Files(dir, "encode_")) {
      std::string policy_name = file.filename().string().substr(7);
      policy_name = policy_name.substr(0, policy_name.find('.'));
      Policy policy{RoundingMode::kNearestEven, Overflow::kInf};
      INFO(file.string());
      REQUIRE(PolicyOf(policy_name, &policy));
      const bool golden_exact =
          policy_name != "trunc" && !(spec.kind == FormatKind::kMinifloat && !spec.is_signed &&
                                      policy.mode == RoundingMode::kNearestEven);
      std::vector<float> inputs;
      std::vector<uint32_t> golden;
      for (const auto& row : ReadRows(file)) {
        REQUIRE(row.size() == 2);
        inputs.push_back(std::bit_cast<float>(ParseHex(row[0])));
        golden.push_back(ParseHex(row[1]));
      }
      TensorOptions o;
      o.backend = Backend::kSimd;
      o.quantize.rounding.mode = policy.mode;
      o.quantize.overflow = policy.overflow;
      std::vector<uint32_t> reference(inputs.size());
      for (size_t i = 0; i < inputs.size(); ++i)
        reference[i] = EncodeScalar(spec, inputs[i], o.quantize, i);
      for (const int64_t target : Targets()) {
        TargetScope scope(target);
        INFO("target " << simd::TargetName(target));
        std::vector<uint8_t> packed(PackedBytes(spec, inputs.size()));
        REQUIRE(Encode(spec, std::span<const float>(inputs), std::span<uint8_t>(packed), o).ok());
        std::vector<float> values(inputs.size());
        REQUIRE(Quantize(spec, std::span<const float>(inputs), std::span<float>(values), o).ok());
        size_t differs_from_reference = 0, differs_from_golden = 0, value_differs = 0;
        std::string example;
        for (size_t i = 0; i < inputs.size(); ++i) {
          const uint32_t code = ReadPackedCode(spec, packed, i);
          if (code != reference[i]) ++differs_from_reference;
          if (golden_exact && code != golden[i]) {
            if (differs_from_golden++ == 0) {
              example = "input " + std::to_string(std::bit_cast<uint32_t>(inputs[i])) + " code " +
                        std::to_string(code) + " golden " + std::to_string(golden[i]);
            }
          }
          const float want = static_cast<float>(DecodeScalar(spec, reference[i]));
          if (std::bit_cast<uint32_t>(values[i]) != std::bit_cast<uint32_t>(want)) ++value_differs;
        }
        INFO(example);
        CHECK(differs_from_reference == 0);
        CHECK(differs_from_golden == 0);
        CHECK(value_differs == 0);
      }
      ++files;
      vectors += inputs.size();
    }
  }
  INFO(files << " files, " << vectors << " vectors");
  CHECK(files == 57);
}

TEST_CASE("golden decode tables through the SIMD backend", "[simd][golden]") {
  size_t tables = 0;
  for (const fs::path& dir : FormatDirs()) {
    const fs::path file = dir / "decode.txt.gz";
    if (!fs::exists(file)) continue;
    const std::string name = dir.filename().string();
    const StatusOr<Format> format = ResolveFormat(name);
    INFO("golden directory " << name);
    REQUIRE(format.ok());
    const FormatSpec& spec = format->spec;
    std::vector<uint32_t> codes, values;
    std::vector<bool> nan;
    for (const auto& row : ReadRows(file)) {
      REQUIRE(row.size() == 3);
      codes.push_back(ParseHex(row[0]));
      values.push_back(ParseHex(row[1]));
      nan.push_back(row[2] == "nan" || row[2] == "nar");
    }
    REQUIRE(codes.size() == (size_t{1} << spec.bits));
    std::vector<uint8_t> packed(PackedBytes(spec, codes.size()));
    for (size_t i = 0; i < codes.size(); ++i) WritePackedCode(spec, packed, i, codes[i]);
    for (const int64_t target : Targets()) {
      TargetScope scope(target);
      INFO("target " << simd::TargetName(target));
      TensorOptions o;
      o.backend = Backend::kSimd;
      std::vector<float> out(codes.size());
      REQUIRE(Decode(spec, packed, std::span<float>(out), o).ok());
      size_t bad = 0;
      for (size_t i = 0; i < codes.size(); ++i) {
        const bool ok = nan[i] ? std::isnan(out[i]) : std::bit_cast<uint32_t>(out[i]) == values[i];
        if (!ok) ++bad;
      }
      CHECK(bad == 0);
    }
    ++tables;
  }
  CHECK(tables == 17);
}

}  // namespace
}  // namespace qfloat::simd_test
