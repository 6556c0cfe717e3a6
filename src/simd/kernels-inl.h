// The SIMD kernels: float -> code (every rounding mode and overflow policy), code -> float, and
// the per-range drivers, written once with Highway ops and compiled once per target (each
// src/simd/*.cc re-includes this header through hwy/foreach_target.h).
//
// Spec card. A float32 input is an integer significand A (bit 31 set) and an exponent e, with
// |x| = A 2^(e-31) (float64: 64-bit A, 2^(e-63)); float32/64 subnormals are normalised with an
// exact int -> float conversion. Minifloats: the kept bits are A >> sl, where sl = W-1-m in the
// normal range and grows by emin - e below it; the code is ((e - base) << m) + (A >> sl), so the
// carry of a round-up walks into the exponent field by itself. Posits: the body is the regime,
// es exponent bits and the fraction, cut to n-1 bits. In both cases the first 32 dropped bits
// (`digit`) and whether anything is left below them (`sticky`) decide the rounding through one
// unsigned comparison against a per-lane threshold (params.h), which covers rne rna rtz rup rdn
// rto, `sr` (digit > word) and `sr:K` (digit > ~(word & topK)). Every lane takes the same path;
// only specials (NaN, inf, zero, overflow) cost a second look, and only when a vector has one.
//
// That is the generic kernel (GenericEncoder). Two faster ones cover the common formats with
// the same decision on the float32 bit pattern itself: FastEncoder (minifloats whose grid lies
// inside float32's) and FastPositEncoder (posits whose values are float32 normals); a vector with
// any unusual lane (NaN, inf, zero, overflow, saturation) goes through the generic kernel.
//
// Lanes the vector path cannot decide bit-exactly are flagged and finished by scalar code:
// exact `sr` when word 0 equals the fraction's first 32 bits and the fraction goes on (needs
// word 1: the reference), and, in the generic kernel, posit SR where exponent bits are cut
// (PositCutMagnitude; the fast posit kernel decides those in 64-bit lanes, CutPositUp).
//
// Random bits: element i uses word (i mod 4) of Philox4x32-10 on block i/4 (detail::
// StochasticBits). A group of 4 vectors (4N elements, N blocks) runs one Philox per block in
// the low halves of 64-bit lanes and transposes the 4 result words back to element order with
// per-128-bit-block interleaves, so each block is computed once.

#if defined(QFLOAT_SRC_SIMD_KERNELS_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef QFLOAT_SRC_SIMD_KERNELS_INL_H_
#undef QFLOAT_SRC_SIMD_KERNELS_INL_H_
#else
#define QFLOAT_SRC_SIMD_KERNELS_INL_H_
#endif

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "hwy/cache_control.h"
#include "hwy/highway.h"
#include "qfloat/detail/bits.h"
#include "qfloat/detail/philox.h"
#include "simd/params.h"
#include "simd/scalar_helpers.h"

HWY_BEFORE_NAMESPACE();
namespace qfloat {
namespace simd {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

using DU32 = hn::ScalableTag<uint32_t>;
using DI32 = hn::ScalableTag<int32_t>;
using DF32 = hn::ScalableTag<float>;
using DU64 = hn::ScalableTag<uint64_t>;
using DI64 = hn::ScalableTag<int64_t>;
using DF64 = hn::ScalableTag<double>;
using VU32 = hn::Vec<DU32>;
using VU64 = hn::Vec<DU64>;

// Most lanes of any vector on this target (buffer sizes).
constexpr size_t kMaxLanes32 = HWY_MAX_BYTES / 4;

// ------------------------------------------------------------------------------------------
// Philox4x32-10

// Ten rounds on two vectors of independent counters held in the low halves of 64-bit lanes
// (philox.h Philox4x32_10, lane-wise). MulEven multiplies the low halves into full 64-bit
// products, so a round is 2 multiplies, 2 shifts and 2 three-way xors per vector; the high halves
// carry garbage that nothing reads (every consumer looks at the low 32 bits only). The two
// vectors go through each round together: a round's multiply-shift-xor chain is latency-bound,
// and two independent chains fill the pipeline (about 20% fewer cycles than one after the other
// on AVX-512 here).
#if HWY_TARGET != HWY_SCALAR
struct PhiloxState {
  VU64 c0, c1, c2, c3;
};
HWY_INLINE void Philox10x2(DU64 d, PhiloxState& a, PhiloxState& b, uint32_t k0, uint32_t k1) {
  const hn::Repartition<uint32_t, DU64> d32;
  const auto m0 = hn::BitCast(d32, hn::Set(d, uint64_t{detail::kPhiloxM0}));
  const auto m1 = hn::BitCast(d32, hn::Set(d, uint64_t{detail::kPhiloxM1}));
  for (int round = 0; round < 10; ++round) {
    const auto key0 = hn::Set(d, uint64_t{k0});
    const auto key1 = hn::Set(d, uint64_t{k1});
    const VU64 pa0 = hn::MulEven(hn::BitCast(d32, a.c0), m0);
    const VU64 pa1 = hn::MulEven(hn::BitCast(d32, a.c2), m1);
    const VU64 pb0 = hn::MulEven(hn::BitCast(d32, b.c0), m0);
    const VU64 pb1 = hn::MulEven(hn::BitCast(d32, b.c2), m1);
    a.c0 = hn::Xor3(hn::ShiftRight<32>(pa1), a.c1, key0);
    a.c2 = hn::Xor3(hn::ShiftRight<32>(pa0), a.c3, key1);
    b.c0 = hn::Xor3(hn::ShiftRight<32>(pb1), b.c1, key0);
    b.c2 = hn::Xor3(hn::ShiftRight<32>(pb0), b.c3, key1);
    a.c1 = pa1;
    a.c3 = pa0;
    b.c1 = pb1;
    b.c3 = pb0;
    k0 += detail::kPhiloxW0;
    k1 += detail::kPhiloxW1;
  }
}
#endif

// Word 0 of the random bits of elements g, g+1, ..., g+4N-1 (g a multiple of 4, N = 32-bit
// lanes), as four vectors in element order: words[r] lane j belongs to element g + r N + j.
HWY_INLINE void GroupWords(DU32 d, const EncodeParams& p, uint64_t g, VU32 words[4]) {
  const uint64_t block0 = g >> 2;
#if HWY_TARGET == HWY_SCALAR
  (void)d;
  (void)block0;
  for (int r = 0; r < 4; ++r) {
    words[r] = hn::Set(d, StochasticBits(p.options.seed, p.options.stream, g + r, 0));
  }
#else
  // Two Philox vectors of N/2 blocks each. Packing the 4 words of a block into two 64-bit lanes
  // and interleaving 64-bit lanes within 128-bit blocks puts block j' = (lane 2q + h) of vector
  // v in 128-bit block q of output 2v + h; so lane j of vector v runs block
  // block0 + v N/2 + (j mod 2) N/4 + j/2, and output r holds blocks block0 + r N/4 + q, which
  // are elements g + r N + 4q ... 4q+3.
  const DU64 d64;
  const size_t half = hn::Lanes(d64);  // N/2 blocks per Philox vector
  const auto iota = hn::Iota(d64, 0);
  const auto offset =
      hn::Add(hn::ShiftLeftSame(hn::And(iota, hn::Set(d64, uint64_t{1})),
                                static_cast<int>(hwy::FloorLog2(half / 2 > 0 ? half / 2 : 1))),
              hn::ShiftRight<1>(iota));
  const uint32_t seed_lo = static_cast<uint32_t>(p.options.seed);
  const uint32_t seed_hi = static_cast<uint32_t>(p.options.seed >> 32);
  const auto low = hn::Set(d64, 0xFFFFFFFFull);
  PhiloxState state[2];
  for (size_t v = 0; v < 2; ++v) {
    const auto block = hn::Add(hn::Set(d64, block0 + v * half), half >= 2 ? offset : hn::Zero(d64));
    state[v].c0 = block;
    state[v].c1 = hn::ShiftRight<32>(block);
    state[v].c2 = hn::Set(d64, uint64_t{p.options.stream});
    state[v].c3 = hn::Zero(d64);
  }
  Philox10x2(d64, state[0], state[1], seed_lo, seed_hi);
  for (size_t v = 0; v < 2; ++v) {
    const VU64 w01 = hn::Or(hn::And(state[v].c0, low), hn::ShiftLeft<32>(state[v].c1));
    const VU64 w23 = hn::Or(hn::And(state[v].c2, low), hn::ShiftLeft<32>(state[v].c3));
    words[2 * v] = hn::BitCast(d, hn::InterleaveLower(d64, w01, w23));
    words[2 * v + 1] = hn::BitCast(d, hn::InterleaveUpper(d64, w01, w23));
  }
#endif
}

// ------------------------------------------------------------------------------------------
// Inputs: sign, specials, and |x| = A 2^(e - W + 1) with bit W-1 of A set.

template <class DU>
HWY_INLINE hn::Mask<DU> NoLanes(DU du) {
  return hn::MaskFromVec(hn::Zero(du));
}

template <class DU>
struct Unpacked {
  hn::Vec<DU> a;
  hn::Vec<hn::RebindToSigned<DU>> e;
  hn::Mask<DU> negative, nan, inf, zero;
};

HWY_INLINE Unpacked<DU32> UnpackF32(DU32 du, VU32 bits) {
  const DI32 di;
  const DF32 df;
  Unpacked<DU32> u;
  const auto mag = hn::And(bits, hn::Set(du, 0x7FFFFFFFu));
  u.negative = hn::RebindMask(du, hn::Lt(hn::BitCast(di, bits), hn::Zero(di)));
  u.nan = hn::Gt(mag, hn::Set(du, 0x7F800000u));
  u.inf = hn::Eq(mag, hn::Set(du, 0x7F800000u));
  u.zero = hn::Eq(mag, hn::Zero(du));
  auto norm = mag;
  auto e = hn::Sub(hn::BitCast(di, hn::ShiftRight<23>(mag)), hn::Set(di, 127));
  const auto subnormal = hn::Lt(mag, hn::Set(du, 0x00800000u));
  if (HWY_UNLIKELY(!hn::AllFalse(du, subnormal))) {
    // |x| = mag 2^-149: the conversion of the integer mag is exact and normalises it.
    const auto converted = hn::BitCast(du, hn::ConvertTo(df, hn::BitCast(di, mag)));
    norm = hn::IfThenElse(subnormal, converted, mag);
    const auto e_sub =
        hn::Sub(hn::BitCast(di, hn::ShiftRight<23>(converted)), hn::Set(di, 127 + 149));
    e = hn::IfThenElse(hn::RebindMask(di, subnormal), e_sub, e);
  }
  u.e = e;
  u.a = hn::Or(hn::ShiftLeft<8>(norm), hn::Set(du, 0x80000000u));
  return u;
}

HWY_INLINE Unpacked<DU64> UnpackF64(DU64 du, VU64 bits) {
  const DI64 di;
  const DF64 df;
  Unpacked<DU64> u;
  const auto mag = hn::And(bits, hn::Set(du, 0x7FFFFFFFFFFFFFFFull));
  u.negative = hn::RebindMask(du, hn::Lt(hn::BitCast(di, bits), hn::Zero(di)));
  u.nan = hn::Gt(mag, hn::Set(du, 0x7FF0000000000000ull));
  u.inf = hn::Eq(mag, hn::Set(du, 0x7FF0000000000000ull));
  u.zero = hn::Eq(mag, hn::Zero(du));
  auto norm = mag;
  auto e = hn::Sub(hn::BitCast(di, hn::ShiftRight<52>(mag)), hn::Set(di, int64_t{1023}));
  const auto subnormal = hn::Lt(mag, hn::Set(du, 0x0010000000000000ull));
  if (HWY_UNLIKELY(!hn::AllFalse(du, subnormal))) {
    // |x| = mag 2^-1074; mag < 2^52 becomes a double exactly as (2^52 + mag) - 2^52.
    const auto magic = hn::Set(du, 0x4330000000000000ull);
    const auto converted =
        hn::BitCast(du, hn::Sub(hn::BitCast(df, hn::Or(mag, magic)), hn::BitCast(df, magic)));
    norm = hn::IfThenElse(subnormal, converted, mag);
    const auto e_sub =
        hn::Sub(hn::BitCast(di, hn::ShiftRight<52>(converted)), hn::Set(di, int64_t{1023 + 1074}));
    e = hn::IfThenElse(hn::RebindMask(di, subnormal), e_sub, e);
  }
  u.e = e;
  u.a = hn::Or(hn::ShiftLeft<11>(norm), hn::Set(du, 0x8000000000000000ull));
  return u;
}

// ------------------------------------------------------------------------------------------
// Rounding: the dropped part of A below its top `sl` ... W-1 bits, as (digit, sticky).

template <class DU>
struct Dropped {
  hn::Vec<DU> kept;     // A >> sl
  hn::Vec<DU> digit;    // first 32 bits of the dropped fraction
  hn::Mask<DU> sticky;  // anything non-zero below them
};

// sl >= 0 may exceed 2W.
template <class DU>
HWY_INLINE Dropped<DU> Drop(DU du, hn::Vec<DU> a, hn::Vec<hn::RebindToSigned<DU>> sl) {
  using T = hn::TFromD<DU>;
  using TI = hwy::MakeSigned<T>;
  constexpr int kW = static_cast<int>(sizeof(T) * 8);
  const hn::RebindToSigned<DU> di;
  const auto w = hn::Set(di, TI{kW});
  const auto wm1 = hn::Set(di, TI{kW - 1});
  const auto zero = hn::Zero(di);
  Dropped<DU> r;
  r.kept = hn::IfThenZeroElse(hn::RebindMask(du, hn::Gt(sl, wm1)),
                              (a >> hn::BitCast(du, hn::Min(sl, wm1))));
  // The fraction, left-aligned in W bits: A << (W - sl), or A >> (sl - W) below the window.
  const auto beyond = hn::RebindMask(du, hn::Gt(sl, w));
  const auto t = hn::Sub(sl, w);
  const auto far = hn::RebindMask(du, hn::Gt(t, wm1));
  const auto left = (a << hn::BitCast(du, hn::Min(hn::Max(hn::Sub(w, sl), zero), wm1)));
  const auto t_clamped = hn::Min(hn::Max(t, hn::Set(di, TI{1})), wm1);
  const auto right = hn::IfThenZeroElse(far, (a >> hn::BitCast(du, t_clamped)));
  auto frac = hn::IfThenElse(beyond, right, left);
  const auto lost = hn::Ne((a << hn::BitCast(du, hn::Sub(w, t_clamped))), hn::Zero(du));
  r.sticky = hn::And(beyond, hn::Or(far, lost));
  if constexpr (kW == 64) {
    r.sticky = hn::Or(r.sticky, hn::Ne(hn::And(frac, hn::Set(du, T{0xFFFFFFFFu})), hn::Zero(du)));
    frac = hn::ShiftRight<32>(frac);
  }
  r.digit = frac;
  return r;
}

// The one rounding decision (bits.h RoundAwayFromZero): whether the magnitude goes up.
template <class DU>
HWY_INLINE hn::Mask<DU> RoundUp(DU du, const EncodeParams& p, const Dropped<DU>& dropped,
                                hn::Vec<DU> lower, hn::Vec<DU> word, hn::Mask<DU> negative) {
  using T = hn::TFromD<DU>;
  const auto odd = hn::Eq(hn::And(lower, hn::Set(du, T{1})), hn::Set(du, T{1}));
  auto threshold = hn::Xor(hn::And(word, hn::Set(du, T{p.rmask})), hn::Set(du, T{p.thr_base}));
  threshold = hn::Xor(threshold, hn::IfThenElseZero(odd, hn::Set(du, T{p.thr_odd})));
  threshold = hn::Xor(threshold, hn::IfThenElseZero(negative, hn::Set(du, T{p.thr_neg})));
  const auto digit =
      hn::Or(dropped.digit, hn::IfThenElseZero(dropped.sticky, hn::Set(du, T{p.sticky_or})));
  return hn::Gt(digit, threshold);
}

// ------------------------------------------------------------------------------------------
// Minifloat and posit magnitudes.

template <class DU>
struct Encoded {
  hn::Vec<DU> code;
  hn::Mask<DU> reference;  // lanes to recompute with the scalar reference
  hn::Mask<DU> cut;        // posit SR lanes with cut exponent bits (PositCutMagnitude)
};

template <class DU>
HWY_INLINE hn::Vec<DU> Pick(DU du, hn::Mask<DU> negative, const uint32_t codes[2]) {
  using T = hn::TFromD<DU>;
  return hn::IfThenElse(negative, hn::Set(du, T{codes[1]}), hn::Set(du, T{codes[0]}));
}

// bits.h MinifloatMagnitude + EncodeDouble's specials.
template <class DU>
HWY_INLINE Encoded<DU> EncodeMinifloat(DU du, const EncodeParams& p, const Unpacked<DU>& u,
                                       hn::Vec<DU> word) {
  using T = hn::TFromD<DU>;
  using TI = hwy::MakeSigned<T>;
  constexpr int kW = static_cast<int>(sizeof(T) * 8);
  const hn::RebindToSigned<DU> di;
  const auto below_i = hn::Lt(u.e, hn::Set(di, TI{p.emin}));
  const auto below = hn::RebindMask(du, below_i);
  const auto sl =
      hn::IfThenElse(below_i, hn::Sub(hn::Set(di, TI{kW - 1 - p.m_below + p.emin}), u.e),
                     hn::Set(di, TI{kW - 1 - p.m}));
  const Dropped<DU> dropped = Drop(du, u.a, sl);
  const auto base =
      hn::ShiftLeftSame(hn::BitCast(du, hn::Sub(u.e, hn::Set(di, TI{p.base_offset}))), p.m);
  const auto lower = hn::Add(hn::IfThenZeroElse(below, base), dropped.kept);
  auto up = RoundUp(du, p, dropped, lower, word, u.negative);
  if (!p.has_zero) up = hn::AndNot(below, up);  // nothing below the smallest value: clamp
  Encoded<DU> out;
  out.reference = p.sr_exact ? hn::And(hn::Eq(dropped.digit, word), dropped.sticky) : NoLanes(du);
  out.cut = NoLanes(du);
  const auto step = hn::IfThenElse(below, hn::Set(du, T{p.step_below}), hn::Set(du, T{1}));
  const auto mag = hn::Add(lower, hn::IfThenElseZero(up, step));
  auto overflow = hn::Or(hn::RebindMask(du, hn::Gt(u.e, hn::Set(di, TI{p.emax}))),
                         hn::Gt(mag, hn::Set(du, T{p.max_code})));
  if (kW == 32 && p.check_wrap) {
    overflow = hn::Or(overflow, hn::And(hn::Eq(lower, hn::Set(du, T{p.max_code})), up));
  }
  const auto mag_zero = hn::Eq(mag, hn::Zero(du));
  auto special = hn::Or(hn::Or(u.nan, u.inf), hn::Or(u.zero, overflow));
  if (p.has_zero) special = hn::Or(special, mag_zero);
  if (!p.is_signed) special = hn::Or(special, u.negative);
  auto code = hn::Or(mag, hn::IfThenElseZero(u.negative, hn::Set(du, T{p.sign_bit})));
  if (HWY_UNLIKELY(!hn::AllFalse(du, special))) {
    if (p.has_zero) code = hn::IfThenElse(mag_zero, Pick(du, u.negative, p.zero_code), code);
    code = hn::IfThenElse(overflow, Pick(du, u.negative, p.ovf_code), code);
    if (!p.is_signed) code = hn::IfThenElse(u.negative, hn::Set(du, T{p.below_unsigned}), code);
    code = hn::IfThenElse(u.zero, Pick(du, u.negative, p.zero_code), code);
    code = hn::IfThenElse(u.inf, Pick(du, u.negative, p.inf_code), code);
    code = hn::IfThenElse(u.nan, Pick(du, u.negative, p.nan_code), code);
    const auto finite = hn::Not(hn::Or(hn::Or(u.nan, u.inf), u.zero));
    out.reference = hn::And(out.reference, finite);
  }
  out.code = code;
  return out;
}

// bits.h PositMagnitude + EncodeDouble's specials (two's complement for negatives).
template <class DU>
HWY_INLINE Encoded<DU> EncodePosit(DU du, const EncodeParams& p, const Unpacked<DU>& u,
                                   hn::Vec<DU> word) {
  using T = hn::TFromD<DU>;
  using TI = hwy::MakeSigned<T>;
  constexpr int kW = static_cast<int>(sizeof(T) * 8);
  const hn::RebindToSigned<DU> di;
  const auto max_scale = hn::Set(di, TI{p.max_scale});
  const auto min_scale = hn::Set(di, TI{-p.max_scale});
  const auto sat_max = hn::RebindMask(du, hn::Gt(u.e, hn::Sub(max_scale, hn::Set(di, TI{1}))));
  const auto sat_min = hn::Or(hn::RebindMask(du, hn::Lt(u.e, min_scale)),
                              hn::And(hn::RebindMask(du, hn::Eq(u.e, min_scale)),
                                      hn::Eq(u.a, hn::Set(du, T{1} << (kW - 1)))));
  // Saturated lanes are replaced below; clamping keeps their shift counts in range.
  const auto e = hn::Min(hn::Max(u.e, min_scale), hn::Sub(max_scale, hn::Set(di, TI{1})));
  const auto regime = hn::ShiftRightSame(e, p.es);  // floor(e / 2^es)
  const auto e_field = hn::BitCast(du, hn::And(e, hn::Set(di, TI{(1 << p.es) - 1})));
  const auto nonneg_i = hn::Gt(regime, hn::Set(di, TI{-1}));
  const auto regime_len = hn::IfThenElse(nonneg_i, hn::Add(regime, hn::Set(di, TI{2})),
                                         hn::Sub(hn::Set(di, TI{1}), regime));
  const auto avail = hn::BitCast(du, hn::Sub(hn::Set(di, TI{p.body_bits}), regime_len));
  const auto regime_part =
      hn::IfThenElse(hn::RebindMask(du, nonneg_i),
                     hn::Sub(hn::Set(du, T{p.regime_top}), (hn::Set(du, T{2}) << avail)),
                     (hn::Set(du, T{1}) << avail));
  // After the regime's terminating bit, left-aligned: es exponent bits, then the fraction.
  const int e_shift = p.es == 0 ? kW - 1 : kW - p.es;
  const auto tail =
      hn::Or(hn::ShiftLeftSame(e_field, e_shift), hn::ShiftRightSame(hn::ShiftLeft<1>(u.a), p.es));
  const auto kept = (hn::ShiftRight<1>(tail) >> hn::Sub(hn::Set(du, T{kW - 1}), avail));
  const auto frac = (tail << avail);
  Dropped<DU> dropped;
  dropped.kept = kept;
  if constexpr (kW == 64) {
    dropped.digit = hn::ShiftRight<32>(frac);
    dropped.sticky = hn::Ne(hn::And(frac, hn::Set(du, T{0xFFFFFFFFu})), hn::Zero(du));
  } else {
    dropped.digit = frac;
    dropped.sticky = NoLanes(du);
  }
  const auto lower = hn::Or(regime_part, kept);
  const auto up = RoundUp(du, p, dropped, lower, word, u.negative);
  auto mag = hn::Add(lower, hn::IfThenElseZero(up, hn::Set(du, T{1})));
  mag = hn::IfThenElse(sat_max, hn::Set(du, T{p.max_code}), mag);
  mag = hn::IfThenElse(sat_min, hn::Set(du, T{1}), mag);
  const auto special = hn::Or(hn::Or(u.nan, u.inf), u.zero);
  const auto decided = hn::Not(hn::Or(special, hn::Or(sat_max, sat_min)));
  Encoded<DU> out;
  if (p.stochastic) {
    const auto inexact = hn::Or(hn::Ne(dropped.digit, hn::Zero(du)), dropped.sticky);
    out.cut = hn::And(hn::And(hn::Lt(avail, hn::Set(du, T(p.es))), inexact), decided);
    out.reference = p.sr_exact ? hn::And(hn::And(hn::Eq(dropped.digit, word), dropped.sticky),
                                         hn::AndNot(out.cut, decided))
                               : NoLanes(du);
  } else {
    out.cut = NoLanes(du);
    out.reference = NoLanes(du);
  }
  auto code = hn::IfThenElse(u.negative,
                             hn::And(hn::Sub(hn::Zero(du), mag), hn::Set(du, T{p.code_mask})), mag);
  code = hn::IfThenZeroElse(u.zero, code);
  code = hn::IfThenElse(hn::Or(u.nan, u.inf), hn::Set(du, T{p.nan_code[0]}), code);
  out.code = code;
  return out;
}

template <bool kPosit, class DU>
HWY_INLINE Encoded<DU> EncodeUnpacked(DU du, const EncodeParams& p, const Unpacked<DU>& u,
                                      hn::Vec<DU> word) {
  if constexpr (kPosit) {
    return EncodePosit(du, p, u, word);
  } else {
    return EncodeMinifloat(du, p, u, word);
  }
}

// ------------------------------------------------------------------------------------------
// Decoding codes (bits.h DecodeToDouble).

// float32 bits of the value of each code, for formats whose values are all float32 and that
// params.cc marked f32_direct.
HWY_INLINE VU32 DecodeMinifloatF32(DU32 du, const DecodeParams& p, VU32 code) {
  const DF32 df;
  const DI32 di;
  const auto mag = hn::And(code, hn::Set(du, p.magnitude_mask));
  auto value = hn::BitCast(df, hn::Add(hn::ShiftLeftSame(mag, 23 - p.m), hn::Set(du, p.f32_adj)));
  if (p.f32_scale != 1.0f) value = hn::Mul(value, hn::Set(df, p.f32_scale));
  auto bits = hn::BitCast(du, value);
  if (p.has_zero) {
    const auto low = hn::Lt(mag, hn::Set(du, 1u << p.m));  // exponent field 0
    if (!hn::AllFalse(du, low)) {
      const auto sub =
          hn::Mul(hn::ConvertTo(df, hn::BitCast(di, mag)), hn::Set(df, p.f32_sub_scale));
      bits = hn::IfThenElse(low, hn::BitCast(du, sub), bits);
    }
  }
  const auto negative = hn::Ne(hn::And(code, hn::Set(du, p.sign_bit)), hn::Zero(du));
  bits = hn::Or(bits, hn::IfThenElseZero(negative, hn::Set(du, 0x80000000u)));
  auto nan = hn::Gt(mag, hn::Set(du, p.max_code));
  if (p.nan_at_sign_bit) nan = hn::Or(nan, hn::Eq(code, hn::Set(du, p.sign_bit)));
  if (HWY_UNLIKELY(!hn::AllFalse(du, nan))) {
    auto special = hn::Set(du, 0x7FC00000u);
    if (p.nan_signed)
      special = hn::Or(special, hn::IfThenElseZero(negative, hn::Set(du, 0x80000000u)));
    if (p.has_inf) {
      const auto inf = hn::Eq(mag, hn::Set(du, p.inf_code));
      special = hn::IfThenElse(
          inf,
          hn::Or(hn::Set(du, 0x7F800000u), hn::IfThenElseZero(negative, hn::Set(du, 0x80000000u))),
          special);
    }
    bits = hn::IfThenElse(nan, special, bits);
  }
  return bits;
}

// Position of the highest set bit of each lane (y in [1, 2^31)).
HWY_INLINE hn::Vec<DI32> HighestBit(DU32 du, VU32 y) {
  const DF32 df;
  const DI32 di;
  // Clearing every bit whose upper neighbour is set keeps the top bit and lets no run of ones
  // round the conversion up to the next power of two.
  const auto single = hn::AndNot(hn::ShiftRight<1>(y), y);
  const auto f = hn::BitCast(du, hn::ConvertTo(df, hn::BitCast(di, single)));
  return hn::Sub(hn::BitCast(di, hn::ShiftRight<23>(f)), hn::Set(di, 127));
}

HWY_INLINE VU32 DecodePositF32(DU32 du, const DecodeParams& p, VU32 code) {
  const DI32 di;
  const int n = p.n;
  code = hn::And(code, hn::Set(du, p.code_mask));
  const auto negative = hn::Ne(hn::And(code, hn::Set(du, p.sign_bit)), hn::Zero(du));
  const auto mag = hn::IfThenElse(
      negative, hn::And(hn::Sub(hn::Zero(du), code), hn::Set(du, p.code_mask)), code);
  const auto first = hn::Ne(hn::And(mag, hn::Set(du, 1u << (n - 2))), hn::Zero(du));
  const auto y = hn::IfThenElse(first, hn::AndNot(mag, hn::Set(du, p.magnitude_mask)), mag);
  const auto is_maxpos = hn::Eq(y, hn::Zero(du));
  // Bits after the regime's terminating bit: `left` = floor(log2 y); run length n-2-left.
  const auto left = hn::Max(HighestBit(du, hn::Max(y, hn::Set(du, 1u))), hn::Zero(di));
  const auto run = hn::Sub(hn::Set(di, n - 2), left);
  const auto regime =
      hn::IfThenElse(hn::RebindMask(di, first), hn::Sub(run, hn::Set(di, 1)), hn::Neg(run));
  const auto tail = hn::ShiftLeft<1>((mag << hn::BitCast(du, hn::Sub(hn::Set(di, 31), left))));
  const auto exponent = hn::ShiftRight<1>(hn::ShiftRightSame(tail, 31 - p.es));
  const auto frac = hn::ShiftLeftSame(tail, p.es);
  const auto scale = hn::Add(hn::BitCast(du, hn::ShiftLeftSame(regime, p.es)), exponent);
  auto bits = hn::Or(hn::ShiftLeft<23>(hn::Add(scale, hn::Set(du, 127u))), hn::ShiftRight<9>(frac));
  bits = hn::IfThenElse(is_maxpos, hn::Set(du, p.maxpos_f32), bits);
  bits = hn::Or(bits, hn::IfThenElseZero(negative, hn::Set(du, 0x80000000u)));
  bits = hn::IfThenZeroElse(hn::Eq(code, hn::Zero(du)), bits);
  bits = hn::IfThenElse(hn::Eq(code, hn::Set(du, p.sign_bit)), hn::Set(du, 0x7FC00000u), bits);
  return bits;
}

// float64 bits of the value of each code (any format: exact).
HWY_INLINE VU64 DecodeF64(DU64 du, const DecodeParams& p, VU64 code) {
  const DI64 di;
  const DF64 df;
  code = hn::And(code, hn::Set(du, uint64_t{p.code_mask}));
  const auto negative = hn::Ne(hn::And(code, hn::Set(du, uint64_t{p.sign_bit})), hn::Zero(du));
  const auto sign = hn::IfThenElseZero(negative, hn::Set(du, 0x8000000000000000ull));
  const auto magic = hn::Set(du, 0x4330000000000000ull);  // 2^52: integers < 2^52 -> double
  if (p.posit) {
    const int n = p.n;
    const auto mask = hn::Set(du, uint64_t{p.code_mask});
    const auto mag = hn::IfThenElse(negative, hn::And(hn::Sub(hn::Zero(du), code), mask), code);
    const auto first = hn::Ne(hn::And(mag, hn::Set(du, uint64_t{1} << (n - 2))), hn::Zero(du));
    const auto y =
        hn::IfThenElse(first, hn::AndNot(mag, hn::Set(du, uint64_t{p.magnitude_mask})), mag);
    const auto is_maxpos = hn::Eq(y, hn::Zero(du));
    const auto y_double =
        hn::Sub(hn::BitCast(df, hn::Or(hn::Max(y, hn::Set(du, uint64_t{1})), magic)),
                hn::BitCast(df, magic));
    const auto left = hn::Sub(hn::BitCast(di, hn::ShiftRight<52>(hn::BitCast(du, y_double))),
                              hn::Set(di, int64_t{1023}));
    const auto run = hn::Sub(hn::Set(di, int64_t{n - 2}), left);
    const auto regime = hn::IfThenElse(hn::RebindMask(di, first),
                                       hn::Sub(run, hn::Set(di, int64_t{1})), hn::Neg(run));
    const auto tail =
        hn::ShiftLeft<1>((mag << hn::BitCast(du, hn::Sub(hn::Set(di, int64_t{63}), left))));
    const auto exponent = hn::ShiftRight<1>(hn::ShiftRightSame(tail, 63 - p.es));
    const auto frac = hn::ShiftLeftSame(tail, p.es);
    const auto scale = hn::Add(hn::BitCast(du, hn::ShiftLeftSame(regime, p.es)), exponent);
    auto bits = hn::Or(hn::ShiftLeft<52>(hn::Add(scale, hn::Set(du, uint64_t{1023}))),
                       hn::ShiftRight<12>(frac));
    bits = hn::IfThenElse(is_maxpos, hn::Set(du, p.maxpos_f64), bits);
    bits = hn::Or(bits, sign);
    bits = hn::IfThenZeroElse(hn::Eq(code, hn::Zero(du)), bits);
    bits = hn::IfThenElse(hn::Eq(code, hn::Set(du, uint64_t{p.sign_bit})),
                          hn::Set(du, 0x7FF8000000000000ull), bits);
    return bits;
  }
  const auto mag = hn::And(code, hn::Set(du, uint64_t{p.magnitude_mask}));
  const auto exp_field = hn::ShiftRightSame(mag, p.m);
  const auto mant = hn::And(mag, hn::Set(du, (uint64_t{1} << p.m) - 1));
  auto sig = hn::Or(mant, hn::Set(du, uint64_t{1} << p.m));
  auto ex = hn::Sub(hn::BitCast(di, exp_field), hn::Set(di, int64_t{p.z - p.emin + p.m}));
  if (p.has_zero) {
    const auto low = hn::Eq(exp_field, hn::Zero(du));
    sig = hn::IfThenElse(low, p.subnormals ? mant : hn::Zero(du), sig);
    ex = hn::IfThenElse(hn::RebindMask(di, low), hn::Set(di, int64_t{p.emin - p.m}), ex);
  }
  // value = sig 2^ex, with 2^ex split in two normal factors (ex may reach -1074 - 31).
  const auto sig_double = hn::Sub(hn::BitCast(df, hn::Or(sig, magic)), hn::BitCast(df, magic));
  const auto ex1 = hn::ShiftRight<1>(ex);
  const auto ex2 = hn::Sub(ex, ex1);
  const auto pow1 = hn::BitCast(df, hn::ShiftLeft<52>(hn::Add(ex1, hn::Set(di, int64_t{1023}))));
  const auto pow2 = hn::BitCast(df, hn::ShiftLeft<52>(hn::Add(ex2, hn::Set(di, int64_t{1023}))));
  auto bits = hn::Or(hn::BitCast(du, hn::Mul(hn::Mul(sig_double, pow1), pow2)), sign);
  auto nan = hn::Gt(mag, hn::Set(du, uint64_t{p.max_code}));
  if (p.nan_at_sign_bit) nan = hn::Or(nan, hn::Eq(code, hn::Set(du, uint64_t{p.sign_bit})));
  if (HWY_UNLIKELY(!hn::AllFalse(du, nan))) {
    auto special = hn::Set(du, 0x7FF8000000000000ull);
    if (p.nan_signed) special = hn::Or(special, sign);
    if (p.has_inf) {
      const auto inf = hn::Eq(mag, hn::Set(du, uint64_t{p.inf_code}));
      special = hn::IfThenElse(inf, hn::Or(hn::Set(du, 0x7FF0000000000000ull), sign), special);
    }
    bits = hn::IfThenElse(nan, special, bits);
  }
  return bits;
}

// float32 bits of the value of each code: directly where possible, else through float64 and a
// rounding conversion (values beyond float32 round as a cast does).
HWY_INLINE VU32 DecodeF32(DU32 du, const DecodeParams& p, VU32 code) {
  if (p.f32_direct) return p.posit ? DecodePositF32(du, p, code) : DecodeMinifloatF32(du, p, code);
#if HWY_TARGET == HWY_SCALAR
  // Highway's scalar DemoteTo clamps to +-FLT_MAX; a cast rounds beyond it to inf.
  const DU64 d64;
  const double v = std::bit_cast<double>(hn::GetLane(DecodeF64(d64, p, hn::PromoteTo(d64, code))));
  return hn::Set(du, std::bit_cast<uint32_t>(static_cast<float>(v)));
#else
  const hn::Half<DU32> dh;
  const hn::Rebind<uint64_t, decltype(dh)> d64;
  const hn::Rebind<double, decltype(dh)> df64;
  const hn::Rebind<float, decltype(dh)> dhf;
  const auto lo = DecodeF64(d64, p, hn::PromoteTo(d64, hn::LowerHalf(dh, code)));
  const auto hi = DecodeF64(d64, p, hn::PromoteTo(d64, hn::UpperHalf(dh, code)));
  const DF32 df;
  return hn::BitCast(du, hn::Combine(df, hn::DemoteTo(dhf, hn::BitCast(df64, hi)),
                                     hn::DemoteTo(dhf, hn::BitCast(df64, lo))));
#endif
}

// ------------------------------------------------------------------------------------------
// Drivers: element ranges of a call, in groups of 4 vectors of 32-bit lanes (one Philox per
// lane), fixing up flagged lanes with scalar code.

// Where results go. Elements are numbered from the start of the range.
struct ValueSinkF32 {  // float32 values (the encoder hands over their bits)
  static constexpr bool kValues = true;
  const DecodeParams* decode;
  float* out;
  bool stream;
  HWY_INLINE void Put(DU32 /*du*/, size_t i, VU32 bits) const {
    const DF32 df;
    const auto v = hn::BitCast(df, bits);
    if (stream && (reinterpret_cast<uintptr_t>(out + i) % (hn::Lanes(df) * sizeof(float))) == 0) {
      hn::Stream(v, df, out + i);
    } else {
      hn::StoreU(v, df, out + i);
    }
  }
  HWY_INLINE void PutPartial(DU32 du, size_t i, VU32 bits, size_t lane_begin,
                             size_t lane_end) const {
    HWY_ALIGN uint32_t tmp[kMaxLanes32];
    hn::Store(bits, du, tmp);
    for (size_t j = lane_begin; j < lane_end; ++j) std::memcpy(out + i + j, tmp + j, sizeof(float));
  }
};

struct CodeSink {  // codes of width 8, 16 or 32 bits, little-endian
  static constexpr bool kValues = false;
  const DecodeParams* decode;  // unused
  uint8_t* out;
  int width;
  HWY_INLINE void Put(DU32 du, size_t i, VU32 code) const {
#if HWY_TARGET == HWY_SCALAR
    PutPartial(du, i, code, 0, 1);
#else
    (void)du;
    switch (width) {
      case 8: {
        const hn::Rebind<uint8_t, DU32> d8;
        hn::StoreU(hn::TruncateTo(d8, code), d8, out + i);
        break;
      }
      case 16: {
        const hn::Rebind<uint16_t, DU32> d16;
        const hn::Repartition<uint8_t, decltype(d16)> d8;
        hn::StoreU(hn::BitCast(d8, hn::TruncateTo(d16, code)), d8, out + 2 * i);
        break;
      }
      default: {
        const hn::Repartition<uint8_t, DU32> d8;
        hn::StoreU(hn::BitCast(d8, code), d8, out + 4 * i);
        break;
      }
    }
#endif
  }
  HWY_INLINE void PutPartial(DU32 du, size_t i, VU32 code, size_t lane_begin,
                             size_t lane_end) const {
    HWY_ALIGN uint32_t tmp[kMaxLanes32];
    hn::Store(code, du, tmp);
    for (size_t j = lane_begin; j < lane_end; ++j) {
      const uint32_t c = tmp[j];
      switch (width) {
        case 8:
          out[i + j] = static_cast<uint8_t>(c);
          break;
        case 16:
          out[2 * (i + j)] = static_cast<uint8_t>(c);
          out[2 * (i + j) + 1] = static_cast<uint8_t>(c >> 8);
          break;
        default:
          for (int b = 0; b < 4; ++b) out[4 * (i + j) + b] = static_cast<uint8_t>(c >> (8 * b));
          break;
      }
    }
  }
};

// Replaces the codes of flagged lanes: PositCutMagnitude for `cut`, the reference for
// `reference`. `x` holds the lanes' inputs, `words` their word 0, `first` the index (in the
// call) of lane 0; lanes outside [lane_begin, lane_end) are padding.
template <class DU, typename TIn>
HWY_NOINLINE hn::Vec<DU> FixLanes(DU du, const EncodeParams& p, const TIn* x, hn::Vec<DU> code,
                                  hn::Vec<DU> words, hn::Mask<DU> cut, hn::Mask<DU> reference,
                                  uint64_t first, size_t lane_begin, size_t lane_end) {
  using T = hn::TFromD<DU>;
  constexpr size_t kMax = HWY_MAX_BYTES / sizeof(T);
  HWY_ALIGN T codes[kMax];
  HWY_ALIGN T word[kMax];
  HWY_ALIGN T is_cut[kMax];
  HWY_ALIGN T is_ref[kMax];
  hn::Store(code, du, codes);
  hn::Store(words, du, word);
  hn::Store(hn::VecFromMask(du, cut), du, is_cut);
  hn::Store(hn::VecFromMask(du, reference), du, is_ref);
  for (size_t j = lane_begin; j < lane_end; ++j) {
    if (!is_cut[j] && !is_ref[j]) continue;
    const double v = static_cast<double>(x[j]);
    bool need_reference = is_ref[j] != 0;
    if (is_cut[j]) {
      const uint64_t bits = detail::BitsOf(v);
      const bool negative = (bits >> 63) != 0;
      const detail::Unpacked u = detail::UnpackMagnitude(bits & ~(uint64_t{1} << 63));
      const uint32_t mag =
          PositCutMagnitude(p, u.sig, u.exp, static_cast<uint32_t>(word[j]), &need_reference);
      codes[j] = negative ? ((0u - mag) & p.code_mask) : mag;
    }
    if (need_reference) {
      codes[j] = detail::EncodeDouble(p.spec, v, p.options, first + j);
    }
  }
  return hn::Load(du, codes);
}

// Encoders: one vector of float32 bit patterns (and their random words) -> codes, or float32
// bits of the fake-quant values when kValues. `x` points at the vector's inputs, `first` is the
// index in the call of its lane 0; lanes outside [lb, le) are padding.

// Any format (the spec card at the top of this file).
template <bool kPosit, bool kStochastic, bool kValuesOut>
struct GenericEncoder {
  static constexpr bool kSr = kStochastic;
  const EncodeParams& p;
  const DecodeParams* decode;
  HWY_INLINE VU32 operator()(DU32 du, VU32 bits, VU32 word, const float* x, uint64_t first,
                             size_t lb, size_t le) const {
    Encoded<DU32> enc = EncodeUnpacked<kPosit>(du, p, UnpackF32(du, bits), word);
    if constexpr (kStochastic) {
      if (HWY_UNLIKELY(!hn::AllFalse(du, hn::Or(enc.cut, enc.reference)))) {
        enc.code = FixLanes(du, p, x, enc.code, word, enc.cut, enc.reference, first, lb, le);
      }
    }
    if constexpr (kValuesOut) {
      return DecodeF32(du, *decode, enc.code);
    } else {
      return enc.code;
    }
  }
};

// Minifloats whose grid lies inside float32's (params.h `fast`): rounding acts on the float32
// bit pattern. In the format's normal range the code is (bits >> d) - offset and the dropped
// fraction is bits << (32 - d); below 2^emin, |x| = M 2^(max(E,1) - 150) and the code is M >> D
// with D = emin - m + 150 - max(E, 1). Round to nearest even needs no fraction at all: below
// 2^emin, adding 2^(emin - m + 23) in float32 rounds |x| to a multiple of 2^(emin - m) exactly
// as the format does, and above it the classic bias-and-truncate works on the bit pattern.
// Lanes with anything unusual (NaN, inf, zero, overflow, negative inputs of unsigned formats,
// exact-`sr` ties) send the vector through GenericEncoder.
enum FastMode { kFastNearestEven, kFastSrExact, kFastSrK, kFastOther };

template <int kMode, bool kValuesOut>
struct FastEncoder {
  static constexpr bool kSr = kMode == kFastSrExact || kMode == kFastSrK;
  const EncodeParams& p;
  const DecodeParams* decode;
  HWY_INLINE VU32 operator()(DU32 du, VU32 bits, VU32 word, const float* x, uint64_t first,
                             size_t lb, size_t le) const {
    const DF32 df;
    const DI32 di;
    VU32 mag = hn::And(bits, hn::Set(du, 0x7FFFFFFFu));
    VU32 sign = hn::Xor(bits, mag);
    auto special = hn::Gt(mag, hn::Set(du, 0x7F7FFFFFu));  // NaN, inf
    // Finite magnitudes above max encode as max (params.h clamp_to_max).
    if (p.clamp_to_max) mag = hn::Min(mag, hn::Set(du, p.max_value_bits));
    const auto is_sub = hn::Lt(mag, hn::Set(du, p.min_normal_bits));
    if (!p.is_signed) special = hn::Or(special, hn::Ne(sign, hn::Zero(du)));
    VU32 code, value;
    if constexpr (kMode == kFastNearestEven) {
      const auto magic = hn::Set(df, p.magic);
      const auto sum = hn::Add(hn::BitCast(df, mag), magic);  // RNE onto multiples of 2^(emin-m)
      // Parity of the code, (bits >> d) - code_offset (code_offset is odd only when m = 0).
      const auto lsb = hn::And(
          hn::Xor(hn::ShiftRightSame(mag, p.fast_d), hn::Set(du, p.code_offset)), hn::Set(du, 1u));
      const auto rounded = hn::Add(mag, hn::Add(hn::Set(du, p.half_minus_one), lsb));
      if constexpr (kValuesOut) {
        const auto v_sub = hn::BitCast(du, hn::Sub(sum, magic));
        const auto v_norm = hn::And(rounded, hn::Set(du, p.keep_mask));
        value = hn::IfThenElse(is_sub, v_sub, v_norm);
        special = hn::Or(special, hn::Gt(value, hn::Set(du, p.max_value_bits)));
      } else {
        const auto c_sub = hn::Sub(hn::BitCast(du, sum), hn::Set(du, p.magic_bits));
        const auto c_norm =
            hn::Sub(hn::ShiftRightSame(rounded, p.fast_d), hn::Set(du, p.code_offset));
        code = hn::IfThenElse(is_sub, c_sub, c_norm);
        special = hn::Or(special, hn::Gt(code, hn::Set(du, p.max_code)));
      }
    } else {
      // Normal range: kept bits and the dropped fraction, left-aligned.
      const auto kept_norm = hn::ShiftRightSame(mag, p.fast_d);
      const auto digit_norm = hn::ShiftLeftSame(mag, 32 - p.fast_d);
      // Below 2^emin: |x| = M 2^(E - 150) (float32 subnormal inputs go to the generic kernel),
      // the code is M >> D with D = emin - m + 150 - E, and the fraction is M << (32 - D), or
      // M >> (D - 32) plus a sticky bit when D > 32 (|x| below 2^-8 of the smallest
      // subnormal, which a vector rarely holds). M != 0 there, so "inexact" is all the sticky
      // bit has to say; an exact `sr` tie with it set goes to the reference.
      special = hn::Or(special, hn::Lt(mag, hn::Set(du, 0x00800000u)));  // zero, subnormal
      const auto e_field = hn::ShiftRight<23>(mag);
      const auto m_sig = hn::Or(hn::And(mag, hn::Set(du, 0x007FFFFFu)), hn::Set(du, 0x00800000u));
      const auto shift = hn::Sub(hn::Set(di, p.sub_shift_base), hn::BitCast(di, e_field));
      const auto thirty_one = hn::Set(du, 31u);
      // (Unsigned minimums also clamp the normal lanes' negative counts, whose results are unused.)
      const auto kept_sub = (m_sig >> hn::Min(hn::BitCast(du, shift), thirty_one));
      auto digit_sub =
          (m_sig << hn::Min(hn::BitCast(du, hn::Sub(hn::Set(di, 32), shift)), thirty_one));
      auto sticky = NoLanes(du);
      const auto far = hn::And(is_sub, hn::RebindMask(du, hn::Gt(shift, hn::Set(di, 32))));
      if (HWY_UNLIKELY(!hn::AllFalse(du, far))) {
        const auto right =
            (m_sig >> hn::Min(hn::BitCast(du, hn::Sub(shift, hn::Set(di, 32))), thirty_one));
        digit_sub = hn::IfThenElse(far, right, digit_sub);
        sticky = far;
      }
      const auto lower =
          hn::IfThenElse(is_sub, kept_sub, hn::Sub(kept_norm, hn::Set(du, p.code_offset)));
      const auto digit = hn::IfThenElse(is_sub, digit_sub, digit_norm);
      hn::Mask<DU32> up;
      if constexpr (kMode == kFastSrExact) {
        up = hn::Gt(digit, word);
        special = hn::Or(special, hn::And(hn::Eq(digit, word), sticky));
      } else if constexpr (kMode == kFastSrK) {
        up = hn::Gt(digit, hn::Not(hn::And(word, hn::Set(du, p.rmask))));
      } else {
        Dropped<DU32> dropped;
        dropped.digit = digit;
        dropped.sticky = sticky;
        up = RoundUp(du, p, dropped, lower, word, hn::Ne(sign, hn::Zero(du)));
      }
      const auto one = hn::IfThenElseZero(up, hn::Set(du, 1u));
      if constexpr (kValuesOut) {
        value = hn::ShiftLeftSame(hn::Add(kept_norm, one), p.fast_d);
        // (Skipped when no lane needs it: for formats reaching below 2^-126 the product is a
        // float32 subnormal, which some CPUs compute slowly.)
        if (!hn::AllFalse(du, is_sub)) {
          const auto v_sub =
              hn::BitCast(du, hn::Mul(hn::ConvertTo(df, hn::BitCast(di, hn::Add(kept_sub, one))),
                                      hn::Set(df, p.quantum)));
          value = hn::IfThenElse(is_sub, v_sub, value);
        }
        special = hn::Or(special, hn::Gt(value, hn::Set(du, p.max_value_bits)));
      } else {
        code = hn::Add(lower, one);
        special = hn::Or(special, hn::Gt(code, hn::Set(du, p.max_code)));
      }
    }
    if (HWY_UNLIKELY(!hn::AllFalse(du, special))) {
      return GenericEncoder<false, kSr, kValuesOut>{p, decode}(du, bits, word, x, first, lb, le);
    }
    if constexpr (kValuesOut) {
      if (!p.negative_zero) sign = hn::IfThenZeroElse(hn::Eq(value, hn::Zero(du)), sign);
      return hn::Or(value, sign);
    } else {
      if (!p.negative_zero) sign = hn::IfThenZeroElse(hn::Eq(code, hn::Zero(du)), sign);
      return hn::Or(code, hn::ShiftRightSame(sign, p.sign_shift));
    }
  }
};

// Posit SR where the rounding point cuts exponent bits (see PositCutMagnitude), vectorised in
// 64-bit lanes: with c cut bits, gap = 2^c, t = e mod gap and A = the 32-bit significand,
// (x/2^a - 1) 2^32 = A 2^(t+1) - 2^32 and "up" iff that is >= C (2^gap - 1), C = word + 1 (`sr`)
// or 2^32 - (word & topK) (`sr:K`); every term fits 64 bits. `tie`: exact `sr` needs more words.
HWY_INLINE void CutPositUp(DU32 du, const EncodeParams& p, VU32 a, VU32 t, VU32 gap, VU32 word,
                           hn::Mask<DU32>* up, hn::Mask<DU32>* tie) {
#if HWY_TARGET == HWY_SCALAR
  const DU64 d64;
  const auto half_result = [&](VU64 A, VU64 T, VU64 G, VU64 W, VU64* u, VU64* ti) {
#else
  const hn::Half<DU32> dh;
  const hn::Rebind<uint64_t, decltype(dh)> d64;
  using V64 = hn::Vec<decltype(d64)>;
  const auto half_result = [&](V64 A, V64 T, V64 G, V64 W, V64* u, V64* ti) {
#endif
    const auto two32 = hn::Set(d64, uint64_t{1} << 32);
    const auto num = hn::Sub((A << hn::Add(T, hn::Set(d64, uint64_t{1}))), two32);
    const auto c = p.sr_exact ? hn::Add(W, hn::Set(d64, uint64_t{1}))
                              : hn::Sub(two32, hn::And(W, hn::Set(d64, uint64_t{p.rmask})));
    const auto rhs = hn::Sub((c << G), c);  // wraps correctly: the true value is < 2^64
    const auto is_up = hn::Not(hn::Lt(num, rhs));
    *u = hn::VecFromMask(d64, is_up);
    const auto below = hn::Sub((W << G), W);
    *ti = hn::VecFromMask(d64, hn::AndNot(is_up, hn::Gt(num, below)));
  };
#if HWY_TARGET == HWY_SCALAR
  VU64 u, ti;
  half_result(hn::PromoteTo(d64, a), hn::PromoteTo(d64, t), hn::PromoteTo(d64, gap),
              hn::PromoteTo(d64, word), &u, &ti);
  *up = hn::RebindMask(du, hn::Ne(hn::TruncateTo(du, u), hn::Zero(du)));
  *tie =
      p.sr_exact ? hn::RebindMask(du, hn::Ne(hn::TruncateTo(du, ti), hn::Zero(du))) : NoLanes(du);
#else
  V64 u_lo, t_lo, u_hi, t_hi;
  half_result(hn::PromoteTo(d64, hn::LowerHalf(dh, a)), hn::PromoteTo(d64, hn::LowerHalf(dh, t)),
              hn::PromoteTo(d64, hn::LowerHalf(dh, gap)),
              hn::PromoteTo(d64, hn::LowerHalf(dh, word)), &u_lo, &t_lo);
  half_result(hn::PromoteTo(d64, hn::UpperHalf(dh, a)), hn::PromoteTo(d64, hn::UpperHalf(dh, t)),
              hn::PromoteTo(d64, hn::UpperHalf(dh, gap)),
              hn::PromoteTo(d64, hn::UpperHalf(dh, word)), &u_hi, &t_hi);
  *up = hn::MaskFromVec(hn::Combine(du, hn::TruncateTo(dh, u_hi), hn::TruncateTo(dh, u_lo)));
  *tie = p.sr_exact
             ? hn::MaskFromVec(hn::Combine(du, hn::TruncateTo(dh, t_hi), hn::TruncateTo(dh, t_lo)))
             : NoLanes(du);
#endif
}

// Posits whose values are all float32 normals (params.h `fast_posit`): the body is the regime
// followed by the low es + 23 bits of P = bits + 2^23 (the exponent re-biased by 128, a multiple
// of 2^es, so its low es bits are the posit's exponent bits), and the pattern keeps P >> dd with
// dd = regime length + dd_base. The rounded value is ((P >> dd) + up) << dd, minus the re-bias,
// also where exponent bits are cut (the carry then lands in the exponent). NaN, inf, zero and
// saturating lanes (|x| >= maxpos or < minpos) send the vector through GenericEncoder.
template <int kMode, bool kValuesOut>
struct FastPositEncoder {
  static constexpr bool kSr = kMode == kFastSrExact || kMode == kFastSrK;
  const EncodeParams& p;
  const DecodeParams* decode;
  HWY_INLINE VU32 operator()(DU32 du, VU32 bits, VU32 word, const float* x, uint64_t first,
                             size_t lb, size_t le) const {
    const DI32 di;
    const VU32 mag = hn::And(bits, hn::Set(du, 0x7FFFFFFFu));
    const VU32 sign = hn::Xor(bits, mag);
    const auto e_raw = hn::Sub(hn::BitCast(di, hn::ShiftRight<23>(mag)), hn::Set(di, 127));
    const auto max_scale = hn::Set(di, p.max_scale);
    auto special = hn::Or(hn::Gt(mag, hn::Set(du, 0x7F7FFFFFu)), hn::Eq(mag, hn::Zero(du)));
    special =
        hn::Or(special, hn::RebindMask(du, hn::Gt(e_raw, hn::Sub(max_scale, hn::Set(di, 1)))));
    special = hn::Or(special, hn::RebindMask(du, hn::Lt(e_raw, hn::Neg(max_scale))));
    const auto e = hn::Min(hn::Max(e_raw, hn::Neg(max_scale)), hn::Sub(max_scale, hn::Set(di, 1)));
    const auto regime = hn::ShiftRightSame(e, p.es);
    const auto nonneg = hn::Gt(regime, hn::Set(di, -1));
    const auto regime_len =
        hn::IfThenElse(nonneg, hn::Add(regime, hn::Set(di, 2)), hn::Sub(hn::Set(di, 1), regime));
    const VU32 dd = hn::BitCast(du, hn::Add(regime_len, hn::Set(di, p.dd_base)));
    const VU32 avail = hn::BitCast(du, hn::Sub(hn::Set(di, p.body_bits), regime_len));
    const VU32 pat = hn::Add(mag, hn::Set(du, 0x00800000u));
    const VU32 kept = (pat >> dd);
    const VU32 digit = (pat << hn::Sub(hn::Set(du, 32u), dd));
    const auto regime_part = hn::IfThenElse(
        hn::RebindMask(du, nonneg), hn::Sub(hn::Set(du, p.regime_top), (hn::Set(du, 2u) << avail)),
        (hn::Set(du, 1u) << avail));
    const VU32 lower = hn::Add(regime_part, hn::AndNot(hn::Set(du, 0xFFFFFFFFu) << avail, kept));
    hn::Mask<DU32> up;
    if constexpr (kMode == kFastNearestEven) {
      up = hn::Gt(digit, hn::Sub(hn::Set(du, 0x80000000u), hn::And(lower, hn::Set(du, 1u))));
    } else if constexpr (kMode == kFastSrExact) {
      up = hn::Gt(digit, word);
    } else if constexpr (kMode == kFastSrK) {
      up = hn::Gt(digit, hn::Not(hn::And(word, hn::Set(du, p.rmask))));
    } else {
      Dropped<DU32> dropped;
      dropped.digit = digit;
      dropped.sticky = NoLanes(du);
      up = RoundUp(du, p, dropped, lower, word, hn::Ne(sign, hn::Zero(du)));
    }
    if constexpr (kSr) {
      // Exponent bits cut: the value fraction is not the pattern's.
      const auto cut = hn::AndNot(special, hn::Lt(avail, hn::Set(du, static_cast<uint32_t>(p.es))));
      if (HWY_UNLIKELY(!hn::AllFalse(du, cut))) {
        const VU32 cut_bits = hn::Sub(hn::Set(du, static_cast<uint32_t>(p.es)), avail);
        const VU32 gap = (hn::Set(du, 1u) << cut_bits);
        const VU32 t = hn::And(hn::BitCast(du, e), hn::Sub(gap, hn::Set(du, 1u)));
        const VU32 a = hn::Or(hn::ShiftLeft<8>(mag), hn::Set(du, 0x80000000u));
        hn::Mask<DU32> cut_up, tie;
        CutPositUp(du, p, a, t, gap, word, &cut_up, &tie);
        up = hn::MaskFromVec(
            hn::IfThenElse(cut, hn::VecFromMask(du, cut_up), hn::VecFromMask(du, up)));
        special = hn::Or(special, hn::And(cut, tie));
      }
    }
    if (HWY_UNLIKELY(!hn::AllFalse(du, special))) {
      return GenericEncoder<true, kSr, kValuesOut>{p, decode}(du, bits, word, x, first, lb, le);
    }
    const VU32 one = hn::IfThenElseZero(up, hn::Set(du, 1u));
    if constexpr (kValuesOut) {
      const VU32 value = hn::Sub((hn::Add(kept, one) << dd), hn::Set(du, 0x00800000u));
      return hn::Or(value, sign);
    } else {
      const VU32 code = hn::Add(lower, one);
      return hn::IfThenElse(hn::Ne(sign, hn::Zero(du)),
                            hn::And(hn::Sub(hn::Zero(du), code), hn::Set(du, p.code_mask)), code);
    }
  }
};

// Encodes in[0, count) (element 0 is element index0 of the call) and hands the results to
// `sink`, in groups of 4 vectors (one Philox block per u32 lane, drawn per group).
template <class Encoder, class Sink>
HWY_INLINE void F32Loop(const EncodeParams& p, const float* HWY_RESTRICT in, size_t count,
                        uint64_t index0, const Encoder& encoder, const Sink& sink) {
  constexpr bool kStochastic = Encoder::kSr;
  const DU32 du;
  const size_t n = hn::Lanes(du);
  const size_t group = 4 * n;
  const uint64_t first_global = p.options.index_offset + index0;
  // Groups start at a multiple of 4 of the global index (Philox blocks).
  size_t pad = kStochastic ? static_cast<size_t>(first_global & 3) : 0;
  size_t s = 0;
  HWY_ALIGN float buffer[4 * kMaxLanes32];
  while (s < count) {
    const size_t len = HWY_MIN(group - pad, count - s);
    VU32 words[4];
    if constexpr (kStochastic) GroupWords(du, p, first_global + s - pad, words);
    const bool full = pad == 0 && len == group;
    const float* src = in + s;
    if (!full) {
      std::memset(buffer, 0, sizeof(buffer));
      std::memcpy(buffer + pad, in + s, len * sizeof(float));
      src = buffer;
    }
    for (size_t r = 0; r < 4; ++r) {
      const size_t lane0 = r * n;  // position in the group
      // Lanes of this vector that are real elements.
      const size_t lb = full ? 0 : (pad > lane0 ? HWY_MIN(pad - lane0, n) : 0);
      const size_t le = full ? n : (pad + len > lane0 ? HWY_MIN(pad + len - lane0, n) : 0);
      if (lb >= le) continue;
      const VU32 bits = hn::BitCast(du, hn::LoadU(DF32(), src + lane0));
      VU32 word = hn::Zero(du);
      if constexpr (kStochastic) word = words[r];
      const size_t elem0 = s + lane0 - pad;  // range index of lane 0 (wraps below 0 if padded)
      const VU32 result = encoder(du, bits, word, src + lane0, index0 + elem0, lb, le);
      if (lb == 0 && le == n) {
        sink.Put(du, elem0, result);
      } else {
        sink.PutPartial(du, elem0, result, lb, le);
      }
    }
    s += len;
    pad = 0;
  }
}

template <class Sink>
HWY_INLINE void EncodeF32Dispatch(const EncodeParams& p, const float* in, size_t count,
                                  uint64_t index0, const Sink& sink) {
  constexpr bool kV = Sink::kValues;
  const DecodeParams* d = sink.decode;
  if (p.posit) {
    if (p.fast_posit) {
      if (p.stochastic) {
        if (p.sr_exact)
          return F32Loop(p, in, count, index0, FastPositEncoder<kFastSrExact, kV>{p, d}, sink);
        return F32Loop(p, in, count, index0, FastPositEncoder<kFastSrK, kV>{p, d}, sink);
      }
      if (p.options.rounding.mode == RoundingMode::kNearestEven) {
        return F32Loop(p, in, count, index0, FastPositEncoder<kFastNearestEven, kV>{p, d}, sink);
      }
      return F32Loop(p, in, count, index0, FastPositEncoder<kFastOther, kV>{p, d}, sink);
    }
    if (p.stochastic)
      return F32Loop(p, in, count, index0, GenericEncoder<true, true, kV>{p, d}, sink);
    return F32Loop(p, in, count, index0, GenericEncoder<true, false, kV>{p, d}, sink);
  }
  if (p.fast) {
    if (p.stochastic) {
      if (p.sr_exact)
        return F32Loop(p, in, count, index0, FastEncoder<kFastSrExact, kV>{p, d}, sink);
      return F32Loop(p, in, count, index0, FastEncoder<kFastSrK, kV>{p, d}, sink);
    }
    if (p.options.rounding.mode == RoundingMode::kNearestEven) {
      return F32Loop(p, in, count, index0, FastEncoder<kFastNearestEven, kV>{p, d}, sink);
    }
    return F32Loop(p, in, count, index0, FastEncoder<kFastOther, kV>{p, d}, sink);
  }
  if (p.stochastic)
    return F32Loop(p, in, count, index0, GenericEncoder<false, true, kV>{p, d}, sink);
  return F32Loop(p, in, count, index0, GenericEncoder<false, false, kV>{p, d}, sink);
}

// ------------------------------------------------------------------------------------------
// Block-scaled chunks (params.h RunFactors), a piece at a time so the scaled inputs and the
// factors stay in L1 between the passes.

// Elements per piece: the scaled inputs, the factors and the codes of a piece fit in L1.
constexpr size_t kRunPiece = kBlockPieceFloats;

HWY_INLINE float AdjustScaled(const RunFactors& f, float v) {
  if (f.clamp > 0.0f && v == v) v = HWY_MIN(HWY_MAX(v, -f.clamp), f.clamp);
  return f.plus_zero ? v + 0.0f : v;
}

// y[j] = x[s + j] * enc[r] (adjusted as RunFactors says) for j < count, r the run of element
// s + j, and (when dec_out) dec_out[j] = dec[r]. `r` is the run holding element s on entry and is
// left at the run holding element s + count - 1.
HWY_INLINE void ScalePiece(const RunFactors& f, const float* HWY_RESTRICT x, size_t s, size_t count,
                           size_t& r, float* HWY_RESTRICT y, float* HWY_RESTRICT dec_out) {
  const DF32 df;
  const size_t n = hn::Lanes(df);
  const auto lim = hn::Set(df, f.clamp);
  const bool clamp = f.clamp > 0.0f;
  size_t j = 0;
  while (j < count) {
    while (f.end[r] <= s + j) ++r;
    const size_t seg_end = HWY_MIN(count, static_cast<size_t>(f.end[r]) - s);
    const float e = f.enc[r];
    const auto ve = hn::Set(df, e);
    size_t k = j;
    for (; k + n <= seg_end; k += n) {
      auto v = hn::Mul(hn::LoadU(df, x + s + k), ve);
      if (clamp) v = hn::IfThenElse(hn::IsNaN(v), v, hn::Min(hn::Max(v, hn::Neg(lim)), lim));
      if (f.plus_zero) v = hn::Add(v, hn::Zero(df));
      hn::StoreU(v, df, y + k);
    }
    for (; k < seg_end; ++k) y[k] = AdjustScaled(f, x[s + k] * e);
    if (dec_out != nullptr) {
      const auto vd = hn::Set(df, f.dec[r]);
      k = j;
      for (; k + n <= seg_end; k += n) hn::StoreU(vd, df, dec_out + k);
      for (; k < seg_end; ++k) dec_out[k] = f.dec[r];
    }
    j = seg_end;
  }
}

// dst[j] = src[j] for j < count, for outputs too large to stay cached: whole aligned lines go out
// with non-temporal stores (which skip reading the lines they overwrite), the partial lines at
// either end with ordinary stores, so no line gets both kinds (that costs far more than either).
HWY_INLINE void StreamOut(const float* HWY_RESTRICT src, float* HWY_RESTRICT dst, size_t count) {
  const DF32 df;
  const size_t n = hn::Lanes(df);
  constexpr size_t kLineFloats = 64 / sizeof(float);
  const size_t line = HWY_MAX(kLineFloats, n);
  const size_t misaligned = (reinterpret_cast<uintptr_t>(dst) / sizeof(float)) % line;
  const size_t head = HWY_MIN(count, misaligned == 0 ? 0 : line - misaligned);
  std::memcpy(dst, src, head * sizeof(float));
  size_t j = head;
  const size_t lines_end = head + (count - head) / line * line;
  for (; j < lines_end; j += n) hn::Stream(hn::LoadU(df, src + j), df, dst + j);
  std::memcpy(dst + j, src + j, (count - j) * sizeof(float));
}

// The largest magnitude's float32 bits of x[0, len) (NaN above inf above every finite value).
HWY_INLINE uint32_t BlockMaxBits(const float* HWY_RESTRICT x, size_t len) {
  const DU32 du;
  const DF32 df;
  const size_t n = hn::Lanes(du);
  const auto mask = hn::Set(du, 0x7FFFFFFFu);
  auto m0 = hn::Zero(du);
  auto m1 = hn::Zero(du);
  size_t j = 0;
  for (; j + 2 * n <= len; j += 2 * n) {
    m0 = hn::Max(m0, hn::And(hn::BitCast(du, hn::LoadU(df, x + j)), mask));
    m1 = hn::Max(m1, hn::And(hn::BitCast(du, hn::LoadU(df, x + j + n)), mask));
  }
  if (j + n <= len) {
    m0 = hn::Max(m0, hn::And(hn::BitCast(du, hn::LoadU(df, x + j)), mask));
    j += n;
  }
  uint32_t m = hn::GetLane(hn::MaxOfLanes(du, hn::Max(m0, m1)));
  for (; j < len; ++j) {
    uint32_t u;
    std::memcpy(&u, x + j, sizeof(u));
    u &= 0x7FFFFFFFu;
    m = u > m ? u : m;
  }
  return m;
}

// Most blocks per piece: blocks of the block kernels hold a multiple of 8 elements.
constexpr size_t kMaxPieceBlocks = kRunPiece / 8;

// The runs (one per block of `len` elements), factors and scale codes (when `codes`) of `blocks`
// whole blocks at x, looked up from each block's amax. Returns false at the first block without
// an entry (the caller's general path takes the piece).
HWY_INLINE bool LookupBlocks(const BlockScaleLookup& t, const float* HWY_RESTRICT x, size_t blocks,
                             size_t len, uint32_t* HWY_RESTRICT end, float* HWY_RESTRICT enc,
                             float* HWY_RESTRICT dec, uint8_t* HWY_RESTRICT codes) {
  for (size_t b = 0; b < blocks; ++b) {
    const uint32_t m = BlockMaxBits(x + b * len, len);
    const uint32_t f = m >> 23;
    const int e = (m & 0x7FFFFFu) >= t.threshold[f] ? t.entry_hi[f] : t.entry_lo[f];
    if (e < 0) return false;
    end[b] = static_cast<uint32_t>((b + 1) * len);
    enc[b] = t.enc[e];
    dec[b] = t.dec[e];
    if (codes != nullptr) codes[b] = t.code[e];
  }
  return true;
}

// The block kernels' loop (dispatch.h QuantizeBlocksF32): for each piece of whole blocks, looks
// their scales up (scale codes into scale_codes when given), forms the scaled inputs and, with
// `with_dec`, the per-element dequantization factors, and calls round(scaled, dec, count,
// first_block). Returns the blocks done: all, or the first block of a piece LookupBlocks refused.
template <class Round>
HWY_INLINE size_t ForEachBlockPiece(const BlockScaleLookup& lookup, const float* in, size_t blocks,
                                    size_t len, uint8_t* scale_codes, bool with_dec,
                                    const Round& round) {
  HWY_ALIGN float scaled[kRunPiece];
  HWY_ALIGN float dec[kRunPiece];
  uint32_t block_end[kMaxPieceBlocks];
  float block_enc[kMaxPieceBlocks];
  float block_dec[kMaxPieceBlocks];
  // (No software prefetch: the hardware's stream prefetcher keeps up with this sequential read,
  // and prefetching a piece ahead measured slower.)
  const size_t per_piece = kRunPiece / len;
  for (size_t b0 = 0; b0 < blocks; b0 += per_piece) {
    const size_t nb = HWY_MIN(per_piece, blocks - b0);
    const size_t count = nb * len;
    const float* x = in + b0 * len;
    if (!LookupBlocks(lookup, x, nb, len, block_end, block_enc, block_dec,
                      scale_codes != nullptr ? scale_codes + b0 : nullptr)) {
      return b0;
    }
    RunFactors factors;
    factors.end = block_end;
    factors.enc = block_enc;
    factors.dec = block_dec;
    size_t run = 0;
    ScalePiece(factors, x, 0, count, run, scaled, with_dec ? dec : nullptr);
    round(scaled, dec, count, b0);
  }
  return blocks;
}

// Fake-quant values times a per-element factor: out[i] = value[i] * factor[i].
struct ScaledValueSinkF32 {
  static constexpr bool kValues = true;
  const DecodeParams* decode;
  const float* factor;
  float* out;
  HWY_INLINE void Put(DU32 /*du*/, size_t i, VU32 bits) const {
    const DF32 df;
    hn::StoreU(hn::Mul(hn::BitCast(df, bits), hn::LoadU(df, factor + i)), df, out + i);
  }
  HWY_INLINE void PutPartial(DU32 du, size_t i, VU32 bits, size_t lane_begin,
                             size_t lane_end) const {
    HWY_ALIGN float tmp[kMaxLanes32];
    hn::Store(hn::BitCast(DF32(), bits), DF32(), tmp);
    (void)du;
    for (size_t j = lane_begin; j < lane_end; ++j) out[i + j] = tmp[j] * factor[i + j];
  }
};

// The float64 version: lanes are 64-bit, a group is 8 vectors (the same 4N elements).
struct ValueSinkF64 {
  const DecodeParams* decode;
  double* out;
  bool stream;
  HWY_INLINE void Put(DU64 du, size_t i, VU64 code) const {
    const DF64 df;
    const auto v = hn::BitCast(df, DecodeF64(du, *decode, code));
    if (stream && (reinterpret_cast<uintptr_t>(out + i) % (hn::Lanes(df) * sizeof(double))) == 0) {
      hn::Stream(v, df, out + i);
    } else {
      hn::StoreU(v, df, out + i);
    }
  }
  HWY_INLINE void PutPartial(DU64 du, size_t i, VU64 code, size_t lane_begin,
                             size_t lane_end) const {
    const DF64 df;
    HWY_ALIGN double tmp[HWY_MAX_BYTES / 8];
    hn::Store(hn::BitCast(df, DecodeF64(du, *decode, code)), df, tmp);
    for (size_t j = lane_begin; j < lane_end; ++j) out[i + j] = tmp[j];
  }
};

struct CodeSink64 {
  uint8_t* out;
  int width;
  HWY_INLINE void Put(DU64 du, size_t i, VU64 code) const {
#if HWY_TARGET == HWY_SCALAR
    PutPartial(du, i, code, 0, 1);
#else
    switch (width) {
      case 8: {
        const hn::Rebind<uint8_t, DU64> d8;
        hn::StoreU(hn::TruncateTo(d8, code), d8, out + i);
        break;
      }
      case 16: {
        const hn::Rebind<uint16_t, DU64> d16;
        const hn::Repartition<uint8_t, decltype(d16)> d8;
        hn::StoreU(hn::BitCast(d8, hn::TruncateTo(d16, code)), d8, out + 2 * i);
        break;
      }
      default: {
        const hn::Rebind<uint32_t, DU64> d32;
        const hn::Repartition<uint8_t, decltype(d32)> d8;
        hn::StoreU(hn::BitCast(d8, hn::TruncateTo(d32, code)), d8, out + 4 * i);
        break;
      }
    }
#endif
  }
  HWY_INLINE void PutPartial(DU64 du, size_t i, VU64 code, size_t lane_begin,
                             size_t lane_end) const {
    HWY_ALIGN uint64_t tmp[HWY_MAX_BYTES / 8];
    hn::Store(code, du, tmp);
    for (size_t j = lane_begin; j < lane_end; ++j) {
      const uint64_t c = tmp[j];
      const int bytes = width / 8;
      for (int b = 0; b < bytes; ++b) out[bytes * (i + j) + b] = static_cast<uint8_t>(c >> (8 * b));
    }
  }
};

template <bool kPosit, bool kStochastic, class Sink>
HWY_INLINE void EncodeF64Range(const EncodeParams& p, const double* HWY_RESTRICT in, size_t count,
                               uint64_t index0, const Sink& sink) {
  const DU32 d32;
  const DU64 du;
  const size_t n = hn::Lanes(du);
  const size_t per_word_vector = hn::Lanes(d32) / n;  // u64 vectors per u32 vector: 2 (1: scalar)
  const size_t vectors = 4 * per_word_vector;
  const size_t group = vectors * n;  // = 4 Lanes(d32), one Philox per u32 lane
  const uint64_t first_global = p.options.index_offset + index0;
  size_t pad = kStochastic ? static_cast<size_t>(first_global & 3) : 0;
  size_t s = 0;
  HWY_ALIGN double buffer[4 * kMaxLanes32];
  while (s < count) {
    const size_t len = HWY_MIN(group - pad, count - s);
    VU32 words32[4];
    if constexpr (kStochastic) GroupWords(d32, p, first_global + s - pad, words32);
    const bool full = pad == 0 && len == group;
    const double* src = in + s;
    if (!full) {
      std::memset(buffer, 0, sizeof(buffer));
      std::memcpy(buffer + pad, in + s, len * sizeof(double));
      src = buffer;
    }
    for (size_t r = 0; r < vectors; ++r) {
      const size_t lane0 = r * n;
      const size_t lb = full ? 0 : (pad > lane0 ? HWY_MIN(pad - lane0, n) : 0);
      const size_t le = full ? n : (pad + len > lane0 ? HWY_MIN(pad + len - lane0, n) : 0);
      if (lb >= le) continue;
      const VU64 bits = hn::BitCast(du, hn::LoadU(DF64(), src + lane0));
      VU64 word = hn::Zero(du);
      if constexpr (kStochastic) {
#if HWY_TARGET == HWY_SCALAR
        word = hn::PromoteTo(du, words32[r]);
#else
        const hn::Half<DU32> dh;
        word = (r & 1) ? hn::PromoteTo(du, hn::UpperHalf(dh, words32[r / 2]))
                       : hn::PromoteTo(du, hn::LowerHalf(dh, words32[r / 2]));
#endif
      }
      Encoded<DU64> enc = EncodeUnpacked<kPosit>(du, p, UnpackF64(du, bits), word);
      const size_t elem0 = s + lane0 - pad;
      if constexpr (kStochastic) {
        if (HWY_UNLIKELY(!hn::AllFalse(du, hn::Or(enc.cut, enc.reference)))) {
          enc.code = FixLanes(du, p, src + lane0, enc.code, word, enc.cut, enc.reference,
                              index0 + elem0, lb, le);
        }
      }
      if (lb == 0 && le == n) {
        sink.Put(du, elem0, enc.code);
      } else {
        sink.PutPartial(du, elem0, enc.code, lb, le);
      }
    }
    s += len;
    pad = 0;
  }
}

// Runtime choices -> template instantiations.
template <class Sink>
HWY_INLINE void EncodeF64Dispatch(const EncodeParams& p, const double* in, size_t count,
                                  uint64_t index0, const Sink& sink) {
  if (p.posit) {
    if (p.stochastic) return EncodeF64Range<true, true>(p, in, count, index0, sink);
    return EncodeF64Range<true, false>(p, in, count, index0, sink);
  }
  if (p.stochastic) return EncodeF64Range<false, true>(p, in, count, index0, sink);
  return EncodeF64Range<false, false>(p, in, count, index0, sink);
}

// ------------------------------------------------------------------------------------------
// Packed codes -> float32.

// Codes of elements [i, i + N) of a packed array whose element 0 is at `packed` (i even for
// 4-bit codes; 6-bit codes are unpacked by the caller into uint32).
HWY_INLINE VU32 LoadCodes(DU32 du, int width, const uint8_t* packed, size_t i) {
#if HWY_TARGET == HWY_SCALAR
  return hn::Set(du, ReadCode(width, packed, i));
#else
  switch (width) {
    case 4: {
      // N/2 bytes -> N/2 u32 lanes (lo | hi << 16) -> N u16 lanes -> N u32 lanes.
      const hn::Half<DU32> dh;
      const hn::Rebind<uint8_t, decltype(dh)> d8;
      const auto b = hn::PromoteTo(dh, hn::LoadU(d8, packed + i / 2));
      const auto pair =
          hn::Or(hn::And(b, hn::Set(dh, 0xFu)), hn::ShiftLeft<12>(hn::And(b, hn::Set(dh, 0xF0u))));
      const hn::Repartition<uint16_t, decltype(dh)> d16;
      return hn::PromoteTo(du, hn::BitCast(d16, pair));
    }
    case 8: {
      const hn::Rebind<uint8_t, DU32> d8;
      return hn::PromoteTo(du, hn::LoadU(d8, packed + i));
    }
    case 16: {
      const hn::Rebind<uint16_t, DU32> d16;
      const hn::Repartition<uint8_t, decltype(d16)> d8;
      return hn::PromoteTo(du, hn::BitCast(d16, hn::LoadU(d8, packed + 2 * i)));
    }
    default: {
      const hn::Repartition<uint8_t, DU32> d8;
      return hn::BitCast(du, hn::LoadU(d8, packed + 4 * i));
    }
  }
#endif
}

// Decodes `count` codes starting at element `first` (a multiple of 4) of `packed` into out.
HWY_INLINE void DecodeRangeImpl(const DecodeParams& p, const uint8_t* HWY_RESTRICT packed,
                                float* HWY_RESTRICT out, size_t count, size_t first, bool stream) {
  const DU32 du;
  const DF32 df;
  const size_t n = hn::Lanes(du);
  const int width = PackedWidth(p.spec);
  const uint8_t* base = packed + PackedOffset(width, first);
  size_t i = 0;
  if (width != 6) {
    for (; i + n <= count; i += n) {
      const auto v = hn::BitCast(df, DecodeF32(du, p, LoadCodes(du, width, base, i)));
      if (stream && (reinterpret_cast<uintptr_t>(out + i) % (n * sizeof(float))) == 0) {
        hn::Stream(v, df, out + i);
      } else {
        hn::StoreU(v, df, out + i);
      }
    }
  }
  HWY_ALIGN uint32_t codes[kMaxLanes32];
  HWY_ALIGN float values[kMaxLanes32];
  for (; i < count; i += n) {
    const size_t len = HWY_MIN(n, count - i);
    for (size_t j = 0; j < n; ++j) codes[j] = j < len ? ReadCode(width, base, i + j) : 0u;
    hn::Store(hn::BitCast(df, DecodeF32(du, p, hn::Load(du, codes))), df, values);
    std::memcpy(out + i, values, len * sizeof(float));
  }
}

// uint16 codes (QuantizeFromCodes inputs) -> float32 / float64 values.
HWY_INLINE void DecodeU16ToF32(const DecodeParams& p, const uint16_t* HWY_RESTRICT in,
                               float* HWY_RESTRICT out, size_t count) {
  const DU32 du;
  const DF32 df;
  const hn::Rebind<uint16_t, DU32> d16;
  const size_t n = hn::Lanes(du);
  size_t i = 0;
  for (; i + n <= count; i += n) {
    hn::StoreU(hn::BitCast(df, DecodeF32(du, p, hn::PromoteTo(du, hn::LoadU(d16, in + i)))), df,
               out + i);
  }
  HWY_ALIGN uint32_t codes[kMaxLanes32];
  HWY_ALIGN float values[kMaxLanes32];
  if (i < count) {
    const size_t len = count - i;
    for (size_t j = 0; j < n; ++j) codes[j] = j < len ? in[i + j] : 0u;
    hn::Store(hn::BitCast(df, DecodeF32(du, p, hn::Load(du, codes))), df, values);
    std::memcpy(out + i, values, len * sizeof(float));
  }
}

HWY_INLINE void DecodeU16ToF64(const DecodeParams& p, const uint16_t* HWY_RESTRICT in,
                               double* HWY_RESTRICT out, size_t count) {
  const DU64 du;
  const DF64 df;
  const hn::Rebind<uint16_t, DU64> d16;
  const hn::Rebind<uint32_t, DU64> d32;
  const size_t n = hn::Lanes(du);
  size_t i = 0;
  for (; i + n <= count; i += n) {
    const auto code = hn::PromoteTo(du, hn::PromoteTo(d32, hn::LoadU(d16, in + i)));
    hn::StoreU(hn::BitCast(df, DecodeF64(du, p, code)), df, out + i);
  }
  HWY_ALIGN uint64_t codes[HWY_MAX_BYTES / 8];
  HWY_ALIGN double values[HWY_MAX_BYTES / 8];
  if (i < count) {
    const size_t len = count - i;
    for (size_t j = 0; j < n; ++j) codes[j] = j < len ? in[i + j] : 0u;
    hn::Store(hn::BitCast(df, DecodeF64(du, p, hn::Load(du, codes))), df, values);
    std::memcpy(out + i, values, len * sizeof(double));
  }
}

// float64 -> float32 as a cast (round to nearest even, overflow to inf).
HWY_INLINE void DemoteF64ToF32(const double* HWY_RESTRICT in, float* HWY_RESTRICT out,
                               size_t count) {
  const DF64 df64;
  const hn::Rebind<float, DF64> df32;
  size_t i = 0;
#if HWY_TARGET != HWY_SCALAR  // (Highway's scalar DemoteTo clamps instead of overflowing)
  const size_t n = hn::Lanes(df64);
  for (; i + n <= count; i += n)
    hn::StoreU(hn::DemoteTo(df32, hn::LoadU(df64, in + i)), df32, out + i);
#else
  (void)df64;
  (void)df32;
#endif
  for (; i < count; ++i) out[i] = static_cast<float>(in[i]);
}

// NOLINTNEXTLINE(google-readability-namespace-comments)
}  // namespace HWY_NAMESPACE
}  // namespace simd
}  // namespace qfloat
HWY_AFTER_NAMESPACE();

#endif  // QFLOAT_SRC_SIMD_KERNELS_INL_H_
