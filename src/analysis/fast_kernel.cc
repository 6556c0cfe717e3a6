// The fast path's per-chunk kernel for float32 g and Q: classes, the sums, min/max and each
// element's histogram code, in one pass over L2-resident data. Compiled once per SIMD target
// (Highway foreach_target) and dispatched at run time.
//
// Cost per vector is what matters (the fused pass runs it on every element): S_dg is the only
// TwoSum per element (it cancels, THEORY.md §2.7); the class sums are plain lane sums over
// kInnerVectors vectors, then TwoSum-added (two-level summation: near-compensated accuracy at the
// cost of one add); counts that the histogram codes already carry are left to the caller, as is
// the rare bin-edge correction. Full vectors run without a lane mask; the tail runs once with one.
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "analysis/fast_kernel.cc"
#include <algorithm>

#include "hwy/foreach_target.h"  // IWYU pragma: keep
#include "hwy/highway.h"
// Included after Highway on purpose: its per-target re-inclusion must see the same headers.
#include "analysis/internal.h"

HWY_BEFORE_NAMESPACE();
namespace qfloat::analysis_internal {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// s + c += x, TwoSum (6 flops, branch-free).
template <class V>
HWY_INLINE void TwoSumInto(V x, V& s, V& c) {
  const V t = hn::Add(s, x);
  const V bp = hn::Sub(t, s);
  const V e = hn::Add(hn::Sub(s, hn::Sub(t, bp)), hn::Sub(x, bp));
  s = t;
  c = hn::Add(c, e);
}

template <class D>
struct Kernel {
  using V = hn::Vec<D>;
  using DI = hn::RebindToSigned<D>;
  using DU = hn::RebindToUnsigned<D>;
  using VI = hn::Vec<DI>;
  using M = hn::Mask<D>;

  D d;
  DI di;
  DU du;
  hn::Rebind<uint16_t, DU> d16;
  V max_finite, min_normal;
  V dg_s, dg_c;        // S_dg, compensated per element
  V inner[kNumSlots];  // plain sums of the current inner group
  V vmin, vmax;
  uint64_t subnormal = 0, flushed = 0, saturated = 0;

  explicit Kernel(const ClassThresholds& t)
      : max_finite(hn::Set(d, t.max_finite)),
        min_normal(hn::Set(d, t.min_normal)),
        dg_s(hn::Zero(d)),
        dg_c(hn::Zero(d)),
        vmin(hn::Set(d, HUGE_VAL)),
        vmax(hn::Set(d, -HUGE_VAL)) {
    for (V& v : inner) v = hn::Zero(d);
  }

  // One vector. kChecked: lanes outside `valid` (the tail) and non-finite g or Q are excluded.
  // Unchecked steps assume every lane is a finite element: a non-finite lane then makes one of
  // the sums non-finite, which GroupFinite() detects so that the group is redone checked.
  template <bool kChecked>
  HWY_INLINE hn::Vec<hn::Rebind<uint16_t, DU>> Step(V gv, V qv, M valid) {
    const V zero = hn::Zero(d);
    // Classes (THEORY.md §2.2), exactly as Classify() in internal.h.
    M g_finite = valid;
    M fin = valid;
    V g0 = gv;
    V q0 = qv;
    if (kChecked) {
      g_finite = hn::And(valid, hn::IsFinite(gv));
      fin = hn::And(g_finite, hn::IsFinite(qv));
      g0 = hn::IfThenElseZero(fin, gv);
      q0 = hn::IfThenElseZero(fin, qv);
    }
    const M g_is_zero = hn::Eq(g0, zero);
    const M zero_m = kChecked ? hn::And(fin, g_is_zero) : g_is_zero;
    const M nz = kChecked ? hn::AndNot(g_is_zero, fin) : hn::Not(g_is_zero);
    const M same = hn::Eq(q0, g0);
    const M exact = hn::And(nz, same);
    const M inexact = hn::AndNot(same, nz);
    const M q_is_zero = hn::Eq(q0, zero);
    const M flush = hn::And(inexact, q_is_zero);
    const M kept = hn::AndNot(q_is_zero, inexact);  // rounded to a nonzero value
    const V ag = hn::Abs(g0);
    const V aq = hn::Abs(q0);
    const M sat = hn::And(kept, hn::And(hn::Eq(aq, max_finite), hn::Gt(ag, aq)));
    const M rounded = hn::AndNot(sat, kept);
    const M small = hn::Lt(ag, min_normal);
    const M sub = hn::And(rounded, small);
    const M normal = hn::AndNot(small, rounded);
    subnormal += hn::CountTrue(d, sub);
    flushed += hn::CountTrue(d, flush);
    saturated += hn::CountTrue(d, sat);

    // Products of float32 values are exact in float64; d = Q - g is exact unless Q and g are
    // far apart (clamps), where its rounding is within the stated bound.
    const V dv = hn::Sub(q0, g0);
    const V gg = hn::Mul(g0, g0);
    const V gd = hn::Mul(g0, dv);
    const V dd = hn::Mul(dv, dv);
    TwoSumInto(gd, dg_s, dg_c);
    inner[kSlotTotalGQ] = hn::MulAdd(g0, q0, inner[kSlotTotalGQ]);  // exact products
    inner[kSlotTotalQQ] = hn::MulAdd(q0, q0, inner[kSlotTotalQQ]);
    Acc(kSlotExactGG, exact, gg);
    Acc(kSlotNormalGG, normal, gg);
    Acc(kSlotNormalDG, normal, gd);
    Acc(kSlotNormalDD, normal, dd);
    Acc(kSlotSubGG, sub, gg);
    Acc(kSlotSubDG, sub, gd);
    Acc(kSlotSubDD, sub, dd);
    Acc(kSlotFlushGG, flush, gg);
    Acc(kSlotSatGG, sat, gg);
    Acc(kSlotSatDG, sat, gd);
    Acc(kSlotSatDD, sat, dd);
    Acc(kSlotZeroDD, zero_m, dd);
    if (kChecked) {
      vmin = hn::Min(vmin, hn::IfThenElse(g_finite, gv, hn::Set(d, HUGE_VAL)));
      vmax = hn::Max(vmax, hn::IfThenElse(g_finite, gv, hn::Set(d, -HUGE_VAL)));
    } else {
      vmin = hn::Min(vmin, gv);
      vmax = hn::Max(vmax, gv);
    }

    // Histogram code: floor(log2(|d|/|g|)) from the exponent and significand fields
    // (float32-derived values are normal doubles). For float32 g and Q, |d|/|g| >= 2^-25 (both
    // are multiples of g's float32 quantum when Q is within a factor 2 of g, else |d| >= |g|/2),
    // so only the top of the histogram needs a clamp.
    // With |d| = 2^Ed (1 + Md 2^-52) and |g| likewise, the bit patterns differ by
    // (Ed - Eg) 2^52 + (Md - Mg) with |Md - Mg| < 2^52, so one arithmetic shift gives
    // floor(log2(|d|/|g|)) = Ed - Eg - [Md < Mg], and the low 52 bits are 0 iff Md = Mg.
    const VI diff = hn::Sub(hn::BitCast(di, hn::Abs(dv)), hn::BitCast(di, ag));
    const VI k = hn::ShiftRight<52>(diff);
    VI code = hn::IfThenElse(hn::Gt(k, hn::Set(di, int64_t{kRatioMaxExp})),
                             hn::Set(di, int64_t{kRatioBins - 1}),
                             hn::Add(k, hn::Set(di, int64_t{2} - kRatioMinExp)));
    // |d| = 2^k |g| exactly with Q != 0: a rounded d might sit on the edge (flushed elements
    // have |d| = |g| exactly and are never rounded).
    const auto edge =
        hn::And(hn::Eq(hn::And(diff, hn::Set(di, (int64_t{1} << 52) - 1)), hn::Zero(di)),
                hn::RebindMask(di, kept));
    code = hn::IfThenElse(edge, hn::Or(code, hn::Set(di, int64_t{kEdgeFlag})), code);
    code = hn::IfThenZeroElse(hn::RebindMask(di, exact), code);  // bin 0
    code = hn::IfThenElse(hn::RebindMask(di, zero_m), hn::Set(di, int64_t{kZeroCode}), code);
    if (kChecked) {
      code = hn::IfThenElse(hn::RebindMask(di, fin), code, hn::Set(di, int64_t{kNonFiniteCode}));
    }
    return hn::TruncateTo(d16, hn::BitCast(du, code));
  }

  // Whether the unchecked steps since the last flush saw only finite values.
  HWY_INLINE bool GroupFinite() const {
    auto ok = hn::And(hn::IsFinite(dg_s), hn::IsFinite(vmin));
    ok = hn::And(ok, hn::IsFinite(vmax));
    for (int s = 0; s < kNumSlots; ++s) ok = hn::And(ok, hn::IsFinite(inner[s]));
    return hn::AllTrue(d, ok);
  }

  // Written as a blend of the sum so that AVX-512 compiles it to one merge-masked add.
  HWY_INLINE void Acc(int slot, M m, V x) {
    inner[slot] = hn::IfThenElse(m, hn::Add(inner[slot], x), inner[slot]);
  }
};

void FastChunkF32Impl(const float* HWY_RESTRICT g, const float* HWY_RESTRICT q, size_t n,
                      const ClassThresholds& t, FastChunk* HWY_RESTRICT out,
                      uint16_t* HWY_RESTRICT codes) {
  using D = hn::ScalableTag<double>;
  using V = hn::Vec<D>;
  const D d;
  const hn::Rebind<float, D> df;
  const size_t lanes = hn::Lanes(d);
  Kernel<D> k(t);
  // Outer compensated accumulators, touched once per inner group: kept in memory.
  HWY_ALIGN double outer_s[kNumSlots][hn::MaxLanes(d)] = {};
  HWY_ALIGN double outer_c[kNumSlots][hn::MaxLanes(d)] = {};
  auto flush_inner = [&]() HWY_ATTR {
    for (int s = 0; s < kNumSlots; ++s) {
      if (s == kSlotTotalDG) continue;  // compensated per element
      V acc_s = hn::Load(d, outer_s[s]);
      V acc_c = hn::Load(d, outer_c[s]);
      TwoSumInto(k.inner[s], acc_s, acc_c);
      hn::Store(acc_s, d, outer_s[s]);
      hn::Store(acc_c, d, outer_c[s]);
      k.inner[s] = hn::Zero(d);
    }
  };
  const auto all = hn::FirstN(d, lanes);
  size_t i = 0;
  const size_t full = n - n % lanes;
  while (i < full) {
    const size_t group_begin = i;
    const size_t group_end = std::min(full, i + kInnerVectors * lanes);
    // Optimistic: unchecked steps, redone checked if a non-finite value showed up.
    const V dg_s = k.dg_s, dg_c = k.dg_c, vmin = k.vmin, vmax = k.vmax;
    const uint64_t sub = k.subnormal, fl = k.flushed, sat = k.saturated;
    for (; i < group_end; i += lanes) {
      const V gv = hn::PromoteTo(d, hn::LoadU(df, g + i));
      const V qv = hn::PromoteTo(d, hn::LoadU(df, q + i));
      hn::StoreU(k.template Step<false>(gv, qv, all), k.d16, codes + i);
    }
    if (HWY_UNLIKELY(!k.GroupFinite())) {
      k.dg_s = dg_s;
      k.dg_c = dg_c;
      k.vmin = vmin;
      k.vmax = vmax;
      k.subnormal = sub;
      k.flushed = fl;
      k.saturated = sat;
      for (V& v : k.inner) v = hn::Zero(d);
      for (i = group_begin; i < group_end; i += lanes) {
        const V gv = hn::PromoteTo(d, hn::LoadU(df, g + i));
        const V qv = hn::PromoteTo(d, hn::LoadU(df, q + i));
        hn::StoreU(k.template Step<true>(gv, qv, all), k.d16, codes + i);
      }
    }
    flush_inner();
  }
  if (i < n) {
    const size_t remaining = n - i;
    HWY_ALIGN float g_tail[hn::MaxLanes(df)] = {};
    HWY_ALIGN float q_tail[hn::MaxLanes(df)] = {};
    HWY_ALIGN uint16_t code_tail[hn::MaxLanes(k.d16)];
    for (size_t j = 0; j < remaining; ++j) {
      g_tail[j] = g[i + j];
      q_tail[j] = q[i + j];
    }
    const V gv = hn::PromoteTo(d, hn::Load(df, g_tail));
    const V qv = hn::PromoteTo(d, hn::Load(df, q_tail));
    hn::Store(k.template Step<true>(gv, qv, hn::FirstN(d, remaining)), k.d16, code_tail);
    for (size_t j = 0; j < remaining; ++j) codes[i + j] = code_tail[j];
    flush_inner();
  }
  hn::Store(k.dg_s, d, outer_s[kSlotTotalDG]);
  hn::Store(k.dg_c, d, outer_c[kSlotTotalDG]);
  for (int s = 0; s < kNumSlots; ++s) {
    CompensatedSum sum;
    double lo = 0.0;
    for (size_t j = 0; j < lanes; ++j) {
      sum.Add(outer_s[s][j]);
      lo += outer_c[s][j];
    }
    out->hi[s] = sum.hi;
    out->lo[s] = sum.lo + lo;
  }
  out->subnormal = k.subnormal;
  out->flushed = k.flushed;
  out->saturated = k.saturated;
  out->min_g = hn::GetLane(hn::MinOfLanes(d, k.vmin));
  out->max_g = hn::GetLane(hn::MaxOfLanes(d, k.vmax));
}

}  // namespace HWY_NAMESPACE
}  // namespace qfloat::analysis_internal
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace qfloat::analysis_internal {

HWY_EXPORT(FastChunkF32Impl);

void FastChunkF32(const float* g, const float* q, size_t n, const ClassThresholds& t,
                  FastChunk* out, uint16_t* codes) {
  HWY_DYNAMIC_DISPATCH(FastChunkF32Impl)(g, q, n, t, out, codes);
}

}  // namespace qfloat::analysis_internal
#endif  // HWY_ONCE
