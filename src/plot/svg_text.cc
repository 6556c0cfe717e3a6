#include "plot/svg_text.h"

#include <charconv>
#include <cmath>
#include <cstdint>

namespace qfloat::plot::detail {
namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

// Length of the valid UTF-8 sequence starting at s[i], or 0 (RFC 3629 §4: no overlongs, no
// surrogates, nothing above U+10FFFF).
size_t Utf8Length(std::string_view s, size_t i) {
  const auto b = [&](size_t k) { return static_cast<uint8_t>(s[i + k]); };
  const uint8_t c = b(0);
  size_t n = 0;
  uint8_t lo = 0x80, hi = 0xBF;
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  if (b(1) < lo || b(1) > hi) return 0;
  for (size_t k = 2; k < n; ++k) {
    if (b(k) < 0x80 || b(k) > 0xBF) return 0;
  }
  return n;
}

// Decodes the code point of a valid sequence of length n.
uint32_t CodePoint(std::string_view s, size_t i, size_t n) {
  const auto b = [&](size_t k) { return static_cast<uint32_t>(static_cast<uint8_t>(s[i + k])); };
  if (n == 1) return b(0);
  if (n == 2) return ((b(0) & 0x1F) << 6) | (b(1) & 0x3F);
  if (n == 3) return ((b(0) & 0x0F) << 12) | ((b(1) & 0x3F) << 6) | (b(2) & 0x3F);
  return ((b(0) & 0x07) << 18) | ((b(1) & 0x3F) << 12) | ((b(2) & 0x3F) << 6) | (b(3) & 0x3F);
}

// Advance widths in em, rounded up from DejaVu Sans.
double AdvanceEm(uint32_t cp) {
  if (cp >= '0' && cp <= '9') return 0.64;
  switch (cp) {
    case ' ':
      return 0.32;
    case '.':
    case ',':
    case ':':
    case ';':
    case '\'':
    case '|':
    case '!':
      return 0.34;
    case 'i':
    case 'l':
    case 'j':
      return 0.28;
    case 'I':
      return 0.30;
    case 'f':
    case 't':
    case '(':
    case ')':
    case '[':
    case ']':
      return 0.40;
    case 'r':
    case '-':
      return 0.42;
    case 'm':
      return 0.98;
    case 'w':
      return 0.82;
    case 'M':
      return 0.87;
    case 'W':
      return 0.99;
    case '=':
    case '+':
    case '<':
    case '>':
    case '~':
    case 0x00D7:  // ×
    case 0x2212:  // −
      return 0.84;
    case '_':
    case '/':
    case '\\':
      return 0.50;
    default:
      break;
  }
  if (cp >= 'a' && cp <= 'z') return 0.62;
  if (cp >= 'A' && cp <= 'Z') return 0.72;
  if (cp >= 0x0300 && cp <= 0x036F) return 0.0;  // combining marks (q̂) take no room
  if (cp < 0x80) return 0.62;
  return 0.75;
}

}  // namespace

std::string EscapeXml(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    const size_t n = Utf8Length(text, i);
    if (n == 0) {
      out += kReplacement;
      ++i;
      continue;
    }
    if (n == 1) {
      const char c = text[i];
      switch (c) {
        case '&':
          out += "&amp;";
          break;
        case '<':
          out += "&lt;";
          break;
        case '>':
          out += "&gt;";
          break;
        case '"':
          out += "&quot;";
          break;
        case '\'':
          out += "&apos;";
          break;
        case '\t':
        case '\n':
        case '\r':
          out += ' ';  // whitespace in a label collapses anyway; keep attributes on one line
          break;
        default:
          if (static_cast<uint8_t>(c) < 0x20 || c == 0x7F) {
            out += kReplacement;
          } else {
            out += c;
          }
      }
    } else {
      const uint32_t cp = CodePoint(text, i, n);
      // XML 1.0 §2.2 excludes U+FFFE/U+FFFF; C1 controls are legal but never wanted.
      if (cp == 0xFFFE || cp == 0xFFFF || (cp >= 0x80 && cp <= 0x9F)) {
        out += kReplacement;
      } else {
        out.append(text.substr(i, n));
      }
    }
    i += n;
  }
  return out;
}

void AppendCoord(std::string& out, double v) {
  if (!std::isfinite(v)) v = 0.0;  // callers clip first; never emit "nan" into SVG
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::fixed, 2);
  if (ec != std::errc()) {
    out += '0';
    return;
  }
  std::string_view s(buf, static_cast<size_t>(end - buf));
  if (s.find('.') != std::string_view::npos) {
    while (!s.empty() && s.back() == '0') s.remove_suffix(1);
    if (!s.empty() && s.back() == '.') s.remove_suffix(1);
  }
  if (s == "-0") s = "0";
  out.append(s);
}

std::string Coord(double v) {
  std::string s;
  AppendCoord(s, v);
  return s;
}

double TextWidth(std::string_view text, double font_size, bool bold) {
  double em = 0.0;
  for (size_t i = 0; i < text.size();) {
    const size_t n = Utf8Length(text, i);
    if (n == 0) {
      em += 0.75;
      ++i;
      continue;
    }
    em += AdvanceEm(CodePoint(text, i, n));
    i += n;
  }
  return em * font_size * (bold ? 1.1 : 1.0);
}

double RichTextWidth(const RichText& label, double font_size) {
  return TextWidth(label.text, font_size) + TextWidth(label.superscript, font_size * 0.72);
}

void AppendRichText(std::string& out, const RichText& label, double font_size) {
  out += EscapeXml(label.text);
  if (!label.superscript.empty()) {
    // dy rather than baseline-shift: every SVG 1.1 renderer (rsvg included) honours it.
    out += "<tspan dy=\"";
    AppendCoord(out, -0.42 * font_size);
    out += "\" font-size=\"";
    AppendCoord(out, 0.72 * font_size);
    out += "\">";
    out += EscapeXml(label.superscript);
    out += "</tspan>";
  }
}

std::string UnicodeMinus(std::string s) {
  if (!s.empty() && s[0] == '-') s.replace(0, 1, "\xE2\x88\x92");
  return s;
}

}  // namespace qfloat::plot::detail
