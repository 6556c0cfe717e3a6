// Internal: a small pool of std::threads for the SIMD backend (Highway 1.0.3 ships none).
//
// Run(tasks, threads, fn) calls fn(i) for every i in [0, tasks) on up to `threads` threads, the
// caller included, and returns when all are done. Tasks are handed out by an atomic counter, so
// which thread runs a task varies from call to call: callers make results independent of it
// (each task writes its own output range). A call made while the pool is busy (another thread's
// call, or a task calling back in) runs on the calling thread alone instead of waiting.
#ifndef QFLOAT_SRC_SIMD_THREAD_POOL_H_
#define QFLOAT_SRC_SIMD_THREAD_POOL_H_

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace qfloat::simd {

class ThreadPool {
 public:
  // `workers` threads besides the caller.
  explicit ThreadPool(int workers);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  // Threads a call can use: the workers plus the caller.
  int MaxThreads() const { return static_cast<int>(workers_.size()) + 1; }

  void Run(size_t tasks, int threads, const std::function<void(size_t)>& fn);

  // The process-wide pool: one thread per hardware thread (the caller being one of them),
  // started on first use.
  static ThreadPool& Shared();

 private:
  void WorkerLoop(int id);
  void Work(const std::function<void(size_t)>& fn, size_t tasks);

  std::vector<std::thread> workers_;
  std::mutex run_mutex_;  // one Run at a time

  std::mutex mutex_;
  std::condition_variable start_;
  std::condition_variable done_;
  uint64_t generation_ = 0;  // bumped per Run
  bool stop_ = false;
  int active_ = 0;   // workers taking part in the current Run
  int pending_ = 0;  // of those, not finished yet
  size_t tasks_ = 0;
  const std::function<void(size_t)>* fn_ = nullptr;
  std::atomic<size_t> next_{0};
};

// Threads to use for a call asking for `requested` (0 = all hardware threads).
int ResolveThreads(int requested);

}  // namespace qfloat::simd

#endif  // QFLOAT_SRC_SIMD_THREAD_POOL_H_
