// The long sweep (ctest label `oracle`): the scalar reference against the independent oracle
// (oracle.h) for every built-in format, every deterministic rounding mode and every overflow
// policy, on float32 and float64 inputs: every grid value and tie point with their +-1 ulp
// neighbours (both signs), the specials, and QFLOAT_ORACLE_SAMPLES (default 10^6) random inputs
// per input type. Then `sr` and `sr:K` against the oracle's exact rule. 0 disagreements.
#include "oracle.h"

#include <catch2/catch.hpp>
#include <cstdio>
#include <string>
#include <vector>

#include "qfloat/format.h"
#include "qfloat/scalar.h"

namespace qfloat {
namespace {

constexpr RoundingMode kModes[] = {RoundingMode::kNearestEven, RoundingMode::kNearestAway,
                                   RoundingMode::kTowardZero,  RoundingMode::kUp,
                                   RoundingMode::kDown,        RoundingMode::kToOdd};
constexpr Overflow kPolicies[] = {Overflow::kInf, Overflow::kSatFinite, Overflow::kSatPropagate};
constexpr int kSrBits[] = {0, 1, 3, 8, 16, 32};  // 0 = exact `sr`

struct Tally {
  uint64_t inputs = 0;
  uint64_t comparisons = 0;
  uint64_t disagreements = 0;
  std::vector<std::string> examples;

  void Disagree(const std::string& what) {
    ++disagreements;
    if (examples.size() < 12) examples.push_back(what);
  }
};

uint64_t Fnv1a(const std::string& s) {
  uint64_t h = 0xCBF29CE484222325ull;
  for (unsigned char c : s) h = (h ^ c) * 0x100000001B3ull;
  return h;
}

std::string Describe(const std::string& format, double x, bool as_float32, const std::string& mode,
                     Overflow ovf, uint32_t want, uint32_t got) {
  char buf[256];
  std::snprintf(buf, sizeof(buf), "%s %s x=%s %s %s: oracle 0x%x, reference 0x%x", format.c_str(),
                as_float32 ? "f32" : "f64", oracle::Hex(x).c_str(), mode.c_str(),
                oracle::OverflowName(ovf).c_str(), want, got);
  return buf;
}

void CompareDeterministic(const Format& format, const oracle::Model& model,
                          const std::vector<double>& inputs, bool as_float32, Tally* tally) {
  QuantizeOptions options;
  for (double x : inputs) {
    const oracle::Located at = oracle::Locate(model, x);
    ++tally->inputs;
    for (RoundingMode mode : kModes) {
      options.rounding.mode = mode;
      for (Overflow ovf : kPolicies) {
        options.overflow = ovf;
        const uint32_t want = oracle::RoundDeterministic(model, at, mode, ovf);
        const uint32_t got = as_float32 ? EncodeScalar(format.spec, static_cast<float>(x), options)
                                        : EncodeScalar(format.spec, x, options);
        ++tally->comparisons;
        if (want != got) {
          tally->Disagree(
              Describe(format.name, x, as_float32, oracle::ModeName(mode), ovf, want, got));
        }
      }
    }
  }
}

void CompareStochastic(const Format& format, const oracle::Model& model,
                       const std::vector<double>& inputs, bool as_float32, uint64_t seed,
                       Tally* tally) {
  QuantizeOptions options;
  options.rounding.mode = RoundingMode::kStochastic;
  uint64_t mix = seed;
  for (double x : inputs) {
    const oracle::Located at = oracle::Locate(model, x);
    ++tally->inputs;
    // A different (seed, stream, offset, index) per input: every part of the counter is used.
    mix = mix * 6364136223846793005ull + 1442695040888963407ull;
    options.seed = mix;
    options.stream = static_cast<uint32_t>(mix >> 13);
    options.index_offset = (mix >> 40) & 0xFFFF;
    const uint64_t index = (mix >> 20) & 0xFFFFF;
    const oracle::SrDraw draw{options.seed, options.stream, options.index_offset + index};
    for (int k : kSrBits) {
      options.rounding.sr_bits = static_cast<uint8_t>(k);
      for (Overflow ovf : kPolicies) {
        options.overflow = ovf;
        const uint32_t want = oracle::RoundStochastic(model, at, k, ovf, draw);
        const uint32_t got = as_float32
                                 ? EncodeScalar(format.spec, static_cast<float>(x), options, index)
                                 : EncodeScalar(format.spec, x, options, index);
        ++tally->comparisons;
        if (want != got) {
          tally->Disagree(Describe(format.name, x, as_float32,
                                   k == 0 ? "sr" : "sr:" + std::to_string(k), ovf, want, got));
        }
      }
    }
  }
}

std::vector<double> SweepInputs(const oracle::Model& model, const std::string& name,
                                bool as_float32, size_t random_count) {
  const uint64_t seed = 0x0AC1E5EEDull ^ Fnv1a(name) ^ (as_float32 ? 0x32 : 0x64);
  std::vector<double> inputs = oracle::SpecialInputs(as_float32);
  const std::vector<double> grid =
      oracle::WithNeighbours(oracle::GridPoints(model, seed, 16384), as_float32);
  inputs.insert(inputs.end(), grid.begin(), grid.end());
  const std::vector<double> random =
      oracle::RandomInputs(model, as_float32, random_count, seed * 3 + 1);
  inputs.insert(inputs.end(), random.begin(), random.end());
  return inputs;
}

void Report(const char* what, const std::string& name, const Tally& tally) {
  std::printf("oracle %s %-12s inputs %10llu comparisons %11llu disagreements %llu\n", what,
              name.c_str(), static_cast<unsigned long long>(tally.inputs),
              static_cast<unsigned long long>(tally.comparisons),
              static_cast<unsigned long long>(tally.disagreements));
  std::fflush(stdout);
  for (const std::string& e : tally.examples) UNSCOPED_INFO(e);
  CHECK(tally.disagreements == 0);
  CHECK(tally.comparisons > 0);
}

void SweepDeterministic(const std::string& name) {
  const StatusOr<Format> format = ResolveFormat(name);
  REQUIRE(format.ok());
  const oracle::Model model = oracle::MakeModel(format->spec);
  Tally tally;
  for (bool as_float32 : {true, false}) {
    const std::vector<double> inputs =
        SweepInputs(model, name, as_float32, oracle::OracleSamples());
    CompareDeterministic(*format, model, inputs, as_float32, &tally);
  }
  Report("rne..rto", name, tally);
}

void SweepStochastic(const std::string& name) {
  const StatusOr<Format> format = ResolveFormat(name);
  REQUIRE(format.ok());
  const oracle::Model model = oracle::MakeModel(format->spec);
  Tally tally;
  // Exact `sr` needs rational arithmetic: a tenth of the deterministic count, which still puts
  // every tie point and grid neighbour of the <= 8-bit formats through every policy.
  const size_t random_count = oracle::OracleSamples() / 10;
  for (bool as_float32 : {true, false}) {
    std::vector<double> inputs = oracle::SpecialInputs(as_float32);
    const uint64_t seed = 0x5125EEDull ^ Fnv1a(name) ^ (as_float32 ? 0x32 : 0x64);
    if (format->spec.bits <= 8) {
      const std::vector<double> grid =
          oracle::WithNeighbours(oracle::GridPoints(model, seed, 0), as_float32);
      inputs.insert(inputs.end(), grid.begin(), grid.end());
    }
    const std::vector<double> random =
        oracle::RandomInputs(model, as_float32, random_count, seed * 5 + 3);
    inputs.insert(inputs.end(), random.begin(), random.end());
    CompareStochastic(*format, model, inputs, as_float32, seed, &tally);
  }
  Report("sr,sr:K  ", name, tally);
}

// One test case per format, so that ctest runs them in parallel.
#define QFLOAT_ORACLE_SWEEP(name)                                             \
  TEST_CASE("oracle sweep " #name, "[oracle]") { SweepDeterministic(#name); } \
  TEST_CASE("oracle sweep sr " #name, "[oracle]") { SweepStochastic(#name); }

QFLOAT_ORACLE_SWEEP(e4m3fn)
QFLOAT_ORACLE_SWEEP(e5m2)
QFLOAT_ORACLE_SWEEP(e4m3fnuz)
QFLOAT_ORACLE_SWEEP(e5m2fnuz)
QFLOAT_ORACLE_SWEEP(e4m3b11fnuz)
QFLOAT_ORACLE_SWEEP(e3m4)
QFLOAT_ORACLE_SWEEP(e4m3)
QFLOAT_ORACLE_SWEEP(e2m3fn)
QFLOAT_ORACLE_SWEEP(e3m2fn)
QFLOAT_ORACLE_SWEEP(e2m1fn)
QFLOAT_ORACLE_SWEEP(e8m0fnu)
QFLOAT_ORACLE_SWEEP(fp16)
QFLOAT_ORACLE_SWEEP(bf16)
QFLOAT_ORACLE_SWEEP(fp32)
QFLOAT_ORACLE_SWEEP(posit8_0)
QFLOAT_ORACLE_SWEEP(posit8_1)
QFLOAT_ORACLE_SWEEP(posit8_2)
QFLOAT_ORACLE_SWEEP(posit16_1)
QFLOAT_ORACLE_SWEEP(posit16_2)
QFLOAT_ORACLE_SWEEP(posit32_2)
QFLOAT_ORACLE_SWEEP(binary8p1)
QFLOAT_ORACLE_SWEEP(binary8p2)
QFLOAT_ORACLE_SWEEP(binary8p3)
QFLOAT_ORACLE_SWEEP(binary8p4)
QFLOAT_ORACLE_SWEEP(binary8p5)
QFLOAT_ORACLE_SWEEP(binary8p6)
QFLOAT_ORACLE_SWEEP(binary8p7)
QFLOAT_ORACLE_SWEEP(int8_mx)

const char* const kSwept[] = {
    "e4m3fn",    "e5m2",      "e4m3fnuz",  "e5m2fnuz",  "e4m3b11fnuz", "e3m4",      "e4m3",
    "e2m3fn",    "e3m2fn",    "e2m1fn",    "e8m0fnu",   "fp16",        "bf16",      "fp32",
    "posit8_0",  "posit8_1",  "posit8_2",  "posit16_1", "posit16_2",   "posit32_2", "binary8p1",
    "binary8p2", "binary8p3", "binary8p4", "binary8p5", "binary8p6",   "binary8p7", "int8_mx"};

TEST_CASE("oracle sweep covers every built-in element format", "[oracle]") {
  for (const Format& f : BuiltinFormats()) {
    if (!f.element.empty()) continue;  // block presets share their element's descriptor
    bool found = false;
    for (const char* name : kSwept) found = found || f.name == name;
    INFO(f.name);
    CHECK(found);
  }
}

}  // namespace
}  // namespace qfloat
