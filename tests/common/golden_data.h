// Reading the golden conformance vectors (tests/data/golden; README.md and PROVENANCE.md there),
// shared by the reference's and the SIMD backend's golden tests.
#ifndef QFLOAT_TESTS_COMMON_GOLDEN_DATA_H_
#define QFLOAT_TESTS_COMMON_GOLDEN_DATA_H_

#include <zlib.h>

#include <catch2/catch.hpp>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace qfloat::golden {

inline std::filesystem::path Dir() {
  return std::filesystem::path(QFLOAT_TEST_DATA_DIR) / "golden";
}

// The data lines of a golden file (gzipped, or plain: gzread reads both), split on spaces;
// comment lines (#) and blank lines are skipped. A read error fails the calling test.
inline std::vector<std::vector<std::string>> ReadRows(const std::filesystem::path& path) {
  std::vector<std::vector<std::string>> rows;
  gzFile file = gzopen(path.c_str(), "rb");
  REQUIRE(file != nullptr);
  char line[512];
  while (gzgets(file, line, sizeof(line)) != nullptr) {
    std::string s(line);
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
    if (s.empty() || s[0] == '#') continue;
    std::vector<std::string> fields;
    size_t start = 0;
    while (start < s.size()) {
      const size_t end = s.find(' ', start);
      const size_t stop = end == std::string::npos ? s.size() : end;
      if (stop > start) fields.push_back(s.substr(start, stop - start));
      start = stop + 1;
    }
    rows.push_back(std::move(fields));
  }
  int err = 0;
  const char* msg = gzerror(file, &err);
  INFO(path.string() << ": " << msg);
  CHECK((err == Z_OK || err == Z_STREAM_END));
  gzclose(file);
  return rows;
}

// A whole field of hex digits (a malformed field fails the calling test).
inline uint32_t ParseHex(const std::string& s) {
  size_t used = 0;
  const unsigned long v = std::stoul(s, &used, 16);
  REQUIRE(used == s.size());
  return static_cast<uint32_t>(v);
}

}  // namespace qfloat::golden

#endif  // QFLOAT_TESTS_COMMON_GOLDEN_DATA_H_
