#include "cli/output.h"

#include <algorithm>
#include <bit>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>

namespace qfloat::cli {

std::string ShortestDecimal(double v) {
  if (std::isnan(v)) return std::signbit(v) ? "-nan" : "nan";
  if (std::isinf(v)) return v < 0 ? "-inf" : "inf";
  char buffer[64];
  const auto result = std::to_chars(buffer, buffer + sizeof buffer, v);
  return std::string(buffer, result.ptr);
}

std::string HexCode(uint64_t code, unsigned bits) {
  static constexpr char kHex[] = "0123456789abcdef";
  const unsigned digits = std::max(1u, (bits + 3) / 4);
  std::string out(digits, '0');
  for (unsigned i = 0; i < digits && i < 16; ++i) {
    out[digits - 1 - i] = kHex[(code >> (4 * i)) & 15];
  }
  return out;
}

std::string Hex64(double v) { return HexCode(std::bit_cast<uint64_t>(v), 64); }

Json JsonValue(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v < 0 ? "-inf" : "inf";
  return v;
}

void WriteJson(const Json& json) {
  const std::string text = json.dump(2) + "\n";
  std::fwrite(text.data(), 1, text.size(), stdout);
}

Status FlushStdout() {
  if (std::fflush(stdout) != 0 || std::ferror(stdout)) {
    return IoError(std::string("cannot write to stdout: ") + std::strerror(errno));
  }
  return Status::Ok();
}

namespace {

// Display width of UTF-8 text: code points, not bytes.
size_t Width(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

}  // namespace

Table::Table(std::vector<std::string> header, std::vector<Align> align)
    : header_(std::move(header)), align_(std::move(align)) {}

void Table::AddRow(std::vector<std::string> cells) { rows_.push_back(std::move(cells)); }

std::string Table::Render() const {
  std::vector<size_t> widths(header_.size(), 0);
  const auto measure = [&](const std::vector<std::string>& row) {
    if (widths.size() < row.size()) widths.resize(row.size(), 0);
    for (size_t c = 0; c < row.size(); ++c) widths[c] = std::max(widths[c], Width(row[c]));
  };
  measure(header_);
  for (const auto& row : rows_) measure(row);

  std::string out;
  const auto emit = [&](const std::vector<std::string>& row) {
    std::string line;
    for (size_t c = 0; c < row.size(); ++c) {
      const size_t pad = widths[c] - Width(row[c]);
      const bool right = c < align_.size() && align_[c] == Align::kRight;
      const bool last = c + 1 == row.size();
      if (c > 0) line += "  ";
      if (right) line.append(pad, ' ');
      line += row[c];
      if (!right && !last) line.append(pad, ' ');
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line;
    out += '\n';
  };
  if (!header_.empty()) emit(header_);
  for (const auto& row : rows_) emit(row);
  return out;
}

}  // namespace qfloat::cli
