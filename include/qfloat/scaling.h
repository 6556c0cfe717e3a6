// Scaling recipes: how a tensor is scaled before its elements are rounded into a format, and the
// block formats (MXFP8/6/4, MXINT8, NVFP4) that are an element format plus a recipe.
//
// A recipe is a value (`Scaling`) parsed from a string (the CLI's --scaling, or a preset file's
// [block] table) and applied through the tensor API: the per-element rounding always goes through
// Quantize/Encode (quantize.h) on the backend the caller chose, while the amax and scale of every
// block come from one scalar function shared by all backends, so backends cannot diverge.
//
// Grammar (ParseScaling; ToString gives the canonical spelling back):
//   none
//   tensor[:pow2][:margin=M][:nosat]          current per-tensor scaling
//   delayed:H[:max|recent][:pow2][:margin=M][:nosat]   amax history of H steps (TransformerEngine)
//   channel:AXIS[:pow2][:margin=M][:nosat]    one scale per index of AXIS (amax over the others)
//   block:B[:AXIS]:SCALEFMT[:RULE][:OPT]...   blocks of B along AXIS (default -1, the last)
//   block:RxC:SCALEFMT[:RULE][:OPT]...        2-D tiles of R rows x C columns over the last two
//   dims nvfp4[:te|:torchao][:16x16]               NVFP4: 16-element blocks, E4M3 scales, fp32
//   tensor scale
// SCALEFMT is any registered format (e8m0fnu for MX, e4m3fn, fp32, ...). RULE is floor (default,
// OCP MX v1.0 §6.3), ceil, even or rceil. Block OPTs: inf=nan|max, tiny=exact|torchao, nosat, twos.
//
// ---- Arithmetic, exactly (the reference; every backend returns these bits) ----
// Let amax be the largest |x| of a block (NaN if any element is NaN: as torch.amax). For float32
// inputs amax is a float32; for float64 inputs a float64.
//
// Power-of-two block rules. The shared scale is X = 2^k, with emax_elem = the exponent of the
// element format's largest finite value (ilogb(MaxFinite): 8/15/4/2/2/0 for e4m3fn, e5m2, e3m2fn,
// e2m3fn, e2m1fn, int8_mx; read from the FormatSpec, never from a name):
//   floor  k = floor(log2 amax) - emax_elem                      (OCP MX v1.0 §6.3; torchao FLOOR)
//   ceil   k = ceil(log2 amax) - emax_elem                       (torchao CEIL)
//   even   k = floor(log2 R(amax)) - emax_elem, R rounding amax half-up to p fraction bits, p = the
//          element's fraction bits in its top binade (its mantissa_bits for a normal top binade;
//          6 for int8_mx) (torchao EVEN: adds 1 << (23 - p - 1) to amax's bits and truncates)
//   rceil  k = ceil(log2 d), d = amax / elem_max rounded once to the input precision (float32 for
//          float inputs) (torchao RCEIL, cuBLAS "UE8M0" block scaling, TransformerEngine MXFP8:
//          PTX cvt.rp.satfinite.ue8m0x2.f32). For the five MX float elements this equals TE's
//          amax * (1/elem_max) order for every normal float32 amax (checked exhaustively).
// k is clamped to the scale format's powers of two [ilogb(MinPositive), ilogb(MaxFinite)]
// (E8M0: [-127, 127]), so an all-zero block (amax 0) gets the smallest scale (E8M0 0x00 = 2^-127,
// as torchao, TE, gfloat and microxcaling) and overflow saturates (0xFE). PITFALLS.md "MX scale".
// Non-finite amax: inf=nan gives the scale format's NaN (E8M0 0xFF: torchao's current
// mx_tensor.py "No-saturation E8M0 conversion maps both NaN and Inf to 0xff", and the default for
// floor/ceil/even; torchao 0.18 instead reads an infinite amax as 2^128, see
// tests/scaling/vectors_test.cc); inf=max gives the largest scale for an infinite amax (0xFE:
// cvt.rp.satfinite, TE, torchao 0.18 RCEIL; the default for rceil). A NaN amax always gives NaN
// (a scale format without NaN gets its largest power of two).
// Elements: y = x / X computed exactly (X is a power of two: exact in float64 for float32 inputs;
// for float64 inputs it rounds only where y falls below 2^-1022), then rounded once into the
// element format with the caller's rounding mode (element index = flat index, so SR bits follow
// quantize.h) and saturation to ±max (OCP MX v1.0 §6.3 "clamp"; `nosat` uses the caller's
// overflow policy instead). A NaN scale makes y NaN. Dequantized value: RN_f32(v(code) * X).
// tiny=torchao reproduces torchao's element divisor for tiny scales: FLOOR/CEIL/EVEN divide by
// max(X, 2^-126) (its F32_MIN_NORMAL clamp) and RCEIL multiplies by 1 when k = -127 (TE's and
// torchao's exp2f_rcp), while the stored scale and the dequantization keep X.
// `twos` stores the element codes of a signed integer element (no exponent field) in two's
// complement, as OCP MX v1.0 §5 specifies for MXINT8 (int8 times 2^-6); the values, and so the
// rounding and the symmetric clamp to ±127·2^-6 (as microxcaling's mx/formats.py), are unchanged;
// the code 0x80 decodes to -2.
//
// Per-tensor, delayed and per-channel scaling (TransformerEngine's float32 recipes):
//   s = RN_f32(RN_f32(fmax * 2^-M) / amax), fmax = the element's MaxFinite, M = margin
//   (TE compute_scale_from_amax / delayed_scaling.cu); s = 1 when amax is 0, inf or NaN (tensor,
//   channel) or keeps the previous scale (delayed); an infinite s becomes FLT_MAX; pow2 clears s's
//   mantissa bits (rounds it down to a power of two). Elements: y = RN_p(x * s) (p = the input's
//   precision) rounded once into the element with saturation; stored scale_inv = RN_f32(1 / s);
//   dequantized value RN_p(v(code) * scale_inv).
// Delayed (TE delayed_scaling.cu): step t quantizes with state.scale (1 at first), then pushes
// amax_t into the history (at most H entries) and sets state.scale from max(history) (`max`) or
// amax_t (`recent`). A step whose amax jumps therefore saturates.
//
// NVFP4 (blocks of 16 along the last axis, e4m3fn block scales, one fp32 tensor value; g = the
// tensor amax, b = the block amax, all float32 ops rounded to nearest even):
//   te (TransformerEngine NVFP4QuantizerRef, custom_recipes/quantization_nvfp4.py, = its kernels'
//   default path; dequantize_nvfp4.cuh):
//     S = min(2688 / g, FLT_MAX); S = 1 if S == 0; Sd = 1 / S; m = S * RN(1/6)
//     s8 = e4m3(clamp(min(b * m, FLT_MAX), ±448)); enc = min(1 / (f32(s8) * Sd), FLT_MAX)
//     y = clamp(x * enc, ±6) + 0.0 (its cast maps -0 to code 0; NaN to code 0)
//     tensor value = g; dequantized RN(v * RN(RN(f32(s8) * g) * RN(1/2688)))
//     (TE's CUDA kernels take the amax with fmaxf, which skips NaN; the reference and this
//     emulation propagate it.)
//   torchao (nvfp4_tensor.py nvfp4_quantize with per_tensor_scale = per_tensor_amax_to_scale(g)):
//     P = g / 2688; s8 = e4m3(clamp((b / 6) / P, 2^-6, 448)); enc = (1 / P) / f32(s8)
//     y = clamp(x * enc, ±6); tensor value = P; dequantized RN(v * RN(P * f32(s8)))
//   The two differ in bits (x·(1/s) vs x/s orders: PITFALLS.md "NVFP4"). g = 0 gives NaN scales
//   in torchao (0/0), emulated as is. For float64 inputs amax is rounded to float32 first and the
//   element product is taken in float64.
//
// Layout of the scale array: the tensor's shape with the blocked dimension(s) replaced by their
// block counts (block:B:AXIS), [dim AXIS] for channel, [1] for tensor/delayed. Tails shorter than
// a block are blocks of their own (amax over the elements present).
#ifndef QFLOAT_SCALING_H_
#define QFLOAT_SCALING_H_

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "qfloat/format.h"
#include "qfloat/quantize.h"
#include "qfloat/status.h"

namespace qfloat {

enum class ScalingKind : uint8_t { kNone = 0, kTensor, kDelayed, kChannel, kBlock, kNvfp4 };
enum class ScaleRule : uint8_t { kFloor = 0, kCeil, kEven, kRceil };
enum class AmaxAlgo : uint8_t { kMax = 0, kMostRecent };
enum class NonFiniteScale : uint8_t { kDefault = 0, kNan, kMax };
enum class TinyScale : uint8_t { kExact = 0, kTorchao };
enum class Nvfp4Variant : uint8_t { kTransformerEngine = 0, kTorchao };

struct Scaling {
  ScalingKind kind = ScalingKind::kNone;
  // tensor, delayed, channel
  bool pow2 = false;
  int margin = 0;
  // delayed
  int history = 1;
  AmaxAlgo algo = AmaxAlgo::kMax;
  // channel, 1-D block: the axis (negative counts from the end)
  int axis = -1;
  // block: 1-D blocks of block_size along axis, or (block_rows > 0) block_rows x block_size tiles
  // over the last two dimensions. nvfp4: block_size 16, block_rows 0 or 16.
  int block_size = 0;
  int block_rows = 0;
  std::string scale_format;  // block: registered name of the scale format
  FormatSpec scale_spec;     // block: its descriptor (nvfp4: e4m3fn; others: fp32)
  ScaleRule rule = ScaleRule::kFloor;
  NonFiniteScale inf = NonFiniteScale::kDefault;
  TinyScale tiny = TinyScale::kExact;
  bool saturate = true;          // elements clamp to ±max; false (`nosat`): caller's overflow
  bool twos_complement = false;  // `twos`: integer element codes in two's complement (MXINT8)
  Nvfp4Variant nvfp4 = Nvfp4Variant::kTransformerEngine;
};

StatusOr<Scaling> ParseScaling(std::string_view text);
std::string ToString(const Scaling& scaling);
// One line for tables: "MX block of 32 along axis -1, e8m0fnu scale, rule floor (OCP)".
std::string Describe(const Scaling& scaling);

// What a caller carries across the steps of a delayed-scaling run (no hidden global state).
struct ScalingState {
  std::vector<float> amax_history;  // most recent first, at most Scaling::history entries
  float scale = 1.0f;               // the scale the next step uses
  uint64_t steps = 0;
};

// `-f NAME` (a registered format, a preset such as mxfp4 or nvfp4, or a .toml path) plus an
// optional
// --scaling override (a full recipe, or just a RULE name to change a block preset's rule).
struct ScaledFormat {
  Format format;    // format.spec: the element format
  Scaling scaling;  // the preset's recipe, the override, or none
};
StatusOr<ScaledFormat> ResolveScaledFormat(std::string_view name_or_path,
                                           std::string_view scaling_override = {});

// The scale-array shape of `scaling` applied to a tensor of `shape` (empty for none).
StatusOr<std::vector<int64_t>> ScaleShape(const Scaling& scaling, std::span<const int64_t> shape);

// Fake-quant: out = the dequantized tensor training would see. `in` and `out` hold the elements of
// `shape` in row-major order (an empty shape is a rank-0 tensor of one element). `state` is needed
// (non-null) for delayed scaling only, and is updated by the call.
Status QuantizeScaled(const FormatSpec& element, const Scaling& scaling,
                      std::span<const int64_t> shape, std::span<const float> in,
                      std::span<float> out, const TensorOptions& options,
                      ScalingState* state = nullptr);
Status QuantizeScaled(const FormatSpec& element, const Scaling& scaling,
                      std::span<const int64_t> shape, std::span<const double> in,
                      std::span<double> out, const TensorOptions& options,
                      ScalingState* state = nullptr);

// Packed output: element codes (quantize.h's packed layout; two's complement under `twos`), the
// scale array as packed codes of scale_spec (fp32 scale_inv for tensor/delayed/channel), and the
// fp32 tensor value of NVFP4 (te: the tensor amax; torchao: amax / 2688).
struct ScaledTensor {
  std::vector<int64_t> shape;
  FormatSpec element;
  Scaling scaling;
  std::vector<uint8_t> codes;
  FormatSpec scale_spec;
  std::vector<int64_t> scale_shape;
  std::vector<uint8_t> scales;
  float tensor_scale = 1.0f;
};

Status EncodeScaled(const FormatSpec& element, const Scaling& scaling,
                    std::span<const int64_t> shape, std::span<const float> in, ScaledTensor* out,
                    const TensorOptions& options, ScalingState* state = nullptr);
Status EncodeScaled(const FormatSpec& element, const Scaling& scaling,
                    std::span<const int64_t> shape, std::span<const double> in, ScaledTensor* out,
                    const TensorOptions& options, ScalingState* state = nullptr);
// Dequantizes a packed tensor; bit-identical to QuantizeScaled's float32 output for the same call.
Status DecodeScaled(const ScaledTensor& packed, std::span<float> out, const TensorOptions& options);

namespace detail {
// The shared scalar scale computation for one power-of-two block (exposed for tests): the exponent
// k of X = 2^k after clamping, or is_nan. `f32` selects float32 arithmetic for rceil.
struct Pow2Scale {
  int32_t k = 0;
  bool is_nan = false;
};
Pow2Scale ComputePow2Scale(const FormatSpec& element, const Scaling& scaling, double amax,
                           bool f32);
}  // namespace detail

}  // namespace qfloat

#endif  // QFLOAT_SCALING_H_
