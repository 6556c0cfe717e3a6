// Exhaustive equivalence of the SIMD backend with the scalar reference (ctest label
// `exhaustive`; each TEST_CASE is its own ctest, so `ctest -L exhaustive -j2` spreads them):
//   - all 2^32 float32 bit patterns for e4m3fn, e5m2, e2m1fn and posit8_2 with rne and sr;
//   - 2^28 spread-out patterns plus every boundary case (every code's value, midpoints, posit
//     ties, +-1 ulp) for the 16-bit formats and posit16/32, every mode (ovf-inf; the other two
//     policies get 2^24 plus every boundary case, which holds all the inputs they act on);
//   - a 2^24 sample plus the boundary cases for every other (format, mode, policy).
// Every input is checked through encode (codes) and quantize (values).
#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdio>
#include <string>
#include <vector>

#include "qfloat/format.h"
#include "qfloat/selftest.h"
#include "simd_test_util.h"

namespace qfloat::simd_test {
namespace {

void Sweep(const std::string& format, const std::string& rounding, Overflow overflow,
           int sample_log2, bool boundaries) {
  SelftestOptions o;
  o.spec = ResolveFormat(format)->spec;
  o.quantize = Options(rounding, overflow);
  o.sample_log2 = sample_log2;
  o.sample_seed = 0x5EED;
  o.boundaries = boundaries;
  const StatusOr<SelftestReport> r = RunSelftest(o);
  INFO(format << " " << rounding << " " << ToString(overflow));
  REQUIRE(r.ok());
  std::string first;
  for (const SelftestMismatch& m : r->first) {
    char line[160];
    std::snprintf(line, sizeof line, "input %08x index %llu %s expected %x got %x\n", m.input,
                  static_cast<unsigned long long>(m.index), m.quantize ? "value" : "code",
                  m.expected, m.actual);
    first += line;
  }
  INFO(first);
  CHECK(r->checked >= (uint64_t{1} << sample_log2));
  CHECK(r->mismatches == 0);
  std::printf("%-10s %-6s %-13s %-5s inputs %llu mismatches %llu  %.1f s\n", format.c_str(),
              rounding.c_str(), ToString(overflow).c_str(), r->target.c_str(),
              static_cast<unsigned long long>(r->checked),
              static_cast<unsigned long long>(r->mismatches), r->seconds);
  std::fflush(stdout);
}

bool FullSweep(const std::string& format, const std::string& rounding, Overflow overflow) {
  const bool named =
      format == "e4m3fn" || format == "e5m2" || format == "e2m1fn" || format == "posit8_2";
  return named && (rounding == "rne" || rounding == "sr") && overflow == Overflow::kInf;
}

// The 16-bit formats and the wider posits get 2^28 inputs.
bool Wide(const FormatSpec& spec) {
  return spec.bits == 16 || (spec.kind == FormatKind::kPosit && spec.bits > 8);
}

// Everything but the full sweeps, for one format.
void Samples(const std::string& format) {
  const FormatSpec spec = ResolveFormat(format)->spec;
  for (const std::string& rounding : RoundingNames()) {
    for (const Overflow overflow : Overflows()) {
      if (FullSweep(format, rounding, overflow)) continue;
      // The overflow policy only matters for overflowing, infinite and NaN inputs, which the
      // boundary cases hold; so the wide formats' 2^28 sample runs under ovf-inf only (CI time).
      Sweep(format, rounding, overflow, Wide(spec) && overflow == Overflow::kInf ? 28 : 24, true);
    }
  }
}

#define QFLOAT_FULL_SWEEP(format, rounding)                                                \
  TEST_CASE("exhaustive: all 2^32 float32 inputs, " format " " rounding, "[exhaustive]") { \
    Sweep(format, rounding, Overflow::kInf, 32, false);                                    \
  }

QFLOAT_FULL_SWEEP("e4m3fn", "rne")
QFLOAT_FULL_SWEEP("e4m3fn", "sr")
QFLOAT_FULL_SWEEP("e5m2", "rne")
QFLOAT_FULL_SWEEP("e5m2", "sr")
QFLOAT_FULL_SWEEP("e2m1fn", "rne")
QFLOAT_FULL_SWEEP("e2m1fn", "sr")
QFLOAT_FULL_SWEEP("posit8_2", "rne")
QFLOAT_FULL_SWEEP("posit8_2", "sr")

#define QFLOAT_SAMPLES(format)                                                       \
  TEST_CASE("exhaustive: sampled, every mode and policy, " format, "[exhaustive]") { \
    Samples(format);                                                                 \
  }

QFLOAT_SAMPLES("e4m3fn")
QFLOAT_SAMPLES("e5m2")
QFLOAT_SAMPLES("e4m3fnuz")
QFLOAT_SAMPLES("e5m2fnuz")
QFLOAT_SAMPLES("e4m3b11fnuz")
QFLOAT_SAMPLES("e3m4")
QFLOAT_SAMPLES("e4m3")
QFLOAT_SAMPLES("e2m3fn")
QFLOAT_SAMPLES("e3m2fn")
QFLOAT_SAMPLES("e2m1fn")
QFLOAT_SAMPLES("e8m0fnu")
QFLOAT_SAMPLES("fp16")
QFLOAT_SAMPLES("bf16")
QFLOAT_SAMPLES("fp32")
QFLOAT_SAMPLES("posit8_0")
QFLOAT_SAMPLES("posit8_1")
QFLOAT_SAMPLES("posit8_2")
QFLOAT_SAMPLES("posit16_1")
QFLOAT_SAMPLES("posit16_2")
QFLOAT_SAMPLES("posit32_2")
QFLOAT_SAMPLES("binary8p1")
QFLOAT_SAMPLES("binary8p2")
QFLOAT_SAMPLES("binary8p3")
QFLOAT_SAMPLES("binary8p4")
QFLOAT_SAMPLES("binary8p5")
QFLOAT_SAMPLES("binary8p6")
QFLOAT_SAMPLES("binary8p7")
QFLOAT_SAMPLES("int8_mx")

TEST_CASE("exhaustive: every built-in format is covered", "[exhaustive]") {
  // The list above must follow formats/: a new built-in format needs a line there.
  const std::vector<std::string> listed = {
      "e4m3fn",    "e5m2",      "e4m3fnuz",  "e5m2fnuz",  "e4m3b11fnuz", "e3m4",      "e4m3",
      "e2m3fn",    "e3m2fn",    "e2m1fn",    "e8m0fnu",   "fp16",        "bf16",      "fp32",
      "posit8_0",  "posit8_1",  "posit8_2",  "posit16_1", "posit16_2",   "posit32_2", "binary8p1",
      "binary8p2", "binary8p3", "binary8p4", "binary8p5", "binary8p6",   "binary8p7", "int8_mx"};
  for (const Format& f : BuiltinFormats()) {
    if (!f.element.empty()) continue;
    INFO(f.name);
    CHECK(std::find(listed.begin(), listed.end(), f.name) != listed.end());
  }
}

}  // namespace
}  // namespace qfloat::simd_test
