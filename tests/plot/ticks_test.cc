// Tick generation (src/plot/ticks.h): 1-2-5 steps on linear axes, decades on log axes.
#include "plot/ticks.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <set>
#include <string>
#include <vector>

namespace {

using qfloat::plot::Scale;
using qfloat::plot::detail::LinearTicks;
using qfloat::plot::detail::LogTicks;
using qfloat::plot::detail::NiceStep;
using qfloat::plot::detail::Tick;

const std::string kMinus = "\xE2\x88\x92";

std::vector<std::string> Labels(const std::vector<Tick>& ticks) {
  std::vector<std::string> out;
  for (const Tick& t : ticks) {
    if (t.major)
      out.push_back(t.label.text + (t.label.superscript.empty() ? "" : "^" + t.label.superscript));
  }
  return out;
}

size_t Majors(const std::vector<Tick>& ticks) {
  size_t n = 0;
  for (const Tick& t : ticks) n += t.major;
  return n;
}

}  // namespace

TEST_CASE("ticks: NiceStep rounds up to 1, 2 or 5 times a power of ten", "[plot][ticks]") {
  CHECK(NiceStep(0.7) == 1);
  CHECK(NiceStep(1.0) == 1);
  CHECK(NiceStep(1.1) == 2);
  CHECK(NiceStep(2.1) == 5);
  CHECK(NiceStep(5.1) == 10);
  CHECK(NiceStep(0.013) == Approx(0.02));
  CHECK(NiceStep(3e-7) == Approx(5e-7));
  CHECK(NiceStep(4.2e5) == 5e5);
}

TEST_CASE("ticks: linear labels are nice and distinct", "[plot][ticks]") {
  CHECK(Labels(LinearTicks(0, 1, 6)) ==
        std::vector<std::string>{"0.0", "0.2", "0.4", "0.6", "0.8", "1.0"});
  CHECK(Labels(LinearTicks(0, 200, 6)) == std::vector<std::string>{"0", "50", "100", "150", "200"});
  CHECK(Labels(LinearTicks(-1.05, 1.05, 5)) ==
        std::vector<std::string>{kMinus + "1.0", kMinus + "0.5", "0.0", "0.5", "1.0"});
  CHECK(Labels(LinearTicks(-1.05, 1.05, 4)) == std::vector<std::string>{kMinus + "1", "0", "1"});
  CHECK(Labels(LinearTicks(0.93, 1.07, 5)) == std::vector<std::string>{"0.95", "1.00", "1.05"});
  // Tiny and huge magnitudes switch to m×10^e.
  const std::string times = "\xC3\x97";
  CHECK(Labels(LinearTicks(0, 3e-5, 4)) ==
        std::vector<std::string>{"0", "10^" + kMinus + "5", "2" + times + "10^" + kMinus + "5",
                                 "3" + times + "10^" + kMinus + "5"});
  CHECK(Labels(LinearTicks(0, 4e7, 3)) ==
        std::vector<std::string>{"0", "2" + times + "10^7", "4" + times + "10^7"});

  // Property sweep: ranges over many magnitudes and offsets keep 2..max labels, all distinct,
  // all inside the range, evenly spaced.
  size_t cases = 0;
  for (int e = -12; e <= 12; e += 3) {
    for (double offset : {0.0, 0.37, -5.0, 1000.0}) {
      for (double width : {0.013, 0.9, 1.0, 3.3, 7.7}) {
        for (size_t max_labels : {3, 5, 8, 12}) {
          const double scale = std::pow(10.0, e);
          const double lo = offset * scale, hi = lo + width * scale;
          if (!(hi > lo)) continue;
          const auto ticks = LinearTicks(lo, hi, max_labels);
          INFO("lo=" << lo << " hi=" << hi << " max=" << max_labels);
          CHECK(ticks.size() >= 2);
          CHECK(ticks.size() <= max_labels + 1);
          const auto labels = Labels(ticks);
          CHECK(std::set<std::string>(labels.begin(), labels.end()).size() == labels.size());
          for (const Tick& t : ticks) {
            CHECK(t.value >= lo - (hi - lo) * 1e-9);
            CHECK(t.value <= hi + (hi - lo) * 1e-9);
          }
          for (size_t i = 2; i < ticks.size(); ++i) {
            CHECK(ticks[i].value - ticks[i - 1].value ==
                  Approx(ticks[1].value - ticks[0].value).epsilon(1e-6));
          }
          ++cases;
        }
      }
    }
  }
  CHECK(cases > 500);
}

TEST_CASE("ticks: log10 axes are labelled at decades", "[plot][ticks]") {
  const auto ticks = LogTicks(Scale::kLog10, 1e-5, 0.2, 10, true);
  CHECK(Labels(ticks) == std::vector<std::string>{"10^" + kMinus + "5", "10^" + kMinus + "4",
                                                  "10^" + kMinus + "3", "10^" + kMinus + "2",
                                                  "10^" + kMinus + "1"});
  // Minor ticks at 2..9 × 10^k inside the range: 4 full decades (32) + 2e-1 (1).
  CHECK(ticks.size() - Majors(ticks) == 33);

  // Within [1e-3, 1e4] decades print as plain numbers.
  CHECK(Labels(LogTicks(Scale::kLog10, 1e-3, 1e4, 10, false)) ==
        std::vector<std::string>{"0.001", "0.01", "0.1", "1", "10", "100", "1000", "10000"});

  // Too many decades for the room: every k-th, still decades, no more than the limit.
  const auto wide = LogTicks(Scale::kLog10, 1e-30, 1e30, 6, true);
  CHECK(Majors(wide) <= 6);
  CHECK(Majors(wide) >= 2);
  for (const Tick& t : wide) {
    const double k = std::log10(t.value);
    CHECK(std::fabs(k - std::round(k)) < 1e-9);  // minors are the skipped decades only
    if (t.major) CHECK(t.label.text == "10");
  }

  // Less than a decade: 1-2-5 multiples, then 1..9, then linear ticks; always two labels.
  CHECK(Labels(LogTicks(Scale::kLog10, 1.5, 8, 10, true)) == std::vector<std::string>{"2", "5"});
  CHECK(Labels(LogTicks(Scale::kLog10, 2.5, 4.5, 10, true)) == std::vector<std::string>{"3", "4"});
  CHECK(Majors(LogTicks(Scale::kLog10, 0.91, 0.99, 6, true)) >= 2);
}

TEST_CASE("ticks: log2 axes are labelled at powers of two", "[plot][ticks]") {
  CHECK(
      Labels(LogTicks(Scale::kLog2, 1, 1024, 20, true)) ==
      std::vector<std::string>{"1", "2", "4", "8", "16", "32", "64", "128", "256", "512", "1024"});
  CHECK(Labels(LogTicks(Scale::kLog2, 0.25, 1, 20, true)) ==
        std::vector<std::string>{"0.25", "0.5", "1"});
  const auto wide = LogTicks(Scale::kLog2, std::exp2(-40), std::exp2(40), 5, true);
  CHECK(Majors(wide) <= 5);
  for (const Tick& t : wide) {
    if (t.major) CHECK(t.label.text == "2");
  }
}
