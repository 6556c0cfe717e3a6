// The CUDA backend's float32 fast path (src/cuda/fast_path.h), run on the CPU against the scalar
// reference: it is host/device code, so this checks on every machine the arithmetic the GPU
// kernels run. The GPU tests (cuda_backend_test) check the kernels themselves.
#include "cuda/fast_path.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "inputs.h"
#include "qfloat/detail/philox.h"
#include "qfloat/format.h"
#include "qfloat/rounding.h"
#include "qfloat/scalar.h"

namespace qfloat {
namespace {

using cuda_detail::FastEncodeF32;
using cuda_detail::FastPath;
using cuda_detail::MakeFastPath;
using test::FloatBits;
using test::FloatOf;

std::vector<Rounding> AllRoundings() {
  std::vector<Rounding> out;
  for (const char* r :
       {"rne", "rna", "rtz", "rup", "rdn", "rto", "sr", "sr:1", "sr:3", "sr:8", "sr:23", "sr:32"}) {
    out.push_back(*ParseRounding(r));
  }
  return out;
}

const Overflow kOverflows[] = {Overflow::kInf, Overflow::kSatFinite, Overflow::kSatPropagate};

std::string Describe(const Format& f, const QuantizeOptions& o) {
  return f.name + " " + ToString(o.rounding) + " " + ToString(o.overflow) + " seed " +
         std::to_string(o.seed) + " offset " + std::to_string(o.index_offset);
}

// Fast path vs reference on inputs xs (element i has index first + i); returns the mismatches
// and prints the first few.
size_t CountMismatches(const Format& f, const QuantizeOptions& o, const std::vector<uint32_t>& xs,
                       uint64_t first) {
  const FastPath p = MakeFastPath(f.spec, o);
  size_t bad = 0;
  for (size_t i = 0; i < xs.size(); ++i) {
    const uint64_t index = first + i;
    const uint32_t word0 = StochasticBits(o.seed, o.stream, o.index_offset + index, 0);
    uint32_t code = 0, value = 0;
    FastEncodeF32(p, xs[i], word0, index, &code, &value);
    const float x = FloatOf(xs[i]);
    const uint32_t want_code = EncodeScalar(f.spec, x, o, index);
    const uint32_t want_value = FloatBits(QuantizeScalar(f.spec, x, o, index));
    if (code != want_code || value != want_value) {
      if (++bad <= 5) {
        std::printf("%s: x=0x%08X index %llu: fast code 0x%X value 0x%08X, reference 0x%X 0x%08X\n",
                    Describe(f, o).c_str(), xs[i], static_cast<unsigned long long>(index), code,
                    value, want_code, want_value);
      }
    }
  }
  return bad;
}

bool Enabled(const char* name) {
  return MakeFastPath(ResolveFormat(name)->spec, QuantizeOptions{}).enabled;
}

TEST_CASE("the fast path takes the minifloats it can express and no others", "[fast_path]") {
  for (const char* name : {"e4m3fn", "e5m2", "e2m1fn", "e2m3fn", "e3m2fn", "e4m3fnuz", "e5m2fnuz",
                           "e4m3b11fnuz", "e3m4", "e4m3", "fp16", "bf16", "binary8p3"}) {
    INFO(name);
    CHECK(Enabled(name));
  }
  // Posits, formats without zero, and float32 itself (no dropped bit) take the reference path.
  for (const char* name : {"posit8_2", "posit16_1", "posit32_2", "e8m0fnu", "fp32"}) {
    INFO(name);
    CHECK_FALSE(Enabled(name));
  }
}

TEST_CASE("fast path == reference on boundary and random float32 inputs", "[fast_path]") {
  size_t formats = 0;
  for (const Format& f : BuiltinFormats()) {
    if (!f.element.empty() || !MakeFastPath(f.spec, QuantizeOptions{}).enabled) continue;
    ++formats;
    std::vector<uint32_t> xs = test::BoundaryFloats(f.spec);
    const test::RandomRange range = test::RangeOf(f.spec);
    for (uint64_t i = 0; i < (1u << 14); ++i) xs.push_back(test::RandomFloatBits(range, 7, i));
    for (const Rounding& r : AllRoundings()) {
      for (Overflow ovf : kOverflows) {
        QuantizeOptions o;
        o.rounding = r;
        o.overflow = ovf;
        o.seed = 0x1234567890ABCDEFull;
        o.stream = 3;
        o.index_offset = r.mode == RoundingMode::kStochastic ? 6 : 0;  // blocks straddled too
        INFO(Describe(f, o));
        CHECK(CountMismatches(f, o, xs, 1000) == 0);
      }
    }
  }
  CHECK(formats >= 10);
}

// Exact `sr` needs word 1 when word 0 equals the first 32 bits of the dropped fraction and more
// of the fraction remains. A float32 fraction has 24 significant bits, so such inputs exist only
// where the fraction starts 9 or more bits below the binary point: below the subnormal range.
TEST_CASE("exact sr past word 0 defers to the reference's loop", "[fast_path]") {
  for (const char* name : {"e4m3fn", "e5m2", "e2m1fn"}) {
    const Format f = *ResolveFormat(name);
    QuantizeOptions o;
    o.rounding = *ParseRounding("sr");
    o.seed = 99;
    o.stream = 1;
    const int m = f.spec.mantissa_bits;
    const int ex = f.spec.emin - m - 10;  // 33 dropped bits: digit 1 = rem >> 1, 1 bit remains
    REQUIRE(ex >= -126);
    std::vector<uint32_t> xs;
    std::vector<uint64_t> indices;
    for (uint64_t index = 0; xs.size() < 64 && index < (uint64_t{1} << 26); ++index) {
      const uint32_t w = StochasticBits(o.seed, o.stream, index, 0);
      if (w < (1u << 22) || w >= (1u << 23)) continue;
      const uint32_t rem = (w << 1) | 1u;  // a 24-bit significand, implicit bit set
      xs.push_back((static_cast<uint32_t>(ex + 127) << 23) | (rem & 0x7FFFFFu));
      indices.push_back(index);
    }
    REQUIRE(xs.size() == 64);
    const FastPath p = MakeFastPath(f.spec, o);
    size_t up = 0;
    for (size_t i = 0; i < xs.size(); ++i) {
      uint32_t code = 0, value = 0;
      FastEncodeF32(p, xs[i], StochasticBits(o.seed, o.stream, indices[i], 0), indices[i], &code,
                    &value);
      const uint32_t want = EncodeScalar(f.spec, FloatOf(xs[i]), o, indices[i]);
      INFO(name << " x=" << xs[i] << " index " << indices[i]);
      CHECK(code == want);
      CHECK(value == FloatBits(QuantizeScalar(f.spec, FloatOf(xs[i]), o, indices[i])));
      up += code != 0 ? 1 : 0;
    }
    // Word 1 decides: about half the ties round up (a fixed seed makes this deterministic).
    CHECK(up > 8);
    CHECK(up < 56);
  }
}

TEST_CASE("StochasticBlock holds the four StochasticBits of a block", "[fast_path]") {
  for (uint64_t i = 0; i < 4096; ++i) {
    const uint64_t seed = test::Mix64(i), index = test::Mix64(i + 77);
    const uint32_t stream = static_cast<uint32_t>(i * 2654435761u), word = i % 3;
    const Philox4x32 block = StochasticBlock(seed, stream, index >> 2, word);
    CHECK(block.v[index & 3] == StochasticBits(seed, stream, index, word));
  }
}

TEST_CASE("the backend's float conversions are the host's casts", "[fast_path]") {
  for (uint64_t i = 0; i < (1u << 16); ++i) {
    const uint32_t fb = static_cast<uint32_t>(test::Mix64(i));
    const double widened = static_cast<double>(FloatOf(fb));
    CHECK(test::DoubleBits(cuda_detail::WidenFloatBits(fb)) == test::DoubleBits(widened));
    const uint64_t db = test::Mix64(i + 1000003);
    double d;
    std::memcpy(&d, &db, sizeof(d));
    CHECK(cuda_detail::FloatBitsOfDouble(d) == FloatBits(static_cast<float>(d)));
  }
  for (uint64_t db : {0x7FF8000000000000ull, 0xFFF8000000000000ull, 0x7FF0000000000001ull,
                      0x0000000000000001ull, 0x36A0000000000000ull, 0x47EFFFFFF0000000ull}) {
    double d;
    std::memcpy(&d, &db, sizeof(d));
    CHECK(cuda_detail::FloatBitsOfDouble(d) == FloatBits(static_cast<float>(d)));
  }
}

// All 2^32 float32 inputs (hidden: `cuda_fast_path_test [exhaustive]`, minutes per format on
// one core; QFLOAT_EXHAUSTIVE_THREADS threads).
TEST_CASE("fast path == reference on every float32", "[.][exhaustive]") {
  const char* env = std::getenv("QFLOAT_EXHAUSTIVE_THREADS");
  const unsigned threads = env != nullptr ? static_cast<unsigned>(std::atoi(env))
                                          : std::max(1u, std::thread::hardware_concurrency());
  const char* only = std::getenv("QFLOAT_EXHAUSTIVE_FORMATS");
  for (const char* name : {"e4m3fn", "e5m2", "e2m1fn", "bf16", "fp16"}) {
    if (only != nullptr && std::string(only).find(name) == std::string::npos) continue;
    const Format f = *ResolveFormat(name);
    for (const char* mode : {"rne", "sr"}) {
      QuantizeOptions o;
      o.rounding = *ParseRounding(mode);
      o.seed = 2024;
      std::vector<size_t> bad(threads, 0);
      std::vector<std::thread> pool;
      for (unsigned t = 0; t < threads; ++t) {
        pool.emplace_back([&, t] {
          std::vector<uint32_t> xs;
          const uint64_t chunk = uint64_t{1} << 20;
          for (uint64_t start = t * chunk; start < (uint64_t{1} << 32); start += threads * chunk) {
            xs.clear();
            for (uint64_t x = start; x < start + chunk; ++x) xs.push_back(static_cast<uint32_t>(x));
            bad[t] += CountMismatches(f, o, xs, start);
          }
        });
      }
      for (std::thread& th : pool) th.join();
      size_t total = 0;
      for (size_t b : bad) total += b;
      std::printf("exhaustive %s %s: %zu mismatches in 2^32 inputs\n", name, mode, total);
      CHECK(total == 0);
    }
  }
}

}  // namespace
}  // namespace qfloat
