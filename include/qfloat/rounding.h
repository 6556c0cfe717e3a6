// Rounding modes, overflow policies and the stochastic-rounding random-bit contract.
// These are arguments of every call; there is no global mode state.
#ifndef QFLOAT_ROUNDING_H_
#define QFLOAT_ROUNDING_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "qfloat/status.h"

namespace qfloat {

enum class RoundingMode : uint8_t {
  kNearestEven = 0,  // rne: nearest, ties to the even code
  kNearestAway,      // rna: nearest, ties away from zero
  kTowardZero,       // rtz
  kUp,               // rup: toward +inf
  kDown,             // rdn: toward -inf
  kToOdd,       // rto: if inexact, the neighbour with an odd code (sticky, for double rounding)
  kStochastic,  // sr (sr_bits = 0, exact probabilities) or sr:K (K random bits)
};

// Overflow policy, separate from the format (names after IEEE P3109).
enum class Overflow : uint8_t {
  kInf = 0,       // ovf-inf: overflow -> inf, else NaN, else max (directed modes as IEEE)
  kSatFinite,     // sat-finite: overflow and +-inf inputs -> +-max
  kSatPropagate,  // sat-propagate: overflow -> +-max; +-inf inputs stay inf (or NaN)
};

struct Rounding {
  RoundingMode mode = RoundingMode::kNearestEven;
  uint8_t sr_bits = 0;  // sr:K: K in 1..32; 0 = exact `sr`
};

// Everything a quantizer call needs besides the format and the data.
//
// Stochastic rounding draws its random bits from a counter-based generator, so results depend
// only on (seed, stream, element index): element i uses word (i mod 4) of
// Philox4x32-10(counter = (lo32(i/4), hi32(i/4), stream, 0), key = (lo32(seed), hi32(seed))).
struct QuantizeOptions {
  Rounding rounding;
  Overflow overflow = Overflow::kInf;
  uint64_t seed = 0;
  uint32_t stream = 0;
  uint64_t index_offset = 0;  // index of element 0 of this call in the random-bit sequence
};

// "rne", "rna", "rtz", "rup", "rdn", "rto", "sr", "sr:K".
StatusOr<Rounding> ParseRounding(std::string_view text);
std::string ToString(const Rounding& rounding);
// "ovf-inf", "sat-finite", "sat-propagate".
StatusOr<Overflow> ParseOverflow(std::string_view text);
std::string ToString(Overflow overflow);

}  // namespace qfloat

#endif  // QFLOAT_ROUNDING_H_
