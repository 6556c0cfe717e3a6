// Number formatting for reports (declared in qfloat/report.h).
#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <string>

#include "qfloat/report.h"

namespace qfloat {
namespace {

std::string NonFinite(double v) {
  if (std::isnan(v)) return "nan";
  return v > 0 ? "inf" : "-inf";
}

std::string ToChars(double v, std::chars_format fmt, int precision) {
  char buf[512];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v, fmt, precision);
  if (ec != std::errc()) return "?";
  return std::string(buf, end);
}

// "-0.00" -> "0.00": a negative zero carries no information in a report.
std::string DropNegativeZero(std::string s) {
  if (!s.empty() && s[0] == '-' && s.find_first_not_of("-0.") == std::string::npos) s.erase(0, 1);
  return s;
}

// Decimal exponent of v after rounding to `digits` significant digits (9.9996 at 4 digits is
// 1.000e+01, exponent 1).
int RoundedExponent(double v, int digits) {
  const std::string s = ToChars(v, std::chars_format::scientific, digits - 1);
  const size_t e = s.find('e');
  int exp = 0;
  if (e != std::string::npos)
    std::from_chars(s.data() + e + (s[e + 1] == '+' ? 2 : 1), s.data() + s.size(), exp);
  return exp;
}

double Parse(const std::string& s) {
  double v = 0;
  std::from_chars(s.data(), s.data() + s.size(), v);  // not std::stod: that one reads LC_NUMERIC
  return v;
}

}  // namespace

std::string FormatSignificant(double v, int digits) {
  if (!std::isfinite(v)) return NonFinite(v);
  digits = std::clamp(digits, 1, 17);
  if (v == 0) return "0";
  const int e = RoundedExponent(v, digits);
  if (e < -3 || e >= 6) return ToChars(v, std::chars_format::scientific, digits - 1);
  return DropNegativeZero(ToChars(v, std::chars_format::fixed, std::max(0, digits - 1 - e)));
}

std::string FormatFixed(double v, int decimals) {
  if (!std::isfinite(v)) return NonFinite(v);
  return DropNegativeZero(ToChars(v, std::chars_format::fixed, std::clamp(decimals, 0, 30)));
}

std::string FormatScientific(double v, int digits) {
  if (!std::isfinite(v)) return NonFinite(v);
  return ToChars(v, std::chars_format::scientific, std::clamp(digits, 1, 17) - 1);
}

std::string FormatShortest(double v) {
  if (!std::isfinite(v)) return NonFinite(v);
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  return ec == std::errc() ? std::string(buf, end) : "?";
}

std::string FormatPercent(double fraction, int decimals) {
  if (!std::isfinite(fraction)) return NonFinite(fraction);
  decimals = std::clamp(decimals, 0, 12);
  const double pct = fraction * 100;
  std::string s = DropNegativeZero(ToChars(pct, std::chars_format::fixed, decimals));
  if (pct != 0 && Parse(s) == 0) {
    return ToChars(pct, std::chars_format::scientific, 1) + "%";
  }
  // 0.9999999 must not read as "100.00%" (nothing flushed) when something was: add decimals.
  for (int d = decimals; fraction < 1 && fraction > 0 && Parse(s) >= 100 && d < 12;) {
    ++d;
    s = ToChars(pct, std::chars_format::fixed, d);
  }
  return s + "%";
}

std::string FormatCount(uint64_t n) {
  std::string digits = std::to_string(n);
  std::string out;
  const size_t len = digits.size();
  for (size_t i = 0; i < len; ++i) {
    if (i > 0 && (len - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

std::string FormatSi(double v) {
  if (!std::isfinite(v)) return NonFinite(v);
  static const char* const kPrefixes[] = {"", "k", "M", "G", "T", "P", "E"};
  const double a = std::fabs(v);
  if (a < 1000) {
    // Three significant digits without an exponent below 1000.
    if (a == 0) return "0";
    const int e = RoundedExponent(v, 3);
    if (e >= 3) return FormatSignificant(v / 1000, 3) + "k";
    if (e < -3) return FormatScientific(v, 3);
    return FormatSignificant(v, 3);
  }
  size_t p = 0;
  double x = v;
  while (p + 1 < std::size(kPrefixes) && RoundedExponent(x, 3) >= 3) {
    x /= 1000;
    ++p;
  }
  return FormatSignificant(x, 3) + kPrefixes[p];
}

std::string FormatBytes(uint64_t bytes) {
  static const char* const kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  if (bytes < 1024) return std::to_string(bytes) + " B";
  double x = static_cast<double>(bytes);
  size_t u = 0;
  while (u + 1 < std::size(kUnits) && x >= 1024 * (1 - 0.0005)) {  // 1023.9 KiB -> "1.00 MiB"
    x /= 1024;
    ++u;
  }
  return ToChars(x, std::chars_format::fixed, x < 10 ? 2 : (x < 100 ? 1 : 0)) + " " + kUnits[u];
}

std::string FormatDuration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "--:--";
  if (seconds < 9.95) return ToChars(seconds, std::chars_format::fixed, 1) + "s";
  if (seconds >= 1e9) return ">30y";
  const uint64_t s = static_cast<uint64_t>(std::llround(seconds));
  const uint64_t h = s / 3600, m = (s / 60) % 60, sec = s % 60;
  const auto two = [](uint64_t x) {
    std::string t = std::to_string(x);
    if (x < 10) t.insert(t.begin(), '0');
    return t;
  };
  if (h > 0) return std::to_string(h) + ":" + two(m) + ":" + two(sec);
  return std::to_string(m) + ":" + two(sec);
}

std::string FormatHex(uint64_t code, int bits) {
  static const char kDigits[] = "0123456789abcdef";
  const int nibbles = std::clamp((bits + 3) / 4, 1, 16);
  std::string out = "0x";
  int n = nibbles;
  // Codes wider than the format still print in full.
  while (n < 16 && (code >> (4 * n)) != 0) ++n;
  for (int i = n - 1; i >= 0; --i) out += kDigits[(code >> (4 * i)) & 0xF];
  return out;
}

}  // namespace qfloat
