// The tensor API: quantize (fake-quant), encode to packed codes, decode, over spans.
//
// One call dispatches once to a backend (DESIGN.md: "dispatch once, high"): the scalar reference,
// the SIMD path (Highway, best target at run time, multi-threaded) or CUDA. Every backend returns
// the reference's bits; results never depend on the backend, thread count or chunking, including
// for stochastic rounding (element i always draws its bits from index options.index_offset + i).
//
// Packed layout (PackedBytes): codes of <= 4 bits go two per byte, element 2j in the low nibble
// (as PyTorch's float4_e2m1fn_x2); 5..6 bits go four per three bytes, element 4j+t in bits
// [6t, 6t+6) of the little-endian 24-bit group; 7..8 bits one byte each; 9..16 bits a
// little-endian uint16; 17..32 bits a little-endian uint32. Unused high bits are zero.
#ifndef QFLOAT_QUANTIZE_H_
#define QFLOAT_QUANTIZE_H_

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "qfloat/format.h"
#include "qfloat/rounding.h"
#include "qfloat/status.h"

namespace qfloat {

enum class Backend : uint8_t {
  kAuto = 0,  // SIMD when compiled in (always, on CPU builds)
  kScalar,    // the reference, one element at a time
  kSimd,      // Highway, dynamic dispatch, multi-threaded
  kCuda,      // CUDA (host-pointer convenience; see cuda.h for device pointers)
};

StatusOr<Backend> ParseBackend(std::string_view text);  // auto, scalar, simd, cuda
std::string ToString(Backend backend);

struct TensorOptions {
  QuantizeOptions quantize;
  Backend backend = Backend::kAuto;
  int threads = 0;  // 0 = all hardware threads; results do not depend on it
};

// Bytes needed to hold `count` packed codes of `spec`.
size_t PackedBytes(const FormatSpec& spec, size_t count);

// Fake-quant: out[i] = Decode(Encode(in[i])). `in` and `out` may be the same span.
Status Quantize(const FormatSpec& spec, std::span<const float> in, std::span<float> out,
                const TensorOptions& options);
Status Quantize(const FormatSpec& spec, std::span<const double> in, std::span<double> out,
                const TensorOptions& options);
// Inputs held as codes of a 16-bit float format (bf16, fp16): each is widened exactly, then
// quantized once into `spec`.
Status QuantizeFromCodes(const FormatSpec& input_spec, std::span<const uint16_t> in,
                         const FormatSpec& spec, std::span<float> out,
                         const TensorOptions& options);

// Encode to packed codes (PackedBytes(spec, in.size()) bytes).
Status Encode(const FormatSpec& spec, std::span<const float> in, std::span<uint8_t> packed,
              const TensorOptions& options);
Status Encode(const FormatSpec& spec, std::span<const double> in, std::span<uint8_t> packed,
              const TensorOptions& options);

// Decode `out.size()` packed codes to float32 (values beyond float32's range round as a cast).
Status Decode(const FormatSpec& spec, std::span<const uint8_t> packed, std::span<float> out,
              const TensorOptions& options);

// Unpacked helpers: one code per uint32_t (for tests, the CLI and backends' reference checks).
uint32_t ReadPackedCode(const FormatSpec& spec, std::span<const uint8_t> packed, size_t i);
void WritePackedCode(const FormatSpec& spec, std::span<uint8_t> packed, size_t i, uint32_t code);

}  // namespace qfloat

#endif  // QFLOAT_QUANTIZE_H_
