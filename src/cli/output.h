// The CLI's output helpers: numbers as text, aligned tables, JSON. Data goes to stdout,
// diagnostics to stderr (ECOSYSTEM.md §2); no colour.
#ifndef QFLOAT_SRC_CLI_OUTPUT_H_
#define QFLOAT_SRC_CLI_OUTPUT_H_

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "qfloat/status.h"

namespace qfloat::cli {

using Json = nlohmann::ordered_json;  // keys in the order written

// Shortest decimal that reads back to exactly `v` (std::to_chars); "inf", "-inf", "nan", "-nan".
std::string ShortestDecimal(double v);
// A code as the CLI prints it: lower-case hex, zero-padded to ceil(bits/4) digits, no prefix.
std::string HexCode(uint64_t code, unsigned bits);
// The float64 bit pattern of `v`: 16 lower-case hex digits, no prefix.
std::string Hex64(double v);
// A value in JSON: a number when finite, else the string "inf", "-inf" or "nan" (JSON has none).
Json JsonValue(double v);

// Writes `json` (2-space indent) and a newline to stdout.
void WriteJson(const Json& json);
// Flushes stdout; IoError when a write failed (disk full, closed pipe with SIGPIPE ignored).
Status FlushStdout();

// A text table: columns separated by two spaces, padded to the widest cell; the last column is
// not padded (no trailing blanks).
class Table {
 public:
  enum class Align { kLeft, kRight };

  // An empty `header` prints no header line; `align` defaults to left for missing columns.
  explicit Table(std::vector<std::string> header = {}, std::vector<Align> align = {});
  void AddRow(std::vector<std::string> cells);
  size_t rows() const { return rows_.size(); }
  std::string Render() const;

 private:
  std::vector<std::string> header_;
  std::vector<Align> align_;
  std::vector<std::vector<std::string>> rows_;
};

}  // namespace qfloat::cli

#endif  // QFLOAT_SRC_CLI_OUTPUT_H_
