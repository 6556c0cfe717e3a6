// Internal to src/scaling: the shared scalar scale computation and the block geometry.
#ifndef QFLOAT_SRC_SCALING_INTERNAL_H_
#define QFLOAT_SRC_SCALING_INTERNAL_H_

#include <array>
#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "qfloat/scaling.h"

namespace qfloat::scaling {

// Everything a power-of-two rule needs, read from the element and scale descriptors.
struct Pow2Params {
  ScaleRule rule = ScaleRule::kFloor;
  double elem_max = 0;
  int emax_elem = 0;
  int even_bits = 0;
  int kmin = -127;
  int kmax = 127;
  bool scale_has_nan = true;
  bool inf_to_max = false;
};
Pow2Params MakePow2Params(const FormatSpec& element, const Scaling& scaling);
detail::Pow2Scale Pow2ScaleOf(const Pow2Params& params, double amax, bool f32);

// Pow2ScaleOf for float32 amax values, as a lookup on their bits. Every rule is monotone in amax
// and moves k by at most one within a binade, so for exponent field f in 1..254 (a normal amax)
// k = fraction >= threshold[f] ? k_hi[f] : k_lo[f]. The table is built from Pow2ScaleOf itself
// (a binary search per binade), so the lookup cannot drift from the rule. valid[f] is false for
// f = 0 and 255 (zero, subnormal, inf, NaN amax) and for any binade the lookup cannot express:
// those take Pow2ScaleOf.
struct AmaxBinades {
  std::array<uint32_t, 256> threshold{};
  std::array<int32_t, 256> k_lo{};
  std::array<int32_t, 256> k_hi{};
  std::array<bool, 256> valid{};
};
AmaxBinades MakeAmaxBinades(const Pow2Params& params);

Status CheckScaling(const FormatSpec& element, const Scaling& scaling);

// The tensor viewed as [O, L, I] (row-major), cut into blocks of bo x bl x bi; the scale grid is
// [nO, nL, nI]. Runs of up to bi consecutive elements along I share one scale.
struct Geometry {
  int64_t o = 1, l = 1, i = 1;
  int64_t bo = 1, bl = 1, bi = 1;
  int64_t no = 1, nl = 1, ni = 1;
  std::vector<int64_t> scale_shape;
  int64_t Elements() const { return o * l * i; }
  int64_t Entries() const { return no * nl * ni; }
};
StatusOr<Geometry> MakeGeometry(const Scaling& scaling, std::span<const int64_t> shape);

// Runs fn(task, worker) for task in [0, tasks) on up to `threads` threads (0 = all hardware
// threads); worker is in [0, ThreadCount(threads)).
void ParallelFor(int64_t tasks, int threads, const std::function<void(int64_t, int)>& fn);
int ThreadCount(int requested);

}  // namespace qfloat::scaling

#endif  // QFLOAT_SRC_SCALING_INTERNAL_H_
