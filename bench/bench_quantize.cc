// Throughput of the tensor API's SIMD backend (qfloat/quantize.h) on gradient-like data
// (normal, sigma = 1e-3): fake-quant (float32 -> float32) and encode (float32 -> packed codes)
// for e4m3fn, e5m2, e2m1fn, bf16, posit8_2 and posit16_1, with rne and sr, on 1 thread and on
// all threads, over a 16M-element array (64 MiB: memory-bound) and a 256K-element one (1 MiB:
// cache-resident). Each reports vs_memcpy (bench_util.h): its input + output bytes per second
// over memcpy's on the same input buffer with the same thread count.
//
// Names: BM_<Op>/<format>/<mode>/<threads>, Op = Quantize16M, Quantize256K, Encode16M,
// Encode256K; BM_Memcpy<size>/<threads> is the baseline itself (vs_memcpy 1 by construction,
// up to timing noise).
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "bench_util.h"
#include "qfloat/format.h"
#include "qfloat/quantize.h"

namespace qfloat::bench {
namespace {

constexpr float kSigma = 1e-3f;

struct Size {
  const char* name;
  size_t elements;
};
constexpr Size kSizes[] = {{"16M", size_t{16} << 20}, {"256K", size_t{256} << 10}};

// Inputs shared by every benchmark of a size (generated once).
const AlignedBuffer<float>& Inputs(size_t n) {
  static AlignedBuffer<float> large(kSizes[0].elements);
  static AlignedBuffer<float> small(kSizes[1].elements);
  static const bool filled = [] {
    FillGradients(large.data(), large.size(), kSigma, 1);
    FillGradients(small.data(), small.size(), kSigma, 2);
    return true;
  }();
  (void)filled;
  return n == large.size() ? large : small;
}

void BM_Quantize(benchmark::State& state, FormatSpec spec, Rounding rounding, size_t n,
                 int threads) {
  const AlignedBuffer<float>& in = Inputs(n);
  AlignedBuffer<float> out(n);
  TensorOptions o;
  o.backend = Backend::kSimd;
  o.threads = threads;
  o.quantize.rounding = rounding;
  const WallTimer timer;
  for (auto _ : state) {
    const Status st =
        Quantize(spec, std::span<const float>(in.data(), n), std::span<float>(out.data(), n), o);
    if (!st.ok()) state.SkipWithError(st.message().c_str());
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  ReportVsMemcpy(state, 2 * n * sizeof(float), n * sizeof(float), threads, timer.Seconds());
}

void BM_Encode(benchmark::State& state, FormatSpec spec, Rounding rounding, size_t n, int threads) {
  const AlignedBuffer<float>& in = Inputs(n);
  const size_t bytes = PackedBytes(spec, n);
  AlignedBuffer<uint8_t> out(bytes);
  TensorOptions o;
  o.backend = Backend::kSimd;
  o.threads = threads;
  o.quantize.rounding = rounding;
  const WallTimer timer;
  for (auto _ : state) {
    const Status st = Encode(spec, std::span<const float>(in.data(), n),
                             std::span<uint8_t>(out.data(), bytes), o);
    if (!st.ok()) state.SkipWithError(st.message().c_str());
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  ReportVsMemcpy(state, n * sizeof(float) + bytes, n * sizeof(float), threads, timer.Seconds());
}

void BM_Memcpy(benchmark::State& state, size_t n, int threads) {
  const AlignedBuffer<float>& in = Inputs(n);
  AlignedBuffer<float> out(n);
  const WallTimer timer;
  for (auto _ : state) {
    ParallelMemcpy(out.data(), in.data(), n * sizeof(float), threads);
    benchmark::ClobberMemory();
  }
  ReportVsMemcpy(state, 2 * n * sizeof(float), n * sizeof(float), threads, timer.Seconds());
}

bool RegisterAll() {
  const std::vector<int> thread_counts =
      AllThreads() > 1 ? std::vector<int>{1, AllThreads()} : std::vector<int>{1};
  for (const Size& size : kSizes) {
    for (const int threads : thread_counts) {
      const std::string suffix = std::string(size.name) + "/" + std::to_string(threads);
      benchmark::RegisterBenchmark(("BM_Memcpy" + suffix).c_str(), BM_Memcpy, size.elements,
                                   threads)
          ->UseRealTime();
    }
  }
  for (const char* format : {"e4m3fn", "e5m2", "e2m1fn", "bf16", "posit8_2", "posit16_1"}) {
    const FormatSpec spec = ResolveFormat(format)->spec;
    for (const char* mode : {"rne", "sr"}) {
      const Rounding rounding = *ParseRounding(mode);
      for (const Size& size : kSizes) {
        for (const int threads : thread_counts) {
          const std::string suffix =
              std::string(size.name) + "/" + format + "/" + mode + "/" + std::to_string(threads);
          benchmark::RegisterBenchmark(("BM_Quantize" + suffix).c_str(), BM_Quantize, spec,
                                       rounding, size.elements, threads)
              ->UseRealTime();
          benchmark::RegisterBenchmark(("BM_Encode" + suffix).c_str(), BM_Encode, spec, rounding,
                                       size.elements, threads)
              ->UseRealTime();
        }
      }
    }
  }
  return true;
}

const bool kRegistered = RegisterAll();

}  // namespace
}  // namespace qfloat::bench
