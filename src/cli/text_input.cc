#include "cli/text_input.h"

#include <cerrno>
#include <cstring>

namespace qfloat::cli {
namespace {

bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// A token as it appears in messages: quoted, control characters escaped, long ones shortened
// (a message stays one readable line whatever the input holds).
std::string Quote(std::string_view token) {
  constexpr size_t kMaxShown = 40;
  std::string out = "'";
  for (size_t i = 0; i < token.size() && i < kMaxShown; ++i) {
    const unsigned char c = static_cast<unsigned char>(token[i]);
    if (c < 0x20 || c >= 0x7f) {
      static constexpr char kHex[] = "0123456789abcdef";
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  if (token.size() > kMaxShown) out += "...";
  out += "'";
  return out;
}

}  // namespace

StatusOr<std::string> ReadAll(std::FILE* in, std::string_view name) {
  std::string text;
  char buffer[1 << 16];
  for (;;) {
    const size_t n = std::fread(buffer, 1, sizeof buffer, in);
    text.append(buffer, n);
    if (n < sizeof buffer) break;
  }
  if (std::ferror(in)) {
    return IoError("cannot read " + std::string(name) + ": " + std::strerror(errno));
  }
  return text;
}

StatusOr<std::vector<uint64_t>> ParseHexValues(std::string_view text, unsigned max_bits,
                                               std::string_view what, std::string_view source) {
  std::vector<uint64_t> values;
  size_t line = 1;
  size_t i = 0;
  while (i < text.size()) {
    if (IsSpace(text[i])) {
      if (text[i] == '\n') ++line;
      ++i;
      continue;
    }
    size_t end = i;
    while (end < text.size() && !IsSpace(text[end])) ++end;
    const std::string_view token = text.substr(i, end - i);
    i = end;
    const auto where = [&] {
      return std::string(source) + " line " + std::to_string(line) + ", item " +
             std::to_string(values.size() + 1) + ": ";
    };
    std::string_view digits = token;
    if (digits.size() >= 2 && digits[0] == '0' && (digits[1] == 'x' || digits[1] == 'X')) {
      digits.remove_prefix(2);
    }
    bool well_formed = !digits.empty();
    for (char c : digits) well_formed = well_formed && HexDigit(c) >= 0;
    if (!well_formed) {
      return DataError(where() + Quote(token) +
                       " is not a hex number (expected hex digits, optionally prefixed by 0x)");
    }
    while (digits.size() > 1 && digits[0] == '0') digits.remove_prefix(1);
    uint64_t value = 0;
    bool too_wide = digits.size() > 16;
    for (size_t k = 0; k < digits.size() && !too_wide; ++k) {
      value = (value << 4) | static_cast<uint64_t>(HexDigit(digits[k]));
    }
    if (!too_wide && max_bits < 64) too_wide = (value >> max_bits) != 0;
    if (too_wide) {
      return DataError(where() + Quote(token) + " is too wide: " + std::string(what) + " have " +
                       std::to_string(max_bits) + " bits");
    }
    values.push_back(value);
  }
  return values;
}

}  // namespace qfloat::cli
