// Analysis throughput on a 16M-element float32 gradient, as ratios to memcpy of the same bytes
// measured in the same run (issue 6 §5; target: the fused fast path >= 0.5 x memcpy).
//
// - Analyze/fast: quantize (e4m3fn, RNE, Backend::kAuto) + every statistic (classes, TwoSum
//   totals, histogram, min/max), all threads. The label names the quantizer backend that kAuto
//   picked (simd once src/simd is compiled in, else scalar).
// - Analyze/exact: the same with the exact superaccumulator path.
// - Accumulate/fast, Accumulate/exact: the statistics alone over a precomputed image (the
//   analysis layer's own cost, independent of the quantizer); AccumulateWarm: the fast
//   statistics on cache-resident data, one thread (the kernel's compute cost alone).
// Counters: vs_memcpy = t(memcpy of the gradient's bytes with the same thread count) / t(run);
// vs_memcpy_1t = the same against a single-threaded memcpy. Both memcpy times are the best of
// five copies, taken in the benchmark itself. On a loaded machine wall times mean little, so the
// process CPU time is reported too: cpu_ns_per_elem (all threads) and vs_memcpy_1t_cpu =
// cpu(single-threaded memcpy) / (cpu(run) / threads), the ratio an idle machine with perfect
// scaling would show.
#include <benchmark/benchmark.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "qfloat/analysis.h"
#include "qfloat/format.h"
#include "qfloat/quantize.h"
#include "tensor/backends.h"

namespace qfloat {
namespace {

constexpr size_t kGradient = size_t{1} << 24;  // 16M

int AllThreads() {
  const unsigned hw = std::thread::hardware_concurrency();
  return hw == 0 ? 1 : static_cast<int>(hw);
}

// A gradient spanning FP8's whole range: normal values times 10^U(-5, 1), so every class occurs.
const std::vector<float>& Gradient() {
  static const std::vector<float> g = [] {
    std::vector<float> v(kGradient);
    std::mt19937_64 rng(6);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    std::uniform_real_distribution<float> scale(-5.0f, 1.0f);
    for (float& x : v) x = normal(rng) * std::pow(10.0f, scale(rng));
    return v;
  }();
  return g;
}

const FormatSpec& E4m3() {
  static const FormatSpec spec = ResolveFormat("e4m3fn").value().spec;
  return spec;
}

void CopyWithThreads(const uint8_t* src, uint8_t* dst, size_t bytes, int threads) {
  if (threads <= 1) {
    std::memcpy(dst, src, bytes);
    return;
  }
  std::vector<std::thread> pool;
  const size_t part = (bytes / static_cast<size_t>(threads) + 63) / 64 * 64;
  for (int t = 0; t < threads; ++t) {
    const size_t begin = std::min(bytes, part * static_cast<size_t>(t));
    const size_t end = std::min(bytes, begin + part);
    pool.emplace_back([=] { std::memcpy(dst + begin, src + begin, end - begin); });
  }
  for (std::thread& th : pool) th.join();
}

// CPU seconds used by the process so far (every thread).
double CpuSeconds() {
  rusage u;
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         1e-6 * static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

struct Timing {
  double wall = 1e30;
  double cpu = 1e30;
};

// Best of five copies of `bytes` (after a warm-up copy that faults the pages in).
Timing MemcpyTiming(size_t bytes, int threads) {
  std::vector<uint8_t> src(bytes, 1), dst(bytes, 0);
  CopyWithThreads(src.data(), dst.data(), bytes, threads);
  Timing best;
  for (int r = 0; r < 5; ++r) {
    const double c0 = CpuSeconds();
    const auto t0 = std::chrono::steady_clock::now();
    CopyWithThreads(src.data(), dst.data(), bytes, threads);
    benchmark::DoNotOptimize(dst.data());
    benchmark::ClobberMemory();
    const auto t1 = std::chrono::steady_clock::now();
    best.wall = std::min(best.wall, std::chrono::duration<double>(t1 - t0).count());
    best.cpu = std::min(best.cpu, CpuSeconds() - c0);
  }
  return best;
}

// Runs `fn` once per iteration under manual timing and sets the memcpy ratios.
template <typename Fn>
void Measure(benchmark::State& state, Fn&& fn) {
  const std::vector<float>& g = Gradient();
  const size_t bytes = g.size() * sizeof(float);
  const int threads = AllThreads();
  const Timing copy_t = MemcpyTiming(bytes, threads);
  const Timing copy_1t = MemcpyTiming(bytes, 1);
  double total = 0.0;
  double cpu = 0.0;
  int64_t runs = 0;
  for (auto _ : state) {
    const double c0 = CpuSeconds();
    const auto t0 = std::chrono::steady_clock::now();
    fn();
    const double t = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    cpu += CpuSeconds() - c0;
    state.SetIterationTime(t);
    total += t;
    ++runs;
  }
  const double per_run = total / static_cast<double>(runs);
  const double cpu_per_run = cpu / static_cast<double>(runs);
  const double n = static_cast<double>(g.size());
  state.SetBytesProcessed(static_cast<int64_t>(bytes) * runs);
  state.counters["vs_memcpy"] = copy_t.wall / per_run;
  state.counters["vs_memcpy_1t"] = copy_1t.wall / per_run;
  state.counters["threads"] = threads;
  state.counters["cpu_ns_per_elem"] = cpu_per_run * 1e9 / n;
  state.counters["memcpy_cpu_ns_per_elem"] = copy_1t.cpu * 1e9 / n;
  state.counters["vs_memcpy_1t_cpu"] = copy_1t.cpu / (cpu_per_run / threads);
}

std::string QuantizerLabel() {
  return backend::Registered().simd != nullptr ? "quantizer=simd" : "quantizer=scalar";
}

void BM_Analyze(benchmark::State& state, SumPath path) {
  const std::vector<float>& g = Gradient();
  TensorOptions opts;  // Backend::kAuto, all threads
  AnalyzeOptions ao;
  ao.path = path;
  double keep = 0.0;
  Measure(state, [&] {
    StatusOr<ShrinkageStats> s = Analyze(E4m3(), g, opts, ao);
    if (!s.ok()) {
      state.SkipWithError(s.status().message().c_str());
      return;
    }
    keep += s->count(ElementClass::kFlushed);
  });
  benchmark::DoNotOptimize(keep);
  state.SetLabel(QuantizerLabel());
}

void BM_Accumulate(benchmark::State& state, SumPath path) {
  const std::vector<float>& g = Gradient();
  static const std::vector<float> q = [&] {
    std::vector<float> out(g.size());
    TensorOptions opts;
    (void)Quantize(E4m3(), g, out, opts);
    return out;
  }();
  const ClassThresholds t = ClassThresholds::ForFormat(E4m3());
  uint64_t keep = 0;
  Measure(state, [&] {
    ShrinkageStats s(path);
    if (!s.Accumulate(g, q, t, 0).ok()) state.SkipWithError("Accumulate failed");
    keep += s.count(ElementClass::kFlushed);
  });
  benchmark::DoNotOptimize(keep);
}

void BM_QuantizeOnly(benchmark::State& state) {
  const std::vector<float>& g = Gradient();
  std::vector<float> q(g.size());
  TensorOptions opts;
  Measure(state, [&] {
    if (!Quantize(E4m3(), g, q, opts).ok()) state.SkipWithError("Quantize failed");
    benchmark::DoNotOptimize(q.data());
  });
  state.SetLabel(QuantizerLabel());
}

BENCHMARK_CAPTURE(BM_Analyze, fast, SumPath::kFast)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond)
    ->MinTime(1.0);
BENCHMARK_CAPTURE(BM_Analyze, exact, SumPath::kExact)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond)
    ->Iterations(2);
BENCHMARK_CAPTURE(BM_Accumulate, fast, SumPath::kFast)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond)
    ->MinTime(1.0);
BENCHMARK_CAPTURE(BM_Accumulate, exact, SumPath::kExact)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond)
    ->Iterations(2);
BENCHMARK(BM_QuantizeOnly)->UseManualTime()->Unit(benchmark::kMillisecond)->MinTime(1.0);

// The fast statistics' compute cost alone: 1M elements (8 MiB of g and Q, cache-resident after
// the first run), one thread, CPU time per element. Against BM_Accumulate/fast this separates
// the kernel from the memory traffic and the thread scaling of the 16M runs.
void BM_AccumulateWarm(benchmark::State& state) {
  const std::vector<float> g(Gradient().begin(), Gradient().begin() + (1 << 20));
  std::vector<float> q(g.size());
  TensorOptions opts;
  (void)Quantize(E4m3(), g, q, opts);
  const ClassThresholds t = ClassThresholds::ForFormat(E4m3());
  uint64_t keep = 0;
  double cpu = 0.0;
  for (auto _ : state) {
    const double c0 = CpuSeconds();
    ShrinkageStats s(SumPath::kFast);
    if (!s.Accumulate(g, q, t, 1).ok()) state.SkipWithError("Accumulate failed");
    keep += s.count(ElementClass::kFlushed);
    cpu += CpuSeconds() - c0;
  }
  benchmark::DoNotOptimize(keep);
  state.counters["cpu_ns_per_elem"] =
      cpu * 1e9 / (static_cast<double>(state.iterations()) * static_cast<double>(g.size()));
}
BENCHMARK(BM_AccumulateWarm)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace qfloat
