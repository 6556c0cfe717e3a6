// Results of the SIMD backend do not depend on the thread count or on how a tensor is split into
// calls (element i always draws its random bits from index options.index_offset + i), for
// stochastic rounding too, including packed 4- and 6-bit codes and index offsets whose Philox
// block counter crosses 2^32.
#include <bit>
#include <catch2/catch.hpp>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "qfloat/format.h"
#include "qfloat/quantize.h"
#include "qfloat/scalar.h"
#include "simd_test_util.h"

namespace qfloat::simd_test {
namespace {

// Gradient-like data (normal, sigma 1e-3) with some random bit patterns mixed in.
std::vector<float> Data(size_t n) {
  std::mt19937_64 rng(42);
  std::normal_distribution<float> normal(0.0f, 1e-3f);
  std::vector<float> x(n);
  for (size_t i = 0; i < n; ++i) {
    x[i] = (i % 17 == 0) ? std::bit_cast<float>(static_cast<uint32_t>(rng())) : normal(rng);
  }
  return x;
}

struct Result {
  std::vector<uint32_t> codes;
  std::vector<uint32_t> values;
  std::vector<uint8_t> packed;
};

Result Run(const FormatSpec& spec, std::span<const float> in, const TensorOptions& o) {
  Result r;
  r.packed.assign(PackedBytes(spec, in.size()), 0xAA);
  REQUIRE(Encode(spec, in, std::span<uint8_t>(r.packed), o).ok());
  std::vector<float> values(in.size());
  REQUIRE(Quantize(spec, in, std::span<float>(values), o).ok());
  for (size_t i = 0; i < in.size(); ++i) {
    r.codes.push_back(ReadPackedCode(spec, r.packed, i));
    r.values.push_back(std::bit_cast<uint32_t>(values[i]));
  }
  return r;
}

TEST_CASE("SIMD results do not depend on thread count or chunking", "[simd]") {
  // More elements than several chunks of the backend, and not a multiple of any vector width.
  const size_t n = 150001;
  const std::vector<float> data = Data(n);
  for (const char* name :
       {"e4m3fn", "e2m1fn", "e3m2fn", "bf16", "posit8_2", "posit16_1", "posit32_2"}) {
    const FormatSpec spec = ResolveFormat(name)->spec;
    for (const char* rounding : {"rne", "sr", "sr:8"}) {
      // Block counter (index / 4) crosses 2^32 inside the call for the second offset.
      for (const uint64_t offset : {uint64_t{0}, (uint64_t{1} << 34) - 4 * 1000 - 3}) {
        INFO(name << " " << rounding << " index_offset " << offset);
        TensorOptions o;
        o.backend = Backend::kSimd;
        o.quantize = Options(rounding, Overflow::kInf);
        o.quantize.index_offset = offset;
        o.threads = 1;
        const Result one = Run(spec, data, o);
        for (const int threads : {2, 3, 5, 16, 0}) {
          o.threads = threads;
          const Result many = Run(spec, data, o);
          INFO("threads " << threads);
          CHECK(many.packed == one.packed);
          CHECK(many.values == one.values);
        }
        // The same tensor in uneven pieces, each call numbering from its own first element.
        std::mt19937_64 rng(7);
        Result pieces;
        for (size_t start = 0; start < n;) {
          const size_t len = std::min<size_t>(n - start, 1 + rng() % 40000);
          TensorOptions po = o;
          po.threads = static_cast<int>(rng() % 4);
          po.quantize.index_offset = offset + start;
          const Result part = Run(spec, std::span<const float>(data.data() + start, len), po);
          pieces.codes.insert(pieces.codes.end(), part.codes.begin(), part.codes.end());
          pieces.values.insert(pieces.values.end(), part.values.begin(), part.values.end());
          start += len;
        }
        CHECK(pieces.codes == one.codes);
        CHECK(pieces.values == one.values);
        // And the scalar reference agrees with all of them (spot check: every 97th element).
        for (size_t i = 0; i < n; i += 97) {
          INFO("index " << i);
          REQUIRE(one.codes[i] == EncodeScalar(spec, data[i], o.quantize, i));
        }
      }
    }
  }
}

TEST_CASE("SIMD stochastic rounding is reproducible and seed/stream dependent", "[simd]") {
  const FormatSpec spec = ResolveFormat("e4m3fn")->spec;
  const std::vector<float> data = Data(4099);
  TensorOptions o;
  o.backend = Backend::kSimd;
  o.quantize = Options("sr", Overflow::kInf);
  const Result a = Run(spec, data, o);
  const Result b = Run(spec, data, o);
  CHECK(a.codes == b.codes);
  TensorOptions other_seed = o;
  other_seed.quantize.seed ^= 1;
  CHECK(Run(spec, data, other_seed).codes != a.codes);
  TensorOptions other_stream = o;
  other_stream.quantize.stream += 1;
  CHECK(Run(spec, data, other_stream).codes != a.codes);
}

}  // namespace
}  // namespace qfloat::simd_test
