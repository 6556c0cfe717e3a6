// Scaling recipes: parsing, printing, presets, and the shared scalar scale computation.
#include <bit>
#include <charconv>
#include <cmath>
#include <limits>
#include <optional>
#include <sstream>

#include "qfloat/detail/bits.h"
#include "qfloat/scaling.h"
#include "scaling/internal.h"

namespace qfloat {
namespace {

std::vector<std::string_view> Split(std::string_view text, char sep) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (true) {
    const size_t pos = text.find(sep, start);
    parts.push_back(text.substr(start, pos == std::string_view::npos ? pos : pos - start));
    if (pos == std::string_view::npos) break;
    start = pos + 1;
  }
  return parts;
}

bool ParseInt(std::string_view s, int64_t lo, int64_t hi, int* out) {
  if (s.empty()) return false;
  int64_t v = 0;
  const char* end = s.data() + s.size();
  auto [ptr, ec] = std::from_chars(s.data(), end, v);
  if (ec != std::errc() || ptr != end || v < lo || v > hi) return false;
  *out = static_cast<int>(v);
  return true;
}

bool ParseRule(std::string_view s, ScaleRule* rule) {
  if (s == "floor")
    *rule = ScaleRule::kFloor;
  else if (s == "ceil")
    *rule = ScaleRule::kCeil;
  else if (s == "even")
    *rule = ScaleRule::kEven;
  else if (s == "rceil")
    *rule = ScaleRule::kRceil;
  else
    return false;
  return true;
}

const char* RuleName(ScaleRule rule) {
  switch (rule) {
    case ScaleRule::kFloor:
      return "floor";
    case ScaleRule::kCeil:
      return "ceil";
    case ScaleRule::kEven:
      return "even";
    case ScaleRule::kRceil:
      return "rceil";
  }
  return "?";
}

// "32" or "16x16".
bool ParseBlockShape(std::string_view s, int* rows, int* cols) {
  const size_t x = s.find('x');
  if (x == std::string_view::npos) {
    *rows = 0;
    return ParseInt(s, 1, 1 << 30, cols);
  }
  return ParseInt(s.substr(0, x), 1, 1 << 20, rows) && ParseInt(s.substr(x + 1), 1, 1 << 20, cols);
}

Status Bad(std::string_view text, const std::string& why) {
  return InvalidArgument("scaling '" + std::string(text) + "': " + why);
}

// Options shared by tensor, delayed and channel.
bool ParseFloatScaleOption(std::string_view opt, Scaling& s) {
  if (opt == "pow2") {
    s.pow2 = true;
    return true;
  }
  if (opt == "nosat") {
    s.saturate = false;
    return true;
  }
  if (opt.substr(0, 7) == "margin=") return ParseInt(opt.substr(7), -126, 126, &s.margin);
  return false;
}

StatusOr<FormatSpec> Fp32Spec() {
  StatusOr<Format> f = ResolveFormat("fp32");
  if (!f.ok()) return f.status();
  return f->spec;
}

}  // namespace

StatusOr<Scaling> ParseScaling(std::string_view text) {
  const std::vector<std::string_view> t = Split(text, ':');
  Scaling s;
  const std::string_view kind = t[0];
  if (kind == "none" || kind.empty()) {
    if (t.size() > 1) return Bad(text, "'none' takes no options");
    return s;
  }
  if (kind == "tensor" || kind == "delayed" || kind == "channel") {
    size_t i = 1;
    if (kind == "tensor") {
      s.kind = ScalingKind::kTensor;
    } else if (kind == "delayed") {
      s.kind = ScalingKind::kDelayed;
      if (t.size() < 2 || !ParseInt(t[1], 1, 1 << 20, &s.history)) {
        return Bad(text, "expected delayed:H with a history length H >= 1");
      }
      i = 2;
    } else {
      s.kind = ScalingKind::kChannel;
      if (t.size() < 2 || !ParseInt(t[1], -64, 63, &s.axis)) {
        return Bad(text, "expected channel:AXIS with an integer axis");
      }
      i = 2;
    }
    for (; i < t.size(); ++i) {
      if (s.kind == ScalingKind::kDelayed && (t[i] == "max" || t[i] == "recent")) {
        s.algo = t[i] == "max" ? AmaxAlgo::kMax : AmaxAlgo::kMostRecent;
      } else if (!ParseFloatScaleOption(t[i], s)) {
        return Bad(text, "unknown option '" + std::string(t[i]) +
                             "' (expected pow2, margin=M, nosat" +
                             (s.kind == ScalingKind::kDelayed ? ", max or recent)" : ")"));
      }
    }
    StatusOr<FormatSpec> fp32 = Fp32Spec();
    if (!fp32.ok()) return fp32.status();
    s.scale_spec = *fp32;
    s.scale_format = "fp32";
    return s;
  }
  if (kind == "nvfp4") {
    s.kind = ScalingKind::kNvfp4;
    s.block_size = 16;
    for (size_t i = 1; i < t.size(); ++i) {
      if (t[i] == "te") {
        s.nvfp4 = Nvfp4Variant::kTransformerEngine;
      } else if (t[i] == "torchao") {
        s.nvfp4 = Nvfp4Variant::kTorchao;
      } else if (t[i] == "16x16") {
        s.block_rows = 16;
      } else if (t[i] == "1x16" || t[i] == "16") {
        s.block_rows = 0;
      } else if (t[i] == "nosat") {
        s.saturate = false;
      } else {
        return Bad(text, "unknown option '" + std::string(t[i]) +
                             "' (expected te, torchao, 16x16 or nosat)");
      }
    }
    StatusOr<Format> e4m3 = ResolveFormat("e4m3fn");
    if (!e4m3.ok()) return e4m3.status();
    s.scale_format = "e4m3fn";
    s.scale_spec = e4m3->spec;
    return s;
  }
  if (kind == "block") {
    s.kind = ScalingKind::kBlock;
    if (t.size() < 3 || !ParseBlockShape(t[1], &s.block_rows, &s.block_size)) {
      return Bad(text, "expected block:B[:AXIS]:SCALEFMT[:RULE] (B = N or RxC)");
    }
    size_t i = 2;
    int axis = 0;
    if (ParseInt(t[i], -64, 63, &axis)) {
      if (s.block_rows > 0) return Bad(text, "a 2-D tile (RxC) spans the last two axes: no AXIS");
      s.axis = axis;
      ++i;
    }
    if (i >= t.size()) return Bad(text, "missing the scale format");
    StatusOr<Format> scale = ResolveFormat(t[i]);
    if (!scale.ok()) return Bad(text, scale.status().message());
    if (!scale->element.empty()) {
      return Bad(text, "the scale format '" + std::string(t[i]) + "' is itself a block preset");
    }
    s.scale_format = scale->name;
    s.scale_spec = scale->spec;
    ++i;
    if (i < t.size() && ParseRule(t[i], &s.rule)) ++i;
    for (; i < t.size(); ++i) {
      const std::string_view o = t[i];
      if (o == "inf=nan")
        s.inf = NonFiniteScale::kNan;
      else if (o == "inf=max")
        s.inf = NonFiniteScale::kMax;
      else if (o == "tiny=exact")
        s.tiny = TinyScale::kExact;
      else if (o == "tiny=torchao")
        s.tiny = TinyScale::kTorchao;
      else if (o == "nosat")
        s.saturate = false;
      else if (o == "twos")
        s.twos_complement = true;
      else {
        return Bad(text, "unknown option '" + std::string(o) +
                             "' (expected a rule floor|ceil|even|rceil, then inf=nan|max, "
                             "tiny=exact|torchao, nosat, twos)");
      }
    }
    return s;
  }
  return Bad(text, "unknown recipe '" + std::string(kind) +
                       "' (expected none, tensor, delayed:H, channel:AXIS, block:B:SCALEFMT[:RULE] "
                       "or nvfp4)");
}

std::string ToString(const Scaling& s) {
  std::ostringstream out;
  auto float_options = [&]() {
    if (s.pow2) out << ":pow2";
    if (s.margin != 0) out << ":margin=" << s.margin;
    if (!s.saturate) out << ":nosat";
  };
  switch (s.kind) {
    case ScalingKind::kNone:
      return "none";
    case ScalingKind::kTensor:
      out << "tensor";
      float_options();
      break;
    case ScalingKind::kDelayed:
      out << "delayed:" << s.history << (s.algo == AmaxAlgo::kMax ? ":max" : ":recent");
      float_options();
      break;
    case ScalingKind::kChannel:
      out << "channel:" << s.axis;
      float_options();
      break;
    case ScalingKind::kBlock:
      out << "block:";
      if (s.block_rows > 0) {
        out << s.block_rows << "x" << s.block_size;
      } else {
        out << s.block_size;
        if (s.axis != -1) out << ":" << s.axis;
      }
      out << ":" << s.scale_format << ":" << RuleName(s.rule);
      if (s.inf == NonFiniteScale::kNan) out << ":inf=nan";
      if (s.inf == NonFiniteScale::kMax) out << ":inf=max";
      if (s.tiny == TinyScale::kTorchao) out << ":tiny=torchao";
      if (!s.saturate) out << ":nosat";
      if (s.twos_complement) out << ":twos";
      break;
    case ScalingKind::kNvfp4:
      out << "nvfp4:" << (s.nvfp4 == Nvfp4Variant::kTorchao ? "torchao" : "te");
      if (s.block_rows > 0) out << ":16x16";
      if (!s.saturate) out << ":nosat";
      break;
  }
  return out.str();
}

std::string Describe(const Scaling& s) {
  std::ostringstream out;
  switch (s.kind) {
    case ScalingKind::kNone:
      return "no scaling";
    case ScalingKind::kTensor:
      out << "per-tensor current scaling: scale = max / amax";
      break;
    case ScalingKind::kDelayed:
      out << "delayed scaling: scale from the "
          << (s.algo == AmaxAlgo::kMax ? "max" : "most recent") << " amax of a " << s.history
          << "-step history (TransformerEngine)";
      break;
    case ScalingKind::kChannel:
      out << "per-channel scaling along axis " << s.axis;
      break;
    case ScalingKind::kBlock:
      out << "block scaling: ";
      if (s.block_rows > 0) {
        out << s.block_rows << "x" << s.block_size << " tiles over the last two axes";
      } else {
        out << "blocks of " << s.block_size << " along axis " << s.axis;
      }
      out << ", " << s.scale_format << " scale, rule " << RuleName(s.rule);
      if (s.rule == ScaleRule::kFloor) out << " (OCP MX v1.0 §6.3)";
      if (s.twos_complement) out << ", two's-complement element codes";
      break;
    case ScalingKind::kNvfp4:
      out << "NVFP4: " << (s.block_rows > 0 ? "16x16 tiles" : "blocks of 16")
          << ", e4m3fn block scales, fp32 tensor scale, "
          << (s.nvfp4 == Nvfp4Variant::kTorchao ? "torchao" : "TransformerEngine") << " op order";
      break;
  }
  if (s.kind != ScalingKind::kBlock && s.kind != ScalingKind::kNvfp4) {
    if (s.pow2) out << ", rounded down to a power of two";
    if (s.margin != 0) out << ", margin 2^-" << s.margin;
  }
  if (!s.saturate) out << ", elements follow the overflow policy";
  return out.str();
}

StatusOr<ScaledFormat> ResolveScaledFormat(std::string_view name_or_path,
                                           std::string_view scaling_override) {
  StatusOr<Format> f = ResolveFormat(name_or_path);
  if (!f.ok()) return f.status();
  ScaledFormat out;
  out.format = std::move(f).value();
  if (!out.format.scaling.empty()) {
    StatusOr<Scaling> s = ParseScaling(out.format.scaling);
    if (!s.ok()) {
      return InvalidArgument(out.format.source + ": [block]: " + s.status().message());
    }
    out.scaling = std::move(s).value();
  }
  if (!scaling_override.empty()) {
    ScaleRule rule;
    if (ParseRule(scaling_override, &rule)) {
      if (out.scaling.kind != ScalingKind::kBlock) {
        return InvalidArgument("--scaling " + std::string(scaling_override) +
                               ": a bare rule needs a block format (such as mxfp4), not '" +
                               std::string(name_or_path) + "'");
      }
      out.scaling.rule = rule;
    } else {
      StatusOr<Scaling> s = ParseScaling(scaling_override);
      if (!s.ok()) return s.status();
      out.scaling = std::move(s).value();
    }
  }
  const Status st = scaling::CheckScaling(out.format.spec, out.scaling);
  if (!st.ok()) return st;
  return out;
}

namespace detail {

Pow2Scale ComputePow2Scale(const FormatSpec& element, const Scaling& scaling, double amax,
                           bool f32) {
  const scaling::Pow2Params p = scaling::MakePow2Params(element, scaling);
  return scaling::Pow2ScaleOf(p, amax, f32);
}

}  // namespace detail

namespace scaling {

Pow2Params MakePow2Params(const FormatSpec& element, const Scaling& s) {
  Pow2Params p;
  p.rule = s.rule;
  p.elem_max = MaxFinite(element);
  p.emax_elem = std::ilogb(p.elem_max);
  // Fraction bits of the element's top binade (torchao EVEN's mbits).
  if (element.kind == FormatKind::kMinifloat) {
    const int quantum = (element.emax >= element.emin) ? element.emax - element.mantissa_bits
                                                       : element.emin - element.mantissa_bits;
    p.even_bits = element.emax - quantum;
  } else {
    p.even_bits = 0;
  }
  const FormatSpec& sc = s.scale_spec;
  p.kmin = std::ilogb(MinPositive(sc));
  p.kmax = std::ilogb(MaxFinite(sc));
  p.scale_has_nan = sc.has_nan;
  const NonFiniteScale inf =
      s.inf != NonFiniteScale::kDefault
          ? s.inf
          : (s.rule == ScaleRule::kRceil ? NonFiniteScale::kMax : NonFiniteScale::kNan);
  p.inf_to_max = inf == NonFiniteScale::kMax;
  return p;
}

namespace {

// floor(log2 |v|) and whether |v| is a power of two, for a finite nonzero double (bit fields for
// normal numbers, ilogb for subnormals).
inline void Log2Parts(double v, int* e, bool* pow2, uint64_t* fraction) {
  const uint64_t bits = std::bit_cast<uint64_t>(v);
  const int field = static_cast<int>((bits >> 52) & 0x7FF);
  if (field != 0) {
    *e = field - 1023;
    *fraction = bits & ((uint64_t{1} << 52) - 1);
  } else {
    *e = std::ilogb(v);
    *fraction = std::bit_cast<uint64_t>(std::scalbn(v, -*e)) & ((uint64_t{1} << 52) - 1);
  }
  *pow2 = *fraction == 0;
}

}  // namespace

detail::Pow2Scale Pow2ScaleOf(const Pow2Params& p, double amax, bool f32) {
  detail::Pow2Scale r;
  if (std::isnan(amax) || (std::isinf(amax) && !p.inf_to_max)) {
    if (p.scale_has_nan) {
      r.is_nan = true;
    } else {
      r.k = p.kmax;
    }
    return r;
  }
  if (std::isinf(amax)) {
    r.k = p.kmax;
    return r;
  }
  int64_t k;
  if (amax == 0) {
    k = std::numeric_limits<int32_t>::min();
  } else {
    int e;
    bool pow2;
    uint64_t fraction;  // of the significand m in [1, 2), 52 bits
    Log2Parts(amax, &e, &pow2, &fraction);
    switch (p.rule) {
      case ScaleRule::kFloor:
        k = int64_t{e} - p.emax_elem;
        break;
      case ScaleRule::kCeil:
        k = int64_t{e} + (pow2 ? 0 : 1) - p.emax_elem;
        break;
      case ScaleRule::kEven: {
        // Half-up rounding of m to even_bits fraction bits carries into the next binade iff
        // m >= 2 - 2^-(even_bits+1).
        const int drop = 52 - (p.even_bits + 1);
        const bool carry =
            drop >= 0 && drop < 52 && fraction >= (uint64_t{1} << 52) - (uint64_t{1} << drop);
        k = int64_t{e} + (carry ? 1 : 0) - p.emax_elem;
        break;
      }
      case ScaleRule::kRceil:
      default: {
        double d;
        if (f32) {
          d = static_cast<double>(static_cast<float>(amax) / static_cast<float>(p.elem_max));
        } else {
          d = amax / p.elem_max;
        }
        if (d == 0) {
          k = std::numeric_limits<int32_t>::min();
        } else if (std::isinf(d)) {
          k = std::numeric_limits<int32_t>::max();
        } else {
          int de;
          bool dpow2;
          uint64_t dfrac;
          Log2Parts(d, &de, &dpow2, &dfrac);
          k = int64_t{de} + (dpow2 ? 0 : 1);
        }
        break;
      }
    }
  }
  if (k < p.kmin) k = p.kmin;
  if (k > p.kmax) k = p.kmax;
  r.k = static_cast<int32_t>(k);
  return r;
}

AmaxBinades MakeAmaxBinades(const Pow2Params& p) {
  AmaxBinades t;
  auto k_of = [&](uint32_t field, uint32_t fraction) {
    const detail::Pow2Scale ps =
        Pow2ScaleOf(p, static_cast<double>(std::bit_cast<float>((field << 23) | fraction)), true);
    return ps.is_nan ? std::optional<int32_t>() : std::optional<int32_t>(ps.k);
  };
  // The threshold depends on the fraction alone away from the clamps and float32's edges, so the
  // last binade's threshold is tried first (four evaluations), and searched for only if wrong.
  uint32_t guess = 0x800000;
  for (uint32_t f = 1; f <= 254; ++f) {
    const std::optional<int32_t> lo = k_of(f, 0), hi = k_of(f, 0x7FFFFF);
    if (!lo || !hi || *hi < *lo || *hi > *lo + 1) continue;
    uint32_t first_hi = 0x800000;  // none: every fraction gives k_lo
    if (*hi != *lo) {
      if (guess > 0 && guess < 0x800000 && k_of(f, guess - 1) == lo && k_of(f, guess) == hi) {
        first_hi = guess;
      } else {
        // The smallest fraction whose k is k_hi (k is monotone in amax).
        uint32_t below = 0, at = 0x7FFFFF;
        while (at - below > 1) {
          const uint32_t mid = below + (at - below) / 2;
          (k_of(f, mid) == hi ? at : below) = mid;
        }
        first_hi = at;
      }
      guess = first_hi;
    }
    t.threshold[f] = first_hi;
    t.k_lo[f] = *lo;
    t.k_hi[f] = *hi;
    t.valid[f] = true;
  }
  return t;
}

Status CheckScaling(const FormatSpec& element, const Scaling& s) {
  if (s.kind == ScalingKind::kNone) return Status::Ok();
  if (element.kind != FormatKind::kMinifloat && s.kind == ScalingKind::kBlock &&
      s.rule == ScaleRule::kEven) {
    return InvalidArgument("scaling " + ToString(s) + ": rule 'even' needs a minifloat element");
  }
  if (s.kind == ScalingKind::kBlock) {
    if (s.block_size < 1) return InvalidArgument("scaling " + ToString(s) + ": block size < 1");
    if (s.twos_complement &&
        (!element.is_signed || element.exponent_bits != 0 ||
         element.kind != FormatKind::kMinifloat || element.has_nan || element.has_inf)) {
      return InvalidArgument("scaling " + ToString(s) +
                             ": 'twos' needs a signed integer element (no exponent field, no "
                             "inf/NaN), such as int8_mx");
    }
  }
  if (!(MaxFinite(element) > 0) || std::isinf(MaxFinite(element))) {
    return InvalidArgument("scaling " + ToString(s) + ": the element format has no finite max");
  }
  return Status::Ok();
}

}  // namespace scaling
}  // namespace qfloat
