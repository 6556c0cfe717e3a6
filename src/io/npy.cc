// .npy headers (NEP 1; numpy lib/format.py): magic "\x93NUMPY", major, minor, a u16 (v1.0) or
// u32 (v2.0, v3.0) header length, then a Python dict literal with 'descr', 'fortran_order' and
// 'shape', space-padded and ended by '\n'. The parser is tolerant of what writers vary (key order,
// quotes, spaces, trailing commas, 16- or 64-byte alignment, Python 2 "3L" longs) and strict
// about everything that decides where the data is.
#include <algorithm>
#include <cctype>
#include <cstring>
#include <limits>
#include <set>

#include "io/io_internal.h"

namespace qfloat::detail {
namespace {

constexpr char kMagic[] = "\x93NUMPY";
constexpr size_t kMagicBytes = 6;

std::string ShapeString(const std::vector<int64_t>& shape) {
  std::string s = "(";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(shape[i]);
  }
  if (shape.size() == 1) s += ",";
  return s + ")";
}

// A recursive-descent reader for the subset of Python literals numpy writes in headers.
class DictLiteralParser {
 public:
  explicit DictLiteralParser(std::string_view text) : text_(text) {}

  struct Value {
    enum Kind { kString, kBool, kTuple, kStructured } kind = kString;
    std::string string;
    bool boolean = false;
    std::vector<int64_t> ints;
  };

  // Parses the whole dict; returns "" on success, else what is wrong.
  std::string Parse(std::map<std::string, Value>& out) {
    SkipSpace();
    if (!Consume('{')) return Expected("'{' at the start of the header");
    for (;;) {
      SkipSpace();
      if (Consume('}')) break;
      std::string key;
      if (!ParseString(key)) return Expected("a quoted key");
      SkipSpace();
      if (!Consume(':')) return Expected("':' after key '" + Printable(key) + "'");
      SkipSpace();
      Value value;
      if (std::string err = ParseValue(key, value); !err.empty()) return err;
      if (!out.emplace(key, std::move(value)).second) {
        return "duplicate key '" + Printable(key) + "'";
      }
      SkipSpace();
      if (Consume(',')) continue;
      if (Consume('}')) break;
      return Expected("',' or '}' after the value of '" + Printable(key) + "'");
    }
    // numpy pads with spaces and ends with '\n'; anything else after the dict is not a header.
    SkipSpace();
    if (pos_ != text_.size()) {
      return "unexpected text after the header dict at offset " + std::to_string(pos_) + ": '" +
             Rest() + "'";
    }
    return "";
  }

 private:
  std::string Expected(const std::string& what) const {
    if (pos_ >= text_.size()) return "expected " + what + " but the header ended";
    return "expected " + what + " at offset " + std::to_string(pos_) + ", found '" + Rest() + "'";
  }
  // The text from the current position, without the space padding, for messages.
  std::string Rest() const {
    std::string_view rest = text_.substr(pos_);
    while (!rest.empty() && std::isspace(static_cast<unsigned char>(rest.back()))) {
      rest.remove_suffix(1);
    }
    return Printable(rest, 24);
  }
  void SkipSpace() {
    while (pos_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[pos_]))) ++pos_;
  }
  bool Consume(char c) {
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  bool ConsumeWord(std::string_view w) {
    if (text_.substr(pos_, w.size()) == w) {
      pos_ += w.size();
      return true;
    }
    return false;
  }
  bool ParseString(std::string& out) {
    if (pos_ >= text_.size() || (text_[pos_] != '\'' && text_[pos_] != '"')) return false;
    const char quote = text_[pos_++];
    while (pos_ < text_.size() && text_[pos_] != quote) {
      if (text_[pos_] == '\\') return false;  // numpy never escapes in descr or keys
      out.push_back(text_[pos_++]);
    }
    return Consume(quote);
  }
  // A non-negative integer (Python 2 wrote longs as "3L").
  std::string ParseInt(int64_t& out) {
    if (pos_ < text_.size() && text_[pos_] == '-') return "negative dimension in shape";
    if (pos_ >= text_.size() || !std::isdigit(static_cast<unsigned char>(text_[pos_]))) {
      return Expected("a dimension");
    }
    uint64_t v = 0;
    while (pos_ < text_.size() && std::isdigit(static_cast<unsigned char>(text_[pos_]))) {
      const uint64_t digit = static_cast<uint64_t>(text_[pos_++] - '0');
      if (v > (static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) - digit) / 10) {
        return "dimension too large (over 2^63 - 1) in shape";
      }
      v = v * 10 + digit;
    }
    Consume('L');
    out = static_cast<int64_t>(v);
    return "";
  }
  std::string ParseValue(const std::string& key, Value& value) {
    if (pos_ < text_.size() && (text_[pos_] == '\'' || text_[pos_] == '"')) {
      value.kind = Value::kString;
      if (!ParseString(value.string)) return Expected("a closed string for '" + key + "'");
      return "";
    }
    if (ConsumeWord("True")) {
      value.kind = Value::kBool;
      value.boolean = true;
      return "";
    }
    if (ConsumeWord("False")) {
      value.kind = Value::kBool;
      value.boolean = false;
      return "";
    }
    if (pos_ < text_.size() && (text_[pos_] == '(' || text_[pos_] == '[')) {
      const char close = text_[pos_] == '(' ? ')' : ']';
      ++pos_;
      SkipSpace();
      // A list of tuples is a structured dtype ('descr': [('a', '<f4'), ...]).
      if (key == "descr") {
        value.kind = Value::kStructured;
        int depth = 1;
        while (pos_ < text_.size() && depth > 0) {
          const char c = text_[pos_++];
          if (c == '(' || c == '[') ++depth;
          if (c == ')' || c == ']') --depth;
        }
        return depth == 0 ? "" : Expected("the end of the structured descr");
      }
      value.kind = Value::kTuple;
      for (;;) {
        SkipSpace();
        if (Consume(close)) return "";
        int64_t d = 0;
        if (std::string err = ParseInt(d); !err.empty()) return err;
        value.ints.push_back(d);
        SkipSpace();
        if (Consume(',')) continue;
        if (Consume(close)) return "";
        return Expected(std::string("',' or '") + close + "' in shape");
      }
    }
    return Expected("a value for '" + Printable(key) + "'");
  }

  std::string_view text_;
  size_t pos_ = 0;
};

// descr -> dtype (numpy dtype.str spellings; ml_dtypes' 'V' kinds, ECOSYSTEM.md section 1).
StatusOr<DType> ParseDescr(const std::string& descr) {
  std::string_view d = descr;
  char order = '|';
  if (!d.empty() && (d[0] == '<' || d[0] == '>' || d[0] == '|' || d[0] == '=')) {
    order = d[0];
    d.remove_prefix(1);
  }
  if (d == "?") d = "b1";
  const std::string bad = "unsupported dtype '" + Printable(descr) + "'";
  if (d.size() < 2) return DataError(bad);
  const char kind = d[0];
  int size = 0;
  for (char c : d.substr(1)) {
    if (!std::isdigit(static_cast<unsigned char>(c)) || size > 1000) return DataError(bad);
    size = size * 10 + (c - '0');
  }
  if (order == '>' && size > 1) {
    return DataError("big-endian dtype '" + Printable(descr) +
                     "' is not supported: save it little-endian (arr.astype(arr.dtype."
                     "newbyteorder('<')))");
  }
  switch (kind) {
    case 'b':
      if (size == 1) return DType::kBool;
      break;
    case 'u':
    case 'i': {
      const bool s = kind == 'i';
      if (size == 1) return s ? DType::kI8 : DType::kU8;
      if (size == 2) return s ? DType::kI16 : DType::kU16;
      if (size == 4) return s ? DType::kI32 : DType::kU32;
      if (size == 8) return s ? DType::kI64 : DType::kU64;
      break;
    }
    case 'f':
      if (size == 1) return DType::kF8E5M2;  // ml_dtypes float8_e5m2 registers kind 'f'
      if (size == 2) return DType::kF16;
      if (size == 4) return DType::kF32;
      if (size == 8) return DType::kF64;
      break;
    case 'c':
      if (size == 8) return DType::kC64;
      if (size == 16) return DType::kC128;
      break;
    case 'V':
      if (size == 1) return DType::kOpaque8;
      if (size == 2) return DType::kBF16;  // refined by ResolveCodeFormat
      return DataError(bad + ": only 'V1' (8-bit codes) and 'V2' (bf16) are known");
    default:
      break;
  }
  return DataError(bad);
}

}  // namespace

Status ResolveCodeFormat(TensorInfo& info, const ReadOptions& options, const std::string& where) {
  const bool opaque8 = info.dtype == DType::kOpaque8;
  const bool v2 =
      info.npy_descr.size() >= 2 && info.npy_descr.compare(info.npy_descr.size() - 2, 2, "V2") == 0;
  if (!opaque8 && !v2) {
    info.format = std::string(GetDTypeInfo(info.dtype).format);
    return Status::Ok();
  }
  std::optional<Format> as;
  if (!options.as_format.empty()) {
    StatusOr<Format> f = ResolveFormat(options.as_format);
    if (!f.ok()) return Status(f.status().code(), where + ": --as: " + f.status().message());
    as = std::move(f).value();
  }
  if (opaque8) {
    if (!as) {
      return DataError(where + ": dtype '" + Printable(info.npy_descr) +
                       "' holds 8-bit codes of a format the header does not name (ml_dtypes "
                       "writes fp8/fp6/fp4 this way): name it with --as FMT");
    }
    if (as->spec.bits > 8) {
      return InvalidArgument(where + ": --as " + as->name + " has " +
                             std::to_string(as->spec.bits) + "-bit codes; dtype '" +
                             Printable(info.npy_descr) + "' holds one byte per element");
    }
    info.format = as->name;
    return Status::Ok();
  }
  // '<V2': bf16 by JAX's convention unless --as names another 16-bit format.
  if (as && as->spec.bits > 8 && as->spec.bits <= 16) {
    info.dtype = CodeStorageDType(as->spec);
    info.format = as->name;
  } else {
    info.dtype = DType::kBF16;
    info.format = "bf16";
  }
  return Status::Ok();
}

StatusOr<NpyHeader> ParseNpyHeader(std::span<const uint8_t> prefix, const std::string& where,
                                   const ReadOptions& options) {
  const std::string total = std::to_string(prefix.size());
  const size_t magic_seen = std::min(prefix.size(), kMagicBytes);
  if (magic_seen > 0 && std::memcmp(prefix.data(), kMagic, magic_seen) != 0) {
    return DataError(where + ": not a .npy file (no \\x93NUMPY magic)");
  }
  if (prefix.size() < 10) {
    return DataError(where + ": truncated: " + total + " bytes, shorter than a .npy preamble");
  }
  const int major = prefix[6];
  const int minor = prefix[7];
  if (major < 1 || major > 3 || minor != 0) {
    return DataError(where + ": unsupported .npy version " + std::to_string(major) + "." +
                     std::to_string(minor) + " (known: 1.0, 2.0, 3.0)");
  }
  const size_t len_bytes = major == 1 ? 2 : 4;
  if (prefix.size() < 8 + len_bytes) {
    return DataError(where + ": truncated: " + total + " bytes, shorter than a .npy preamble");
  }
  const uint64_t header_len = LoadUnsigned(prefix.data() + 8, len_bytes);
  const uint64_t header_start = 8 + len_bytes;
  if (header_len > prefix.size() - header_start) {
    return DataError(where + ": header length " + std::to_string(header_len) +
                     " runs past the end of the file (" + total + " bytes)");
  }
  const std::string_view text(reinterpret_cast<const char*>(prefix.data()) + header_start,
                              header_len);
  std::map<std::string, DictLiteralParser::Value> dict;
  if (std::string err = DictLiteralParser(text).Parse(dict); !err.empty()) {
    return DataError(where + ": malformed header: " + err);
  }
  for (const char* key : {"descr", "fortran_order", "shape"}) {
    if (!dict.count(key)) return DataError(where + ": header has no '" + key + "' key");
  }
  const auto& descr = dict["descr"];
  const auto& fortran = dict["fortran_order"];
  const auto& shape = dict["shape"];
  if (descr.kind == DictLiteralParser::Value::kStructured) {
    return DataError(where + ": structured dtypes (a list 'descr') are not supported");
  }
  if (descr.kind != DictLiteralParser::Value::kString) {
    return DataError(where + ": 'descr' is not a string");
  }
  if (fortran.kind != DictLiteralParser::Value::kBool) {
    return DataError(where + ": 'fortran_order' is not True or False");
  }
  if (shape.kind != DictLiteralParser::Value::kTuple) {
    return DataError(where + ": 'shape' is not a tuple of integers");
  }
  NpyHeader h;
  h.major_version = major;
  h.data_offset = header_start + header_len;
  h.info.npy_descr = descr.string;
  StatusOr<DType> dtype = ParseDescr(descr.string);
  if (!dtype.ok()) return DataError(where + ": " + dtype.status().message());
  h.info.dtype = *dtype;
  h.info.fortran_order = fortran.boolean;
  h.info.shape = shape.ints;
  const std::optional<uint64_t> numel = NumElements(h.info.shape);
  const std::optional<uint64_t> nbytes = numel ? StorageBytes(h.info.dtype, *numel) : std::nullopt;
  if (!nbytes) {
    return DataError(where + ": shape " + ShapeString(h.info.shape) + " × '" +
                     Printable(descr.string) + "' overflows 64-bit sizes");
  }
  h.info.numel = *numel;
  h.info.nbytes = *nbytes;
  Status st = ResolveCodeFormat(h.info, options, where);
  if (!st.ok()) return st;
  return h;
}

StatusOr<ParsedFile> ParseNpyFile(std::span<const uint8_t> data, const std::string& where,
                                  const std::string& tensor_name, const ReadOptions& options) {
  StatusOr<NpyHeader> h = ParseNpyHeader(data, where, options);
  if (!h.ok()) return h.status();
  const uint64_t have = data.size() - h->data_offset;
  if (have != h->info.nbytes) {
    return DataError(where + ": shape " + ShapeString(h->info.shape) + " × '" +
                     Printable(h->info.npy_descr) + "' needs " + std::to_string(h->info.nbytes) +
                     " bytes of data but the file has " + std::to_string(have) +
                     (have < h->info.nbytes ? " (truncated)" : " (trailing bytes)"));
  }
  ParsedFile parsed{FileKind::kNpy, {}, {}};
  Entry e;
  e.info = std::move(h->info);
  e.info.name = tensor_name;
  e.info.file = where;
  e.offset = h->data_offset;
  parsed.entries.push_back(std::move(e));
  return parsed;
}

std::string NpyShapeString(const std::vector<int64_t>& shape) { return ShapeString(shape); }

std::string_view NpyDescr(DType dtype) {
  switch (dtype) {
    case DType::kBool:
      return "|b1";
    case DType::kU8:
      return "|u1";
    case DType::kI8:
      return "|i1";
    case DType::kU16:
      return "<u2";
    case DType::kI16:
      return "<i2";
    case DType::kU32:
      return "<u4";
    case DType::kI32:
      return "<i4";
    case DType::kU64:
      return "<u8";
    case DType::kI64:
      return "<i8";
    case DType::kF16:
      return "<f2";
    case DType::kBF16:
      return "<V2";  // JAX's jnp.load and ml_dtypes read it as bfloat16
    case DType::kF32:
      return "<f4";
    case DType::kF64:
      return "<f8";
    case DType::kC64:
      return "<c8";
    case DType::kC128:
      return "<c16";
    default:
      // 8-bit and narrower codes, one per byte: np.load gives a void array that
      // .view(ml_dtypes.float8_e4m3fn) reinterprets ('<f1' would make np.load fail).
      return "|V1";
  }
}

StatusOr<std::string> FormatNpyHeader(const TensorInfo& info) {
  // numpy's _write_array_header: sorted keys, repr() values, then room for the growth axis to
  // reach 21 digits, then spaces and '\n' so the data starts on a 64-byte boundary.
  std::string dict = "{'descr': '" + std::string(NpyDescr(info.dtype)) +
                     "', 'fortran_order': " + (info.fortran_order ? "True" : "False") +
                     ", 'shape': " + ShapeString(info.shape) + ", }";
  if (!info.shape.empty()) {
    const int64_t growth = info.shape[info.fortran_order ? info.shape.size() - 1 : 0];
    const size_t digits = std::to_string(growth).size();
    if (digits < 21) dict.append(21 - digits, ' ');
  }
  for (int major : {1, 2}) {
    const size_t preamble = major == 1 ? 10 : 12;
    const size_t hlen = dict.size() + 1;
    const size_t pad = 64 - (preamble + hlen) % 64;
    const uint64_t total = hlen + pad;
    if (major == 1 && total > 0xFFFF) continue;
    std::string out(kMagic, kMagicBytes);
    out.push_back(static_cast<char>(major));
    out.push_back(0);
    for (size_t i = 0; i < preamble - 8; ++i) out.push_back(static_cast<char>(total >> (8 * i)));
    out += dict;
    out.append(pad, ' ');
    out.push_back('\n');
    return out;
  }
  return InvalidArgument("npy header of " + std::to_string(dict.size()) + " bytes is too long");
}

}  // namespace qfloat::detail
