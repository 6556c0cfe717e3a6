// Shared by bench/bench_*.cc: the memcpy baseline every throughput figure is divided by, and
// gradient-like test data.
//
// vs_memcpy = (input + output bytes per second of the benchmark) / (input + output bytes per
// second of memcpy copying the benchmark's input buffer to a buffer of the same size, with the
// same number of threads, in the same process). memcpy gets its best run out of several and one
// contiguous piece per thread (so glibc may use non-temporal stores on large copies): the
// baseline is as fast as memcpy gets here.
#ifndef QFLOAT_BENCH_BENCH_UTIL_H_
#define QFLOAT_BENCH_BENCH_UTIL_H_

#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <map>
#include <mutex>
#include <random>
#include <thread>
#include <utility>
#include <vector>

#include "simd/thread_pool.h"

namespace qfloat::bench {

// A buffer aligned to 64 bytes (vector stores and non-temporal stores want it).
template <typename T>
class AlignedBuffer {
 public:
  explicit AlignedBuffer(size_t n)
      : n_(n), data_(static_cast<T*>(::operator new[](n * sizeof(T), std::align_val_t{64}))) {}
  ~AlignedBuffer() { ::operator delete[](data_, std::align_val_t{64}); }
  AlignedBuffer(const AlignedBuffer&) = delete;
  AlignedBuffer& operator=(const AlignedBuffer&) = delete;
  T* data() { return data_; }
  const T* data() const { return data_; }
  size_t size() const { return n_; }

 private:
  size_t n_;
  T* data_;
};

// Threads a "all threads" benchmark uses.
inline int AllThreads() {
  return std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
}

// Copies `bytes` from src to dst with `threads` threads, one contiguous piece each.
inline void ParallelMemcpy(void* dst, const void* src, size_t bytes, int threads) {
  if (threads <= 1) {
    std::memcpy(dst, src, bytes);
    return;
  }
  const size_t piece = (bytes / static_cast<size_t>(threads) + 63) / 64 * 64;
  simd::ThreadPool::Shared().Run(static_cast<size_t>(threads), threads, [&](size_t t) {
    const size_t begin = std::min(bytes, t * piece);
    const size_t end = std::min(bytes, begin + piece);
    std::memcpy(static_cast<char*>(dst) + begin, static_cast<const char*>(src) + begin,
                end - begin);
  });
}

// Input + output bytes per second of memcpy over a `bytes`-byte buffer with `threads` threads:
// the best of several timed runs, measured once per (bytes, threads) in this process.
inline double MemcpyBytesPerSecond(size_t bytes, int threads) {
  static std::mutex mutex;
  static std::map<std::pair<size_t, int>, double> cache;
  std::lock_guard<std::mutex> lock(mutex);
  const auto key = std::make_pair(bytes, threads);
  if (auto it = cache.find(key); it != cache.end()) return it->second;
  AlignedBuffer<char> src(bytes), dst(bytes);
  std::memset(src.data(), 1, bytes);
  std::memset(dst.data(), 2, bytes);
  // Enough copies per run for ~20 ms, 9 runs.
  const size_t reps = std::max<size_t>(1, (size_t{256} << 20) / bytes);
  double best = 0;
  for (int run = 0; run < 9; ++run) {
    const auto t0 = std::chrono::steady_clock::now();
    for (size_t r = 0; r < reps; ++r) {
      ParallelMemcpy(dst.data(), src.data(), bytes, threads);
      benchmark::ClobberMemory();
    }
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    best = std::max(best, 2.0 * static_cast<double>(bytes) * static_cast<double>(reps) / s);
  }
  cache[key] = best;
  return best;
}

// Sets the benchmark's bytes/s and its vs_memcpy counter. `bytes_per_iteration` = input +
// output bytes of one iteration; `input_bytes` the size of the buffer memcpy copies.
// `seconds`: the wall time of the benchmark loop (WallTimer).
inline void ReportVsMemcpy(benchmark::State& state, size_t bytes_per_iteration, size_t input_bytes,
                           int threads, double seconds) {
  const double memcpy_rate = MemcpyBytesPerSecond(input_bytes, threads);
  const double total =
      static_cast<double>(bytes_per_iteration) * static_cast<double>(state.iterations());
  state.SetBytesProcessed(static_cast<int64_t>(total));
  state.counters["vs_memcpy"] = seconds > 0 ? total / seconds / memcpy_rate : 0.0;
}

// Wall time since construction, in seconds.
class WallTimer {
 public:
  WallTimer() : start_(std::chrono::steady_clock::now()) {}
  double Seconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  }

 private:
  std::chrono::steady_clock::time_point start_;
};

// Gradient-like data: normal with mean 0 and standard deviation `sigma`.
inline void FillGradients(float* x, size_t n, float sigma, uint64_t seed = 1) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal(0.0f, sigma);
  for (size_t i = 0; i < n; ++i) x[i] = normal(rng);
}

}  // namespace qfloat::bench

#endif  // QFLOAT_BENCH_BENCH_UTIL_H_
