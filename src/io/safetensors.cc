// .safetensors (safetensors README "Format", src/tensor.rs): u64 LE header length N, N bytes of
// UTF-8 JSON starting with '{', then the byte buffer. Checks follow the reference implementation's
// `validate`: header <= 100 MB, no duplicate keys, every tensor's byte count equal to
// numel × dtype bits / 8 (rounded up for sub-byte dtypes), offsets inside the buffer, and the
// tensors covering the buffer without holes or overlaps.
#include <algorithm>
#include <cstdio>
#include <limits>
#include <nlohmann/json.hpp>
#include <unordered_set>

#include "io/io_internal.h"

namespace qfloat::detail {
namespace {

constexpr uint64_t kMaxHeaderBytes = 100'000'000;  // safetensors MAX_HEADER_SIZE

// The offset of the first byte that breaks UTF-8 (RFC 3629: no overlongs, no surrogates, at most
// U+10FFFF), or npos.
size_t FindInvalidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    size_t n = 0;
    uint32_t cp = 0;
    if (c < 0x80) {
      ++i;
      continue;
    } else if (c >= 0xC2 && c <= 0xDF) {
      n = 1;
      cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
      n = 2;
      cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      n = 3;
      cp = c & 0x07;
    } else {
      return i;
    }
    if (s.size() - i <= n) return i;
    for (size_t k = 1; k <= n; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return i;
      cp = (cp << 6) | (cc & 0x3F);
    }
    if ((n == 2 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
        (n == 3 && (cp < 0x10000 || cp > 0x10FFFF))) {
      return i;
    }
    i += n + 1;
  }
  return std::string_view::npos;
}

std::string ShapeList(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

std::string Range(uint64_t b, uint64_t e) {
  // Built by appending: GCC 12 warns (-Wrestrict, a false positive) on "[" + std::to_string().
  std::string s = "[";
  s += std::to_string(b);
  s += ", ";
  s += std::to_string(e);
  s += ']';
  return s;
}

// A non-negative JSON integer, else nullopt.
std::optional<uint64_t> AsUnsigned(const nlohmann::json& j) {
  if (j.is_number_unsigned()) return j.get<uint64_t>();
  if (j.is_number_integer() && j.get<int64_t>() >= 0)
    return static_cast<uint64_t>(j.get<int64_t>());
  return std::nullopt;
}

}  // namespace

StatusOr<ParsedFile> ParseSafetensorsFile(std::span<const uint8_t> data, const std::string& where) {
  const std::string size = std::to_string(data.size());
  if (data.size() < 8) {
    return DataError(where + ": truncated: " + size +
                     " bytes, shorter than the 8-byte safetensors header length");
  }
  const uint64_t n = LoadUnsigned(data.data(), 8);
  if (n > kMaxHeaderBytes) {
    return DataError(where + ": header length " + std::to_string(n) +
                     " exceeds the safetensors limit of 100 MB");
  }
  if (n > data.size() - 8) {
    return DataError(where + ": header length " + std::to_string(n) +
                     " runs past the end of the file (" + size + " bytes)");
  }
  const std::string_view header(reinterpret_cast<const char*>(data.data()) + 8, n);
  if (header.empty() || header[0] != '{') {
    return DataError(where + ": header does not start with '{' (not a safetensors file?)");
  }
  if (const size_t bad = FindInvalidUtf8(header); bad != std::string_view::npos) {
    char hex[8];
    std::snprintf(hex, sizeof(hex), "0x%02X", static_cast<unsigned char>(header[bad]));
    return DataError(where + ": header is not valid UTF-8 (byte " + hex + " at offset " +
                     std::to_string(8 + bad) + ")");
  }

  // nlohmann keeps the last of duplicate keys silently; the callback sees every key.
  std::vector<std::unordered_set<std::string>> open_objects;
  std::string duplicate;
  const auto callback = [&](int /*depth*/, nlohmann::json::parse_event_t event,
                            nlohmann::json& parsed) {
    using E = nlohmann::json::parse_event_t;
    if (event == E::object_start) {
      open_objects.emplace_back();
    } else if (event == E::object_end) {
      if (!open_objects.empty()) open_objects.pop_back();
    } else if (event == E::key && !open_objects.empty() && duplicate.empty()) {
      const std::string& key = parsed.get_ref<const std::string&>();
      if (!open_objects.back().insert(key).second) duplicate = key;
    }
    return true;
  };
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(header.begin(), header.end(), callback);
  } catch (const nlohmann::json::exception& e) {
    return DataError(where + ": header is not valid JSON: " + Printable(e.what(), 200));
  }
  if (!duplicate.empty()) {
    return DataError(where + ": header has the key \"" + Printable(duplicate) + "\" twice");
  }
  if (!j.is_object()) return DataError(where + ": header is not a JSON object");

  const uint64_t buffer_size = data.size() - 8 - n;
  ParsedFile parsed{FileKind::kSafetensors, {}, {}};
  for (const auto& [key, value] : j.items()) {
    if (key == "__metadata__") {
      if (!value.is_object()) return DataError(where + ": __metadata__ is not a JSON object");
      for (const auto& [mk, mv] : value.items()) {
        if (!mv.is_string()) {
          return DataError(where + ": __metadata__ value of \"" + Printable(mk) +
                           "\" is not a string");
        }
        parsed.metadata[mk] = mv.get<std::string>();
      }
      continue;
    }
    const std::string t = where + ": tensor \"" + Printable(key) + "\"";
    if (!value.is_object()) return DataError(t + ": entry is not a JSON object");
    const auto dtype_it = value.find("dtype");
    const auto shape_it = value.find("shape");
    const auto offsets_it = value.find("data_offsets");
    if (dtype_it == value.end() || !dtype_it->is_string()) {
      return DataError(t + ": no \"dtype\" string");
    }
    if (shape_it == value.end() || !shape_it->is_array()) {
      return DataError(t + ": no \"shape\" array");
    }
    if (offsets_it == value.end() || !offsets_it->is_array() || offsets_it->size() != 2) {
      return DataError(t + ": no \"data_offsets\" pair");
    }
    Entry e;
    e.info.name = key;
    e.info.file = where;
    StatusOr<DType> dtype = ParseSafetensorsDType(dtype_it->get<std::string>());
    if (!dtype.ok()) return DataError(t + ": " + dtype.status().message());
    e.info.dtype = *dtype;
    e.info.format = std::string(GetDTypeInfo(*dtype).format);
    for (const auto& d : *shape_it) {
      const std::optional<uint64_t> v = AsUnsigned(d);
      if (!v || *v > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
        return DataError(t + ": shape holds " + Printable(d.dump()) +
                         ", not a dimension (an integer in [0, 2^63))");
      }
      e.info.shape.push_back(static_cast<int64_t>(*v));
    }
    const std::optional<uint64_t> begin = AsUnsigned((*offsets_it)[0]);
    const std::optional<uint64_t> end = AsUnsigned((*offsets_it)[1]);
    if (!begin || !end || *begin > *end) {
      return DataError(t + ": data_offsets " + Printable(offsets_it->dump()) +
                       " are not two non-negative integers in order");
    }
    const std::optional<uint64_t> numel = NumElements(e.info.shape);
    const std::optional<uint64_t> nbytes = numel ? StorageBytes(*dtype, *numel) : std::nullopt;
    if (!nbytes) {
      return DataError(t + ": shape " + ShapeList(e.info.shape) + " × " +
                       std::string(ToString(*dtype)) + " overflows 64-bit sizes");
    }
    e.info.numel = *numel;
    e.info.nbytes = *nbytes;
    if (*end > buffer_size) {
      return DataError(t + ": data_offsets " + Range(*begin, *end) +
                       " run past the end of the data buffer (" + std::to_string(buffer_size) +
                       " bytes)");
    }
    if (*end - *begin != *nbytes) {
      return DataError(t + ": shape " + ShapeList(e.info.shape) + " × " +
                       std::string(ToString(*dtype)) + " needs " + std::to_string(*nbytes) +
                       " bytes but data_offsets " + Range(*begin, *end) + " hold " +
                       std::to_string(*end - *begin));
    }
    e.offset = 8 + n + *begin;
    parsed.entries.push_back(std::move(e));
  }
  // File order; the tensors must tile the buffer exactly.
  std::sort(parsed.entries.begin(), parsed.entries.end(), [](const Entry& a, const Entry& b) {
    return a.offset != b.offset ? a.offset < b.offset : a.info.nbytes < b.info.nbytes;
  });
  uint64_t expected = 8 + n;
  const Entry* previous = nullptr;
  for (const Entry& e : parsed.entries) {
    if (e.offset < expected) {
      return DataError(where + ": tensor \"" + Printable(e.info.name) + "\" data_offsets " +
                       Range(e.offset - 8 - n, e.offset - 8 - n + e.info.nbytes) +
                       " overlap tensor \"" + Printable(previous->info.name) + "\"");
    }
    if (e.offset > expected) {
      return DataError(where + ": bytes [" + std::to_string(expected - 8 - n) + ", " +
                       std::to_string(e.offset - 8 - n) +
                       ") of the data buffer belong to no tensor (a hole before \"" +
                       Printable(e.info.name) + "\")");
    }
    expected = e.offset + e.info.nbytes;
    if (e.info.nbytes > 0) previous = &e;
  }
  if (expected != data.size()) {
    return DataError(where + ": " + std::to_string(data.size() - expected) +
                     " bytes at the end of the data buffer belong to no tensor");
  }
  return parsed;
}

}  // namespace qfloat::detail
