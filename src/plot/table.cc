// Table printing (declared in qfloat/report.h).
#include <algorithm>
#include <cctype>
#include <cstdint>
#include <string>

#include "qfloat/report.h"

namespace qfloat {
namespace {

std::string OneLine(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  }
  return out;
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

bool LooksNumeric(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  if (s.empty()) return false;
  if (s == "-" || s == "n/a" || s == "nan" || s == "NaN" || s == "inf" || s == "-inf" ||
      s == "+inf") {
    return true;
  }
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
    return std::all_of(s.begin() + 2, s.end(),
                       [](char c) { return std::isxdigit(static_cast<unsigned char>(c)); });
  }
  size_t i = 0;
  if (s[i] == '-' || s[i] == '+' || s[i] == '<' || s[i] == '>' || s[i] == '~') ++i;
  bool digits = false, dot = false;
  for (; i < s.size(); ++i) {
    const char c = s[i];
    if (IsDigit(c)) {
      digits = true;
    } else if (c == '.' && !dot) {
      dot = true;
    } else if (c == ',' && digits && !dot) {
      // thousands separator
    } else {
      break;
    }
  }
  if (!digits) return false;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    size_t j = i + 1;
    if (j < s.size() && (s[j] == '-' || s[j] == '+')) ++j;
    if (j >= s.size() || !IsDigit(s[j])) return false;
    while (j < s.size() && IsDigit(s[j])) ++j;
    i = j;
  }
  std::string_view rest = s.substr(i);
  // Units that keep a column numeric.
  static const std::string_view kSuffixes[] = {
      "",   "%",  "x",   "k",   "M",   "G",    "T",    "s",    "ms",   "us", "ns",
      " B", "/s", "k/s", "M/s", "G/s", " KiB", " MiB", " GiB", " TiB", "dB", " dB"};
  return std::find(std::begin(kSuffixes), std::end(kSuffixes), rest) != std::end(kSuffixes);
}

size_t DisplayWidth(std::string_view text) {
  size_t w = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if ((c & 0xC0) == 0x80) continue;  // continuation byte
    if (c == 0xCC ||
        (c == 0xCD && i + 1 < text.size() && static_cast<unsigned char>(text[i + 1]) < 0xB0)) {
      continue;  // U+0300..U+036F combining diacritics (0xCC 0x80 .. 0xCD 0xAF)
    }
    ++w;
  }
  return w;
}

Table::Table(std::vector<std::string> headers) : headers_(std::move(headers)) {
  align_.assign(headers_.size(), Align::kAuto);
}

Table& Table::AddColumn(std::string header, Align align) {
  headers_.push_back(std::move(header));
  align_.push_back(align);
  for (Row& r : rows_) {
    if (!r.separator) r.cells.resize(headers_.size());
  }
  return *this;
}

Table& Table::SetAlign(size_t column, Align align) {
  if (column < align_.size()) align_[column] = align;
  return *this;
}

Table& Table::AddRow(std::vector<std::string> cells) {
  if (headers_.size() < cells.size()) {
    while (headers_.size() < cells.size()) AddColumn("");
    for (Row& r : rows_) {
      if (!r.separator) r.cells.resize(headers_.size());
    }
  }
  cells.resize(headers_.size());
  rows_.push_back({false, std::move(cells)});
  return *this;
}

Table& Table::AddSeparator() {
  rows_.push_back({true, {}});
  return *this;
}

size_t Table::rows() const {
  return static_cast<size_t>(
      std::count_if(rows_.begin(), rows_.end(), [](const Row& r) { return !r.separator; }));
}

Align Table::Resolved(size_t column) const {
  if (align_[column] != Align::kAuto) return align_[column];
  bool any = false;
  for (const Row& r : rows_) {
    if (r.separator || column >= r.cells.size() || r.cells[column].empty()) continue;
    if (!LooksNumeric(r.cells[column])) return Align::kLeft;
    any = true;
  }
  return any ? Align::kRight : Align::kLeft;
}

std::string Table::ToText() const {
  const size_t n = headers_.size();
  std::vector<size_t> width(n, 0);
  std::vector<Align> align(n);
  for (size_t c = 0; c < n; ++c) {
    width[c] = DisplayWidth(OneLine(headers_[c]));
    align[c] = Resolved(c);
    for (const Row& r : rows_) {
      if (!r.separator) width[c] = std::max(width[c], DisplayWidth(OneLine(r.cells[c])));
    }
  }
  std::string out;
  const auto line = [&](const std::vector<std::string>& cells) {
    std::string l;
    for (size_t c = 0; c < n; ++c) {
      const std::string cell = OneLine(cells[c]);
      const size_t pad = width[c] - DisplayWidth(cell);
      if (c) l += "  ";
      switch (align[c]) {
        case Align::kRight:
          l.append(pad, ' ');
          l += cell;
          break;
        case Align::kCenter:
          l.append(pad / 2, ' ');
          l += cell;
          l.append(pad - pad / 2, ' ');
          break;
        default:
          l += cell;
          l.append(pad, ' ');
      }
    }
    while (!l.empty() && l.back() == ' ') l.pop_back();
    out += l;
    out += '\n';
  };
  const auto rule = [&] {
    std::string l;
    for (size_t c = 0; c < n; ++c) {
      if (c) l += "  ";
      l.append(width[c], '-');
    }
    out += l;
    out += '\n';
  };
  if (n == 0) return out;
  line(headers_);
  rule();
  for (const Row& r : rows_) {
    if (r.separator) {
      rule();
    } else {
      line(r.cells);
    }
  }
  return out;
}

std::string Table::ToMarkdown() const {
  const size_t n = headers_.size();
  if (n == 0) return {};
  const auto cell = [](std::string_view s) {
    std::string out;
    for (char c : OneLine(s)) {
      if (c == '|') out += '\\';
      out += c;
    }
    return out;
  };
  std::string out = "|";
  for (size_t c = 0; c < n; ++c) {
    out += ' ';
    out += cell(headers_[c]);
    out += " |";
  }
  out += "\n|";
  for (size_t c = 0; c < n; ++c) {
    switch (Resolved(c)) {
      case Align::kRight:
        out += " ---: |";
        break;
      case Align::kCenter:
        out += " :---: |";
        break;
      default:
        out += " :--- |";
    }
  }
  out += '\n';
  for (const Row& r : rows_) {
    if (r.separator) continue;
    out += '|';
    for (size_t c = 0; c < n; ++c) {
      out += ' ';
      out += cell(r.cells[c]);
      out += " |";
    }
    out += '\n';
  }
  return out;
}

std::string Table::ToCsv() const {
  const auto field = [](const std::string& s) {
    if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
    std::string out = "\"";
    for (char c : s) {
      if (c == '"') out += '"';
      out += c;
    }
    return out + "\"";
  };
  std::string out;
  const auto line = [&](const std::vector<std::string>& cells) {
    for (size_t c = 0; c < cells.size(); ++c) {
      if (c) out += ',';
      out += field(cells[c]);
    }
    out += '\n';
  };
  if (headers_.empty()) return out;
  line(headers_);
  for (const Row& r : rows_) {
    if (!r.separator) line(r.cells);
  }
  return out;
}

}  // namespace qfloat
