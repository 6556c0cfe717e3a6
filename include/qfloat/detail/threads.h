// The thread count behind every `threads` option (0 or less = all hardware threads).
#ifndef QFLOAT_DETAIL_THREADS_H_
#define QFLOAT_DETAIL_THREADS_H_

#include <algorithm>
#include <thread>

namespace qfloat::detail {

inline int ResolveThreadCount(int requested) {
  if (requested > 0) return requested;
  // Read once: hardware_concurrency() reads /sys on Linux (about 9 us on a VM), which dominated
  // chunked calls when it was asked per call.
  static const int hardware = std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  return hardware;
}

}  // namespace qfloat::detail

#endif  // QFLOAT_DETAIL_THREADS_H_
