#include "cli/tensor_cli.h"

#include <fnmatch.h>
#include <sys/stat.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <bit>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <map>

#include "cli/command.h"
#include "cli/output.h"
#include "qfloat/scalar.h"

namespace qfloat::cli {

// ---- quantizer options ----

void AddQuantizerOptions(CLI::App& command, QuantizerArgs& args, bool format_required) {
  CLI::Option* f = command.add_option(
      "-f,--format", args.format,
      "format name or alias (e4m3fn, mxfp4, nvfp4, ...) or path to a .toml file");
  if (format_required) f->required();
  command.add_option("-r,--rounding", args.rounding,
                     "rne (default), rna, rtz, rup, rdn, rto, sr, sr:K");
  command.add_option("--overflow", args.overflow, "ovf-inf (default), sat-finite, sat-propagate");
  command.add_option("--scaling", args.scaling,
                     "none, tensor[:pow2], delayed:H, channel:AXIS, block:B:SCALEFMT[:RULE], "
                     "nvfp4[:te|:torchao], or a bare RULE for a block preset (default: the "
                     "format's own recipe)");
  command.add_option("--seed", args.seed, "stochastic rounding seed, 64-bit (default 0)")
      ->type_name("UINT");
  command.add_option("--stream", args.stream, "stochastic rounding stream, 32-bit (default 0)")
      ->type_name("UINT");
  command.add_option("--backend", args.backend, "auto (default), scalar, simd, cuda");
  command.add_option("--threads", args.threads, "worker threads (default 0: all cores)")
      ->type_name("UINT");
  command.add_option("--as", args.as_format,
                     "format of opaque npy codes ('|V1', '<V2'): name or .toml path");
}

StatusOr<TensorOptions> ResolveTensorOptions(const QuantizerArgs& args) {
  TensorOptions options;
  StatusOr<Rounding> rounding = ParseRounding(args.rounding);
  if (!rounding.ok()) return InvalidArgument("-r: " + rounding.status().message());
  StatusOr<Overflow> overflow = ParseOverflow(args.overflow);
  if (!overflow.ok()) return InvalidArgument("--overflow: " + overflow.status().message());
  StatusOr<Backend> backend = ParseBackend(args.backend);
  if (!backend.ok()) return InvalidArgument("--backend: " + backend.status().message());
  StatusOr<uint64_t> seed = ParseUnsignedOption("--seed", args.seed, UINT64_MAX);
  if (!seed.ok()) return seed.status();
  StatusOr<uint64_t> stream = ParseUnsignedOption("--stream", args.stream, UINT32_MAX);
  if (!stream.ok()) return stream.status();
  StatusOr<uint64_t> threads = ParseUnsignedOption("--threads", args.threads, 4096);
  if (!threads.ok()) return threads.status();
  if (!args.as_format.empty()) {
    StatusOr<Format> as = ResolveFormatOption(args.as_format);
    if (!as.ok()) return InvalidArgument("--as: " + as.status().message());
  }
  options.quantize.rounding = *rounding;
  options.quantize.overflow = *overflow;
  options.quantize.seed = *seed;
  options.quantize.stream = static_cast<uint32_t>(*stream);
  options.backend = *backend;
  options.threads = static_cast<int>(*threads);
  return options;
}

StatusOr<Quantizer> ResolveQuantizer(std::string_view format, std::string_view scaling,
                                     const QuantizeOptions& quantize, const TensorOptions& base) {
  if (format.empty()) return InvalidArgument("-f: empty format name (see `qfloat formats`)");
  StatusOr<ScaledFormat> sf = ResolveScaledFormat(format, scaling);
  if (!sf.ok()) {
    const std::string& m = sf.status().message();
    const bool about_scaling = !scaling.empty() && m.find("scaling") != std::string::npos;
    return Status(sf.status().code() == StatusCode::kNotFound ? StatusCode::kInvalidArgument
                                                              : sf.status().code(),
                  (about_scaling ? "--scaling " + std::string(scaling) + ": " : "-f: ") + m);
  }
  Quantizer q;
  q.format = sf->format;
  q.spec = sf->format.spec;
  q.element = sf->format.element.empty() ? sf->format.name : sf->format.element;
  q.scaling = sf->scaling;
  q.options = base;
  q.options.quantize = quantize;
  return q;
}

StatusOr<Quantizer> ResolveQuantizerArgs(const QuantizerArgs& args) {
  StatusOr<TensorOptions> options = ResolveTensorOptions(args);
  if (!options.ok()) return options.status();
  return ResolveQuantizer(args.format, args.scaling, options->quantize, *options);
}

std::string QuantizerLabel(const Quantizer& q) {
  // A preset with its own recipe is named by the preset; an override or a plain element format
  // with a recipe gets "+recipe".
  std::string label = q.format.name;
  if (q.scaling.kind == ScalingKind::kNone) {
    if (!q.format.element.empty()) label = q.element;  // a preset forced to --scaling none
    return q.format.element.empty() ? label : label + "+none";
  }
  const std::string recipe = ToString(q.scaling);
  if (!q.format.scaling.empty()) {
    StatusOr<Scaling> preset = ParseScaling(q.format.scaling);
    if (preset.ok() && ToString(*preset) == recipe) return label;
  }
  return label + "+" + recipe;
}

// ---- reading ----

TensorFilter::TensorFilter(std::vector<std::string> patterns) : patterns_(std::move(patterns)) {}

bool TensorFilter::Matches(std::string_view name) const {
  if (patterns_.empty()) return true;
  const std::string n(name);
  for (const std::string& p : patterns_) {
    if (fnmatch(p.c_str(), n.c_str(), 0) == 0) return true;
  }
  return false;
}

std::string TensorFilter::Describe() const {
  std::string out;
  for (const std::string& p : patterns_) {
    if (!out.empty()) out += ", ";
    out += "'" + p + "'";
  }
  return out;
}

bool IsRealFloat(const TensorInfo& info) {
  if (info.dtype == DType::kF64) return true;
  return !info.format.empty();
}

bool NeedsFloat64(DType dtype) {
  switch (dtype) {
    case DType::kF64:
    case DType::kI32:
    case DType::kU32:
    case DType::kI64:
    case DType::kU64:
      return true;
    default:
      return false;
  }
}

StatusOr<TensorFile> OpenInput(const std::string& path, const std::string& as_format) {
  ReadOptions ro;
  ro.as_format = as_format;
  StatusOr<TensorFile> file = OpenTensorFile(path, ro);
  if (!file.ok()) {
    // A missing or malformed input file is a data error whatever the library's code.
    const std::string& m = file.status().message();
    return DataError(m.rfind(path, 0) == 0 ? m : path + ": " + m);
  }
  return file;
}

StatusOr<TensorValues> LoadValues(const TensorView& view) {
  TensorValues v;
  v.wide = NeedsFloat64(view.dtype);
  if (v.wide) {
    StatusOr<std::vector<double>> d = ToFloat64(view);
    if (!d.ok()) return DataError(d.status().message());
    v.f64 = std::move(d).value();
  } else {
    StatusOr<std::vector<float>> f = ToFloat32(view);
    if (!f.ok()) return DataError(f.status().message());
    v.f32 = std::move(f).value();
  }
  return v;
}

StatusOr<std::vector<uint8_t>> COrderBytes(const TensorView& view) {
  std::vector<uint8_t> out(view.bytes.begin(), view.bytes.end());
  if (!view.fortran_order || view.shape.size() < 2) return out;
  const unsigned bits = GetDTypeInfo(view.dtype).bits;
  if (bits % 8 != 0) {
    return DataError(view.file + ": tensor '" + view.name +
                     "': Fortran-order sub-byte data cannot be reordered");
  }
  const size_t es = bits / 8;
  const size_t rank = view.shape.size();
  std::vector<int64_t> idx(rank, 0);
  // Fortran strides (in elements).
  std::vector<uint64_t> fstride(rank, 1);
  for (size_t k = 1; k < rank; ++k) {
    fstride[k] = fstride[k - 1] * static_cast<uint64_t>(view.shape[k - 1]);
  }
  for (uint64_t c = 0; c < view.numel; ++c) {
    uint64_t f = 0;
    for (size_t k = 0; k < rank; ++k) f += static_cast<uint64_t>(idx[k]) * fstride[k];
    std::memcpy(out.data() + c * es, view.bytes.data() + f * es, es);
    for (size_t k = rank; k-- > 0;) {
      if (++idx[k] < view.shape[k]) break;
      idx[k] = 0;
    }
  }
  return out;
}

// ---- quantizing with a scaling recipe ----

StatusOr<std::vector<float>> EffectiveScales(const ScaledTensor& packed,
                                             const TensorOptions& options) {
  const FormatSpec& el = packed.element;
  QuantizeOptions rne;
  const uint32_t one = EncodeScalar(el, 1.0, rne);
  if (DecodeScalar(el, one) != 1.0) {
    return Unavailable("format " + DescribeSpec(el) + " has no code for 1.0");
  }
  size_t n = 1;
  for (int64_t d : packed.shape) n *= static_cast<size_t>(d);
  ScaledTensor ones = packed;
  std::fill(ones.codes.begin(), ones.codes.end(), 0);
  for (size_t i = 0; i < n; ++i) WritePackedCode(el, ones.codes, i, one);
  std::vector<float> s(n);
  TensorOptions o = options;
  o.backend = Backend::kAuto;
  const Status st = DecodeScaled(ones, s, o);
  if (!st.ok()) return st;
  return s;
}

StatusOr<ScaledResult> QuantizeTensor(const Quantizer& q, std::span<const int64_t> shape,
                                      const TensorValues& values, const TensorOptions& options,
                                      ScalingState* state, bool want_effective_scales) {
  ScaledResult r;
  const bool scaled = q.scaling.kind != ScalingKind::kNone;
  if (!values.wide) {
    r.q32.resize(values.f32.size());
    if (!scaled) {
      const Status st = Quantize(q.spec, values.f32, r.q32, options);
      if (!st.ok()) return st;
      if (want_effective_scales) {
        const Status e = EncodeScaled(q.spec, q.scaling, shape, values.f32, &r.packed, options);
        if (!e.ok()) return e;
        r.has_packed = true;
      }
      return r;
    }
    Status st = EncodeScaled(q.spec, q.scaling, shape, values.f32, &r.packed, options, state);
    if (!st.ok()) return st;
    r.has_packed = true;
    st = DecodeScaled(r.packed, r.q32, options);
    if (!st.ok()) return st;
  } else {
    r.q64.resize(values.f64.size());
    if (!scaled) {
      const Status st = Quantize(q.spec, values.f64, r.q64, options);
      if (!st.ok()) return st;
      if (want_effective_scales) {
        const Status e = EncodeScaled(q.spec, q.scaling, shape, values.f64, &r.packed, options);
        if (!e.ok()) return e;
        r.has_packed = true;
      }
      return r;
    }
    // Both calls start from the same delayed-scaling state; QuantizeScaled's result is kept.
    ScalingState before = state != nullptr ? *state : ScalingState{};
    Status st = QuantizeScaled(q.spec, q.scaling, shape, values.f64, r.q64, options, state);
    if (!st.ok()) return st;
    st = EncodeScaled(q.spec, q.scaling, shape, values.f64, &r.packed, options,
                      state != nullptr ? &before : nullptr);
    if (!st.ok()) return st;
    r.has_packed = true;
  }
  if (want_effective_scales) {
    StatusOr<std::vector<float>> s = EffectiveScales(r.packed, options);
    if (!s.ok()) return s.status();
    r.s_eff = std::move(s).value();
  }
  return r;
}

Status AccumulateScaled(ShrinkageStats& stats, const FormatSpec& element, const TensorValues& g,
                        const ScaledResult& image, int threads) {
  const size_t n = g.size();
  const ClassThresholds base = ClassThresholds::ForFormat(element);
  if (image.s_eff.size() != n) {
    return InvalidArgument("AccumulateScaled: no per-element scales");
  }
  // Group the elements by the bit pattern of their scale (few distinct values: one per E8M0
  // exponent, per channel, ...); sums do not depend on the order. Neighbours mostly share a
  // scale, so the last key is checked before the map.
  std::vector<uint32_t> group_of(n);
  std::map<uint32_t, uint32_t> index;  // key -> group, in key order below
  std::vector<uint32_t> keys;
  std::vector<size_t> counts;
  uint32_t last_key = 0, last_group = 0;
  bool have_last = false;
  for (size_t i = 0; i < n; ++i) {
    const uint32_t key = std::bit_cast<uint32_t>(image.s_eff[i]);
    if (!have_last || key != last_key) {
      auto [it, inserted] = index.emplace(key, static_cast<uint32_t>(keys.size()));
      if (inserted) {
        keys.push_back(key);
        counts.push_back(0);
      }
      last_key = key;
      last_group = it->second;
      have_last = true;
    }
    group_of[i] = last_group;
    ++counts[last_group];
  }
  if (keys.size() == 1) {
    const float s = image.s_eff.empty() ? 1.0f : image.s_eff[0];
    ClassThresholds t = base.Scaled(s);
    if (!g.wide) {
      t.max_finite = static_cast<float>(t.max_finite);
      t.min_normal = static_cast<float>(t.min_normal);
      return stats.Accumulate(std::span<const float>(g.f32), std::span<const float>(image.q32), t,
                              threads);
    }
    return stats.Accumulate(std::span<const double>(g.f64), std::span<const double>(image.q64), t,
                            threads);
  }
  // Groups laid out in key order (deterministic), elements in their original order inside.
  std::vector<size_t> offset(keys.size());
  size_t at = 0;
  for (const auto& [key, group] : index) {
    offset[group] = at;
    at += counts[group];
  }
  std::vector<float> g32, q32;
  std::vector<double> g64, q64;
  if (!g.wide) {
    g32.resize(n);
    q32.resize(n);
  } else {
    g64.resize(n);
    q64.resize(n);
  }
  std::vector<size_t> fill = offset;
  for (size_t i = 0; i < n; ++i) {
    const size_t k = fill[group_of[i]]++;
    if (!g.wide) {
      g32[k] = g.f32[i];
      q32[k] = image.q32[i];
    } else {
      g64[k] = g.f64[i];
      q64[k] = image.q64[i];
    }
  }
  for (const auto& [key, group] : index) {
    const size_t b = offset[group];
    const size_t count = counts[group];
    const float s = std::bit_cast<float>(key);
    ClassThresholds t = base.Scaled(s);
    Status st;
    if (!g.wide) {
      // The dequantizer rounds v * s to float32, so the saturation value is RN_f32(max * s).
      t.max_finite = static_cast<float>(t.max_finite);
      t.min_normal = static_cast<float>(t.min_normal);
      st = stats.Accumulate(std::span<const float>(g32.data() + b, count),
                            std::span<const float>(q32.data() + b, count), t, threads);
    } else {
      st = stats.Accumulate(std::span<const double>(g64.data() + b, count),
                            std::span<const double>(q64.data() + b, count), t, threads);
    }
    if (!st.ok()) return st;
  }
  return Status::Ok();
}

// ---- output ----

Status WriteTextOutput(const std::string& path, std::string_view text) {
  if (path == "-") {
    std::fwrite(text.data(), 1, text.size(), stdout);
    return FlushStdout();
  }
  StatusOr<AtomicFileWriter> w = AtomicFileWriter::Create(path);
  if (!w.ok()) return w.status();
  Status st = w->Write(text);
  if (!st.ok()) return st;
  return w->Commit();
}

Status MakeDirectories(const std::string& path) {
  if (path.empty()) return InvalidArgument("empty directory name");
  std::string prefix;
  size_t pos = 0;
  while (pos != std::string::npos) {
    pos = path.find('/', pos + 1);
    prefix = path.substr(0, pos);
    if (prefix.empty()) continue;
    struct stat st {};
    if (stat(prefix.c_str(), &st) == 0) {
      if (!S_ISDIR(st.st_mode)) return IoError(prefix + ": exists and is not a directory");
      continue;
    }
    if (mkdir(prefix.c_str(), 0777) != 0 && errno != EEXIST) {
      return IoError(prefix + ": cannot create directory: " + std::strerror(errno));
    }
  }
  return Status::Ok();
}

bool NaturalLess(std::string_view a, std::string_view b) {
  size_t i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    const bool da = a[i] >= '0' && a[i] <= '9';
    const bool db = b[j] >= '0' && b[j] <= '9';
    if (da && db) {
      size_t ie = i, je = j;
      while (ie < a.size() && a[ie] >= '0' && a[ie] <= '9') ++ie;
      while (je < b.size() && b[je] >= '0' && b[je] <= '9') ++je;
      // Compare as numbers: skip leading zeros, then length, then digits.
      size_t is = i, js = j;
      while (is + 1 < ie && a[is] == '0') ++is;
      while (js + 1 < je && b[js] == '0') ++js;
      if (ie - is != je - js) return ie - is < je - js;
      const int c = a.substr(is, ie - is).compare(b.substr(js, je - js));
      if (c != 0) return c < 0;
      i = ie;
      j = je;
      continue;
    }
    if (a[i] != b[j]) return static_cast<unsigned char>(a[i]) < static_cast<unsigned char>(b[j]);
    ++i;
    ++j;
  }
  if ((a.size() - i) != (b.size() - j)) return a.size() - i < b.size() - j;
  return a < b;
}

std::string ShapeString(std::span<const int64_t> shape) {
  std::string s = "[";
  for (size_t k = 0; k < shape.size(); ++k) {
    if (k > 0) s += ", ";
    s += std::to_string(shape[k]);
  }
  return s + "]";
}

}  // namespace qfloat::cli
