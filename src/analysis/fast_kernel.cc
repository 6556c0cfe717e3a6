// The fast path's per-chunk kernel for float32 g and Q: classes, the sums, min/max and the ratio
// histogram, in one pass over L2-resident data. Compiled once per SIMD target (Highway
// foreach_target) and dispatched at run time.
//
// Cost per vector is what matters (the fused pass runs it on every element): S_dg is the only
// TwoSum per element (it cancels, THEORY.md §2.7); the class sums are plain lane sums over
// kInnerVectors vectors, then TwoSum-added (two-level summation: near-compensated accuracy at the
// cost of one add). Groups of kInnerVectors vectors first run a common-case step without the
// saturated and g = 0 != Q classes (and without non-finite checks); a group that has such a lane
// is redone with the full step, which gives the same bits. Each element's histogram code (exact
// from the exponent fields) is counted by scalar code one group behind, interleaved with the next
// group's vectors so that it overlaps the vector arithmetic; the rare bin-edge codes are resolved
// per group before that. Full vectors run without a lane mask; the tail runs once with one.
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "analysis/fast_kernel.cc"
#include <algorithm>
#include <cstring>
#include <utility>

#include "hwy/cache_control.h"
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

// The histogram, one group of vectors behind the SIMD loop: the codes and g^2 of a finished
// group are counted a few elements per vector step of the next group, so that the scalar
// loads/stores overlap the vector arithmetic instead of running as a pass of their own. The
// codes are final (bin-edge cases already resolved) when a group is handed over.
// Elements ahead of the loop that the kernel prefetches (prefetches never fault).
constexpr size_t kPrefetchAhead = 1024;

struct HistogramTail {
  ChunkHistogram* hist;
  const uint16_t* codes = nullptr;  // the pending group's codes and energies
  const double* energy = nullptr;
  size_t base = 0;  // chunk index of the pending group's first element
  size_t pos = 0;
  size_t count = 0;

  template <size_t kCopy>
  HWY_INLINE void One(size_t j) {
    const uint32_t c = codes[j];
    ++hist->count[kCopy][c];
    hist->energy[kCopy][c] += energy[j];
  }
  HWY_INLINE void OneAny(size_t j) {
    const uint32_t c = codes[j];
    const size_t copy = (base + j) % kHistCopies;
    ++hist->count[copy][c];
    hist->energy[copy][c] += energy[j];
  }
  template <size_t... kCopies>
  HWY_INLINE void Eight(std::index_sequence<kCopies...>) {
    (One<kCopies>(pos + kCopies), ...);
  }
  // kHistCopies pending elements (one per copy), if that many are left; called once per vector.
  HWY_INLINE void Some() {
    static_assert(kHistCopies == 8, "Eight() unrolls eight copies");
    if (HWY_LIKELY(pos + kHistCopies <= count && (base + pos) % kHistCopies == 0)) {
      Eight(std::make_index_sequence<kHistCopies>());
      pos += kHistCopies;
    } else {
      Rest();
    }
  }
  HWY_INLINE void Rest() {
    for (; pos < count; ++pos) OneAny(pos);
  }
  void Start(const uint16_t* c, const double* e, size_t b, size_t n) {
    Rest();
    codes = c;
    energy = e;
    base = b;
    pos = 0;
    count = n;
  }
};

// Resolves the codes flagged kEdgeFlag (|d| = 2^k |g| after rounding) with ExactRatioBin.
void FixEdges(const float* g, const float* q, uint16_t* codes, size_t n) {
  for (size_t j = 0; j < n; ++j) {
    if ((codes[j] & kEdgeFlag) != 0) codes[j] = static_cast<uint16_t>(ExactRatioBin(g[j], q[j]));
  }
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
  M rare;  // lanes that the common-case step does not classify (see Step)
  M edge;  // lanes whose code carries kEdgeFlag, since the group began
  uint64_t subnormal = 0, flushed = 0, saturated = 0;

  explicit Kernel(const ClassThresholds& t)
      : max_finite(hn::Set(d, t.max_finite)),
        min_normal(hn::Set(d, t.min_normal)),
        dg_s(hn::Zero(d)),
        dg_c(hn::Zero(d)),
        vmin(hn::Set(d, HUGE_VAL)),
        vmax(hn::Set(d, -HUGE_VAL)),
        rare(hn::FirstN(d, 0)),
        edge(hn::FirstN(d, 0)) {
    for (V& v : inner) v = hn::Zero(d);
  }

  // One vector; stores g^2 at gg_out and returns the histogram codes.
  // kChecked: lanes outside `valid` (the tail) and non-finite g or Q are excluded. Unchecked
  // steps assume every lane is a finite element: a non-finite lane then makes one of the sums
  // non-finite, which GroupFinite() detects so that the group is redone checked.
  // !kFull (the common case, unchecked only): assumes no lane is saturated (|Q| = max_finite)
  // and no lane has g = 0 != Q, and skips those classes' sums; such lanes set `rare` and the
  // group is redone in full. With neither present both variants give the same bits (a g = 0 lane
  // then has Q = 0 and adds +0 to the exact-class and total sums, as in the full step).
  template <bool kChecked, bool kFull>
  HWY_INLINE hn::Vec<hn::Rebind<uint16_t, DU>> Step(V gv, V qv, M valid, double* gg_out) {
    static_assert(kFull || !kChecked, "checked steps are full");
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
    const M same = hn::Eq(q0, g0);
    const M q_is_zero = hn::Eq(q0, zero);
    const V ag = hn::Abs(g0);
    const V aq = hn::Abs(q0);
    const M small = hn::Lt(ag, min_normal);
    M zero_m, exact, flush, kept, sat;
    if (kFull) {
      zero_m = kChecked ? hn::And(fin, g_is_zero) : g_is_zero;
      const M nz = kChecked ? hn::AndNot(g_is_zero, fin) : hn::Not(g_is_zero);
      exact = hn::And(nz, same);
      const M inexact = hn::AndNot(same, nz);
      flush = hn::And(inexact, q_is_zero);
      const M nonzero_q = hn::AndNot(q_is_zero, inexact);  // rounded to a nonzero value
      sat = hn::And(nonzero_q, hn::And(hn::Eq(aq, max_finite), hn::Gt(ag, aq)));
      kept = hn::AndNot(sat, nonzero_q);
    } else {
      zero_m = g_is_zero;
      exact = same;  // includes the g = Q = 0 lanes: they add +0
      flush = hn::AndNot(same, q_is_zero);
      kept = hn::Not(hn::Or(same, q_is_zero));
      rare = hn::Or(rare, hn::Or(hn::Eq(aq, max_finite), hn::AndNot(q_is_zero, g_is_zero)));
    }
    const M sub = hn::And(kept, small);
    const M normal = hn::AndNot(small, kept);
    subnormal += hn::CountTrue(d, sub);
    flushed += hn::CountTrue(d, flush);
    if (kFull) saturated += hn::CountTrue(d, sat);

    // Products of float32 values are exact in float64; d = Q - g is exact unless Q and g are
    // far apart (clamps), where its rounding is within the stated bound.
    const V dv = hn::Sub(q0, g0);
    const V gg = hn::Mul(g0, g0);
    const V gd = hn::Mul(g0, dv);
    const V dd = hn::Mul(dv, dv);
    hn::StoreU(gg, d, gg_out);
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
    if (kFull) {
      Acc(kSlotSatGG, sat, gg);
      Acc(kSlotSatDG, sat, gd);
      Acc(kSlotSatDD, sat, dd);
      Acc(kSlotZeroDD, zero_m, dd);
    }
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
    VI code = hn::Min(hn::Add(k, hn::Set(di, int64_t{2} - kRatioMinExp)),
                      hn::Set(di, int64_t{kRatioBins - 1}));
    // |d| = 2^k |g| exactly with Q != 0: a rounded d might sit on the edge (flushed elements
    // have |d| = |g| exactly and are never rounded).
    const auto on_edge =
        hn::And(hn::Eq(hn::And(diff, hn::Set(di, (int64_t{1} << 52) - 1)), hn::Zero(di)),
                hn::RebindMask(di, kFull ? hn::Or(kept, sat) : kept));
    edge = hn::Or(edge, hn::RebindMask(d, on_edge));
    code = hn::IfThenElse(on_edge, hn::Or(code, hn::Set(di, int64_t{kEdgeFlag})), code);
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

  // Full vectors [begin, end) of g and q into codes/gg (indexed from begin); with a histogram
  // tail, one vector's worth of its pending elements per step.
  template <bool kChecked, bool kFull>
  HWY_INLINE void Run(const float* HWY_RESTRICT g, const float* HWY_RESTRICT q, size_t begin,
                      size_t end, uint16_t* HWY_RESTRICT codes, double* HWY_RESTRICT gg,
                      HistogramTail* tail, const float* ahead) {
    const hn::Rebind<float, D> df;
    const size_t lanes = hn::Lanes(d);
    const auto all = hn::FirstN(d, lanes);
    for (size_t i = begin; i < end; i += lanes) {
      // Ahead of the hardware prefetchers, which fall behind on a loop this long per line.
      hwy::Prefetch(g + i + kPrefetchAhead);
      hwy::Prefetch(q + i + kPrefetchAhead);
      if (ahead != nullptr) hwy::Prefetch(ahead + i);
      const V gv = hn::PromoteTo(d, hn::LoadU(df, g + i));
      const V qv = hn::PromoteTo(d, hn::LoadU(df, q + i));
      hn::StoreU(Step<kChecked, kFull>(gv, qv, all, gg + (i - begin)), d16, codes + (i - begin));
      if (tail != nullptr) tail->Some();
    }
  }
};

void FastChunkF32Impl(const float* HWY_RESTRICT g, const float* HWY_RESTRICT q, size_t n,
                      const ClassThresholds& t, FastChunk* HWY_RESTRICT out,
                      ChunkHistogram* HWY_RESTRICT hist, const float* ahead) {
  using D = hn::ScalableTag<double>;
  using V = hn::Vec<D>;
  const D d;
  const hn::Rebind<float, D> df;
  const size_t lanes = hn::Lanes(d);
  constexpr size_t kGroup = kInnerVectors * hn::MaxLanes(D());
  Kernel<D> k(t);
  std::memset(hist, 0, sizeof(*hist));
  HistogramTail tail{hist};
  // Two group buffers: one being filled, the other being counted.
  HWY_ALIGN uint16_t code_buf[2][kGroup];
  HWY_ALIGN double gg_buf[2][kGroup];
  int cur = 0;
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
  size_t i = 0;
  const size_t full = n - n % lanes;
  bool full_steps = false;  // once a rare lane showed up in this chunk, stay in full steps
  while (i < full) {
    const size_t group_begin = i;
    const size_t group_end = std::min(full, i + kInnerVectors * lanes);
    uint16_t* codes = code_buf[cur];
    double* gg = gg_buf[cur];
    // Optimistic: unchecked (and, until a rare lane shows up, common-case) steps, redone if the
    // group breaks the assumption.
    const V dg_s = k.dg_s, dg_c = k.dg_c, vmin = k.vmin, vmax = k.vmax;
    const uint64_t sub = k.subnormal, fl = k.flushed, sat = k.saturated;
    k.edge = hn::FirstN(d, 0);
    auto restore = [&]() HWY_ATTR {
      k.edge = hn::FirstN(d, 0);
      k.dg_s = dg_s;
      k.dg_c = dg_c;
      k.vmin = vmin;
      k.vmax = vmax;
      k.subnormal = sub;
      k.flushed = fl;
      k.saturated = sat;
      for (V& v : k.inner) v = hn::Zero(d);
    };
    if (!full_steps) {
      k.template Run<false, false>(g, q, group_begin, group_end, codes, gg, &tail, ahead);
      if (HWY_UNLIKELY(!hn::AllFalse(d, k.rare))) {
        restore();
        full_steps = true;
        k.template Run<false, true>(g, q, group_begin, group_end, codes, gg, nullptr, nullptr);
      }
    } else {
      k.template Run<false, true>(g, q, group_begin, group_end, codes, gg, &tail, ahead);
    }
    if (HWY_UNLIKELY(!k.GroupFinite())) {
      restore();
      k.template Run<true, true>(g, q, group_begin, group_end, codes, gg, nullptr, nullptr);
    }
    if (HWY_UNLIKELY(!hn::AllFalse(d, k.edge))) {
      FixEdges(g + group_begin, q + group_begin, codes, group_end - group_begin);
    }
    i = group_end;
    flush_inner();
    tail.Start(codes, gg, group_begin, group_end - group_begin);
    cur ^= 1;
  }
  if (i < n) {
    const size_t remaining = n - i;
    HWY_ALIGN float g_tail[hn::MaxLanes(df)] = {};
    HWY_ALIGN float q_tail[hn::MaxLanes(df)] = {};
    for (size_t j = 0; j < remaining; ++j) {
      g_tail[j] = g[i + j];
      q_tail[j] = q[i + j];
    }
    const V gv = hn::PromoteTo(d, hn::Load(df, g_tail));
    const V qv = hn::PromoteTo(d, hn::Load(df, q_tail));
    hn::Store(k.template Step<true, true>(gv, qv, hn::FirstN(d, remaining), gg_buf[cur]), k.d16,
              code_buf[cur]);
    FixEdges(g + i, q + i, code_buf[cur], remaining);
    flush_inner();
    tail.Start(code_buf[cur], gg_buf[cur], i, remaining);
  }
  tail.Rest();
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
                  FastChunk* out, ChunkHistogram* hist, const float* ahead) {
  HWY_DYNAMIC_DISPATCH(FastChunkF32Impl)(g, q, n, t, out, hist, ahead);
}

}  // namespace qfloat::analysis_internal
#endif  // HWY_ONCE
