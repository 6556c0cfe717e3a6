#include "qfloat/format.h"

#include <toml++/toml.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <fstream>
#include <optional>
#include <sstream>

#include "qfloat/detail/bits.h"

namespace qfloat {
namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

}  // namespace

Status Finalize(FormatSpec& s) {
  if (s.kind == FormatKind::kPosit) {
    if (s.bits < 3 || s.bits > 32) return InvalidArgument("bits: a posit has 3..32 bits");
    if (s.exponent_bits > 5) return InvalidArgument("es: must be 0..5");
    s.is_signed = true;
    s.sign_bit = 1u << (s.bits - 1);
    s.magnitude_mask = s.sign_bit - 1;
    s.max_code = s.magnitude_mask;  // maxpos
    s.nan_code = s.sign_bit;        // NaR
    s.has_nan = true;
    s.nan_signed = false;
    s.has_inf = false;
    s.has_zero = true;
    s.negative_zero = false;
    s.emax = (s.bits - 2) << s.exponent_bits;
    s.emin = -s.emax;
    return Status::Ok();
  }
  if (s.bits < 2 || s.bits > 32) return InvalidArgument("bits: must be 2..32");
  if (s.mantissa_bits > 52) return InvalidArgument("mantissa_bits: at most 52");
  if (s.exponent_bits > 11) return InvalidArgument("exponent_bits: at most 11");
  const int sign = s.is_signed ? 1 : 0;
  if (sign + s.exponent_bits + s.mantissa_bits != s.bits) {
    return InvalidArgument("bits: " + std::to_string(s.bits) + " != sign (" + std::to_string(sign) +
                           ") + exponent_bits (" + std::to_string(s.exponent_bits) +
                           ") + mantissa_bits (" + std::to_string(s.mantissa_bits) + ")");
  }
  if (!s.has_zero && s.subnormals) {
    return InvalidArgument("subnormals: a format without zero has no subnormals");
  }
  if (!s.has_zero && s.is_signed) {
    return InvalidArgument("zero: only unsigned formats may lack a zero");
  }
  if (s.exponent_bits == 0 && !s.subnormals) {
    return InvalidArgument("subnormals: a format with no exponent bits is all subnormal");
  }
  s.sign_bit = s.is_signed ? (1u << (s.bits - 1)) : 0u;
  const uint64_t top =
      s.is_signed ? (uint64_t{1} << (s.bits - 1)) - 1 : (uint64_t{1} << s.bits) - 1;
  s.magnitude_mask = static_cast<uint32_t>(top);
  const uint64_t reserved = uint64_t{s.high_nans} + (s.has_inf ? 1 : 0);
  if (reserved >= top) {
    return InvalidArgument("high_nans: " + std::to_string(s.high_nans) +
                           " NaN codes (plus inf) leave no finite value");
  }
  s.max_code = static_cast<uint32_t>(top - reserved);
  s.inf_code = s.has_inf ? static_cast<uint32_t>(top - s.high_nans) : 0u;
  if (!s.is_signed) s.negative_zero = false;
  const bool nan_at_negative_zero = s.is_signed && !s.negative_zero;
  s.has_nan = s.high_nans > 0 || nan_at_negative_zero;
  if (nan_at_negative_zero) {
    s.nan_code = s.sign_bit;
    s.nan_signed = false;
  } else if (s.high_nans > 0) {
    const bool ieee_like = s.has_inf && s.mantissa_bits >= 1 &&
                           uint64_t{s.high_nans} == (uint64_t{1} << s.mantissa_bits) - 1;
    // IEEE 754 §6.2.1: the quiet NaN has the top fraction bit set.
    s.nan_code =
        ieee_like ? (s.inf_code | (1u << (s.mantissa_bits - 1))) : static_cast<uint32_t>(top);
    s.nan_signed = s.is_signed;
  } else {
    s.nan_code = 0;
    s.nan_signed = false;
  }
  if (s.bias < -2000 || s.bias > 2000) return InvalidArgument("bias: out of range");
  s.emin = (s.has_zero ? 1 : 0) - s.bias;
  const int32_t smallest = s.has_zero ? s.emin - s.mantissa_bits : s.emin;
  if (smallest < -1074) {
    return InvalidArgument("bias: the smallest value 2^" + std::to_string(smallest) +
                           " is below float64's range");
  }
  const int32_t max_field = static_cast<int32_t>(s.max_code >> s.mantissa_bits);
  const int32_t top_exp = max_field - (s.has_zero ? 1 : 0) + s.emin;
  if (top_exp > 1023) {
    return InvalidArgument("bias: the largest value 2^" + std::to_string(top_exp) +
                           " is beyond float64's range");
  }
  s.emax = std::ilogb(detail::DecodeToDouble(s, s.max_code));
  return Status::Ok();
}

double MaxFinite(const FormatSpec& spec) { return detail::DecodeToDouble(spec, spec.max_code); }

double MinPositive(const FormatSpec& spec) {
  if (spec.kind == FormatKind::kPosit) return detail::DecodeToDouble(spec, 1);
  return detail::DecodeToDouble(
      spec, spec.has_zero ? (spec.subnormals ? 1u : 1u << spec.mantissa_bits) : 0u);
}

double MinPositiveNormal(const FormatSpec& spec) {
  if (spec.kind == FormatKind::kPosit) return detail::DecodeToDouble(spec, 1);
  return detail::Pow2(spec.emin);
}

std::string DescribeSpec(const FormatSpec& s) {
  std::ostringstream out;
  if (s.kind == FormatKind::kPosit) {
    out << "posit<" << int(s.bits) << "," << int(s.exponent_bits) << ">";
    return out.str();
  }
  out << (s.is_signed ? "" : "unsigned ") << "e" << int(s.exponent_bits) << "m"
      << int(s.mantissa_bits) << " bias " << s.bias;
  if (!s.has_zero) out << ", no zero";
  if (!s.subnormals && s.has_zero) out << ", no subnormals";
  out << (s.has_inf ? ", inf" : ", no inf");
  if (s.has_nan) out << ", NaN";
  if (s.is_signed && !s.negative_zero) out << ", no -0";
  return out.str();
}

namespace {

// Reads the TOML fields of a format description into a Format, naming file, line and field in
// every message.
class FormatReader {
 public:
  FormatReader(const toml::table& table, std::string_view source)
      : table_(table), source_(source) {}

  StatusOr<Format> Read() {
    Format f;
    f.source = source_;
    Status st = String("name", true, &f.name);
    if (!st.ok()) return st;
    if (f.name.empty()) return Error("name", "must not be empty");
    if (const toml::array* aliases = table_["aliases"].as_array()) {
      for (const toml::node& a : *aliases) {
        if (!a.is_string()) return Error("aliases", "must be an array of strings");
        f.aliases.push_back(std::string(*a.value<std::string_view>()));
      }
    } else if (table_.contains("aliases")) {
      return Error("aliases", "must be an array of strings");
    }
    if (!(st = String("description", false, &f.description)).ok()) return st;
    if (!(st = String("element", false, &f.element)).ok()) return st;
    if (const toml::node* block = table_.get("block")) {
      // Block presets: the recipe is read by the scaling layer from the [block] table; here we
      // only keep it as a canonical recipe string (see scaling.h for the grammar).
      if (!block->is_table()) return Error("block", "must be a table");
      if (!(st = BlockRecipe(*block->as_table(), &f.scaling)).ok()) return st;
    }
    std::string kind = "minifloat";
    if (!(st = String("kind", false, &kind)).ok()) return st;
    if (!f.element.empty()) {
      // A block preset takes its element's descriptor; the caller resolves it.
      return f;
    }
    FormatSpec& s = f.spec;
    if (kind == "posit") {
      s.kind = FormatKind::kPosit;
      int64_t bits = 0, es = 0;
      if (!(st = Int("bits", true, 3, 32, &bits)).ok()) return st;
      if (!(st = Int("es", true, 0, 5, &es)).ok()) return st;
      s.bits = static_cast<uint8_t>(bits);
      s.exponent_bits = static_cast<uint8_t>(es);
    } else if (kind == "minifloat") {
      s.kind = FormatKind::kMinifloat;
      int64_t bits = 0, e = 0, m = 0, bias = 0;
      if (!(st = Int("bits", true, 2, 32, &bits)).ok()) return st;
      if (!(st = Int("exponent_bits", true, 0, 11, &e)).ok()) return st;
      if (!(st = Int("mantissa_bits", true, 0, 52, &m)).ok()) return st;
      bias = (int64_t{1} << (e > 0 ? e - 1 : 0)) - 1;
      if (!(st = Int("bias", false, -2000, 2000, &bias)).ok()) return st;
      s.bits = static_cast<uint8_t>(bits);
      s.exponent_bits = static_cast<uint8_t>(e);
      s.mantissa_bits = static_cast<uint8_t>(m);
      s.bias = static_cast<int32_t>(bias);
      if (!(st = Bool("signed", &s.is_signed)).ok()) return st;
      if (!(st = Bool("subnormals", &s.subnormals)).ok()) return st;
      if (!(st = Bool("zero", &s.has_zero)).ok()) return st;
      // The specials style sets inf / NaN / -0 together; explicit fields override it.
      std::string specials = "ieee";
      if (!(st = String("specials", false, &specials)).ok()) return st;
      f.specials = specials;
      if (specials == "ieee") {
        s.has_inf = true;
        s.high_nans = m >= 1 ? static_cast<uint32_t>((uint64_t{1} << m) - 1) : 0;
        s.negative_zero = true;
        if (m == 0) return Error("specials", "'ieee' needs mantissa_bits >= 1 to encode NaN");
      } else if (specials == "fn") {
        s.has_inf = false;
        s.high_nans = 1;
        s.negative_zero = true;
      } else if (specials == "fnuz") {
        s.has_inf = false;
        s.high_nans = 0;
        s.negative_zero = false;
      } else if (specials == "finite") {
        s.has_inf = false;
        s.high_nans = 0;
        s.negative_zero = true;
      } else if (specials == "extended") {  // IEEE P3109 extended domain
        s.has_inf = true;
        s.high_nans = 0;
        s.negative_zero = false;
      } else {
        return Error("specials", "unknown style '" + specials +
                                     "' (expected ieee, fn, fnuz, finite or extended)");
      }
      if (!(st = Bool("inf", &s.has_inf)).ok()) return st;
      if (!(st = Bool("negative_zero", &s.negative_zero)).ok()) return st;
      int64_t high_nans = s.high_nans;
      if (!(st = Int("high_nans", false, 0, int64_t{1} << 31, &high_nans)).ok()) return st;
      s.high_nans = static_cast<uint32_t>(high_nans);
      std::string nan_fallback;
      if (!(st = String("nan", false, &nan_fallback)).ok()) return st;
      if (nan_fallback.empty() || nan_fallback == "ml_dtypes") {
        s.nan_fallback = NanFallback::kFlipSignZero;
      } else if (nan_fallback == "zero") {
        s.nan_fallback = NanFallback::kZero;
      } else if (nan_fallback == "max") {
        s.nan_fallback = NanFallback::kMax;
      } else {
        return Error(
            "nan", "unknown NaN fallback '" + nan_fallback + "' (expected ml_dtypes, zero or max)");
      }
    } else {
      return Error("kind", "unknown kind '" + kind + "' (expected minifloat or posit)");
    }
    const Status finalized = Finalize(s);
    if (!finalized.ok()) {
      // Finalize's messages start with the field they are about.
      const std::string& msg = finalized.message();
      const std::string field = msg.substr(0, msg.find(':'));
      return Error(field, msg.substr(msg.find(':') + 2));
    }
    return f;
  }

 private:
  std::string Where(std::string_view field) const {
    const toml::node* node = table_.get(field);
    std::ostringstream out;
    out << source_;
    if (node != nullptr && node->source().begin.line > 0) out << ":" << node->source().begin.line;
    out << ": field '" << field << "'";
    return out.str();
  }
  Status Error(std::string_view field, const std::string& what) const {
    return InvalidArgument(Where(field) + ": " + what);
  }
  Status String(std::string_view field, bool required, std::string* out) const {
    const toml::node* node = table_.get(field);
    if (node == nullptr) return required ? Error(field, "is required") : Status::Ok();
    if (!node->is_string()) return Error(field, "must be a string");
    *out = std::string(*node->value<std::string_view>());
    return Status::Ok();
  }
  Status Int(std::string_view field, bool required, int64_t lo, int64_t hi, int64_t* out) const {
    const toml::node* node = table_.get(field);
    if (node == nullptr) return required ? Error(field, "is required") : Status::Ok();
    if (!node->is_integer()) return Error(field, "must be an integer");
    const int64_t v = *node->value<int64_t>();
    if (v < lo || v > hi) {
      return Error(field, std::to_string(v) + " is outside " + std::to_string(lo) + ".." +
                              std::to_string(hi));
    }
    *out = v;
    return Status::Ok();
  }
  Status Bool(std::string_view field, bool* out) const {
    const toml::node* node = table_.get(field);
    if (node == nullptr) return Status::Ok();
    if (!node->is_boolean()) return Error(field, "must be true or false");
    *out = *node->value<bool>();
    return Status::Ok();
  }
  // [block] size = 32, scale = "e8m0fnu", rule = "floor", axis = -1 (optional), variant = ...
  Status BlockRecipe(const toml::table& block, std::string* out) const {
    if (const toml::node* recipe = block.get("recipe")) {
      if (!recipe->is_string()) return Error("block", "recipe must be a string");
      *out = std::string(*recipe->value<std::string_view>());
      return Status::Ok();
    }
    const toml::node* size = block.get("size");
    const toml::node* scale = block.get("scale");
    if (size == nullptr || !size->is_integer() || scale == nullptr || !scale->is_string()) {
      return Error("block", "needs size (integer) and scale (format name), or recipe (string)");
    }
    std::ostringstream s;
    s << "block:" << *size->value<int64_t>();
    if (const toml::node* axis = block.get("axis")) {
      if (!axis->is_integer()) return Error("block", "axis must be an integer");
      s << ":" << *axis->value<int64_t>();
    }
    s << ":" << *scale->value<std::string_view>();
    if (const toml::node* rule = block.get("rule")) {
      if (!rule->is_string()) return Error("block", "rule must be a string");
      s << ":" << *rule->value<std::string_view>();
    }
    *out = s.str();
    return Status::Ok();
  }

  const toml::table& table_;
  std::string source_;
};

}  // namespace

StatusOr<Format> ParseFormatToml(std::string_view text, std::string_view source_name) {
  toml::table table;
  try {
    table = toml::parse(text, source_name);
  } catch (const toml::parse_error& e) {
    std::ostringstream out;
    out << source_name << ":" << e.source().begin.line << ":" << e.source().begin.column
        << ": invalid TOML: " << e.description();
    return InvalidArgument(out.str());
  }
  return FormatReader(table, source_name).Read();
}

StatusOr<Format> LoadFormatFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound("cannot open format file '" + path + "'");
  std::ostringstream buffer;
  buffer << in.rdbuf();
  if (!in.good() && !in.eof()) return IoError("cannot read format file '" + path + "'");
  return ParseFormatToml(buffer.str(), path);
}

namespace detail {
// Generated at build time from formats/*.toml (see src/reference/CMakeLists.txt).
struct EmbeddedFormatFile {
  const char* name;
  const char* text;
};
extern const EmbeddedFormatFile kEmbeddedFormatFiles[];
extern const size_t kNumEmbeddedFormatFiles;
}  // namespace detail

namespace {

const Format* FindBuiltin(const std::vector<Format>& formats, std::string_view name) {
  const std::string key = Lower(name);
  for (const Format& f : formats) {
    if (Lower(f.name) == key) return &f;
    for (const std::string& a : f.aliases) {
      if (Lower(a) == key) return &f;
    }
  }
  return nullptr;
}

// Block presets name an element format; they take its descriptor.
Status ResolveElement(const std::vector<Format>& formats, Format& f) {
  if (f.element.empty()) return Status::Ok();
  const Format* element = FindBuiltin(formats, f.element);
  if (element == nullptr || !element->element.empty()) {
    return InvalidArgument(f.source + ": field 'element': unknown element format '" + f.element +
                           "'");
  }
  f.spec = element->spec;
  f.specials = element->specials;
  return Status::Ok();
}

std::vector<Format> LoadBuiltins() {
  std::vector<Format> formats;
  for (size_t i = 0; i < detail::kNumEmbeddedFormatFiles; ++i) {
    const auto& file = detail::kEmbeddedFormatFiles[i];
    StatusOr<Format> f = ParseFormatToml(file.text, std::string("<builtin>/") + file.name);
    // The build checks every file (tests/reference/format_test.cc); a broken one is a build bug.
    if (!f.ok()) {
      std::fprintf(stderr, "qfloat: built-in format: %s\n", f.status().message().c_str());
      std::abort();
    }
    formats.push_back(std::move(f).value());
  }
  for (Format& f : formats) {
    const Status st = ResolveElement(formats, f);
    if (!st.ok()) {
      std::fprintf(stderr, "qfloat: built-in format: %s\n", st.message().c_str());
      std::abort();
    }
  }
  return formats;
}

}  // namespace

const std::vector<Format>& BuiltinFormats() {
  static const std::vector<Format> formats = LoadBuiltins();
  return formats;
}

StatusOr<Format> ResolveFormat(std::string_view name_or_path) {
  const std::vector<Format>& formats = BuiltinFormats();
  if (const Format* f = FindBuiltin(formats, name_or_path)) return *f;
  const bool looks_like_path =
      name_or_path.find('/') != std::string_view::npos ||
      (name_or_path.size() > 5 && name_or_path.substr(name_or_path.size() - 5) == ".toml");
  if (looks_like_path) {
    StatusOr<Format> f = LoadFormatFile(std::string(name_or_path));
    if (!f.ok()) return f;
    const Status st = ResolveElement(formats, *f);
    if (!st.ok()) return st;
    return f;
  }
  return NotFound("unknown format '" + std::string(name_or_path) +
                  "' (see `qfloat formats`, or pass a path to a .toml file)");
}

}  // namespace qfloat
