// Shared pieces of the commands that work on tensor files (quantize, verify, analyze, predict):
// the quantizer options (-f, -r, --overflow, --scaling, --seed, --stream, --backend, --threads),
// tensor selection by glob, loading a tensor as float32 or float64, the per-element
// dequantization scale of a scaled tensor, natural ordering of step files, and atomic text
// output. See src/cli/README.md for the rules every command follows.
#ifndef QFLOAT_SRC_CLI_TENSOR_CLI_H_
#define QFLOAT_SRC_CLI_TENSOR_CLI_H_

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "qfloat/analysis.h"
#include "qfloat/format.h"
#include "qfloat/io.h"
#include "qfloat/quantize.h"
#include "qfloat/rounding.h"
#include "qfloat/scaling.h"
#include "qfloat/status.h"

namespace CLI {
class App;
}  // namespace CLI

namespace qfloat::cli {

// ---- quantizer options ----

// The options as typed; bound to CLI11 by AddQuantizerOptions.
struct QuantizerArgs {
  std::string format;
  std::string rounding = "rne";
  std::string overflow = "ovf-inf";
  std::string scaling;  // empty: the preset's recipe, or none
  std::string seed = "0";
  std::string stream = "0";
  std::string backend = "auto";
  std::string threads = "0";
  std::string as_format;  // ReadOptions::as_format (npy '|V1' codes)
};

// What the options resolve to: the element format, its scaling recipe and the tensor options.
struct Quantizer {
  Format format;          // as -f named it (a block preset keeps its name: mxfp4)
  FormatSpec spec;        // the element format's descriptor
  std::string element;    // the element format's name (e2m1fn for mxfp4)
  Scaling scaling;        // kNone when unscaled
  TensorOptions options;  // rounding, overflow, seed, stream, backend, threads
};

// Declares -f (required unless `format_required` is false), -r, --overflow, --scaling, --seed,
// --stream, --backend, --threads and --as on `command`.
void AddQuantizerOptions(CLI::App& command, QuantizerArgs& args, bool format_required = true);

// Resolves a -f value with an optional --scaling override; usage errors name the option.
StatusOr<Quantizer> ResolveQuantizer(std::string_view format, std::string_view scaling,
                                     const QuantizeOptions& quantize, const TensorOptions& base);
// Parses every option of `args` (Status messages name the option: exit 2 on failure).
StatusOr<Quantizer> ResolveQuantizerArgs(const QuantizerArgs& args);
// -r, --overflow, --seed, --stream, --backend, --threads without a format (analyze takes lists).
StatusOr<TensorOptions> ResolveTensorOptions(const QuantizerArgs& args);

// "e4m3fn", "mxfp4", "e2m1fn+tensor", "mxfp4+block:32:e8m0fnu:rceil": how tables and JSON name
// a (format, scaling) pair. `scaling_override` is what --scaling said (empty: the preset's).
std::string QuantizerLabel(const Quantizer& q);

// ---- reading ----

// Globs (fnmatch, as a shell matches file names) over tensor names; a name is selected when it
// matches any. No pattern selects everything.
class TensorFilter {
 public:
  explicit TensorFilter(std::vector<std::string> patterns = {});
  bool Matches(std::string_view name) const;
  bool empty() const { return patterns_.empty(); }
  std::string Describe() const;  // "'a*', 'b'" for messages

 private:
  std::vector<std::string> patterns_;
};

// Whether a tensor holds real values that a quantizer takes (floats and float codes, opaque
// codes with a format); integers, booleans and complex numbers do not.
bool IsRealFloat(const TensorInfo& info);
// Whether its values need float64 to be held exactly (F64, and 32/64-bit integers).
bool NeedsFloat64(DType dtype);

// Opens a tensor file for a command: every failure is a data error (exit 1) naming the file.
StatusOr<TensorFile> OpenInput(const std::string& path, const std::string& as_format);

// One tensor's values in C order: float32 when that holds them exactly, else float64.
struct TensorValues {
  bool wide = false;
  std::vector<float> f32;
  std::vector<double> f64;
  size_t size() const { return wide ? f64.size() : f32.size(); }
  double at(size_t i) const { return wide ? f64[i] : static_cast<double>(f32[i]); }
};
StatusOr<TensorValues> LoadValues(const TensorView& view);

// C-order bytes of a tensor stored in Fortran order (byte-aligned dtypes); the bytes as they are
// otherwise.
StatusOr<std::vector<uint8_t>> COrderBytes(const TensorView& view);

// ---- quantizing with a scaling recipe ----

// Everything one (quantizer, tensor) pass produces: the image Q(g) training sees, and for
// scaled recipes the packed result and the dequantization scale of every element.
struct ScaledResult {
  std::vector<float> q32;   // image of float32 inputs
  std::vector<double> q64;  // image of float64 inputs
  bool has_packed = false;
  ScaledTensor packed;       // scaled recipes
  std::vector<float> s_eff;  // scaled recipes: per element, the factor codes are multiplied by
};
// Quantizes `values` (shape `shape`) with `q`. `state` carries delayed scaling across calls.
// `want_packed` also fills packed/s_eff for scaled recipes (and packed codes when unscaled).
StatusOr<ScaledResult> QuantizeTensor(const Quantizer& q, std::span<const int64_t> shape,
                                      const TensorValues& values, const TensorOptions& options,
                                      ScalingState* state, bool want_effective_scales);

// The per-element factor that DecodeScaled multiplies each element's value by (MX: the block's
// 2^k; tensor: scale_inv; NVFP4: the combined block x tensor factor), found by decoding the
// packed tensor with every element set to the code of 1.0. Formats without 1.0: Unavailable.
StatusOr<std::vector<float>> EffectiveScales(const ScaledTensor& packed,
                                             const TensorOptions& options);

// Accumulates (g, Q(g)) of a scaled recipe into `stats`: elements are grouped by their
// dequantization scale so that each group is classified with its own thresholds
// (ClassThresholds::Scaled, THEORY.md §2.2 with Q_s(g) = s Q(g/s)).
Status AccumulateScaled(ShrinkageStats& stats, const FormatSpec& element, const TensorValues& g,
                        const ScaledResult& image, int threads);

// ---- output ----

// Writes `text` to `path` atomically (temporary + rename), or to stdout for "-".
Status WriteTextOutput(const std::string& path, std::string_view text);
// mkdir -p.
Status MakeDirectories(const std::string& path);

// Natural order: runs of digits compare as numbers ("step_2" < "step_10"); ties by text.
bool NaturalLess(std::string_view a, std::string_view b);

// "[3, 4]" for messages and tables.
std::string ShapeString(std::span<const int64_t> shape);

}  // namespace qfloat::cli

#endif  // QFLOAT_SRC_CLI_TENSOR_CLI_H_
