// Scaled (block-format) quantization throughput, as a ratio to memcpy of the same bytes measured
// in the same run: MX fake-quant (float32 in, float32 out) and MX packed encode (float32 in, codes
// + scales out) on 16M elements with all threads. Target: vs_memcpy >= 0.5 (issue 5).
//
// The memcpy baseline copies the input's bytes with the same number of threads, best of several
// runs, so a ratio of 1 means the recipe runs at the machine's copy bandwidth.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "qfloat/scaling.h"

namespace qfloat {
namespace {

constexpr int64_t kElements = int64_t{1} << 24;  // 16M

int Threads() {
  const unsigned hw = std::thread::hardware_concurrency();
  return hw == 0 ? 1 : static_cast<int>(hw);
}

const std::vector<float>& Input() {
  static const std::vector<float> x = [] {
    std::vector<float> v(static_cast<size_t>(kElements));
    std::mt19937 rng(1);
    std::normal_distribution<float> normal;
    for (float& f : v) f = normal(rng) * 0.01f;
    return v;
  }();
  return x;
}

void ParallelCopy(const uint8_t* src, uint8_t* dst, size_t bytes, int threads) {
  std::vector<std::thread> pool;
  const size_t part = (bytes / static_cast<size_t>(threads) + 63) / 64 * 64;
  for (int t = 0; t < threads; ++t) {
    const size_t begin = std::min(bytes, part * static_cast<size_t>(t));
    const size_t end = std::min(bytes, begin + part);
    pool.emplace_back([=] { std::memcpy(dst + begin, src + begin, end - begin); });
  }
  for (std::thread& th : pool) th.join();
}

// Seconds for a threaded memcpy of `bytes`, best of 5 (after a warm-up copy).
double MemcpySeconds(size_t bytes) {
  std::vector<uint8_t> src(bytes, 1), dst(bytes, 0);
  ParallelCopy(src.data(), dst.data(), bytes, Threads());
  double best = 1e9;
  for (int r = 0; r < 5; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    ParallelCopy(src.data(), dst.data(), bytes, Threads());
    benchmark::ClobberMemory();
    const auto t1 = std::chrono::steady_clock::now();
    best = std::min(best, std::chrono::duration<double>(t1 - t0).count());
  }
  return best;
}

void Report(benchmark::State& state, double op_seconds_total, size_t bytes) {
  const double per_iter = op_seconds_total / static_cast<double>(state.iterations());
  state.counters["vs_memcpy"] = MemcpySeconds(bytes) / per_iter;
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(bytes));
}

void BM_ScaledFakeQuant(benchmark::State& state, const char* format) {
  StatusOr<ScaledFormat> f = ResolveScaledFormat(format);
  if (!f.ok()) {
    state.SkipWithError(f.status().message().c_str());
    return;
  }
  const std::vector<float>& x = Input();
  std::vector<float> out(x.size());
  const std::vector<int64_t> shape = {kElements / 4096, 4096};
  TensorOptions o;
  o.threads = Threads();
  double total = 0;
  for (auto _ : state) {
    const auto t0 = std::chrono::steady_clock::now();
    const Status st = QuantizeScaled(f->format.spec, f->scaling, shape, x, out, o);
    benchmark::DoNotOptimize(out.data());
    const auto t1 = std::chrono::steady_clock::now();
    if (!st.ok()) {
      state.SkipWithError(st.message().c_str());
      return;
    }
    total += std::chrono::duration<double>(t1 - t0).count();
  }
  Report(state, total, x.size() * sizeof(float));
}

void BM_ScaledEncode(benchmark::State& state, const char* format) {
  StatusOr<ScaledFormat> f = ResolveScaledFormat(format);
  if (!f.ok()) {
    state.SkipWithError(f.status().message().c_str());
    return;
  }
  const std::vector<float>& x = Input();
  const std::vector<int64_t> shape = {kElements / 4096, 4096};
  TensorOptions o;
  o.threads = Threads();
  ScaledTensor packed;
  double total = 0;
  for (auto _ : state) {
    const auto t0 = std::chrono::steady_clock::now();
    const Status st = EncodeScaled(f->format.spec, f->scaling, shape, x, &packed, o);
    benchmark::DoNotOptimize(packed.codes.data());
    const auto t1 = std::chrono::steady_clock::now();
    if (!st.ok()) {
      state.SkipWithError(st.message().c_str());
      return;
    }
    total += std::chrono::duration<double>(t1 - t0).count();
  }
  // Same bytes: the float32 input the encoder reads (it writes fewer).
  Report(state, total, x.size() * sizeof(float));
}

// The element kernel alone (no scaling), for reference: the ceiling of the scaled figures.
void BM_ElementQuantize(benchmark::State& state, const char* format) {
  StatusOr<Format> f = ResolveFormat(format);
  if (!f.ok()) {
    state.SkipWithError(f.status().message().c_str());
    return;
  }
  const std::vector<float>& x = Input();
  std::vector<float> out(x.size());
  TensorOptions o;
  o.threads = Threads();
  double total = 0;
  for (auto _ : state) {
    const auto t0 = std::chrono::steady_clock::now();
    const Status st = Quantize(f->spec, x, out, o);
    benchmark::DoNotOptimize(out.data());
    const auto t1 = std::chrono::steady_clock::now();
    if (!st.ok()) {
      state.SkipWithError(st.message().c_str());
      return;
    }
    total += std::chrono::duration<double>(t1 - t0).count();
  }
  Report(state, total, x.size() * sizeof(float));
}

BENCHMARK_CAPTURE(BM_ElementQuantize, e4m3fn, "e4m3fn")->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_ScaledFakeQuant, mxfp8_e4m3, "mxfp8_e4m3")->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_ScaledFakeQuant, mxfp4, "mxfp4")->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_ScaledEncode, mxfp8_e4m3, "mxfp8_e4m3")->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_ScaledEncode, mxfp4, "mxfp4")->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_ScaledFakeQuant, nvfp4, "nvfp4")->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace qfloat
