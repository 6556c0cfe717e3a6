// The CPU side of cuda_backend_test: a batch of inputs for one format and configuration, and the
// bit-for-bit check of a chunk of GPU results (packed codes and fake-quant values copied back to
// host memory) against the scalar reference on all CPU threads. Host-only, so verify_test.cc
// checks the checker itself on the CPU.
#ifndef QFLOAT_TESTS_CUDA_VERIFY_H_
#define QFLOAT_TESTS_CUDA_VERIFY_H_

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <functional>
#include <mutex>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "inputs.h"
#include "qfloat/format.h"
#include "qfloat/quantize.h"
#include "qfloat/rounding.h"
#include "qfloat/scalar.h"

namespace qfloat::test {

// Where a batch's inputs come from: element i (of the whole batch) is input i of a generator
// (kIdentity: the float32 with bits i; kPermuted: bits i * 0x9E3779B1 mod 2^32, a permutation of
// all float32 patterns, so any prefix samples them evenly) or of an explicit list.
enum class Source : int {
  kIdentity = 0,
  kRandomFloat = 1,
  kRandomDouble = 2,
  kExplicit = 3,
  kPermuted = 4
};

// The float32 bits of element i of a kPermuted source (host and device).
QFLOAT_HOST_DEVICE inline uint32_t PermutedBits(uint64_t i) {
  return static_cast<uint32_t>(i) * 0x9E3779B1u;
}

struct Batch {
  const Format* format = nullptr;
  QuantizeOptions options;
  bool f64 = false;
  Source source = Source::kRandomFloat;
  RandomRange range;
  uint64_t seed = 0;
  uint64_t count = 0;
  const std::vector<uint32_t>* floats = nullptr;   // kExplicit, float32
  const std::vector<uint64_t>* doubles = nullptr;  // kExplicit, float64
};

struct Outcome {
  uint64_t checked = 0;
  uint64_t code_mismatches = 0;
  uint64_t value_mismatches = 0;
};

inline std::string Describe(const Format& f, const QuantizeOptions& o) {
  return f.name + " " + ToString(o.rounding) + " " + ToString(o.overflow);
}

// The bits of input i of a batch (a float32's in the low 32 bits, or a float64's).
inline uint64_t InputBits(const Batch& b, uint64_t i) {
  switch (b.source) {
    case Source::kIdentity:
      return static_cast<uint32_t>(i);
    case Source::kPermuted:
      return PermutedBits(i);
    case Source::kRandomFloat:
      return RandomFloatBits(b.range, b.seed, i);
    case Source::kRandomDouble:
      return RandomDoubleBits(b.range, b.seed, i);
    case Source::kExplicit:
      return b.f64 ? (*b.doubles)[i] : (*b.floats)[i];
  }
  return 0;
}

// Reference values per code for formats of <= 16 bits (float32 bits, float64 bits).
struct ValueTables {
  std::vector<uint32_t> f32;
  std::vector<uint64_t> f64;
};

inline ValueTables MakeTables(const FormatSpec& spec) {
  ValueTables t;
  if (spec.bits > 16) return t;
  for (uint32_t c = 0; c < (1u << spec.bits); ++c) {
    const double v = DecodeScalar(spec, c);
    t.f32.push_back(FloatBits(static_cast<float>(v)));
    t.f64.push_back(DoubleBits(v));
  }
  return t;
}

// Runs fn(begin, end, worker) over [0, n) on `threads` threads.
inline void ParallelFor(uint64_t n, unsigned threads,
                        const std::function<void(uint64_t, uint64_t, unsigned)>& fn) {
  const unsigned t = static_cast<unsigned>(std::clamp<uint64_t>(n, 1, std::max(threads, 1u)));
  std::vector<std::thread> pool;
  for (unsigned w = 0; w < t; ++w) {
    pool.emplace_back([&, w] { fn(n * w / t, n * (w + 1) / t, w); });
  }
  for (std::thread& th : pool) th.join();
}

// Checks n results, elements base .. base+n-1 of batch b, computed with options `o` (o's
// index_offset belongs to element `base`, so element base+i used index i): `codes` holds the
// packed codes, `values` the fake-quant values (float32 or float64 as the batch). Prints the
// first `prints` mismatches. The documented zero padding of a packed tail counts as codes too.
inline Outcome VerifyChunk(const Batch& b, const ValueTables& tables, const QuantizeOptions& o,
                           uint64_t base, uint64_t n, std::span<const uint8_t> codes,
                           const void* values, unsigned threads, int prints = 8) {
  const FormatSpec& spec = b.format->spec;
  std::vector<Outcome> parts(std::max(threads, 1u));
  std::mutex print;
  std::atomic<int> printed{0};
  ParallelFor(n, threads, [&](uint64_t begin, uint64_t end, unsigned w) {
    Outcome& part = parts[w];
    for (uint64_t i = begin; i < end; ++i) {
      const uint64_t bits = InputBits(b, base + i);
      uint32_t want_code;
      uint64_t want_value, got_value;
      if (b.f64) {
        double x;
        std::memcpy(&x, &bits, sizeof(x));
        want_code = EncodeScalar(spec, x, o, i);
        want_value =
            tables.f64.empty() ? DoubleBits(DecodeScalar(spec, want_code)) : tables.f64[want_code];
        got_value = static_cast<const uint64_t*>(values)[i];
      } else {
        want_code = EncodeScalar(spec, FloatOf(static_cast<uint32_t>(bits)), o, i);
        want_value = tables.f32.empty()
                         ? FloatBits(static_cast<float>(DecodeScalar(spec, want_code)))
                         : tables.f32[want_code];
        got_value = static_cast<const uint32_t*>(values)[i];
      }
      const uint32_t got_code = ReadPackedCode(spec, codes, i);
      ++part.checked;
      const bool code_ok = got_code == want_code, value_ok = got_value == want_value;
      part.code_mismatches += code_ok ? 0 : 1;
      part.value_mismatches += value_ok ? 0 : 1;
      if ((!code_ok || !value_ok) && printed.fetch_add(1) < prints) {
        std::lock_guard<std::mutex> lock(print);
        std::printf(
            "  mismatch %s %s: input 0x%llx (element %llu): code 0x%x want 0x%x, value 0x%llx "
            "want 0x%llx\n",
            Describe(*b.format, b.options).c_str(), b.f64 ? "f64" : "f32",
            static_cast<unsigned long long>(bits), static_cast<unsigned long long>(base + i),
            got_code, want_code, static_cast<unsigned long long>(got_value),
            static_cast<unsigned long long>(want_value));
      }
    }
  });
  Outcome total;
  for (const Outcome& p : parts) {
    total.checked += p.checked;
    total.code_mismatches += p.code_mismatches;
    total.value_mismatches += p.value_mismatches;
  }
  // The high nibble of an odd count's last byte, the unused codes of a 6-bit format's last group.
  if (spec.bits <= 6) {
    const uint64_t group = spec.bits <= 4 ? 2 : 4;
    for (uint64_t i = n; i < (n + group - 1) / group * group; ++i) {
      if (ReadPackedCode(spec, codes, i) != 0) ++total.code_mismatches;
    }
  }
  return total;
}

}  // namespace qfloat::test

#endif  // QFLOAT_TESTS_CUDA_VERIFY_H_
