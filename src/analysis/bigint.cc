#include "analysis/bigint.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

namespace qfloat::analysis_internal {

BigUint::BigUint(uint64_t v) {
  if (v != 0) d_.push_back(static_cast<uint32_t>(v));
  if ((v >> 32) != 0) d_.push_back(static_cast<uint32_t>(v >> 32));
}

BigUint BigUint::FromDigits(std::vector<uint32_t> digits) {
  BigUint r;
  r.d_ = std::move(digits);
  r.Trim();
  return r;
}

void BigUint::Trim() {
  while (!d_.empty() && d_.back() == 0) d_.pop_back();
}

int64_t BigUint::BitLength() const {
  if (d_.empty()) return 0;
  return 32 * static_cast<int64_t>(d_.size() - 1) + (32 - __builtin_clz(d_.back()));
}

BigUint BigUint::ShiftedLeft(int64_t bits) const {
  if (d_.empty() || bits == 0) return *this;
  const size_t words = static_cast<size_t>(bits / 32);
  const int rem = static_cast<int>(bits % 32);
  BigUint r;
  r.d_.assign(words, 0u);
  uint32_t carry = 0;
  for (const uint32_t x : d_) {
    r.d_.push_back(rem == 0 ? x : ((x << rem) | carry));
    carry = rem == 0 ? 0u : (x >> (32 - rem));
  }
  if (carry != 0) r.d_.push_back(carry);
  return r;
}

int BigUint::Compare(const BigUint& a, const BigUint& b) {
  if (a.d_.size() != b.d_.size()) return a.d_.size() < b.d_.size() ? -1 : 1;
  for (size_t i = a.d_.size(); i > 0; --i) {
    if (a.d_[i - 1] != b.d_[i - 1]) return a.d_[i - 1] < b.d_[i - 1] ? -1 : 1;
  }
  return 0;
}

BigUint BigUint::Add(const BigUint& a, const BigUint& b) {
  const BigUint& big = a.d_.size() >= b.d_.size() ? a : b;
  const BigUint& small = a.d_.size() >= b.d_.size() ? b : a;
  BigUint r;
  r.d_.resize(big.d_.size() + 1);
  uint64_t carry = 0;
  for (size_t i = 0; i < big.d_.size(); ++i) {
    const uint64_t s = uint64_t{big.d_[i]} + (i < small.d_.size() ? small.d_[i] : 0u) + carry;
    r.d_[i] = static_cast<uint32_t>(s);
    carry = s >> 32;
  }
  r.d_[big.d_.size()] = static_cast<uint32_t>(carry);
  r.Trim();
  return r;
}

BigUint BigUint::Sub(const BigUint& a, const BigUint& b) {
  BigUint r;
  r.d_.resize(a.d_.size());
  int64_t borrow = 0;
  for (size_t i = 0; i < a.d_.size(); ++i) {
    int64_t s = int64_t{a.d_[i]} - (i < b.d_.size() ? int64_t{b.d_[i]} : 0) - borrow;
    borrow = s < 0 ? 1 : 0;
    if (s < 0) s += int64_t{1} << 32;
    r.d_[i] = static_cast<uint32_t>(s);
  }
  r.Trim();
  return r;
}

BigUint BigUint::Mul(const BigUint& a, const BigUint& b) {
  if (a.IsZero() || b.IsZero()) return BigUint();
  BigUint r;
  r.d_.assign(a.d_.size() + b.d_.size(), 0u);
  for (size_t i = 0; i < a.d_.size(); ++i) {
    uint64_t carry = 0;
    for (size_t j = 0; j < b.d_.size(); ++j) {
      const uint64_t t = uint64_t{a.d_[i]} * b.d_[j] + r.d_[i + j] + carry;
      r.d_[i + j] = static_cast<uint32_t>(t);
      carry = t >> 32;
    }
    size_t k = i + b.d_.size();
    while (carry != 0) {
      const uint64_t t = uint64_t{r.d_[k]} + carry;
      r.d_[k] = static_cast<uint32_t>(t);
      carry = t >> 32;
      ++k;
    }
  }
  r.Trim();
  return r;
}

uint64_t BigUint::SmallQuotient(const BigUint& num, const BigUint& den, bool* inexact) {
  // Shift-subtract long division: the quotient has at most 63 bits.
  BigUint rem = num;
  uint64_t q = 0;
  for (int bit = 62; bit >= 0; --bit) {
    const BigUint t = den.ShiftedLeft(bit);
    if (Compare(rem, t) >= 0) {
      rem = Sub(rem, t);
      q |= uint64_t{1} << bit;
    }
  }
  *inexact = !rem.IsZero();
  return q;
}

Dyadic ToDyadic(const ExactSum& s) {
  ExactSum n = s;
  n.Normalize();
  Dyadic r;
  const std::vector<int64_t>& limbs = n.limbs();
  if (limbs.empty()) return r;
  r.exp = 32 * static_cast<int64_t>(n.lo_digit());
  const int64_t top = limbs.back();
  std::vector<uint32_t> digits(limbs.size());
  for (size_t i = 0; i + 1 < limbs.size(); ++i) digits[i] = static_cast<uint32_t>(limbs[i]);
  if (top > 0) {
    digits.back() = static_cast<uint32_t>(top);
    r.mag = BigUint::FromDigits(std::move(digits));
    return r;
  }
  // value = low - |top| 2^(32 (n-1)), |value| = |top| 2^(32 (n-1)) - low.
  digits.back() = 0;
  const BigUint low = BigUint::FromDigits(std::move(digits));
  const BigUint high =
      BigUint(static_cast<uint64_t>(-top)).ShiftedLeft(32 * static_cast<int64_t>(limbs.size() - 1));
  r.negative = true;
  r.mag = BigUint::Sub(high, low);
  return r;
}

Dyadic FromUint(uint64_t v) {
  Dyadic r;
  r.mag = BigUint(v);
  return r;
}

Dyadic Negate(Dyadic a) {
  if (!a.IsZero()) a.negative = !a.negative;
  return a;
}

Dyadic Add(const Dyadic& a, const Dyadic& b) {
  if (a.IsZero()) return b;
  if (b.IsZero()) return a;
  const int64_t e = std::min(a.exp, b.exp);
  const BigUint am = a.mag.ShiftedLeft(a.exp - e);
  const BigUint bm = b.mag.ShiftedLeft(b.exp - e);
  Dyadic r;
  r.exp = e;
  if (a.negative == b.negative) {
    r.negative = a.negative;
    r.mag = BigUint::Add(am, bm);
    return r;
  }
  const int c = BigUint::Compare(am, bm);
  if (c == 0) return Dyadic();
  if (c > 0) {
    r.negative = a.negative;
    r.mag = BigUint::Sub(am, bm);
  } else {
    r.negative = b.negative;
    r.mag = BigUint::Sub(bm, am);
  }
  return r;
}

Dyadic Sub(const Dyadic& a, const Dyadic& b) { return Add(a, Negate(b)); }

Dyadic Mul(const Dyadic& a, const Dyadic& b) {
  Dyadic r;
  r.mag = BigUint::Mul(a.mag, b.mag);
  if (r.mag.IsZero()) return Dyadic();
  r.negative = a.negative != b.negative;
  r.exp = a.exp + b.exp;
  return r;
}

namespace {

// Rounds (num/den) 2^e2 (num, den > 0) to the nearest double, ties to even.
double RoundQuotient(const BigUint& num, const BigUint& den, int64_t e2, bool negative) {
  const int64_t a = num.BitLength();
  const int64_t b = den.BitLength();
  // Scale so that q = floor(num 2^s / den) lies in [2^61, 2^63).
  const int64_t s = 62 - (a - b);
  bool inexact = false;
  uint64_t q;
  if (s >= 0) {
    q = BigUint::SmallQuotient(num.ShiftedLeft(s), den, &inexact);
  } else {
    q = BigUint::SmallQuotient(num, den.ShiftedLeft(-s), &inexact);
  }
  const int qbits = 64 - __builtin_clzll(q);
  // value = (q + f) 2^(e2 - s), 0 <= f < 1; its leading bit has weight 2^lead.
  const int64_t lead = qbits - 1 + e2 - s;
  const double sign = negative ? -1.0 : 1.0;
  if (lead > 1023) return sign * std::numeric_limits<double>::infinity();
  const int64_t prec = lead >= -1022 ? 53 : lead + 1075;  // bits down to 2^-1074
  if (prec < 0) return sign * 0.0;                        // below half the smallest subnormal
  const int drop = qbits - static_cast<int>(prec);        // >= 8
  uint64_t m = drop >= 64 ? 0 : (q >> drop);
  const uint64_t rest = drop >= 64 ? q : (q & ((uint64_t{1} << drop) - 1));
  const uint64_t half = uint64_t{1} << (drop - 1);
  const bool up = rest > half || (rest == half && (inexact || (m & 1) != 0));
  if (up) ++m;
  const int64_t exp_of_m = e2 - s + drop;  // value ~ m 2^exp_of_m, m <= 2^53
  if (m == (uint64_t{1} << 53) && lead + 1 > 1023) {
    return sign * std::numeric_limits<double>::infinity();
  }
  return sign * std::ldexp(static_cast<double>(m), static_cast<int>(exp_of_m));
}

}  // namespace

double RoundToDouble(const Dyadic& a) {
  if (a.IsZero()) return 0.0;
  return RoundQuotient(a.mag, BigUint(1), a.exp, a.negative);
}

double RoundRatio(const Dyadic& num, const Dyadic& den) {
  if (den.IsZero()) return std::numeric_limits<double>::quiet_NaN();
  if (num.IsZero()) return 0.0;
  return RoundQuotient(num.mag, den.mag, num.exp - den.exp, num.negative != den.negative);
}

}  // namespace qfloat::analysis_internal
