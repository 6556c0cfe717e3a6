// The checker of cuda_backend_test (verify.h), run on the CPU: results made by the scalar backend
// pass it with zero mismatches, and each kind of corruption is counted once.
#include "verify.h"

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <span>
#include <vector>

#include "qfloat/format.h"
#include "qfloat/quantize.h"
#include "qfloat/rounding.h"

namespace qfloat {
namespace {

// The scalar backend's results for a batch, as the GPU's would come back.
struct Results {
  std::vector<uint8_t> codes;
  std::vector<uint32_t> values32;
  std::vector<uint64_t> values64;
};

Results Compute(const test::Batch& b, const QuantizeOptions& o) {
  TensorOptions t;
  t.backend = Backend::kScalar;
  t.quantize = o;
  Results r;
  const FormatSpec& spec = b.format->spec;
  r.codes.assign(PackedBytes(spec, b.count), 0);
  if (b.f64) {
    std::vector<double> x(b.count), y(b.count);
    for (uint64_t i = 0; i < b.count; ++i) {
      const uint64_t bits = test::InputBits(b, i);
      std::memcpy(&x[i], &bits, 8);
    }
    REQUIRE(Encode(spec, std::span<const double>(x), std::span<uint8_t>(r.codes), t).ok());
    REQUIRE(Quantize(spec, std::span<const double>(x), std::span<double>(y), t).ok());
    for (double v : y) r.values64.push_back(test::DoubleBits(v));
  } else {
    std::vector<float> x(b.count), y(b.count);
    for (uint64_t i = 0; i < b.count; ++i) {
      x[i] = test::FloatOf(static_cast<uint32_t>(test::InputBits(b, i)));
    }
    REQUIRE(Encode(spec, std::span<const float>(x), std::span<uint8_t>(r.codes), t).ok());
    REQUIRE(Quantize(spec, std::span<const float>(x), std::span<float>(y), t).ok());
    for (float v : y) r.values32.push_back(test::FloatBits(v));
  }
  return r;
}

TEST_CASE("the GPU test's checker passes the reference's results and counts corruptions",
          "[emulation]") {
  for (const char* name : {"e2m1fn", "e3m2fn", "e4m3fn", "bf16", "posit32_2"}) {
    const Format f = *ResolveFormat(name);
    for (bool f64 : {false, true}) {
      test::Batch b;
      b.format = &f;
      b.options.rounding = *ParseRounding("sr");
      b.options.seed = 5;
      b.options.index_offset = 3;
      b.f64 = f64;
      b.source = f64 ? test::Source::kRandomDouble : test::Source::kRandomFloat;
      b.range = test::RangeOf(f.spec);
      b.seed = 8;
      b.count = 20001;  // odd: a padded tail for the packed formats
      INFO(name << (f64 ? " f64" : " f32"));
      Results r = Compute(b, b.options);
      const test::ValueTables tables = test::MakeTables(f.spec);
      const void* values = f64 ? static_cast<const void*>(r.values64.data())
                               : static_cast<const void*>(r.values32.data());
      test::Outcome o = test::VerifyChunk(b, tables, b.options, 0, b.count, r.codes, values, 4);
      CHECK(o.checked == b.count);
      CHECK(o.code_mismatches == 0);
      CHECK(o.value_mismatches == 0);
      // A second chunk of the same batch: elements 10000.. with the offset advanced.
      QuantizeOptions later = b.options;
      later.index_offset += 10000;
      const size_t byte0 = PackedBytes(f.spec, 10000);
      const void* values_at = f64 ? static_cast<const void*>(r.values64.data() + 10000)
                                  : static_cast<const void*>(r.values32.data() + 10000);
      o = test::VerifyChunk(b, tables, later, 10000, b.count - 10000,
                            std::span<const uint8_t>(r.codes).subspan(byte0), values_at, 3);
      CHECK(o.code_mismatches == 0);
      CHECK(o.value_mismatches == 0);
      // Corruptions: one code, one value, the padding (where there is one).
      WritePackedCode(f.spec, r.codes, 77, ReadPackedCode(f.spec, r.codes, 77) ^ 1u);
      if (f64) {
        r.values64[1234] ^= 1;
      } else {
        r.values32[1234] ^= 1;
      }
      o = test::VerifyChunk(b, tables, b.options, 0, b.count, r.codes, values, 4, 0);
      CHECK(o.code_mismatches == 1);
      CHECK(o.value_mismatches == 1);
      if (f.spec.bits <= 6) {
        WritePackedCode(f.spec, r.codes, b.count, 1);  // the pad after the last code
        o = test::VerifyChunk(b, tables, b.options, 0, b.count, r.codes, values, 4, 0);
        CHECK(o.code_mismatches == 2);
      }
    }
  }
}

// How fast the checker runs on this machine (sizes the GPU test's CPU time; asserts nothing
// about speed).
TEST_CASE("checker throughput (informational)", "[emulation]") {
  const Format f = *ResolveFormat("e4m3fn");
  for (const char* mode : {"rne", "sr"}) {
    test::Batch b;
    b.format = &f;
    b.options.rounding = *ParseRounding(mode);
    b.source = test::Source::kIdentity;
    b.count = 1 << 20;
    const Results r = Compute(b, b.options);
    const auto start = std::chrono::steady_clock::now();
    const test::Outcome o = test::VerifyChunk(b, test::MakeTables(f.spec), b.options, 0, b.count,
                                              r.codes, r.values32.data(), 1);
    const double ns =
        std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - start).count() /
        b.count;
    std::printf("checker: e4m3fn %s, one thread: %.1f ns per element\n", mode, ns);
    CHECK(o.code_mismatches + o.value_mismatches == 0);
  }
}

}  // namespace
}  // namespace qfloat
