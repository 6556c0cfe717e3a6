#include "simd/thread_pool.h"

#include <algorithm>

#include "qfloat/detail/threads.h"

namespace qfloat::simd {

ThreadPool::ThreadPool(int workers) {
  workers_.reserve(static_cast<size_t>(std::max(workers, 0)));
  for (int i = 0; i < workers; ++i) workers_.emplace_back([this, i] { WorkerLoop(i); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  start_.notify_all();
  for (std::thread& t : workers_) t.join();
}

void ThreadPool::Work(const std::function<void(size_t)>& fn, size_t tasks) {
  for (size_t i = next_.fetch_add(1, std::memory_order_relaxed); i < tasks;
       i = next_.fetch_add(1, std::memory_order_relaxed)) {
    fn(i);
  }
}

void ThreadPool::WorkerLoop(int id) {
  uint64_t seen = 0;
  for (;;) {
    const std::function<void(size_t)>* fn;
    size_t tasks;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      start_.wait(lock, [&] { return stop_ || (generation_ != seen && id < active_); });
      if (stop_) return;
      seen = generation_;
      fn = fn_;
      tasks = tasks_;
    }
    Work(*fn, tasks);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (--pending_ == 0) done_.notify_one();
    }
  }
}

void ThreadPool::Run(size_t tasks, int threads, const std::function<void(size_t)>& fn) {
  const int helpers = static_cast<int>(std::min<size_t>(
      {static_cast<size_t>(std::max(threads, 1)) - 1, workers_.size(), tasks > 0 ? tasks - 1 : 0}));
  std::unique_lock<std::mutex> run_lock(run_mutex_, std::try_to_lock);
  if (helpers == 0 || !run_lock.owns_lock()) {
    for (size_t i = 0; i < tasks; ++i) fn(i);
    return;
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    fn_ = &fn;
    tasks_ = tasks;
    next_.store(0, std::memory_order_relaxed);
    active_ = helpers;
    pending_ = helpers;
    ++generation_;
  }
  start_.notify_all();
  Work(fn, tasks);
  std::unique_lock<std::mutex> lock(mutex_);
  done_.wait(lock, [&] { return pending_ == 0; });
  active_ = 0;
  fn_ = nullptr;
}

ThreadPool& ThreadPool::Shared() {
  static ThreadPool pool(std::max(1, static_cast<int>(std::thread::hardware_concurrency())) - 1);
  return pool;
}

int ResolveThreads(int requested) { return detail::ResolveThreadCount(requested); }

}  // namespace qfloat::simd
