// qfloat verify IN CODES -f F [-r R] [--overflow P] [--scaling S] [--seed N] [--stream T]
//               [--tensors GLOB]... [--as FMT] [--codes-as FMT] [--examples N] [--json]
// Checks a third-party quantizer bit for bit: IN holds its inputs, CODES its outputs (any
// supported file type), matched by tensor name (or the only tensor of each). CODES may hold
//   - codes: a tensor whose dtype is the element format's (F8_E4M3 for e4m3fn, F4, BF16, ...), or
//     unsigned/signed integers holding raw codes (one per element, or packed as quantize.h packs
//     them); block formats add scale codes as "<name>.scale" (also "<name>_scale"), and NVFP4 its
//     fp32 "<name>.tensor_scale";
//   - dequantized values: any other float dtype, compared exactly with qfloat's fake-quant.
// Every mismatch is explained by the first class that fits (scaled values y = x / scale):
//   scale off by one   their block scale is ours times 2^+-1 (given, or inferred: their element
//                      equals ours recomputed with that scale)
//   scale              their scale differs otherwise
//   nan                input NaN, or both results NaN with another sign/payload
//   overflow           input +-inf or |y| beyond the largest finite value (overflow policy)
//   stochastic bits    stochastic rounding picked the other neighbour of y
//   tie                y exactly halfway between two neighbours; the other one was chosen
//   subnormal boundary |y| below the smallest normal (FTZ/DAZ, subnormal rounding)
//   signed zero        +0 against -0
//   off grid           (values) their value is not a value of the format times the scale
//   other              none of the above
// Prints counts per class and the first examples (input, expected, actual in hex); exit 3 when
// anything differs, 0 when everything matches.
#include <CLI/CLI.hpp>
#include <array>
#include <bit>
#include <cmath>
#include <cstdio>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "cli/command.h"
#include "cli/output.h"
#include "cli/tensor_cli.h"
#include "qfloat/io.h"
#include "qfloat/report.h"
#include "qfloat/scalar.h"
#include "qfloat/scaling.h"

namespace qfloat::cli {
namespace {

enum Class : int {
  kScaleOffByOne = 0,
  kScaleOther,
  kNan,
  kOverflow,
  kStochastic,
  kTie,
  kSubnormal,
  kSignedZero,
  kOffGrid,
  kOther,
  kNumClasses
};
constexpr std::array<const char*, kNumClasses> kClassKey = {
    "scale_off_by_one", "scale_mismatch", "nan",      "overflow", "stochastic", "tie",
    "subnormal",        "signed_zero",    "off_grid", "other"};
constexpr std::array<const char*, kNumClasses> kClassName = {
    "scale off by one",   "scale",       "nan",      "overflow", "stochastic bits", "tie",
    "subnormal boundary", "signed zero", "off grid", "other"};

struct VerifyArgs {
  QuantizerArgs q;
  std::string in;
  std::string codes;
  std::string codes_as;
  std::vector<std::string> tensors;
  int examples = 10;
  bool json = false;
};

struct Example {
  std::string tensor;
  uint64_t index = 0;
  Class cls = kOther;
  std::string input_hex, expected_hex, actual_hex;
  double input = 0, expected = 0, actual = 0;
};

struct TensorResult {
  std::string name;
  std::string codes_name;
  std::string mode;  // "codes" or "values"
  uint64_t elements = 0;
  uint64_t mismatches = 0;
  std::array<uint64_t, kNumClasses> classes{};
  // Scaled recipes, when CODES holds scales.
  std::string scales = "none";  // none | compared | absent
  uint64_t scales_compared = 0;
  uint64_t scales_mismatched = 0;
  uint64_t scales_off_by_one = 0;
};

bool SameSpec(const FormatSpec& a, const FormatSpec& b) {
  return a.kind == b.kind && a.bits == b.bits && a.is_signed == b.is_signed &&
         a.exponent_bits == b.exponent_bits &&
         (a.kind == FormatKind::kPosit ||
          (a.mantissa_bits == b.mantissa_bits && a.bias == b.bias && a.subnormals == b.subnormals &&
           a.has_zero == b.has_zero && a.has_inf == b.has_inf && a.high_nans == b.high_nans)) &&
         a.negative_zero == b.negative_zero;
}

bool IsIntegerDType(DType d) {
  const DTypeInfo& info = GetDTypeInfo(d);
  return info.is_integer && d != DType::kBool && info.bits <= 32;
}

std::string F32Hex(float v) { return HexCode(std::bit_cast<uint32_t>(v), 32); }

// How CODES represents one tensor.
struct Theirs {
  bool codes_mode = false;
  std::vector<uint32_t> codes;  // codes mode
  std::vector<double> values;   // values mode
  bool values_f64 = false;      // their dtype is float64 (hex printed as 16 digits)
};

StatusOr<Theirs> ReadTheirs(const TensorView& view, const FormatSpec& spec, uint64_t n,
                            const std::string& where) {
  Theirs t;
  std::optional<Format> fmt;
  if (!view.format.empty()) {
    StatusOr<Format> f = ElementFormat(view);
    if (f.ok()) fmt = *f;
  }
  if (fmt && SameSpec(fmt->spec, spec) && view.numel == n) {
    StatusOr<std::vector<uint32_t>> c = ReadCodes(view);
    if (!c.ok()) return DataError(c.status().message());
    t.codes_mode = true;
    t.codes = std::move(c).value();
    return t;
  }
  if (IsIntegerDType(view.dtype)) {
    const unsigned bits = GetDTypeInfo(view.dtype).bits;
    const uint32_t mask = spec.bits >= 32 ? 0xFFFFFFFFu : ((1u << spec.bits) - 1);
    if (view.numel == n && bits >= spec.bits) {
      StatusOr<std::vector<uint32_t>> c = ReadCodes(view);
      if (!c.ok()) return DataError(c.status().message());
      t.codes_mode = true;
      t.codes = std::move(c).value();
      for (size_t i = 0; i < t.codes.size(); ++i) {
        // Signed dtypes hold codes in two's complement of the dtype width: keep the low bits.
        if ((t.codes[i] & ~mask) != 0 && !GetDTypeInfo(view.dtype).is_signed) {
          return DataError(where + ": element " + std::to_string(i) + " holds 0x" +
                           HexCode(t.codes[i], bits) + ", not a " + std::to_string(spec.bits) +
                           "-bit code");
        }
        t.codes[i] &= mask;
      }
      return t;
    }
    if (bits == 8 && view.numel == PackedBytes(spec, n)) {
      StatusOr<std::vector<uint32_t>> c = ReadCodes(view);
      if (!c.ok()) return DataError(c.status().message());
      std::vector<uint8_t> bytes(c->begin(), c->end());
      t.codes_mode = true;
      t.codes.resize(n);
      for (uint64_t i = 0; i < n; ++i) t.codes[i] = ReadPackedCode(spec, bytes, i);
      return t;
    }
    return DataError(where + ": " + std::to_string(view.numel) + " integer codes (" +
                     std::string(ToString(view.dtype)) + ") do not match the " + std::to_string(n) +
                     " elements of the input");
  }
  if (!IsRealFloat(view)) {
    return DataError(where + ": dtype " + std::string(ToString(view.dtype)) +
                     " holds neither codes nor real values");
  }
  if (view.numel != n) {
    return DataError(where + ": shape " + ShapeString(view.shape) + " holds " +
                     std::to_string(view.numel) + " elements but the input has " +
                     std::to_string(n));
  }
  StatusOr<std::vector<double>> v = ToFloat64(view);
  if (!v.ok()) return DataError(v.status().message());
  t.values = std::move(v).value();
  t.values_f64 = view.dtype == DType::kF64;
  return t;
}

// Their scale array as codes of `scale_spec` (codes, raw integers, or exact values).
StatusOr<std::vector<uint32_t>> ReadTheirScales(const TensorView& view,
                                                const FormatSpec& scale_spec, uint64_t entries,
                                                const std::string& where) {
  if (view.numel != entries) {
    return DataError(where + ": " + std::to_string(view.numel) + " scales, expected " +
                     std::to_string(entries));
  }
  StatusOr<Theirs> t = ReadTheirs(view, scale_spec, entries, where);
  if (!t.ok()) return t.status();
  if (t->codes_mode) return t->codes;
  std::vector<uint32_t> codes(entries);
  QuantizeOptions rne;
  for (uint64_t k = 0; k < entries; ++k) {
    const double v = t->values[k];
    codes[k] = EncodeScalar(scale_spec, v, rne);
    const double back = DecodeScalar(scale_spec, codes[k]);
    if (!(back == v) && !(std::isnan(back) && std::isnan(v))) {
      return DataError(where + ": scale " + std::to_string(k) + " = " + ShortestDecimal(v) +
                       " is not a value of the scale format " + DescribeSpec(scale_spec));
    }
  }
  return codes;
}

int RunVerify(const VerifyArgs& args) {
  StatusOr<Quantizer> quantizer = ResolveQuantizerArgs(args.q);
  if (!quantizer.ok()) return Fail(kExitUsage, quantizer.status().message());
  const Quantizer& q = *quantizer;
  if (args.examples < 0) return Fail(kExitUsage, "--examples: must be >= 0");
  if (!args.codes_as.empty()) {
    StatusOr<Format> f = ResolveFormatOption(args.codes_as);
    if (!f.ok()) return Fail(kExitUsage, "--codes-as: " + f.status().message());
  }
  const bool scaled = q.scaling.kind != ScalingKind::kNone;
  const FormatSpec& spec = q.spec;
  const TensorFilter filter(args.tensors);

  StatusOr<TensorFile> in = OpenInput(args.in, args.q.as_format);
  if (!in.ok()) return Fail(kExitData, in.status().message());
  StatusOr<TensorFile> theirs_file =
      OpenInput(args.codes, args.codes_as.empty() ? q.element : args.codes_as);
  if (!theirs_file.ok()) return Fail(kExitData, theirs_file.status().message());

  std::vector<size_t> selected;
  std::vector<uint64_t> offsets(in->size(), 0);
  uint64_t offset = 0;
  for (size_t i = 0; i < in->size(); ++i) {
    offsets[i] = offset;
    offset += in->info(i).numel;
    if (filter.Matches(in->info(i).name) && IsRealFloat(in->info(i))) selected.push_back(i);
  }
  if (selected.empty()) {
    return Fail(filter.empty() ? kExitData : kExitUsage,
                filter.empty() ? args.in + ": holds no real-valued tensors"
                               : "--tensors " + filter.Describe() +
                                     ": matches no real-valued tensor of " + args.in);
  }
  // The main (non-scale) tensors of CODES, for one-to-one matching by position.
  auto is_scale_name = [](const std::string& n) {
    for (std::string_view suffix : {".scale", "_scale", ".tensor_scale", "_tensor_scale"}) {
      if (n.size() > suffix.size() &&
          n.compare(n.size() - suffix.size(), suffix.size(), suffix) == 0) {
        return true;
      }
    }
    return false;
  };
  std::vector<size_t> their_main;
  for (size_t i = 0; i < theirs_file->size(); ++i) {
    if (!is_scale_name(theirs_file->info(i).name)) their_main.push_back(i);
  }

  std::vector<TensorResult> results;
  std::vector<Example> examples;
  std::array<Example, kNumClasses> first_of_class{};
  std::array<bool, kNumClasses> have_first{};
  uint64_t total_elements = 0, total_mismatches = 0;
  std::array<uint64_t, kNumClasses> total_classes{};

  for (const size_t i : selected) {
    const TensorInfo& info = in->info(i);
    std::optional<size_t> ci = theirs_file->Find(info.name);
    if (!ci && selected.size() == 1 && their_main.size() == 1) ci = their_main[0];
    if (!ci) {
      return Fail(kExitData, args.codes + ": no tensor '" + info.name + "' to compare with " +
                                 args.in + ": tensor '" + info.name + "'");
    }
    const TensorInfo& cinfo = theirs_file->info(*ci);
    const std::string where = args.codes + ": tensor '" + cinfo.name + "'";
    StatusOr<TensorView> view = in->Load(i);
    if (!view.ok()) return Fail(kExitData, view.status().message());
    StatusOr<TensorValues> x = LoadValues(*view);
    if (!x.ok()) return Fail(kExitData, x.status().message());
    const uint64_t n = info.numel;
    if (cinfo.numel != n && !(IsIntegerDType(cinfo.dtype) && cinfo.numel == PackedBytes(spec, n))) {
      return Fail(kExitData, where + ": shape " + ShapeString(cinfo.shape) + " (" +
                                 std::to_string(cinfo.numel) + " elements) does not match " +
                                 args.in + ": tensor '" + info.name + "' of shape " +
                                 ShapeString(info.shape));
    }
    StatusOr<TensorView> cview = theirs_file->Load(*ci);
    if (!cview.ok()) return Fail(kExitData, cview.status().message());
    StatusOr<Theirs> theirs = ReadTheirs(*cview, spec, n, where);
    if (!theirs.ok()) return Fail(kExitData, theirs.status().message());

    // Ours: codes, dequantized values and (scaled) the factor of every element.
    TensorOptions options = q.options;
    options.quantize.index_offset = offsets[i];
    ScalingState state;
    ScalingState* state_ptr = q.scaling.kind == ScalingKind::kDelayed ? &state : nullptr;
    StatusOr<ScaledResult> ours = QuantizeTensor(q, info.shape, *x, options, state_ptr, scaled);
    if (!ours.ok()) return FailStatus(ours.status(), args.in + ": tensor '" + info.name + "'");
    std::vector<uint8_t> our_codes_packed;
    if (ours->has_packed) {
      our_codes_packed = ours->packed.codes;
    } else {
      our_codes_packed.assign(PackedBytes(spec, n), 0);
      const Status st = x->wide ? Encode(spec, x->f64, our_codes_packed, options)
                                : Encode(spec, x->f32, our_codes_packed, options);
      if (!st.ok()) return FailStatus(st, args.in + ": tensor '" + info.name + "'");
    }
    auto our_code = [&](uint64_t k) { return ReadPackedCode(spec, our_codes_packed, k); };
    auto our_value = [&](uint64_t k) {
      return x->wide ? ours->q64[k] : static_cast<double>(ours->q32[k]);
    };

    TensorResult res;
    res.name = info.name;
    res.codes_name = cinfo.name;
    res.mode = theirs->codes_mode ? "codes" : "values";
    res.elements = n;

    // Their scales (codes mode of a scaled recipe).
    std::vector<float> their_s_eff;
    if (scaled && theirs->codes_mode) {
      std::optional<size_t> si;
      for (const char* suffix : {".scale", "_scale", ".scales", "_scales"}) {
        si = theirs_file->Find(cinfo.name + suffix);
        if (si) break;
      }
      res.scales = si ? "compared" : "absent";
      if (si) {
        const std::string swhere = args.codes + ": tensor '" + theirs_file->info(*si).name + "'";
        StatusOr<TensorView> sview = theirs_file->Load(*si);
        if (!sview.ok()) return Fail(kExitData, sview.status().message());
        size_t entries = 1;
        for (int64_t d : ours->packed.scale_shape) entries *= static_cast<size_t>(d);
        StatusOr<std::vector<uint32_t>> sc =
            ReadTheirScales(*sview, ours->packed.scale_spec, entries, swhere);
        if (!sc.ok()) return Fail(kExitData, sc.status().message());
        ScaledTensor their_packed = ours->packed;
        for (size_t k = 0; k < entries; ++k) {
          WritePackedCode(their_packed.scale_spec, their_packed.scales, k, (*sc)[k]);
          const uint32_t mine = ReadPackedCode(ours->packed.scale_spec, ours->packed.scales, k);
          ++res.scales_compared;
          if (mine != (*sc)[k]) {
            ++res.scales_mismatched;
            const double a = DecodeScalar(ours->packed.scale_spec, (*sc)[k]);
            const double b = DecodeScalar(ours->packed.scale_spec, mine);
            if (a == 2 * b || 2 * a == b) ++res.scales_off_by_one;
          }
        }
        if (std::optional<size_t> ti = theirs_file->Find(cinfo.name + ".tensor_scale")) {
          StatusOr<TensorView> tview = theirs_file->Load(*ti);
          if (!tview.ok()) return Fail(kExitData, tview.status().message());
          StatusOr<std::vector<float>> tv = ToFloat32(*tview);
          if (!tv.ok() || tv->size() != 1) {
            return Fail(kExitData, args.codes + ": tensor '" + cinfo.name +
                                       ".tensor_scale': expected one float32 value");
          }
          their_packed.tensor_scale = (*tv)[0];
        }
        StatusOr<std::vector<float>> s = EffectiveScales(their_packed, options);
        if (!s.ok()) return FailStatus(s.status(), swhere);
        their_s_eff = std::move(s).value();
      }
    }

    const double max_finite = MaxFinite(spec);
    const double min_normal = MinPositiveNormal(spec);
    const bool sr = q.options.quantize.rounding.mode == RoundingMode::kStochastic;
    QuantizeOptions elem_opts = options.quantize;
    if (scaled && q.scaling.saturate) elem_opts.overflow = Overflow::kSatFinite;
    const bool pow2_blocks =
        q.scaling.kind == ScalingKind::kBlock || q.scaling.kind == ScalingKind::kNvfp4;

    for (uint64_t k = 0; k < n; ++k) {
      const double xv = x->at(k);
      const float s_ours = scaled ? ours->s_eff[k] : 1.0f;
      const float s_theirs = their_s_eff.empty() ? s_ours : their_s_eff[k];
      bool mismatch;
      double e_elem, a_elem;  // element-domain values (before the scale)
      std::string exp_hex, act_hex;
      double exp_val, act_val;
      if (theirs->codes_mode) {
        const uint32_t ec = our_code(k);
        const uint32_t ac = theirs->codes[k];
        mismatch = ec != ac || std::bit_cast<uint32_t>(s_ours) != std::bit_cast<uint32_t>(s_theirs);
        if (!mismatch) continue;
        e_elem = DecodeScalar(spec, ec);
        a_elem = DecodeScalar(spec, ac);
        exp_hex = HexCode(ec, spec.bits);
        act_hex = HexCode(ac, spec.bits);
        exp_val = e_elem * s_ours;
        act_val = a_elem * s_theirs;
      } else {
        const double ev = our_value(k);
        const double av = theirs->values[k];
        const bool same = std::isnan(ev)
                              ? (std::isnan(av) && std::signbit(ev) == std::signbit(av))
                              : (std::bit_cast<uint64_t>(ev) == std::bit_cast<uint64_t>(av));
        mismatch = !same;
        if (!mismatch) continue;
        e_elem = ev / s_ours;
        a_elem = av / s_ours;
        const bool hex64 = theirs->values_f64 || x->wide;
        exp_hex = hex64 ? Hex64(ev) : F32Hex(static_cast<float>(ev));
        act_hex = hex64 ? Hex64(av) : F32Hex(static_cast<float>(av));
        exp_val = ev;
        act_val = av;
      }
      const double y = xv / static_cast<double>(s_ours);
      Class cls = kOther;
      auto is_one_of = [&](double v, double a, double b) {
        return (v == a && std::signbit(v) == std::signbit(a)) ||
               (v == b && std::signbit(v) == std::signbit(b));
      };
      auto neighbours = [&](double v, double* down, double* up) {
        QuantizeOptions d = elem_opts;
        d.overflow = Overflow::kSatFinite;
        const bool neg = std::signbit(v);
        d.rounding = Rounding{neg ? RoundingMode::kUp : RoundingMode::kDown, 0};
        *down = QuantizeScalar(spec, v, d);
        d.rounding = Rounding{neg ? RoundingMode::kDown : RoundingMode::kUp, 0};
        *up = QuantizeScalar(spec, v, d);
      };
      if (scaled && std::bit_cast<uint32_t>(s_ours) != std::bit_cast<uint32_t>(s_theirs)) {
        const double r = static_cast<double>(s_theirs) / static_cast<double>(s_ours);
        cls = (r == 2.0 || r == 0.5) ? kScaleOffByOne : kScaleOther;
      } else if (std::isnan(xv) || (std::isnan(e_elem) && std::isnan(a_elem))) {
        cls = kNan;
      } else if (std::isinf(xv) || std::fabs(y) > max_finite) {
        cls = kOverflow;
      } else {
        // A scale off by one that CODES does not show: their element equals ours recomputed
        // with the scale times 2^+-1.
        bool off_by_one = false;
        if (pow2_blocks && their_s_eff.empty() && std::isfinite(xv)) {
          for (const double f : {2.0, 0.5}) {
            const double s2 = static_cast<double>(s_ours) * f;
            const double y2 = xv / s2;
            if (theirs->codes_mode) {
              off_by_one |= EncodeScalar(spec, y2, elem_opts, k) == theirs->codes[k];
            } else {
              const double v2 = QuantizeScalar(spec, y2, elem_opts, k) * s2;
              const double v2r = x->wide ? v2 : static_cast<double>(static_cast<float>(v2));
              off_by_one |= v2r == theirs->values[k];
            }
          }
        }
        double down = 0, up = 0;
        neighbours(y, &down, &up);
        if (off_by_one) {
          cls = kScaleOffByOne;
        } else if (sr && down != up && is_one_of(a_elem, down, up)) {
          cls = kStochastic;
        } else if (down != up && y == (down + up) / 2 && is_one_of(a_elem, down, up)) {
          cls = kTie;
        } else if (std::fabs(y) < min_normal || (a_elem != 0 && std::fabs(a_elem) < min_normal)) {
          cls = kSubnormal;
        } else if (e_elem == 0 && a_elem == 0) {
          cls = kSignedZero;
        } else if (!theirs->codes_mode) {
          QuantizeOptions rne;
          const double on_grid = QuantizeScalar(spec, a_elem, rne);
          cls = on_grid == a_elem ? kOther : kOffGrid;
        }
      }
      ++res.mismatches;
      ++res.classes[cls];
      Example ex;
      ex.tensor = info.name;
      ex.index = k;
      ex.cls = cls;
      ex.input = xv;
      ex.input_hex = x->wide ? Hex64(xv) : F32Hex(static_cast<float>(xv));
      ex.expected = exp_val;
      ex.expected_hex = exp_hex;
      ex.actual = act_val;
      ex.actual_hex = act_hex;
      if (examples.size() < static_cast<size_t>(args.examples)) examples.push_back(ex);
      if (!have_first[cls]) {
        have_first[cls] = true;
        first_of_class[cls] = ex;
      }
    }
    total_elements += res.elements;
    total_mismatches += res.mismatches;
    for (int c = 0; c < kNumClasses; ++c) total_classes[c] += res.classes[c];
    results.push_back(res);
  }
  // The first example of every class appears, even past --examples.
  if (args.examples > 0) {
    for (int c = 0; c < kNumClasses; ++c) {
      if (!have_first[c]) continue;
      bool shown = false;
      for (const Example& e : examples) shown |= e.cls == c;
      if (!shown) examples.push_back(first_of_class[c]);
    }
  }

  if (args.json) {
    Json j;
    j["input"] = args.in;
    j["codes"] = args.codes;
    j["format"] = q.format.name;
    j["element"] = q.element;
    j["rounding"] = ToString(q.options.quantize.rounding);
    j["overflow"] = ToString(q.options.quantize.overflow);
    j["scaling"] = ToString(q.scaling);
    j["seed"] = q.options.quantize.seed;
    j["match"] = total_mismatches == 0;
    j["elements"] = total_elements;
    j["mismatches"] = total_mismatches;
    Json classes = Json::object();
    for (int c = 0; c < kNumClasses; ++c) classes[kClassKey[c]] = total_classes[c];
    j["classes"] = classes;
    j["tensors"] = Json::array();
    for (const TensorResult& r : results) {
      Json t;
      t["name"] = r.name;
      t["codes_tensor"] = r.codes_name;
      t["mode"] = r.mode;
      t["elements"] = r.elements;
      t["mismatches"] = r.mismatches;
      Json tc = Json::object();
      for (int c = 0; c < kNumClasses; ++c) tc[kClassKey[c]] = r.classes[c];
      t["classes"] = tc;
      t["scales"] = r.scales;
      if (r.scales == "compared") {
        t["scales_compared"] = r.scales_compared;
        t["scales_mismatched"] = r.scales_mismatched;
        t["scales_off_by_one"] = r.scales_off_by_one;
      }
      j["tensors"].push_back(std::move(t));
    }
    j["examples"] = Json::array();
    for (const Example& e : examples) {
      j["examples"].push_back({{"tensor", e.tensor},
                               {"index", e.index},
                               {"class", kClassKey[e.cls]},
                               {"input_hex", e.input_hex},
                               {"input", JsonValue(e.input)},
                               {"expected_hex", e.expected_hex},
                               {"expected", JsonValue(e.expected)},
                               {"actual_hex", e.actual_hex},
                               {"actual", JsonValue(e.actual)}});
    }
    WriteJson(j);
  } else {
    std::string text;
    qfloat::Table per_tensor({"tensor", "compared as", "elements", "mismatches", "scales"});
    per_tensor.SetAlign(0, Align::kLeft).SetAlign(1, Align::kLeft).SetAlign(4, Align::kLeft);
    for (const TensorResult& r : results) {
      std::string sc = r.scales;
      if (r.scales == "compared") {
        sc = std::to_string(r.scales_mismatched) + "/" + std::to_string(r.scales_compared) +
             " differ (" + std::to_string(r.scales_off_by_one) + " off by one)";
      } else if (r.scales == "none") {
        sc = "-";
      }
      per_tensor.AddRow({r.name == r.codes_name ? r.name : r.name + " ~ " + r.codes_name, r.mode,
                         FormatCount(r.elements), FormatCount(r.mismatches), sc});
    }
    text += per_tensor.ToText();
    text += "\n";
    if (total_mismatches == 0) {
      text += "match: all " + FormatCount(total_elements) + " elements agree bit for bit (" +
              q.format.name + ", " + ToString(q.options.quantize.rounding) + ", " +
              ToString(q.options.quantize.overflow) + ", scaling " + ToString(q.scaling) + ")\n";
    } else {
      qfloat::Table classes({"mismatch class", "count", "share"});
      classes.SetAlign(0, Align::kLeft);
      for (int c = 0; c < kNumClasses; ++c) {
        if (total_classes[c] == 0) continue;
        classes.AddRow({kClassName[c], FormatCount(total_classes[c]),
                        FormatPercent(static_cast<double>(total_classes[c]) /
                                      static_cast<double>(total_mismatches))});
      }
      text += classes.ToText();
      text += "\n";
      if (!examples.empty()) {
        qfloat::Table ex({"tensor", "index", "class", "input", "expected", "actual"});
        ex.SetAlign(0, Align::kLeft).SetAlign(2, Align::kLeft).SetAlign(3, Align::kLeft);
        ex.SetAlign(4, Align::kLeft).SetAlign(5, Align::kLeft);
        for (const Example& e : examples) {
          ex.AddRow({e.tensor, std::to_string(e.index), kClassName[e.cls],
                     e.input_hex + " (" + ShortestDecimal(e.input) + ")",
                     e.expected_hex + " (" + ShortestDecimal(e.expected) + ")",
                     e.actual_hex + " (" + ShortestDecimal(e.actual) + ")"});
        }
        text += ex.ToText();
        text += "\n";
      }
      text += "MISMATCH: " + FormatCount(total_mismatches) + " of " + FormatCount(total_elements) +
              " elements differ\n";
    }
    std::fwrite(text.data(), 1, text.size(), stdout);
  }
  const Status flushed = FlushStdout();
  if (!flushed.ok()) return FailStatus(flushed);
  return total_mismatches == 0 ? kExitOk : kExitThreshold;
}

RunFn SetupVerify(CLI::App& command) {
  auto args = std::make_shared<VerifyArgs>();
  command.add_option("IN", args->in, "the inputs given to the other quantizer")->required();
  command
      .add_option("CODES", args->codes,
                  "its outputs: codes (+ '<name>.scale') or dequantized values")
      ->required();
  AddQuantizerOptions(command, args->q);
  command.add_option("--codes-as", args->codes_as,
                     "format of opaque npy codes in CODES (default: the -f element format)");
  command.add_option("--tensors", args->tensors, "only tensors matching this glob (repeatable)");
  command.add_option("--examples", args->examples,
                     "mismatches shown (default 10; plus the first of each class)");
  command.add_flag("--json", args->json, "print JSON");
  command.footer("Exit status: 0 every element matches, 3 some differ, 1 bad data, 2 bad usage.");
  return [args] { return RunVerify(*args); };
}

}  // namespace

QFLOAT_CLI_COMMAND(verify, 50, "check a third-party quantizer's output bit for bit", SetupVerify);

}  // namespace qfloat::cli
