// Internal: entry points into the per-target kernels (one HWY_DYNAMIC_DISPATCH each). Each call
// handles one chunk of a tensor call: `index0` is the chunk's first element within the call
// (stochastic rounding draws from options.index_offset + index0 + i); for packed codes it is a
// multiple of 4, so a chunk owns whole bytes.
#ifndef QFLOAT_SRC_SIMD_DISPATCH_H_
#define QFLOAT_SRC_SIMD_DISPATCH_H_

#include <cstddef>
#include <cstdint>
#include <vector>

#include "simd/params.h"

namespace qfloat::simd {

// `stream`: write the output with non-temporal stores (large calls).
void QuantizeF32Chunk(const EncodeParams& encode, const DecodeParams& decode, const float* in,
                      float* out, size_t count, uint64_t index0, bool stream);
void QuantizeF64Chunk(const EncodeParams& encode, const DecodeParams& decode, const double* in,
                      double* out, size_t count, uint64_t index0, bool stream);
// Inputs are codes of `input` (<= 16 bits); `input_f32`: their values are all float32.
void QuantizeCodes16Chunk(const DecodeParams& input, bool input_f32, const EncodeParams& encode,
                          const DecodeParams& decode, const uint16_t* in, float* out, size_t count,
                          uint64_t index0);
// `packed` is the start of the whole packed array.
void EncodeF32Chunk(const EncodeParams& encode, const float* in, uint8_t* packed, size_t count,
                    uint64_t index0);
void EncodeF64Chunk(const EncodeParams& encode, const double* in, uint8_t* packed, size_t count,
                    uint64_t index0);
void DecodeChunk(const DecodeParams& decode, const uint8_t* packed, float* out, size_t count,
                 uint64_t index0, bool stream);

// The Highway targets compiled into these kernels that this CPU supports (HWY_* bits, best
// first is not guaranteed), and the one dynamic dispatch picks now.
std::vector<int64_t> SupportedTargets();
int64_t ChosenTarget();
const char* TargetName(int64_t target);  // "AVX3", "SSE4", ...
// The target HWY_DYNAMIC_DISPATCH runs now (for tests that force each target in turn).
int64_t DispatchedTarget();

}  // namespace qfloat::simd

#endif  // QFLOAT_SRC_SIMD_DISPATCH_H_
