// ExactSum: a fixed-point superaccumulator (THEORY.md §2.7) with 32-bit digits in int64 limbs,
// so that up to 2^30 additions can be made before carries must be propagated (lazy carry, as
// Neal's small superaccumulator). CompensatedSum: TwoSum accumulation.
#include <cmath>
#include <cstring>
#include <limits>

#include "analysis/bigint.h"
#include "analysis/internal.h"
#include "qfloat/analysis.h"

namespace qfloat {
namespace {

constexpr uint64_t kNormalizeAt = uint64_t{1} << 29;  // |limb| < 2^(32+30) < 2^63 stays safe
constexpr uint64_t kLimbsUnits = uint64_t{1} << 18;   // AddLimbs: |limb| < 2^50 = 2^18 units
constexpr int64_t kDigit = int64_t{1} << 32;
constexpr uint32_t kInvalidBit = uint32_t{1} << 31;

void PutU32(std::vector<uint8_t>& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}
void PutU64(std::vector<uint8_t>& out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}
uint64_t GetU64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= uint64_t{p[i]} << (8 * i);
  return v;
}
uint32_t GetU32(const uint8_t* p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= uint32_t{p[i]} << (8 * i);
  return v;
}

}  // namespace

void ExactSum::Reserve(int32_t digit_lo, int32_t digit_hi) {
  constexpr int32_t kMargin = 2;
  if (limbs_.empty()) {
    lo_ = digit_lo - kMargin;
    limbs_.assign(static_cast<size_t>(digit_hi - digit_lo + 1 + 2 * kMargin), 0);
    return;
  }
  if (digit_lo < lo_) {
    const int32_t grow = lo_ - digit_lo + kMargin;
    limbs_.insert(limbs_.begin(), static_cast<size_t>(grow), 0);
    lo_ -= grow;
  }
  const int32_t top = lo_ + static_cast<int32_t>(limbs_.size()) - 1;
  if (digit_hi > top)
    limbs_.resize(limbs_.size() + static_cast<size_t>(digit_hi - top + kMargin), 0);
}

void ExactSum::AddDigits(int32_t digit, const uint32_t* digits, int n, bool negative) {
  if (pending_ >= kNormalizeAt) Normalize();
  Reserve(digit, digit + n - 1);
  int64_t* p = limbs_.data() + (digit - lo_);
  if (negative) {
    for (int i = 0; i < n; ++i) p[i] -= digits[i];
  } else {
    for (int i = 0; i < n; ++i) p[i] += digits[i];
  }
  ++pending_;
}

void ExactSum::Add(double x) {
  const uint64_t b = analysis_internal::Bits(x);
  const uint64_t mag = b & ~(uint64_t{1} << 63);
  if (mag == 0) return;
  if (mag >= 0x7FF0000000000000ull) {
    invalid_ = true;
    return;
  }
  const int biased = static_cast<int>(mag >> 52);
  uint64_t m = mag & ((uint64_t{1} << 52) - 1);
  int e;
  if (biased == 0) {
    e = -1074;
  } else {
    m |= uint64_t{1} << 52;
    e = biased - 1075;
  }
  const int32_t digit = e >> 5;  // floor(e / 32)
  const int shift = e & 31;
  const unsigned __int128 v = static_cast<unsigned __int128>(m) << shift;  // < 2^85
  const uint32_t digits[3] = {static_cast<uint32_t>(v), static_cast<uint32_t>(v >> 32),
                              static_cast<uint32_t>(v >> 64)};
  AddDigits(digit, digits, 3, (b >> 63) != 0);
}

void ExactSum::AddProduct(double a, double b) {
  int ea, eb;
  uint64_t ma, mb;
  if (!std::isfinite(a) || !std::isfinite(b)) {
    invalid_ = true;
    return;
  }
  if (a == 0.0 || b == 0.0) return;
  analysis_internal::Decompose(a, &ea, &ma);
  analysis_internal::Decompose(b, &eb, &mb);
  const unsigned __int128 p = static_cast<unsigned __int128>(ma) * mb;  // < 2^106
  const int e = (ea - 52) + (eb - 52);                                  // value = p 2^e
  const int32_t digit = e >> 5;
  const int shift = e & 31;
  const uint64_t lo64 = static_cast<uint64_t>(p);
  const uint64_t hi64 = static_cast<uint64_t>(p >> 64);
  const uint64_t w0 = lo64 << shift;
  const uint64_t w1 = shift == 0 ? hi64 : ((hi64 << shift) | (lo64 >> (64 - shift)));
  const uint64_t w2 = shift == 0 ? 0 : (hi64 >> (64 - shift));
  const uint32_t digits[5] = {static_cast<uint32_t>(w0), static_cast<uint32_t>(w0 >> 32),
                              static_cast<uint32_t>(w1), static_cast<uint32_t>(w1 >> 32),
                              static_cast<uint32_t>(w2)};
  AddDigits(digit, digits, 5, std::signbit(a) != std::signbit(b));
}

void ExactSum::Combine(const ExactSum& other, bool negate) {
  invalid_ = invalid_ || other.invalid_;
  if (other.limbs_.empty()) return;
  const ExactSum* src = &other;
  ExactSum normalized;
  if (other.pending_ >= kNormalizeAt) {
    normalized = other;
    normalized.Normalize();
    src = &normalized;
  }
  if (pending_ + src->pending_ >= 2 * kNormalizeAt) Normalize();
  if (src->limbs_.empty()) return;
  Reserve(src->lo_, src->lo_ + static_cast<int32_t>(src->limbs_.size()) - 1);
  int64_t* p = limbs_.data() + (src->lo_ - lo_);
  if (negate) {
    for (size_t i = 0; i < src->limbs_.size(); ++i) p[i] -= src->limbs_[i];
  } else {
    for (size_t i = 0; i < src->limbs_.size(); ++i) p[i] += src->limbs_[i];
  }
  pending_ += src->pending_;
}

void ExactSum::Merge(const ExactSum& other) { Combine(other, false); }
void ExactSum::Subtract(const ExactSum& other) { Combine(other, true); }

void ExactSum::AddLimbs(int32_t lo_digit, std::span<const int64_t> limbs) {
  if (pending_ >= kNormalizeAt) Normalize();
  Reserve(lo_digit, lo_digit + static_cast<int32_t>(limbs.size()) - 1);
  int64_t* p = limbs_.data() + (lo_digit - lo_);
  for (size_t i = 0; i < limbs.size(); ++i) p[i] += limbs[i];
  pending_ += kLimbsUnits;
}

void ExactSum::Normalize() {
  // Carry-propagate: every limb into [0, 2^32), the signed remainder above.
  int64_t carry = 0;
  for (int64_t& l : limbs_) {
    const int64_t v = l + carry;
    l = v & (kDigit - 1);
    carry = v >> 32;  // arithmetic: floor division
  }
  while (carry != 0 && carry != -1) {
    limbs_.push_back(carry & (kDigit - 1));
    carry >>= 32;
  }
  if (carry == -1) {
    if (!limbs_.empty() && limbs_.back() > 0) {
      limbs_.back() -= kDigit;  // top becomes negative, in (-2^32, 0)
    } else {
      limbs_.push_back(-1);
    }
  }
  // Canonical: the fewest limbs with every limb but the top in [0, 2^32) and |top| < 2^32.
  while (!limbs_.empty() && limbs_.back() == 0) limbs_.pop_back();
  while (limbs_.size() >= 2 && limbs_.back() == -1 && limbs_[limbs_.size() - 2] > 0) {
    limbs_[limbs_.size() - 2] -= kDigit;
    limbs_.pop_back();
  }
  size_t first = 0;
  while (first < limbs_.size() && limbs_[first] == 0) ++first;
  if (first > 0) {
    limbs_.erase(limbs_.begin(), limbs_.begin() + static_cast<std::ptrdiff_t>(first));
    lo_ += static_cast<int32_t>(first);
  }
  if (limbs_.empty()) lo_ = 0;
  pending_ = limbs_.empty() ? 0 : 1;
}

bool ExactSum::IsZero() const { return Sign() == 0; }

int ExactSum::Sign() const {
  ExactSum n = *this;
  n.Normalize();
  if (n.limbs_.empty()) return 0;
  return n.limbs_.back() < 0 ? -1 : 1;
}

double ExactSum::ToDouble() const {
  if (invalid_) return std::numeric_limits<double>::quiet_NaN();
  return analysis_internal::RoundToDouble(analysis_internal::ToDyadic(*this));
}

std::vector<uint8_t> ExactSum::Serialize() const {
  ExactSum n = *this;
  n.Normalize();
  std::vector<uint8_t> out;
  out.reserve(8 + 8 * n.limbs_.size());
  PutU32(out, static_cast<uint32_t>(n.lo_));
  // The top bit of the count marks an invalid sum.
  PutU32(out, static_cast<uint32_t>(n.limbs_.size()) | (invalid_ ? kInvalidBit : 0u));
  for (const int64_t l : n.limbs_) PutU64(out, static_cast<uint64_t>(l));
  return out;
}

StatusOr<ExactSum> ExactSum::Deserialize(std::span<const uint8_t> bytes) {
  if (bytes.size() < 8)
    return DataError("exact sum: " + std::to_string(bytes.size()) + " bytes, need at least 8");
  const int32_t lo = static_cast<int32_t>(GetU32(bytes.data()));
  const uint32_t word = GetU32(bytes.data() + 4);
  const bool invalid = (word & kInvalidBit) != 0;
  const uint32_t n = word & ~kInvalidBit;
  constexpr uint32_t kMaxLimbs = 1 << 12;  // 131072 bits: far beyond any double product
  if (n > kMaxLimbs || bytes.size() != 8 + 8 * size_t{n}) {
    return DataError("exact sum: limb count " + std::to_string(n) + " does not match " +
                     std::to_string(bytes.size()) + " bytes");
  }
  if (lo < -(1 << 20) || lo > (1 << 20)) {
    return DataError("exact sum: digit offset " + std::to_string(lo) + " out of range");
  }
  ExactSum s;
  s.lo_ = lo;
  s.limbs_.resize(n);
  for (uint32_t i = 0; i < n; ++i) {
    const int64_t l = static_cast<int64_t>(GetU64(bytes.data() + 8 + 8 * size_t{i}));
    const bool top = i + 1 == n;
    if (top ? (l <= -kDigit || l >= kDigit) : (l < 0 || l >= kDigit)) {
      return DataError("exact sum: limb " + std::to_string(i) + " = " + std::to_string(l) +
                       " is not a canonical digit");
    }
    s.limbs_[i] = l;
  }
  s.pending_ = n == 0 ? 0 : 1;
  s.invalid_ = invalid;
  s.Normalize();
  return s;
}

bool operator==(const ExactSum& a, const ExactSum& b) { return a.Serialize() == b.Serialize(); }

void CompensatedSum::Add(double x) {
  double s, e;
  analysis_internal::TwoSum(hi, x, &s, &e);
  hi = s;
  lo += e;
}

void CompensatedSum::Merge(const CompensatedSum& other) {
  double s, e;
  analysis_internal::TwoSum(hi, other.hi, &s, &e);
  e += lo + other.lo;
  analysis_internal::TwoSum(s, e, &hi, &lo);
}

}  // namespace qfloat
