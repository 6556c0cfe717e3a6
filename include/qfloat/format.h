// Format: the descriptor of a number format, and the registry of named formats.
//
// A format is data. FormatSpec is a plain value (usable on host, in SIMD lanes and in CUDA
// kernels) from which every kernel derives what it needs; no code branches on a format's name.
// Named formats live in formats/*.toml; the built-in registry is generated from those files at
// build time, and a user's file is parsed by the same code at run time.
#ifndef QFLOAT_FORMAT_H_
#define QFLOAT_FORMAT_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "qfloat/detail/config.h"
#include "qfloat/status.h"

namespace qfloat {

enum class FormatKind : uint8_t {
  kMinifloat = 0,  // sign (optional), exponent field, mantissa field; E8M0 is one with no zero
  kPosit = 1,      // posit standard 2022: n bits, es exponent bits, 0 and NaR
};

// What a format without NaN encodings returns for a NaN input (OCP MX v1.0 leaves it
// implementation-defined; see PITFALLS.md "MX elements").
enum class NanFallback : uint8_t {
  kFlipSignZero = 0,  // ml_dtypes: +NaN -> the -0 code, -NaN -> +0 (default)
  kZero = 1,          // +0 whatever the sign (universal)
  kMax = 2,           // +max (TransformerEngine's satfinite fallback)
};

// The descriptor. Fields above the line are the description; Finalize() fills the derived ones.
struct FormatSpec {
  FormatKind kind = FormatKind::kMinifloat;
  uint8_t bits = 8;           // code width, 2..32
  bool is_signed = true;      // false: no sign bit (E8M0)
  uint8_t exponent_bits = 4;  // minifloat: exponent field width; posit: es
  uint8_t mantissa_bits = 3;  // minifloat: stored fraction bits; posit: unused
  int32_t bias = 7;           // minifloat exponent bias
  bool subnormals = true;     // false: codes with exponent field 0 are all zero
  bool has_zero = true;       // false: exponent field 0 is an ordinary binade (E8M0)
  bool negative_zero = true;  // signed only; false: the code 100...0 is the NaN (fnuz, P3109)
  bool has_inf = false;       // inf is the magnitude code just below the high NaNs
  uint32_t high_nans = 0;     // NaN codes at the top of each sign's magnitude range
  NanFallback nan_fallback = NanFallback::kFlipSignZero;
  // ---- derived by Finalize() ----
  uint32_t magnitude_mask = 0;  // bits below the sign
  uint32_t sign_bit = 0;        // 0 when unsigned
  uint32_t max_code = 0;        // largest finite magnitude code (posit: maxpos)
  uint32_t inf_code = 0;        // +inf magnitude code (has_inf only)
  uint32_t nan_code = 0;        // canonical +NaN code (has_nan only); NaR for posits
  bool has_nan = false;
  bool nan_signed = false;  // the NaN's sign is kept (high NaNs of a signed format)
  int32_t emin = 0;         // minifloat: exponent of the smallest normal binade
  int32_t emax = 0;         // minifloat: exponent of the largest finite value
};

// Checks a description and fills the derived fields. The message names the offending field;
// callers prefix it with the file and line.
Status Finalize(FormatSpec& spec);

// Exact values of a finalized spec (computed by the reference decoder).
double MaxFinite(const FormatSpec& spec);          // largest finite value
double MinPositiveNormal(const FormatSpec& spec);  // smallest normal (posit: minpos)
double MinPositive(const FormatSpec& spec);        // smallest positive value (subnormal if any)

// A named format: the descriptor plus what users see. A block preset (mxfp4, nvfp4, ...) names
// its element format's descriptor in `spec` and its scaling recipe in `scaling`.
struct Format {
  std::string name;                  // canonical id, spec/MLIR spelling: e4m3fn, posit8_2, ...
  std::vector<std::string> aliases;  // spellings users already type
  std::string description;           // one-line spec card
  std::string source;                // the file it came from ("<builtin>/e4m3fn.toml" or a path)
  std::string specials;              // the specials style the file named (ieee, fn, ...), if any
  FormatSpec spec;
  std::string element;  // block presets: the element format's name; empty otherwise
  std::string scaling;  // block presets: the scaling recipe string; empty = none
};

// Parses a format description (TOML; see formats/README.md). `source_name` is used in messages,
// which name the file, the line and the field.
StatusOr<Format> ParseFormatToml(std::string_view text, std::string_view source_name);
StatusOr<Format> LoadFormatFile(const std::string& path);

// Every built-in format, in the order of formats/ (generated from those files at build time).
const std::vector<Format>& BuiltinFormats();

// A registered name or alias (case-insensitive), or a path to a .toml file.
StatusOr<Format> ResolveFormat(std::string_view name_or_path);

// "minifloat e4m3 bias 7 fn", for tables.
std::string DescribeSpec(const FormatSpec& spec);

}  // namespace qfloat

#endif  // QFLOAT_FORMAT_H_
