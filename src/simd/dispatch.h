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

// Block-scaled chunks (params.h RunFactors): fake-quant out[j] = Q(in[j] * enc[r]) * dec[r], and
// packed codes of Q(in[j] * enc[r]). `in`/`out` hold the chunk (element j is element index0 + j of
// the call); `packed` is the start of the whole packed array and index0 a multiple of 4.
void QuantizeRunsF32(const EncodeParams& encode, const DecodeParams& decode,
                     const RunFactors& factors, const float* in, float* out, size_t count,
                     uint64_t index0, bool stream);
void EncodeRunsF32(const EncodeParams& encode, const RunFactors& factors, const float* in,
                   uint8_t* packed, size_t count, uint64_t index0);

// Block-scaled chunks of whole blocks of `len` elements (len a multiple of 8, at most 1024;
// index0 a multiple of 8), scales looked up from each block's amax (params.h BlockScaleLookup):
// fake-quant into `out`, or packed codes into `packed` (the whole array) and one scale code per
// block into scale_codes. Both return the number of blocks done, a multiple of the blocks per
// piece: all of them, or fewer where a block has no lookup entry (the rest is the caller's).
size_t QuantizeBlocksF32(const EncodeParams& encode, const DecodeParams& decode,
                         const BlockScaleLookup& lookup, const float* in, float* out, size_t blocks,
                         size_t len, uint64_t index0, bool stream);
size_t EncodeBlocksF32(const EncodeParams& encode, const BlockScaleLookup& lookup, const float* in,
                       uint8_t* packed, uint8_t* scale_codes, size_t blocks, size_t len,
                       uint64_t index0);

// The Highway targets compiled into these kernels that this CPU supports (HWY_* bits, best
// first is not guaranteed), and the one dynamic dispatch picks now.
std::vector<int64_t> SupportedTargets();
int64_t ChosenTarget();
const char* TargetName(int64_t target);  // "AVX3", "SSE4", ...
// The target HWY_DYNAMIC_DISPATCH runs now (for tests that force each target in turn).
int64_t DispatchedTarget();

}  // namespace qfloat::simd

#endif  // QFLOAT_SRC_SIMD_DISPATCH_H_
