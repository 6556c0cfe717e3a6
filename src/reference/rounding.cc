#include "qfloat/rounding.h"

#include <charconv>
#include <string>

namespace qfloat {

StatusOr<Rounding> ParseRounding(std::string_view text) {
  struct Name {
    std::string_view name;
    RoundingMode mode;
  };
  static constexpr Name kNames[] = {
      {"rne", RoundingMode::kNearestEven}, {"rna", RoundingMode::kNearestAway},
      {"rtz", RoundingMode::kTowardZero},  {"rup", RoundingMode::kUp},
      {"rdn", RoundingMode::kDown},        {"rto", RoundingMode::kToOdd},
      {"sr", RoundingMode::kStochastic},
  };
  for (const Name& n : kNames) {
    if (text == n.name) return Rounding{n.mode, 0};
  }
  if (text.substr(0, 3) == "sr:") {
    const std::string_view digits = text.substr(3);
    unsigned k = 0;
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), k);
    if (ec == std::errc() && end == digits.data() + digits.size() && k >= 1 && k <= 32) {
      return Rounding{RoundingMode::kStochastic, static_cast<uint8_t>(k)};
    }
    return InvalidArgument("rounding '" + std::string(text) +
                           "': sr:K needs an integer K in 1..32");
  }
  return InvalidArgument("unknown rounding mode '" + std::string(text) +
                         "' (expected rne, rna, rtz, rup, rdn, rto, sr or sr:K)");
}

std::string ToString(const Rounding& rounding) {
  switch (rounding.mode) {
    case RoundingMode::kNearestEven:
      return "rne";
    case RoundingMode::kNearestAway:
      return "rna";
    case RoundingMode::kTowardZero:
      return "rtz";
    case RoundingMode::kUp:
      return "rup";
    case RoundingMode::kDown:
      return "rdn";
    case RoundingMode::kToOdd:
      return "rto";
    case RoundingMode::kStochastic:
      return rounding.sr_bits == 0 ? "sr" : "sr:" + std::to_string(rounding.sr_bits);
  }
  return "?";
}

StatusOr<Overflow> ParseOverflow(std::string_view text) {
  if (text == "ovf-inf") return Overflow::kInf;
  if (text == "sat-finite") return Overflow::kSatFinite;
  if (text == "sat-propagate") return Overflow::kSatPropagate;
  return InvalidArgument("unknown overflow policy '" + std::string(text) +
                         "' (expected ovf-inf, sat-finite or sat-propagate)");
}

std::string ToString(Overflow overflow) {
  switch (overflow) {
    case Overflow::kInf:
      return "ovf-inf";
    case Overflow::kSatFinite:
      return "sat-finite";
    case Overflow::kSatPropagate:
      return "sat-propagate";
  }
  return "?";
}

}  // namespace qfloat
