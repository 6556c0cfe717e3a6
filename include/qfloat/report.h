// Human-readable reports: number formatting shared by every command, and an aligned text table
// (also Markdown and CSV) for the default, non-JSON output of the CLI.
//
// All formatting goes through std::to_chars: the same bytes whatever the C locale, so tables are
// diffable and scripts that scrape them do not break under LC_NUMERIC=de_DE.
//
// **Example**:
//   qfloat::Table t({"format", "rounding", "q_min", "flushed"});
//   t.AddRow({"e4m3fn", "rne", qfloat::FormatSignificant(0.98125), qfloat::FormatPercent(3e-7)});
//   std::fputs(t.ToText().c_str(), stdout);
//   // format  rounding   q_min   flushed
//   // ------  --------  ------  --------
//   // e4m3fn  rne       0.9813  3.0e-05%
#ifndef QFLOAT_REPORT_H_
#define QFLOAT_REPORT_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace qfloat {

// ---- Numbers -----------------------------------------------------------------------------------
// Non-finite values print as "nan", "inf", "-inf" everywhere.

// `digits` significant digits (1..17), trailing zeros kept (they state the precision). Fixed
// notation for 1e-3 <= |v| < 1e6, scientific ("1.235e-07") outside, and "0" for zero.
std::string FormatSignificant(double v, int digits = 4);
// `decimals` digits after the point (0..30); "-0.00" prints as "0.00".
std::string FormatFixed(double v, int decimals);
// d.ddde±XX with `digits` significant digits.
std::string FormatScientific(double v, int digits = 3);
// The shortest text that reads back as exactly v (round-trip), e.g. "0.1", "1e-07".
std::string FormatShortest(double v);
// A fraction as a percentage with `decimals` decimals: 0.0123 -> "1.23%". A non-zero fraction
// that would print as 0 keeps two significant digits in scientific form (3e-7 -> "3.0e-05%"): a
// few flushed values in a billion still matter. One just below 1 never prints as "100.00%".
std::string FormatPercent(double fraction, int decimals = 2);
// Thousands separated by commas: 1234567 -> "1,234,567".
std::string FormatCount(uint64_t n);
// 3 significant digits with an SI prefix (k M G T P E): 1234 -> "1.23k", 999 -> "999".
std::string FormatSi(double v);
// Binary units: 1536 -> "1.50 KiB", 512 -> "512 B".
std::string FormatBytes(uint64_t bytes);
// Seconds as "M:SS" or "H:MM:SS" (rounded to whole seconds); under 10 s with one decimal
// ("3.2s"); negative or non-finite: "--:--".
std::string FormatDuration(double seconds);
// A code in hex, zero-padded to the format's width: FormatHex(0x7e, 8) -> "0x7e",
// FormatHex(0x3c00, 16) -> "0x3c00", FormatHex(5, 4) -> "0x5".
std::string FormatHex(uint64_t code, int bits);

// ---- Tables ------------------------------------------------------------------------------------

// kAuto right-aligns a column whose non-empty cells all look like numbers (LooksNumeric) and
// left-aligns the rest.
enum class Align { kAuto, kLeft, kRight, kCenter };

// True for "12", "-3.5", "1.2e-07", "45.6%", "1,234", "0x7e", "1.23k", "nan", "inf", "-", "n/a".
bool LooksNumeric(std::string_view cell);

// Display width of a cell: UTF-8 code points, combining marks (U+0300..U+036F) excluded.
size_t DisplayWidth(std::string_view text);

class Table {
 public:
  Table() = default;
  explicit Table(std::vector<std::string> headers);

  Table& AddColumn(std::string header, Align align = Align::kAuto);
  Table& SetAlign(size_t column, Align align);  // ignored for a column that does not exist
  // A row with fewer cells than columns is padded with empty cells; extra cells add unnamed
  // columns.
  Table& AddRow(std::vector<std::string> cells);
  // A rule between groups of rows (text: dashes; Markdown and CSV: ignored).
  Table& AddSeparator();

  size_t columns() const { return headers_.size(); }
  size_t rows() const;

  // Plain ASCII decoration: columns two spaces apart, a dashed rule under the header, no
  // trailing spaces, one '\n' per line. Newlines inside cells become spaces.
  std::string ToText() const;
  // GitHub-flavoured Markdown with alignment markers; '|' in cells escaped.
  std::string ToMarkdown() const;
  // RFC 4180: fields with ',', '"' or line breaks quoted; CRLF-free ('\n') lines.
  std::string ToCsv() const;

 private:
  struct Row {
    bool separator = false;
    std::vector<std::string> cells;
  };
  Align Resolved(size_t column) const;

  std::vector<std::string> headers_;
  std::vector<Align> align_;
  std::vector<Row> rows_;
};

}  // namespace qfloat

#endif  // QFLOAT_REPORT_H_
