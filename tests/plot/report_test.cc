// Number formatting and tables (qfloat/report.h).
#include "qfloat/report.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <string>

TEST_CASE("report: significant digits, fixed and scientific", "[plot][report]") {
  using qfloat::FormatSignificant;
  CHECK(FormatSignificant(0.987654) == "0.9877");
  CHECK(FormatSignificant(0.99) == "0.9900");  // trailing zeros state the precision
  CHECK(FormatSignificant(1234.5678) == "1235");
  CHECK(FormatSignificant(9.99996) == "10.00");  // rounding moves to the next decade
  CHECK(FormatSignificant(0.00123456) == "0.001235");
  CHECK(FormatSignificant(0.000123456) == "1.235e-04");  // tiny: scientific
  CHECK(FormatSignificant(2.5e6) == "2.500e+06");
  CHECK(FormatSignificant(999999.7) == "1.000e+06");
  CHECK(FormatSignificant(-0.5, 2) == "-0.50");
  CHECK(FormatSignificant(0) == "0");
  CHECK(FormatSignificant(-0.0) == "0");
  CHECK(FormatSignificant(std::nan("")) == "nan");
  CHECK(FormatSignificant(-std::numeric_limits<double>::infinity()) == "-inf");
  CHECK(qfloat::FormatFixed(-0.001, 2) == "0.00");
  CHECK(qfloat::FormatFixed(2.345, 1) == "2.3");
  CHECK(qfloat::FormatScientific(1.5e-7) == "1.50e-07");
  CHECK(qfloat::FormatShortest(0.1) == "0.1");
  CHECK(qfloat::FormatShortest(1e-7) == "1e-07");
}

TEST_CASE("report: percentages never hide a non-zero fraction", "[plot][report]") {
  using qfloat::FormatPercent;
  CHECK(FormatPercent(0.0123) == "1.23%");
  CHECK(FormatPercent(0) == "0.00%");
  CHECK(FormatPercent(1) == "100.00%");
  CHECK(FormatPercent(3e-7) == "3.0e-05%");
  CHECK(FormatPercent(0.9999999) == "99.99999%");
  CHECK(FormatPercent(0.5, 0) == "50%");
}

TEST_CASE("report: counts, SI, bytes, durations, hex", "[plot][report]") {
  CHECK(qfloat::FormatCount(0) == "0");
  CHECK(qfloat::FormatCount(999) == "999");
  CHECK(qfloat::FormatCount(1000) == "1,000");
  CHECK(qfloat::FormatCount(1234567) == "1,234,567");
  CHECK(qfloat::FormatSi(999) == "999");
  CHECK(qfloat::FormatSi(999.7) == "1.00k");
  CHECK(qfloat::FormatSi(1234) == "1.23k");
  CHECK(qfloat::FormatSi(1.5e9) == "1.50G");
  CHECK(qfloat::FormatSi(0.5) == "0.500");
  CHECK(qfloat::FormatBytes(512) == "512 B");
  CHECK(qfloat::FormatBytes(1536) == "1.50 KiB");
  CHECK(qfloat::FormatBytes(1u << 20) == "1.00 MiB");
  CHECK(qfloat::FormatBytes(150ull << 30) == "150 GiB");
  CHECK(qfloat::FormatDuration(3.24) == "3.2s");
  CHECK(qfloat::FormatDuration(75) == "1:15");
  CHECK(qfloat::FormatDuration(3725) == "1:02:05");
  CHECK(qfloat::FormatDuration(-1) == "--:--");
  CHECK(qfloat::FormatDuration(std::nan("")) == "--:--");
  CHECK(qfloat::FormatHex(0x7e, 8) == "0x7e");
  CHECK(qfloat::FormatHex(5, 8) == "0x05");
  CHECK(qfloat::FormatHex(0x3c00, 16) == "0x3c00");
  CHECK(qfloat::FormatHex(5, 4) == "0x5");
  CHECK(qfloat::FormatHex(0x1ff, 8) == "0x1ff");
}

TEST_CASE("report: cells that look numeric", "[plot][report]") {
  for (const char* yes : {"12", "-3.5", "1.2e-07", "45.6%", "1,234", "0x7e", "1.23k", "nan", "inf",
                          "-", "n/a", "3.2s", "1.50 KiB", "12.5/s", "<0.01%"}) {
    INFO(yes);
    CHECK(qfloat::LooksNumeric(yes));
  }
  for (const char* no : {"", "e4m3fn", "rne", "1.2.3", "e5", "12 apples", "0xg", "--progress"}) {
    INFO(no);
    CHECK_FALSE(qfloat::LooksNumeric(no));
  }
  CHECK(qfloat::DisplayWidth("q\xCC\x82_min") == 5);  // q̂_min: the hat takes no column
  CHECK(qfloat::DisplayWidth("\xCF\x81") == 1);       // ρ
}

TEST_CASE("report: text tables align text left and numbers right", "[plot][report]") {
  qfloat::Table t({"format", "rounding", "q_min", "flushed"});
  t.AddRow({"e4m3fn", "rne", "0.9812", "0.01%"});
  t.AddRow({"e5m2", "sr", "0.95", "12.50%"});
  t.AddSeparator();
  t.AddRow({"bf16", "rne", "1.000"});  // short row: padded
  CHECK(t.rows() == 3);
  CHECK(t.ToText() ==
        "format  rounding   q_min  flushed\n"
        "------  --------  ------  -------\n"
        "e4m3fn  rne       0.9812    0.01%\n"
        "e5m2    sr          0.95   12.50%\n"
        "------  --------  ------  -------\n"
        "bf16    rne        1.000\n");
  CHECK(t.ToMarkdown() ==
        "| format | rounding | q_min | flushed |\n"
        "| :--- | :--- | ---: | ---: |\n"
        "| e4m3fn | rne | 0.9812 | 0.01% |\n"
        "| e5m2 | sr | 0.95 | 12.50% |\n"
        "| bf16 | rne | 1.000 |  |\n");
}

TEST_CASE("report: explicit alignment, wide cells, escaping", "[plot][report]") {
  qfloat::Table t;
  t.AddColumn("name", qfloat::Align::kRight).AddColumn("note", qfloat::Align::kCenter);
  t.AddRow({"a", "x"});
  t.AddRow({"bbb", "a|b, \"c\"\nd", "extra"});  // an extra cell adds a column
  CHECK(t.columns() == 3);
  CHECK(t.ToText() ==
        "name     note\n"
        "----  ----------  -----\n"
        "   a      x\n"
        " bbb  a|b, \"c\" d  extra\n");
  CHECK(t.ToMarkdown().find("| bbb | a\\|b, \"c\" d | extra |") != std::string::npos);
  CHECK(t.ToCsv() ==
        "name,note,\n"
        "a,x,\n"
        "bbb,\"a|b, \"\"c\"\"\nd\",extra\n");

  // Unicode cells align by columns, not bytes.
  qfloat::Table u({"q\xCC\x82", "v"});
  u.AddRow({"\xCF\x81\xCC\x82", "1"});
  u.AddRow({"abc", "22"});
  CHECK(u.ToText() ==
        "q\xCC\x82     v\n"
        "---  --\n"
        "\xCF\x81\xCC\x82     1\n"
        "abc  22\n");
  CHECK(qfloat::Table().ToText().empty());
}
