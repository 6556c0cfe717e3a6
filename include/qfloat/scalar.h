// The scalar reference: encode, decode and quantize one value. This is the spec; every other
// backend is tested bit for bit against it.
//
// Semantics (DESIGN.md "Rounding", "Overflow and specials"):
// - A float32 input is widened to float64 (exact) and a float64 is rounded once, never through
//   float32.
// - Nearest modes tie to the even *code* (the LSB of the target code), which for posits is
//   round-to-nearest-even on the bit pattern.
// - `sr` rounds up with probability exactly (x - lo)/(hi - lo); `sr:K` adds a K-bit uniform
//   integer at the top of the dropped field and truncates. Random bits: see QuantizeOptions.
// - Overflow follows QuantizeOptions::overflow; directed modes follow IEEE 754-2019 §7.4.
#ifndef QFLOAT_SCALAR_H_
#define QFLOAT_SCALAR_H_

#include <cstdint>
#include <string_view>

#include "qfloat/format.h"
#include "qfloat/rounding.h"

namespace qfloat {

// `index` is the element's position in the call (added to options.index_offset); it only
// matters for stochastic rounding.
uint32_t EncodeScalar(const FormatSpec& spec, double x, const QuantizeOptions& options,
                      uint64_t index = 0);
uint32_t EncodeScalar(const FormatSpec& spec, float x, const QuantizeOptions& options,
                      uint64_t index = 0);

// Exact value of a code as float64. NaN codes decode to a quiet NaN.
double DecodeScalar(const FormatSpec& spec, uint32_t code);

// Decode(Encode(x)): what a fake-quant returns.
double QuantizeScalar(const FormatSpec& spec, double x, const QuantizeOptions& options,
                      uint64_t index = 0);
float QuantizeScalar(const FormatSpec& spec, float x, const QuantizeOptions& options,
                     uint64_t index = 0);

enum class CodeClass : uint8_t { kZero, kSubnormal, kNormal, kInf, kNan, kNar };
CodeClass ClassifyCode(const FormatSpec& spec, uint32_t code);
std::string_view ToString(CodeClass c);

}  // namespace qfloat

#endif  // QFLOAT_SCALAR_H_
