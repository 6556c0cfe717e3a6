// Internal: what the Highway kernels need, derived once per call on the host from a FormatSpec and
// QuantizeOptions and broadcast into lanes by the kernels. Plain data: the kernels are generic
// over these values and never branch on a format's name (DESIGN.md "Formats are data").
#ifndef QFLOAT_SRC_SIMD_PARAMS_H_
#define QFLOAT_SRC_SIMD_PARAMS_H_

#include <array>
#include <cstddef>
#include <cstdint>

#include "qfloat/format.h"
#include "qfloat/rounding.h"

namespace qfloat::simd {

// Encoding (float -> code). Every rounding mode is one comparison, "round the magnitude up iff
// digit > threshold" (see quantize-inl.h RoundUp), where `digit` holds the first 32 bits of the
// dropped fraction (with the sticky bit or'ed into bit 0 for the deterministic modes) and
//   threshold = ((random_word & rmask) ^ thr_base) ^ (lower is odd ? thr_odd : 0)
//                                                ^ (negative ? thr_neg : 0).
struct EncodeParams {
  FormatSpec spec;          // for lanes that go to the scalar reference
  QuantizeOptions options;  // ditto; seed and stream feed the vectorised Philox
  bool posit = false;
  bool stochastic = false;  // sr or sr:K: the kernels draw Philox words
  bool sr_exact = false;    // `sr`: a lane whose word 0 equals the fraction's first 32 bits and
                            // whose fraction goes on needs word 1...: scalar reference
  uint32_t thr_base = 0, thr_odd = 0, thr_neg = 0, rmask = 0;
  uint32_t sticky_or = 0;  // 1: fold the sticky bit into the digit (deterministic modes)

  // Codes.
  uint32_t code_mask = 0;  // (1 << bits) - 1
  uint32_t sign_bit = 0;
  uint32_t max_code = 0;
  bool is_signed = true;
  bool has_zero = true;

  // Minifloat grid (bits.h MinifloatMagnitude).
  int32_t m = 0;        // mantissa bits
  int32_t m_below = 0;  // fraction bits kept below 2^emin: m with subnormals, else 0
  int32_t emin = 0, emax = 0;
  int32_t base_offset = 0;  // code of binade e is (e - base_offset) << m plus the significand
  uint32_t step_below = 1;  // code step below 2^emin: 1 with subnormals, else 2^m
  bool check_wrap = false;  // max_code == 2^32 - 1: rounding up from it wraps in 32 bits

  // Posits.
  int32_t es = 0;
  int32_t max_scale = 0;    // (n - 2) << es
  int32_t body_bits = 0;    // n - 1
  uint32_t regime_top = 0;  // 2^(n-1)

  // Fast path (kernels-inl.h FastEncoder): float32 inputs into minifloats whose grid lies inside
  // float32's (subnormals, m <= 22, 2^emin a float32 normal, every value a float32), where
  // rounding works on the float32 bit pattern.
  bool fast = false;
  int32_t fast_d = 0;            // 23 - m: float32 fraction bits below the format's
  uint32_t min_normal_bits = 0;  // float32 bits of 2^emin
  uint32_t code_offset = 0;      // (126 + emin) << m: code = (bits >> d) - code_offset
  uint32_t half_minus_one = 0;   // 2^(d-1) - 1 (round to nearest even on the bit pattern)
  uint32_t keep_mask = 0;        // ~(2^d - 1)
  int32_t sub_shift_base = 0;    // emin - m + 150: below 2^emin, D = this - max(E, 1)
  float magic = 0;  // 2^(emin - m + 23): |x| + magic rounds to a multiple of 2^(emin-m)
  uint32_t magic_bits = 0;
  float quantum = 0;            // 2^(emin - m)
  uint32_t max_value_bits = 0;  // float32 bits of the largest finite value
  bool negative_zero = true;    // a magnitude rounded to 0 keeps the sign (the format has -0)
  // Overflow gives +-max for both signs (sat-finite, sat-propagate, or a mode rounding toward
  // zero), so every finite |x| above max encodes exactly as max itself: the fast kernel clamps
  // |x| to max first instead of sending the vector to the generic kernel (block-scaled tensors
  // saturate in a large share of blocks).
  bool clamp_to_max = false;
  int sign_shift = 0;  // 32 - bits: float32 sign bit -> the code's sign bit

  // Fast posit path (kernels-inl.h FastPositEncoder): posits whose values are all float32
  // normals with at most 22 fraction bits. With P = bits + 2^23 (exponent re-biased by 128, a
  // multiple of 2^es), the body after the regime is the low es + 23 bits of P, so the pattern
  // drops the low dd = regime length + dd_base bits of P.
  bool fast_posit = false;
  int32_t dd_base = 0;  // es + 24 - n

  // Results that do not come from the grid, [0] for +, [1] for - (bits.h NanCode, InfinityCode,
  // ZeroCode, OverflowCode, BelowUnsignedRange).
  uint32_t nan_code[2] = {0, 0};
  uint32_t inf_code[2] = {0, 0};
  uint32_t zero_code[2] = {0, 0};  // a zero input, or a magnitude that rounded to 0
  uint32_t ovf_code[2] = {0, 0};
  uint32_t below_unsigned = 0;  // negative inputs of unsigned formats
};

// Decoding (code -> value).
struct DecodeParams {
  FormatSpec spec;
  bool posit = false;
  // Every value is a float32 and the float32 kernel can build it directly (see DecodeF32Direct);
  // otherwise values are built as float64 and rounded to float32 as a cast would.
  bool f32_direct = false;
  uint32_t code_mask = 0, sign_bit = 0, magnitude_mask = 0, max_code = 0;
  bool has_inf = false;
  uint32_t inf_code = 0;
  bool nan_signed = false;
  bool nan_at_sign_bit = false;  // signed, no -0: the code 100...0 is the NaN (fnuz, P3109)
  bool has_zero = true, subnormals = true;
  int32_t m = 0, emin = 0, z = 1;
  // float32 direct minifloat: value bits = (mag << (23 - m)) + f32_adj, times f32_scale;
  // exponent field 0 (with zero): mag * f32_sub_scale.
  uint32_t f32_adj = 0;
  float f32_scale = 1.0f;
  float f32_sub_scale = 0.0f;
  // Posits.
  int32_t n = 0, es = 0;
  uint32_t maxpos_f32 = 0;  // float32 bits of maxpos (f32_direct only)
  uint64_t maxpos_f64 = 0;  // float64 bits of maxpos
};

// Block-scaled tensors (src/scaling): a chunk of elements cut into runs that share one scale.
// Run r covers elements [end[r-1], end[r]) of the chunk (end[-1] = 0; the last end is the chunk's
// length); its elements are rounded as x * enc[r] (a float32 product, as the recipes compute it)
// and, for fake-quant, the rounded value is multiplied back by dec[r].
struct RunFactors {
  const uint32_t* end = nullptr;
  const float* enc = nullptr;
  const float* dec = nullptr;  // fake-quant only
  // NVFP4 recipes: clamp x * enc to [-clamp, clamp] (NaN stays NaN, as torch.clamp) when clamp > 0,
  // then add +0 when plus_zero (TransformerEngine's cast turns -0 into +0).
  float clamp = 0.0f;
  bool plus_zero = false;
};

// Elements per piece of the block kernels (simd/dispatch.h QuantizeBlocksF32): a piece is
// kBlockPieceFloats / len whole blocks, small enough for its inputs, factors and results to stay
// in L1 between the kernels' passes.
constexpr size_t kBlockPieceFloats = 1024;

// Block-scaled float32 tensors cut into whole blocks (MX): a block's scale entry is looked up
// from the float32 bits of its largest magnitude (src/scaling AmaxBinades): exponent field f and
// fraction pick entry_lo[f] below threshold[f] and entry_hi[f] from it on. An entry of -1 marks
// blocks the kernels leave to the caller (a NaN scale, or products that may not be exact in
// float32).
struct BlockScaleLookup {
  std::array<uint32_t, 256> threshold{};
  std::array<int16_t, 256> entry_lo{};
  std::array<int16_t, 256> entry_hi{};
  const float* enc = nullptr;     // per entry: the factor applied before rounding
  const float* dec = nullptr;     // per entry: the factor applied after (fake-quant)
  const uint8_t* code = nullptr;  // per entry: the scale's code (8-bit scale formats)
};

EncodeParams MakeEncodeParams(const FormatSpec& spec, const QuantizeOptions& options);
DecodeParams MakeDecodeParams(const FormatSpec& spec);

// Whether every value of `spec` (finite or not) is exactly a float32 / whether inputs given as
// codes of `spec` can be widened to float32 before quantizing without changing any result.
bool ValuesFitFloat32(const FormatSpec& spec);

}  // namespace qfloat::simd

#endif  // QFLOAT_SRC_SIMD_PARAMS_H_
