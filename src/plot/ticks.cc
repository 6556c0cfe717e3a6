#include "plot/ticks.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <string>

namespace qfloat::plot::detail {
namespace {

constexpr double kEps = 1e-9;  // relative slack when testing whether a tick lies in the range
constexpr int kMantissas[3] = {1, 2, 5};

// The step with ladder index idx: kMantissas[idx mod 3] * 10^floor(idx / 3).
struct Step {
  int mantissa;
  int exponent;
};
Step StepAt(int64_t idx) {
  int64_t e = idx >= 0 ? idx / 3 : -((-idx + 2) / 3);
  return {kMantissas[idx - 3 * e], static_cast<int>(e)};
}
double StepValue(Step s) { return s.mantissa * std::pow(10.0, s.exponent); }
int64_t StepIndexAtLeast(double raw) {
  const int e = static_cast<int>(std::floor(std::log10(raw)));
  int64_t idx = 3 * static_cast<int64_t>(e) - 3;
  while (StepValue(StepAt(idx)) < raw * (1 - kEps)) ++idx;
  return idx;
}

// k * step, computed so that decimal steps land on the nearest double (0.1 * 3 -> 0.3): dividing
// an exact integer by an exact power of ten rounds once.
double TickValue(int64_t k, Step s) {
  const double km = static_cast<double>(k) * s.mantissa;
  if (s.exponent >= 0) return km * std::pow(10.0, s.exponent);
  return km / std::pow(10.0, -s.exponent);
}

std::string Fixed(double v, int decimals) {
  char buf[400];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::fixed, decimals);
  if (ec != std::errc()) return "?";
  std::string s(buf, end);
  if (s[0] == '-' && s.find_first_not_of("-0.") == std::string::npos) s.erase(0, 1);  // -0.00
  return UnicodeMinus(s);
}

std::string Shortest(double v) {
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  if (ec != std::errc()) return "?";
  std::string s(buf, end);
  if (s == "-0") s = "0";
  return UnicodeMinus(s);
}

std::string TrimZeros(std::string s) {
  if (s.find('.') == std::string::npos) return s;
  while (!s.empty() && s.back() == '0') s.pop_back();
  if (!s.empty() && s.back() == '.') s.pop_back();
  return s;
}

// m×10^e with the mantissa to `resolution_exp` (the tick step's exponent), zeros trimmed.
RichText Scientific(double v, int resolution_exp) {
  if (v == 0) return {"0", ""};
  const int e = static_cast<int>(std::floor(std::log10(std::fabs(v)) + kEps));
  const double m = v / std::pow(10.0, e);
  const int decimals = std::clamp(e - resolution_exp, 0, 15);
  std::string mant = TrimZeros(Fixed(m, decimals));
  RichText out;
  out.text = mant == "1" ? "10"
                         : (mant == "\xE2\x88\x92"
                                    "1"
                                ? "\xE2\x88\x92"
                                  "10"
                                : mant +
                                      "\xC3\x97"
                                      "10");
  out.superscript = UnicodeMinus(std::to_string(e));
  return out;
}

std::vector<Tick> LinearTicksWithStep(double lo, double hi, Step s) {
  const double step = StepValue(s);
  const double slack = (hi - lo) * kEps;
  const int64_t kmin = static_cast<int64_t>(std::ceil((lo - slack) / step));
  const int64_t kmax = static_cast<int64_t>(std::floor((hi + slack) / step));
  std::vector<Tick> ticks;
  double max_abs = 0;
  for (int64_t k = kmin; k <= kmax && ticks.size() < 1000; ++k) {
    Tick t;
    t.value = TickValue(k, s);
    max_abs = std::max(max_abs, std::fabs(t.value));
    ticks.push_back(t);
  }
  const bool sci = max_abs >= 1e6 || (max_abs > 0 && max_abs < 1e-3);
  for (Tick& t : ticks) {
    t.label = sci ? Scientific(t.value, s.exponent)
                  : RichText{Fixed(t.value, std::max(0, -s.exponent)), ""};
  }
  return ticks;
}

size_t CountMultiples(double lo, double hi, Step s) {
  const double step = StepValue(s);
  const double slack = (hi - lo) * kEps;
  const double n = std::floor((hi + slack) / step) - std::ceil((lo - slack) / step) + 1;
  return n <= 0 ? 0 : static_cast<size_t>(std::min(n, 1e9));
}

double Base(Scale scale) { return scale == Scale::kLog2 ? 2.0 : 10.0; }
double Power(Scale scale, int64_t k) { return std::pow(Base(scale), static_cast<double>(k)); }

bool InRange(double v, double lo, double hi) {
  return v >= lo * (1 - kEps) && v <= hi * (1 + kEps);
}

// Labels for powers (and multiples j * base^k) on a log axis.
void LabelLogTicks(Scale scale, std::vector<Tick>& ticks) {
  bool plain = true;
  for (const Tick& t : ticks) {
    if (!t.major) continue;
    if (scale == Scale::kLog2) {
      plain = plain && t.value >= 1.0 / 16 * (1 - kEps) && t.value <= 4096 * (1 + kEps);
    } else {
      plain = plain && t.value >= 1e-3 * (1 - kEps) && t.value <= 1e4 * (1 + kEps);
    }
  }
  for (Tick& t : ticks) {
    if (!t.major) continue;
    if (scale == Scale::kLog2) {
      const int k = static_cast<int>(std::lround(std::log2(t.value)));
      const bool power = std::fabs(std::log2(t.value) - k) < 1e-9;
      if (plain || !power) {
        t.label = {Shortest(t.value), ""};
      } else {
        t.label = {"2", UnicodeMinus(std::to_string(k))};
      }
      continue;
    }
    const int k = static_cast<int>(std::floor(std::log10(t.value) + kEps));
    const double j = t.value / std::pow(10.0, k);
    const bool single_digit = std::fabs(j - std::round(j)) < 1e-6;
    if (plain || !single_digit) {
      t.label = {Fixed(t.value, std::max(0, -k)), ""};
    } else {
      const long jr = std::lround(j);
      t.label = {jr == 1 ? "10"
                         : std::to_string(jr) +
                               "\xC3\x97"
                               "10",
                 UnicodeMinus(std::to_string(k))};
    }
  }
}

}  // namespace

double ToAxis(Scale scale, double v) {
  switch (scale) {
    case Scale::kLog10:
      return std::log10(v);
    case Scale::kLog2:
      return std::log2(v);
    case Scale::kLinear:
      break;
  }
  return v;
}

double FromAxis(Scale scale, double t) {
  switch (scale) {
    case Scale::kLog10:
      return std::pow(10.0, t);
    case Scale::kLog2:
      return std::exp2(t);
    case Scale::kLinear:
      break;
  }
  return t;
}

bool ValidOnScale(Scale scale, double v) {
  if (!std::isfinite(v)) return false;
  return scale == Scale::kLinear || v > 0;
}

double NiceStep(double raw) {
  if (!(raw > 0) || !std::isfinite(raw)) return 1.0;
  return StepValue(StepAt(StepIndexAtLeast(raw)));
}

std::vector<Tick> LinearTicks(double lo, double hi, size_t max_labels) {
  if (!(hi > lo) || !std::isfinite(lo) || !std::isfinite(hi)) return {};
  max_labels = std::max<size_t>(max_labels, 2);
  int64_t idx = StepIndexAtLeast((hi - lo) / static_cast<double>(max_labels));
  while (CountMultiples(lo, hi, StepAt(idx)) > max_labels) ++idx;
  // A coarse step can leave a single tick (range 0.93..1.07 with step 0.1): take finer steps
  // while that stays within one label of the limit.
  while (CountMultiples(lo, hi, StepAt(idx)) < 2 &&
         CountMultiples(lo, hi, StepAt(idx - 1)) <= max_labels + 1) {
    --idx;
  }
  return LinearTicksWithStep(lo, hi, StepAt(idx));
}

std::vector<Tick> LogTicks(Scale scale, double lo, double hi, size_t max_labels, bool minor_room) {
  if (!(hi > lo) || !(lo > 0) || !std::isfinite(hi)) return {};
  max_labels = std::max<size_t>(max_labels, 2);
  const double tlo = ToAxis(scale, lo), thi = ToAxis(scale, hi);
  const int64_t kmin = static_cast<int64_t>(std::ceil(tlo - kEps));
  const int64_t kmax = static_cast<int64_t>(std::floor(thi + kEps));
  std::vector<Tick> ticks;
  const int64_t ndec = kmax - kmin + 1;
  if (ndec >= 2) {
    int64_t stride = 1;
    const auto multiples = [&](int64_t st) {
      int64_t n = 0;
      for (int64_t k = kmin; k <= kmax; ++k) n += (k % st == 0);
      return n;
    };
    while (multiples(stride) > static_cast<int64_t>(max_labels)) ++stride;
    const bool anchored = multiples(stride) >= 2;  // else count from kmin: 10^-1, 10^1, ...
    for (int64_t k = kmin; k <= kmax; ++k) {
      Tick t;
      t.value = Power(scale, k);
      t.major = anchored ? k % stride == 0 : (k - kmin) % stride == 0;
      ticks.push_back(t);
    }
    if (scale == Scale::kLog10 && stride == 1 && minor_room) {
      for (int64_t k = kmin - 1; k <= kmax; ++k) {
        for (int j = 2; j <= 9; ++j) {
          const double v = j * Power(scale, k);
          if (InRange(v, lo, hi)) ticks.push_back({v, false, {}});
        }
      }
    }
  } else {
    bool done = false;
    if (scale == Scale::kLog10) {
      static const std::vector<int> kSets[2] = {{1, 2, 5}, {1, 2, 3, 4, 5, 6, 7, 8, 9}};
      const int64_t k0 = static_cast<int64_t>(std::floor(tlo)) - 1;
      const int64_t k1 = static_cast<int64_t>(std::ceil(thi));
      for (const std::vector<int>& set : kSets) {
        std::vector<Tick> cand;
        for (int64_t k = k0; k <= k1; ++k) {
          for (int j = 1; j <= 9; ++j) {
            const double v = j * Power(scale, k);
            if (!InRange(v, lo, hi)) continue;
            const bool major = std::find(set.begin(), set.end(), j) != set.end();
            cand.push_back({v, major, {}});
          }
        }
        const size_t majors = static_cast<size_t>(
            std::count_if(cand.begin(), cand.end(), [](const Tick& t) { return t.major; }));
        if (majors >= 2 && majors <= max_labels) {
          ticks = std::move(cand);
          done = true;
          break;
        }
      }
    }
    if (!done) return LinearTicks(lo, hi, max_labels);
  }
  std::sort(ticks.begin(), ticks.end(),
            [](const Tick& a, const Tick& b) { return a.value < b.value; });
  LabelLogTicks(scale, ticks);
  return ticks;
}

std::vector<Tick> MakeTicks(Scale scale, double lo, double hi, size_t max_labels, bool minor_room) {
  if (scale == Scale::kLinear) return LinearTicks(lo, hi, max_labels);
  return LogTicks(scale, lo, hi, max_labels, minor_room);
}

RichText FormatValue(double v) {
  if (v != 0 && (std::fabs(v) >= 1e6 || std::fabs(v) < 1e-3)) {
    // Six significant digits are plenty for a label.
    const int e = static_cast<int>(std::floor(std::log10(std::fabs(v))));
    return Scientific(v, e - 5);
  }
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::general, 6);
  if (ec != std::errc()) return {"?", ""};
  return {UnicodeMinus(std::string(buf, end)), ""};
}

}  // namespace qfloat::plot::detail
