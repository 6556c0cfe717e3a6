// Self-test: a backend's bits against the scalar reference, over every float32 bit pattern (or a
// spread-out sample of them, plus every code's boundary cases). Used by `qfloat selftest` and by
// the ctest label `exhaustive`.
//
// Each input x goes through the backend's Encode (packed codes) and, optionally, its Quantize
// (fake-quant values), and both are compared bit for bit with EncodeScalar / QuantizeScalar for
// the same (x, index): inputs are numbered in order, so stochastic rounding is compared too.
//
// **Example**
//   SelftestOptions o;
//   o.spec = ResolveFormat("e4m3fn")->spec;   // every 2^32 input, rne, ovf-inf, SIMD backend
//   StatusOr<SelftestReport> r = RunSelftest(o);
//   // r->checked == 4294967296, r->mismatches == 0
#ifndef QFLOAT_SELFTEST_H_
#define QFLOAT_SELFTEST_H_

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "qfloat/format.h"
#include "qfloat/quantize.h"
#include "qfloat/rounding.h"
#include "qfloat/status.h"

namespace qfloat {

struct SelftestOptions {
  FormatSpec spec;
  QuantizeOptions quantize;  // index_offset is the index of the first input
  Backend backend = Backend::kSimd;
  int threads = 0;  // backend calls and the reference check; 0 = all hardware threads
  // Float32 inputs: 32 = all 2^32 bit patterns in order; N in 0..31 = 2^N patterns, pattern k
  // having k as its top N bits and seeded random low bits (every exponent and sign is covered
  // evenly).
  int sample_log2 = 32;
  uint64_t sample_seed = 0;
  // Also every boundary case of the format: each finite code's value, the midpoints to its
  // neighbours (for posits also the bit-pattern tie), each with the float32 values one ulp
  // either side, both signs, and overflow points. For 32-bit formats: the codes where float32
  // inputs can round, sampled (see BoundaryInputs).
  bool boundaries = false;
  bool check_quantize = true;  // compare fake-quant values too (Quantize f32 -> f32)
  size_t max_reported = 8;     // mismatches kept in the report
  // Called after each block of inputs with (checked so far, total); may be empty.
  std::function<void(uint64_t, uint64_t)> progress;
  // When set, checks this quantizer instead of `backend` (a third-party implementation, or a
  // test double): it fills `codes` (PackedBytes layout) and, when check_quantize, `values` for
  // `inputs`, input j having index options.quantize.index_offset + j.
  std::function<Status(const FormatSpec& spec, std::span<const float> inputs,
                       std::span<uint8_t> codes, std::span<float> values,
                       const TensorOptions& options)>
      custom;
};

struct SelftestMismatch {
  uint32_t input = 0;     // float32 bit pattern
  uint64_t index = 0;     // its index (stochastic rounding)
  bool quantize = false;  // false: the code differs; true: the fake-quant value differs
  uint32_t expected = 0;  // code, or float32 bits of the value
  uint32_t actual = 0;
};

struct SelftestReport {
  uint64_t checked = 0;     // inputs compared (each through encode and, if asked, quantize)
  uint64_t mismatches = 0;  // inputs where anything differed
  std::vector<SelftestMismatch> first;  // a few of them, by index
  double seconds = 0;
  std::string target;  // the SIMD backend's Highway target (e.g. "AVX3"); empty for others
};

// The boundary inputs of `spec` (float32 bit patterns, deduplicated, in ascending order).
std::vector<uint32_t> BoundaryInputs(const FormatSpec& spec, uint64_t seed = 0);

// Runs the check. Errors: invalid options (sample_log2 out of range, threads < 0), or a backend
// that is not available.
StatusOr<SelftestReport> RunSelftest(const SelftestOptions& options);

}  // namespace qfloat

#endif  // QFLOAT_SELFTEST_H_
