// Internal: just enough big-integer arithmetic to form the exact path's derived figures
// (S_dd S_gg - S_dg^2, ratios) as exact rationals and round each once (THEORY.md §2.7).
#ifndef QFLOAT_SRC_ANALYSIS_BIGINT_H_
#define QFLOAT_SRC_ANALYSIS_BIGINT_H_

#include <cstdint>
#include <vector>

#include "qfloat/analysis.h"

namespace qfloat::analysis_internal {

// Unsigned magnitude, little-endian base-2^32 digits, no leading zero digits (0 = empty).
class BigUint {
 public:
  BigUint() = default;
  explicit BigUint(uint64_t v);
  static BigUint FromDigits(std::vector<uint32_t> digits);

  bool IsZero() const { return d_.empty(); }
  int64_t BitLength() const;
  const std::vector<uint32_t>& digits() const { return d_; }

  BigUint ShiftedLeft(int64_t bits) const;
  static int Compare(const BigUint& a, const BigUint& b);
  static BigUint Add(const BigUint& a, const BigUint& b);
  static BigUint Sub(const BigUint& a, const BigUint& b);  // requires a >= b
  static BigUint Mul(const BigUint& a, const BigUint& b);
  // floor(num / den) for num < den * 2^63; *inexact = (remainder != 0).
  static uint64_t SmallQuotient(const BigUint& num, const BigUint& den, bool* inexact);

 private:
  void Trim();
  std::vector<uint32_t> d_;
};

// +-mag * 2^exp.
struct Dyadic {
  bool negative = false;
  BigUint mag;
  int64_t exp = 0;
  bool IsZero() const { return mag.IsZero(); }
  int Sign() const { return mag.IsZero() ? 0 : (negative ? -1 : 1); }
};

Dyadic ToDyadic(const ExactSum& s);
Dyadic FromUint(uint64_t v);
Dyadic Negate(Dyadic a);
Dyadic Add(const Dyadic& a, const Dyadic& b);
Dyadic Sub(const Dyadic& a, const Dyadic& b);
Dyadic Mul(const Dyadic& a, const Dyadic& b);

// The exact value rounded once to nearest even (subnormals and overflow to inf handled).
double RoundToDouble(const Dyadic& a);
// num / den rounded once to nearest even; den must be nonzero.
double RoundRatio(const Dyadic& num, const Dyadic& den);

}  // namespace qfloat::analysis_internal

#endif  // QFLOAT_SRC_ANALYSIS_BIGINT_H_
