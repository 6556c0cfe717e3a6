// The SIMD backend against the scalar reference, on every compiled Highway target: every
// built-in format and the descriptor edge cases of simd_test_util.h x every rounding mode x every
// overflow policy, through every entry point (quantize f32 / f64, encode f32 / f64 to packed
// codes, decode, quantize from bf16 / fp16 codes). Inputs: every boundary case of the format
// (code values, midpoints, posit bit-pattern ties, +-1 ulp, overflow points; sampled for
// formats wider than 8 bits), random patterns over the whole exponent range, float32
// subnormals, float64 values between float32 neighbours; sizes that are not multiples of any
// vector width and calls that start at odd elements.
#include <algorithm>
#include <bit>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <sstream>
#include <string>
#include <vector>

#include "qfloat/detail/bits.h"
#include "qfloat/format.h"
#include "qfloat/quantize.h"
#include "qfloat/scalar.h"
#include "qfloat/selftest.h"
#include "simd_test_util.h"

namespace qfloat::simd_test {
namespace {

constexpr size_t kMaxBoundaries = 6000;

// Inputs for one format: boundaries (thinned to kMaxBoundaries), random values, subnormals.
std::vector<float> FloatInputs(const FormatSpec& spec) {
  std::vector<float> in;
  const std::vector<uint32_t> boundaries = BoundaryInputs(spec, 1);
  const size_t stride = std::max<size_t>(1, boundaries.size() / kMaxBoundaries);
  for (size_t i = 0; i < boundaries.size(); i += stride)
    in.push_back(std::bit_cast<float>(boundaries[i]));
  const std::vector<float> random =
      RandomInputs(spec, 3001, spec.bits * 1000003u + spec.mantissa_bits);
  in.insert(in.end(), random.begin(), random.end());
  return in;
}

// Float64 inputs: the float32 ones widened, plus doubles next to the format's boundaries (one
// float64 ulp either side of values and midpoints: float32 cannot express them) and random
// doubles, including float64 subnormals.
std::vector<double> DoubleInputs(const FormatSpec& spec, const std::vector<float>& floats) {
  std::vector<double> in(floats.begin(), floats.end());
  const bool posit = spec.kind == FormatKind::kPosit;
  const uint32_t first = posit ? 1 : 0;
  const uint64_t codes = uint64_t{spec.max_code} - first + 1;
  const uint64_t stride = std::max<uint64_t>(1, codes / 1500);
  for (uint64_t c = first; c <= spec.max_code; c += stride) {
    const double v = DecodeScalar(spec, static_cast<uint32_t>(c));
    double points[2] = {v, v};
    if (c < spec.max_code) {
      const double w = DecodeScalar(spec, static_cast<uint32_t>(c + 1));
      points[1] = v + (w - v) / 2;
    }
    for (const double p : points) {
      for (const double x : {p, std::nextafter(p, 0.0), std::nextafter(p, INFINITY)}) {
        in.push_back(x);
        in.push_back(-x);
      }
    }
  }
  std::mt19937_64 rng(spec.bits * 7919u + spec.exponent_bits);
  for (int i = 0; i < 2000; ++i) {
    const uint64_t r = rng();
    switch (i % 4) {
      case 0:
        in.push_back(std::bit_cast<double>(r));
        break;
      case 1:
        in.push_back(std::bit_cast<double>(r & 0x800FFFFFFFFFFFFFull));  // float64 subnormal
        break;
      default: {
        const int lo = posit ? -((spec.bits - 2) << spec.exponent_bits) - 3
                             : spec.emin - spec.mantissa_bits - 4;
        const int hi = posit ? ((spec.bits - 2) << spec.exponent_bits) + 3 : spec.emax + 3;
        const int e = lo + static_cast<int>(rng() % static_cast<uint64_t>(hi - lo + 1));
        const double x = std::ldexp(1.0 + static_cast<double>(r & 0xFFFFFFFFFFFFFull) * 0x1p-52, e);
        in.push_back((r >> 63) ? -x : x);
        break;
      }
    }
  }
  return in;
}

std::string Hex(uint64_t v) {
  std::ostringstream s;
  s << "0x" << std::hex << v;
  return s.str();
}

// Counts the elements where got != want and describes the first few.
template <typename T>
size_t CountMismatches(const std::vector<T>& want, const std::vector<T>& got,
                       const std::function<std::string(size_t)>& describe, std::string* first) {
  size_t bad = 0;
  for (size_t i = 0; i < want.size(); ++i) {
    if (want[i] == got[i]) continue;
    if (bad < 4) *first += describe(i) + " want " + Hex(want[i]) + " got " + Hex(got[i]) + "\n";
    ++bad;
  }
  return bad;
}

std::vector<uint32_t> Unpack(const FormatSpec& spec, const std::vector<uint8_t>& packed, size_t n) {
  std::vector<uint32_t> codes(n);
  for (size_t i = 0; i < n; ++i) codes[i] = ReadPackedCode(spec, packed, i);
  return codes;
}

// One (format, mode, policy): the reference once, then every target.
void CheckCombination(const Format& format, const std::string& rounding, Overflow overflow,
                      const std::vector<float>& in32, const std::vector<double>& in64) {
  const FormatSpec& spec = format.spec;
  QuantizeOptions q = Options(rounding, overflow);
  q.index_offset = 5;  // odd: Philox groups start mid-block
  std::vector<uint32_t> want_codes(in32.size());
  std::vector<uint32_t> want_values(in32.size());
  for (size_t i = 0; i < in32.size(); ++i) {
    want_codes[i] = EncodeScalar(spec, in32[i], q, i);
    want_values[i] = Bits(static_cast<float>(DecodeScalar(spec, want_codes[i])));
  }
  std::vector<uint32_t> want_codes64(in64.size());
  std::vector<uint64_t> want_values64(in64.size());
  for (size_t i = 0; i < in64.size(); ++i) {
    want_codes64[i] = EncodeScalar(spec, in64[i], q, i);
    want_values64[i] = Bits(DecodeScalar(spec, want_codes64[i]));
  }
  TensorOptions o;
  o.quantize = q;
  o.backend = Backend::kSimd;
  o.threads = 2;

  for (const int64_t target : Targets()) {
    TargetScope scope(target);
    REQUIRE(simd::DispatchedTarget() == target);
    INFO(format.name << " " << rounding << " " << ToString(overflow) << " on "
                     << simd::TargetName(target));
    std::string first;
    const auto describe32 = [&](size_t i) {
      return "x=" + Hex(Bits(in32[i])) + " index " + std::to_string(i);
    };
    const auto describe64 = [&](size_t i) {
      return "x=" + Hex(Bits(in64[i])) + " index " + std::to_string(i);
    };

    // float32: codes and values.
    std::vector<uint8_t> packed(PackedBytes(spec, in32.size()));
    REQUIRE(Encode(spec, std::span<const float>(in32), std::span<uint8_t>(packed), o).ok());
    std::vector<float> values(in32.size());
    REQUIRE(Quantize(spec, std::span<const float>(in32), std::span<float>(values), o).ok());
    std::vector<uint32_t> value_bits(values.size());
    for (size_t i = 0; i < values.size(); ++i) value_bits[i] = Bits(values[i]);
    size_t bad = CountMismatches(want_codes, Unpack(spec, packed, in32.size()), describe32, &first);
    bad += CountMismatches(want_values, value_bits, describe32, &first);

    // Tails and odd starts: element 1 + j of the full call is element j of a call whose
    // index_offset is one more.
    for (const size_t len :
         {size_t{1}, size_t{3}, size_t{7}, size_t{17}, size_t{63}, in32.size() - 2}) {
      TensorOptions sub = o;
      sub.quantize.index_offset = q.index_offset + 1;
      const std::span<const float> part(in32.data() + 1, len);
      std::vector<uint8_t> part_packed(PackedBytes(spec, len));
      REQUIRE(Encode(spec, part, std::span<uint8_t>(part_packed), sub).ok());
      std::vector<float> part_values(len);
      REQUIRE(Quantize(spec, part, std::span<float>(part_values), sub).ok());
      for (size_t j = 0; j < len; ++j) {
        const uint32_t code = ReadPackedCode(spec, part_packed, j);
        if (code != want_codes[1 + j] || Bits(part_values[j]) != want_values[1 + j]) {
          if (bad < 4) first += "tail len " + std::to_string(len) + ": " + describe32(1 + j) + "\n";
          ++bad;
        }
      }
      if (spec.bits <= 4 && (len & 1)) CHECK((part_packed.back() >> 4) == 0);  // unused nibble
    }

    // float64: codes and values.
    std::vector<uint8_t> packed64(PackedBytes(spec, in64.size()));
    REQUIRE(Encode(spec, std::span<const double>(in64), std::span<uint8_t>(packed64), o).ok());
    std::vector<double> values64(in64.size());
    REQUIRE(Quantize(spec, std::span<const double>(in64), std::span<double>(values64), o).ok());
    std::vector<uint64_t> value_bits64(values64.size());
    for (size_t i = 0; i < values64.size(); ++i) value_bits64[i] = Bits(values64[i]);
    bad += CountMismatches(want_codes64, Unpack(spec, packed64, in64.size()), describe64, &first);
    bad += CountMismatches(want_values64, value_bits64, describe64, &first);

    INFO(first);
    CHECK(bad == 0);
  }
}

void CheckFormat(const Format& format) {
  const std::vector<float> in32 = FloatInputs(format.spec);
  const std::vector<double> in64 = DoubleInputs(format.spec, in32);
  for (const std::string& rounding : RoundingNames()) {
    for (const Overflow overflow : Overflows())
      CheckCombination(format, rounding, overflow, in32, in64);
  }
}

// Decode: every code (sampled beyond 16 bits), packed, back to float32 values.
void CheckDecode(const Format& format) {
  const FormatSpec& spec = format.spec;
  std::vector<uint32_t> codes;
  if (spec.bits <= 16) {
    for (uint32_t c = 0; c < (1u << spec.bits); ++c) codes.push_back(c);
  } else {
    std::mt19937_64 rng(spec.bits);
    const uint32_t mask = spec.bits == 32 ? 0xFFFFFFFFu : ((1u << spec.bits) - 1);
    for (uint32_t c = 0; c < 4096; ++c) {
      codes.push_back(c);
      codes.push_back(mask - c);
      codes.push_back((spec.sign_bit + c) & mask);
      codes.push_back((spec.sign_bit - 1 - c) & mask);
    }
    for (int i = 0; i < 20000; ++i) codes.push_back(static_cast<uint32_t>(rng()) & mask);
  }
  codes.push_back(0);  // odd count for some widths: a tail
  std::vector<uint8_t> packed(PackedBytes(spec, codes.size()));
  for (size_t i = 0; i < codes.size(); ++i) WritePackedCode(spec, packed, i, codes[i]);
  std::vector<uint32_t> want(codes.size());
  for (size_t i = 0; i < codes.size(); ++i)
    want[i] = Bits(static_cast<float>(DecodeScalar(spec, codes[i])));
  for (const int64_t target : Targets()) {
    TargetScope scope(target);
    INFO(format.name << " decode on " << simd::TargetName(target));
    TensorOptions o;
    o.backend = Backend::kSimd;
    std::vector<float> out(codes.size());
    REQUIRE(Decode(spec, packed, std::span<float>(out), o).ok());
    std::vector<uint32_t> got(out.size());
    for (size_t i = 0; i < out.size(); ++i) got[i] = Bits(out[i]);
    std::string first;
    const size_t bad = CountMismatches(
        want, got, [&](size_t i) { return "code " + Hex(codes[i]); }, &first);
    INFO(first);
    CHECK(bad == 0);
  }
}

// QuantizeFromCodes: every bf16 / fp16 code (and a 16-bit format beyond float32's range) into
// `format`.
void CheckFromCodes(const Format& format, const std::vector<FormatSpec>& inputs) {
  const FormatSpec& spec = format.spec;
  for (const FormatSpec& input : inputs) {
    std::vector<uint16_t> codes(65536);
    for (uint32_t c = 0; c < 65536; ++c) codes[c] = static_cast<uint16_t>(c);
    for (const std::string& rounding :
         {std::string("rne"), std::string("rup"), std::string("sr"), std::string("sr:8")}) {
      for (const Overflow overflow : Overflows()) {
        QuantizeOptions q = Options(rounding, overflow);
        q.index_offset = 2;
        std::vector<uint32_t> want(codes.size());
        for (size_t i = 0; i < codes.size(); ++i) {
          const double x = DecodeScalar(input, codes[i]);
          want[i] = Bits(static_cast<float>(DecodeScalar(spec, EncodeScalar(spec, x, q, i))));
        }
        for (const int64_t target : Targets()) {
          TargetScope scope(target);
          INFO(format.name << " from " << DescribeSpec(input) << " " << rounding << " "
                           << ToString(overflow) << " on " << simd::TargetName(target));
          TensorOptions o;
          o.quantize = q;
          o.backend = Backend::kSimd;
          std::vector<float> out(codes.size());
          REQUIRE(QuantizeFromCodes(input, codes, spec, std::span<float>(out), o).ok());
          std::vector<uint32_t> got(out.size());
          for (size_t i = 0; i < out.size(); ++i) got[i] = Bits(out[i]);
          std::string first;
          const size_t bad = CountMismatches(
              want, got, [&](size_t i) { return "code " + Hex(codes[i]); }, &first);
          INFO(first);
          CHECK(bad == 0);
        }
      }
    }
  }
}

std::vector<Format> Builtins(bool want_posit, int min_bits, int max_bits) {
  std::vector<Format> out;
  for (const Format& f : BuiltinFormats()) {
    if (!f.element.empty()) continue;
    if ((f.spec.kind == FormatKind::kPosit) != want_posit) continue;
    if (f.spec.bits < min_bits || f.spec.bits > max_bits) continue;
    out.push_back(f);
  }
  return out;
}

TEST_CASE("several Highway targets are compiled and each one can be forced", "[simd]") {
  const std::vector<int64_t> targets = Targets();
  std::string names;
  for (const int64_t t : targets) names += std::string(simd::TargetName(t)) + " ";
  INFO("targets: " << names);
  REQUIRE(targets.size() >= 2);
  for (const int64_t t : targets) {
    TargetScope scope(t);
    CHECK(simd::DispatchedTarget() == t);
  }
  // Back to the best target once the mock is gone.
  CHECK(simd::DispatchedTarget() == simd::ChosenTarget());
}

TEST_CASE("SIMD = reference: 8-bit and smaller minifloats", "[simd]") {
  for (const Format& f : Builtins(false, 2, 8)) CheckFormat(f);
}

TEST_CASE("SIMD = reference: 16- and 32-bit minifloats", "[simd]") {
  for (const Format& f : Builtins(false, 9, 32)) CheckFormat(f);
}

TEST_CASE("SIMD = reference: posits", "[simd]") {
  for (const Format& f : Builtins(true, 2, 32)) CheckFormat(f);
}

TEST_CASE("SIMD = reference: descriptor edge cases", "[simd]") {
  for (const Format& f : ExtraFormats()) CheckFormat(f);
}

TEST_CASE("SIMD decode = reference decode for every code", "[simd]") {
  for (const Format& f : BuiltinFormats()) {
    if (f.element.empty()) CheckDecode(f);
  }
  for (const Format& f : ExtraFormats()) CheckDecode(f);
}

TEST_CASE("SIMD quantize from bf16 / fp16 codes = reference", "[simd]") {
  const std::vector<FormatSpec> inputs = {ResolveFormat("bf16")->spec, ResolveFormat("fp16")->spec,
                                          ResolveFormat("posit16_1")->spec};
  // A 16-bit input format whose values are not all float32 (widened through float64).
  std::vector<FormatSpec> wide = inputs;
  for (const Format& f : ExtraFormats()) {
    if (f.name == "e9m6") wide.push_back(f.spec);
  }
  for (const char* name :
       {"e4m3fn", "e5m2", "e2m1fn", "e8m0fnu", "fp16", "posit8_2", "posit16_1", "fp32"}) {
    CheckFromCodes(*ResolveFormat(name), wide);
  }
}

TEST_CASE("SIMD quantize works in place", "[simd]") {
  const FormatSpec spec = ResolveFormat("e4m3fn")->spec;
  std::vector<float> data = RandomInputs(spec, 1001, 3);
  const std::vector<float> original = data;
  TensorOptions o;
  o.backend = Backend::kSimd;
  o.quantize = Options("sr", Overflow::kInf);
  REQUIRE(Quantize(spec, std::span<const float>(data), std::span<float>(data), o).ok());
  for (size_t i = 0; i < data.size(); ++i) {
    INFO("index " << i);
    CHECK(Bits(data[i]) == Bits(QuantizeScalar(spec, original[i], o.quantize, i)));
  }
}

}  // namespace
}  // namespace qfloat::simd_test
