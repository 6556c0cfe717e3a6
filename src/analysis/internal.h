// Internal: element classification, the exact ratio bin, error-free transformations, the
// per-chunk accumulators and the SIMD kernel's interface.
#ifndef QFLOAT_SRC_ANALYSIS_INTERNAL_H_
#define QFLOAT_SRC_ANALYSIS_INTERNAL_H_

#include <array>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <span>

#include "qfloat/analysis.h"

namespace qfloat {

// Access to ShrinkageStats' members for the accumulation code in src/analysis.
struct ShrinkageStatsAccess {
  static auto& counts(ShrinkageStats& s) { return s.counts_; }
  static auto& bin_counts(ShrinkageStats& s) { return s.bin_counts_; }
  static double& min_g(ShrinkageStats& s) { return s.min_g_; }
  static double& max_g(ShrinkageStats& s) { return s.max_g_; }
  static auto& exact(ShrinkageStats& s) { return s.exact_; }
  static auto& exact_bin_energy(ShrinkageStats& s) { return s.exact_bin_energy_; }
  static auto& fast_total(ShrinkageStats& s) { return s.fast_total_; }
  static auto& fast(ShrinkageStats& s) { return s.fast_; }
  static auto& fast_bin_energy(ShrinkageStats& s) { return s.fast_bin_energy_; }
};

namespace analysis_internal {

// Elements per accumulation chunk (64 KiB of float32 g, 64 KiB of Q: L2-resident; the fast
// kernel's histogram bound counts per chunk), and per block (fast-path partials are per block,
// merged in a fixed tree; the fast float32 pass quantizes a whole block, 2 x 256 KiB, per call).
inline constexpr size_t kChunk = 16384;
inline constexpr size_t kBlock = 65536;

inline constexpr int ClassIndex(ElementClass c) { return static_cast<int>(c); }

// THEORY.md §2.2 classes, in the order of ElementClass.
inline ElementClass Classify(double g, double q, const ClassThresholds& t) {
  if (!std::isfinite(g) || !std::isfinite(q)) return ElementClass::kNonFinite;
  if (g == 0.0) return ElementClass::kZero;
  if (q == g) return ElementClass::kExact;
  if (q == 0.0) return ElementClass::kFlushed;
  const double ag = std::fabs(g);
  const double aq = std::fabs(q);
  if (aq == t.max_finite && ag > aq) return ElementClass::kSaturated;
  if (ag < t.min_normal) return ElementClass::kSubnormal;
  return ElementClass::kNormal;
}

inline uint64_t Bits(double x) {
  uint64_t b;
  std::memcpy(&b, &x, sizeof(b));
  return b;
}

// |x| = sig 2^(exp - 52) with bit 52 of sig set (x finite, nonzero; subnormals normalised).
inline void Decompose(double x, int* exp, uint64_t* sig) {
  const uint64_t b = Bits(x) & ~(uint64_t{1} << 63);
  const int biased = static_cast<int>(b >> 52);
  const uint64_t frac = b & ((uint64_t{1} << 52) - 1);
  if (biased != 0) {
    *exp = biased - 1023;
    *sig = frac | (uint64_t{1} << 52);
    return;
  }
  const int lz = __builtin_clzll(frac) - 11;  // shift bit (63 - clz) up to bit 52
  *exp = -1022 - lz;
  *sig = frac << lz;
}

inline int BinOfExponent(int64_t k) {
  if (k < kRatioMinExp) return 1;
  if (k > kRatioMaxExp) return kRatioBins - 1;
  return static_cast<int>(2 + (k - kRatioMinExp));
}

// floor(log2(|q - g| / |g|)) computed exactly (d = q - g is formed by TwoSum, so a rounded d that
// lands on a bin edge is corrected), as a bin index; g finite nonzero, q finite.
inline int ExactRatioBin(double g, double q) {
  if (q == g) return 0;
  const double d = q - g;
  if (std::isinf(d)) return kRatioBins - 1;
  const double bp = d - q;
  const double err = (q - (d - bp)) + (-g - bp);
  int ed, eg;
  uint64_t md, mg;
  Decompose(d, &ed, &md);
  Decompose(g, &eg, &mg);
  int64_t k = static_cast<int64_t>(ed) - eg - (md < mg ? 1 : 0);
  // |d| = 2^k |g| exactly but the exact difference is smaller: one bin lower.
  if (md == mg && err != 0.0 && (std::signbit(err) != std::signbit(d))) --k;
  return BinOfExponent(k);
}

// Error-free transformations.
inline void TwoSum(double a, double b, double* s, double* e) {
  *s = a + b;
  const double bp = *s - a;
  *e = (a - (*s - bp)) + (b - bp);
}
inline void TwoProd(double a, double b, double* p, double* e) {
  *p = a * b;
  *e = std::fma(a, b, -*p);
}

// Double-double values for the fast path's derived figures.
struct DD {
  double hi = 0.0;
  double lo = 0.0;
};
inline DD Renorm(double hi, double lo) {
  DD r;
  TwoSum(hi, lo, &r.hi, &r.lo);
  return r;
}
inline DD ToDD(const CompensatedSum& s) { return Renorm(s.hi, s.lo); }
inline DD AddDD(DD a, DD b) {
  double s, e;
  TwoSum(a.hi, b.hi, &s, &e);
  e += a.lo + b.lo;
  return Renorm(s, e);
}
inline DD NegDD(DD a) { return DD{-a.hi, -a.lo}; }
inline DD MulDD(DD a, DD b) {
  double p, e;
  TwoProd(a.hi, b.hi, &p, &e);
  e += a.hi * b.lo + a.lo * b.hi;
  return Renorm(p, e);
}
inline DD DivDD(DD a, DD b) {
  const double q1 = a.hi / b.hi;
  const DD r = AddDD(a, NegDD(MulDD(DD{q1, 0.0}, b)));
  const double q2 = r.hi / b.hi;
  const DD r2 = AddDD(r, NegDD(MulDD(DD{q2, 0.0}, b)));
  const double q3 = r2.hi / b.hi;
  return AddDD(Renorm(q1, q2), DD{q3, 0.0});
}

// An exact accumulator for products of two float32 values (2^-298 <= |x| < 2^257), on a fixed
// window with lazy carry: cheap enough for the per-element loop, folded into an ExactSum per
// block (at most kBlock adds, so |limb| < 2^49).
struct FixedAcc {
  static constexpr int32_t kLoDigit = -11;  // 2^-352: below the lsb of 2^-298's significand
  static constexpr int kLimbs = 21;         // up to 2^320
  std::array<int64_t, kLimbs> limb{};
  bool used = false;

  void Add(double x) {
    const uint64_t b = Bits(x);
    const uint64_t mag = b & ~(uint64_t{1} << 63);
    if (mag == 0) return;
    const int biased = static_cast<int>(mag >> 52);
    const uint64_t m = (mag & ((uint64_t{1} << 52) - 1)) | (uint64_t{1} << 52);
    const int e = biased - 1075;  // value = m 2^e (normal: float products are never subnormal)
    const int digit = e >> 5;
    const int shift = e & 31;
    const unsigned __int128 v = static_cast<unsigned __int128>(m) << shift;
    const int idx = digit - kLoDigit;
    const int64_t d0 = static_cast<int64_t>(static_cast<uint32_t>(v));
    const int64_t d1 = static_cast<int64_t>(static_cast<uint32_t>(v >> 32));
    const int64_t d2 = static_cast<int64_t>(static_cast<uint32_t>(v >> 64));
    if ((b >> 63) != 0) {
      limb[idx] -= d0;
      limb[idx + 1] -= d1;
      limb[idx + 2] -= d2;
    } else {
      limb[idx] += d0;
      limb[idx + 1] += d1;
      limb[idx + 2] += d2;
    }
    used = true;
  }
  void FlushInto(ExactSum& s) {
    if (!used) return;
    s.AddLimbs(kLoDigit, limb);
    limb.fill(0);
    used = false;
  }
};

// The SIMD kernel's per-chunk result (fast path, float32 g and Q). Sums are double-doubles:
// S_dg is TwoSum-accumulated per element (it cancels); every class sum is a plain lane sum over
// at most kInnerVectors vectors, TwoSum-added into a compensated lane accumulator, so its error is
// at most kInnerVectors u relative (one-signed sums). The caller forms S_gg and S_dd as sums of
// the classes, and takes the zero, exact and non-finite counts from the histogram codes.
inline constexpr int kInnerVectors = 64;
enum ChunkSlot : int {
  kSlotTotalDG = 0,
  kSlotTotalGQ,
  kSlotTotalQQ,
  kSlotExactGG,
  kSlotNormalGG,
  kSlotNormalDG,
  kSlotNormalDD,
  kSlotSubGG,
  kSlotSubDG,
  kSlotSubDD,
  kSlotFlushGG,
  kSlotSatGG,
  kSlotSatDG,
  kSlotSatDD,
  kSlotZeroDD,
  kNumSlots
};
struct FastChunk {
  double hi[kNumSlots] = {};
  double lo[kNumSlots] = {};
  uint64_t subnormal = 0;
  uint64_t flushed = 0;
  uint64_t saturated = 0;
  double min_g = 0.0;
  double max_g = 0.0;
};

// Per-element codes computed by the kernel: a histogram bin (0..kRatioBins-1); kZeroCode (g = 0)
// and kNonFiniteCode for the elements outside the histogram; kEdgeFlag | bin where |d| is exactly
// 2^k |g| and Q != 0, so that a rounded d may sit on a bin edge: ExactRatioBin decides there.
inline constexpr uint16_t kZeroCode = kRatioBins;
inline constexpr uint16_t kNonFiniteCode = kRatioBins + 1;
inline constexpr int kNumCodes = kRatioBins + 2;
inline constexpr uint16_t kEdgeFlag = 0x8000;

// The kernel's per-chunk histogram: element j of the chunk goes to copy j % kHistCopies. The
// copies break store-to-load chains on repeated codes; each holds a plain sum over at most
// kChunk / kHistCopies = 2048 energies (the stated bin-energy bound), folded by the caller.
inline constexpr int kHistCopies = 8;
struct ChunkHistogram {
  uint32_t count[kHistCopies][kNumCodes];
  double energy[kHistCopies][kNumCodes];
};

// Dispatches to the best SIMD target. Fills every field of *out and *hist. `ahead` (may be null):
// n floats that the caller reads next (the fused pass's next chunk of g, for the quantizer),
// prefetched alongside.
void FastChunkF32(const float* g, const float* q, size_t n, const ClassThresholds& t,
                  FastChunk* out, ChunkHistogram* hist, const float* ahead);

}  // namespace analysis_internal
}  // namespace qfloat

#endif  // QFLOAT_SRC_ANALYSIS_INTERNAL_H_
