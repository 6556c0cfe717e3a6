// Internal: per-run helpers for block-scaled (MX) quantization in src/scaling. A chunk of a row is
// cut into `runs` consecutive runs of `len` float32 elements, each sharing one scale; these
// kernels find each run's amax and apply each run's power-of-two factor with Highway (dynamic
// dispatch), so the scalar per-block work in src/scaling is one table lookup per run.
#ifndef QFLOAT_SRC_SIMD_BLOCK_SCALE_H_
#define QFLOAT_SRC_SIMD_BLOCK_SCALE_H_

#include <cstddef>
#include <cstdint>

namespace qfloat::simd {

// out[r] = max over j < len of (bits(x[r * len + j]) & 0x7FFFFFFF), for r < runs: the largest
// magnitude's bits, NaN above inf above every finite value (as an integer compare).
// Prefetches ahead of the reads, up to `readable_end` (the end of the input array): the runs are
// read once, straight from memory, so more reads in flight is most of the speed.
void RunMaxMagnitudeF32(const float* x, size_t runs, size_t len, uint32_t* out,
                        const float* readable_end);

// y[r * len + j] = x[r * len + j] * factors[r] (float32, rounded to nearest), for r < runs and
// j < len; x may equal y.
void ScaleRunsF32(const float* x, float* y, size_t runs, size_t len, const float* factors);

// dst[j] = src[j] for j < n, for large outputs that would otherwise be read into the cache before
// being overwritten: whole aligned lines with non-temporal stores (kernels-inl.h StreamOut).
void StreamCopyF32(const float* src, float* dst, size_t n);

}  // namespace qfloat::simd

#endif  // QFLOAT_SRC_SIMD_BLOCK_SCALE_H_
