#include "simd/params.h"

#include <cmath>
#include <cstring>

#include "qfloat/detail/bits.h"

namespace qfloat::simd {

EncodeParams MakeEncodeParams(const FormatSpec& spec, const QuantizeOptions& options) {
  EncodeParams p;
  p.spec = spec;
  p.options = options;
  p.posit = spec.kind == FormatKind::kPosit;
  p.code_mask = spec.bits == 32 ? 0xFFFFFFFFu : ((1u << spec.bits) - 1);
  p.sign_bit = spec.sign_bit;
  p.max_code = spec.max_code;
  p.is_signed = spec.is_signed;
  p.has_zero = spec.has_zero;

  // Rounding: digit > threshold (see params.h). "Up" always means away from zero.
  switch (options.rounding.mode) {
    case RoundingMode::kNearestEven:  // > 1/2, or = 1/2 from an odd code
      p.thr_base = 0x80000000u;
      p.thr_odd = 0xFFFFFFFFu;
      p.sticky_or = 1;
      break;
    case RoundingMode::kNearestAway:  // >= 1/2
      p.thr_base = 0x7FFFFFFFu;
      p.sticky_or = 1;
      break;
    case RoundingMode::kTowardZero:  // never
      p.thr_base = 0xFFFFFFFFu;
      p.sticky_or = 1;
      break;
    case RoundingMode::kUp:  // inexact and positive
      p.thr_base = 0;
      p.thr_neg = 0xFFFFFFFFu;
      p.sticky_or = 1;
      break;
    case RoundingMode::kDown:  // inexact and negative
      p.thr_base = 0xFFFFFFFFu;
      p.thr_neg = 0xFFFFFFFFu;
      p.sticky_or = 1;
      break;
    case RoundingMode::kToOdd:  // inexact and the lower code is even
      p.thr_base = 0;
      p.thr_odd = 0xFFFFFFFFu;
      p.sticky_or = 1;
      break;
    case RoundingMode::kStochastic:
      p.stochastic = true;
      if (options.rounding.sr_bits == 0) {
        // Up iff U < f: word 0 < first digit (ties with a non-zero rest go to the reference).
        p.sr_exact = true;
        p.rmask = 0xFFFFFFFFu;
        p.thr_base = 0;
      } else {
        // sr:K: up iff floor(f 2^K) + r >= 2^K, i.e. digit + (word & topK) carries out of 32
        // bits, i.e. digit > ~(word & topK).
        const int k = options.rounding.sr_bits;
        p.rmask = k >= 32 ? 0xFFFFFFFFu : ~((1u << (32 - k)) - 1);
        p.thr_base = 0xFFFFFFFFu;
      }
      break;
  }

  if (p.posit) {
    p.es = spec.exponent_bits;
    p.max_scale = (spec.bits - 2) << spec.exponent_bits;
    p.body_bits = spec.bits - 1;
    p.regime_top = 1u << (spec.bits - 1);
    p.fast_posit = p.max_scale <= 126 && spec.bits - 3 - spec.exponent_bits <= 22;
    p.dd_base = spec.exponent_bits + 24 - spec.bits;
  } else {
    p.m = spec.mantissa_bits;
    p.m_below = spec.subnormals ? spec.mantissa_bits : 0;
    p.emin = spec.emin;
    p.emax = spec.emax;
    p.base_offset = spec.emin - (spec.has_zero ? 1 : 0) + 1;
    p.step_below = spec.subnormals ? 1u : (1u << spec.mantissa_bits);
    p.check_wrap = spec.max_code == 0xFFFFFFFFu;
    const int m = spec.mantissa_bits;
    p.fast = spec.has_zero && spec.subnormals && m <= 22 && spec.emin >= -126 &&
             spec.emin - m >= -149 && spec.emin - m + 23 <= 127 && spec.emax <= 127;
    if (p.fast) {
      p.fast_d = 23 - m;
      p.min_normal_bits = static_cast<uint32_t>(spec.emin + 127) << 23;
      p.code_offset = static_cast<uint32_t>(126 + spec.emin) << m;
      p.half_minus_one = (1u << (p.fast_d - 1)) - 1;
      p.keep_mask = ~((1u << p.fast_d) - 1);
      p.sub_shift_base = spec.emin - m + 150;
      p.magic = std::ldexp(1.0f, spec.emin - m + 23);
      std::memcpy(&p.magic_bits, &p.magic, sizeof(float));
      p.quantum = std::ldexp(1.0f, spec.emin - m);
      const float max_value = static_cast<float>(detail::DecodeToDouble(spec, spec.max_code));
      std::memcpy(&p.max_value_bits, &max_value, sizeof(float));
      p.negative_zero = spec.is_signed && spec.negative_zero;
      p.sign_shift = 32 - spec.bits;
    }
  }
  for (int s = 0; s < 2; ++s) {
    const bool negative = s == 1;
    p.nan_code[s] = detail::NanCode(spec, negative);
    p.inf_code[s] = detail::InfinityCode(spec, negative, options.overflow);
    p.zero_code[s] = detail::ZeroCode(spec, negative, options.overflow);
    p.ovf_code[s] = detail::OverflowCode(spec, negative, options);
  }
  p.below_unsigned = detail::BelowUnsignedRange(spec, options.overflow);
  p.clamp_to_max =
      p.fast && p.ovf_code[0] == spec.max_code && p.ovf_code[1] == (spec.max_code | spec.sign_bit);
  return p;
}

namespace {

bool PositFitsFloat32Normal(const FormatSpec& spec) {
  const int max_scale = (spec.bits - 2) << spec.exponent_bits;
  const int max_fraction_bits = spec.bits - 3 - spec.exponent_bits;
  return max_scale <= 126 && max_fraction_bits <= 23;
}

bool MinifloatFitsFloat32(const FormatSpec& spec) {
  return spec.mantissa_bits <= 23 && spec.emin - spec.mantissa_bits >= -149 && spec.emax <= 127;
}

}  // namespace

bool ValuesFitFloat32(const FormatSpec& spec) {
  return spec.kind == FormatKind::kPosit ? PositFitsFloat32Normal(spec)
                                         : MinifloatFitsFloat32(spec);
}

DecodeParams MakeDecodeParams(const FormatSpec& spec) {
  DecodeParams p;
  p.spec = spec;
  p.posit = spec.kind == FormatKind::kPosit;
  p.code_mask = spec.bits == 32 ? 0xFFFFFFFFu : ((1u << spec.bits) - 1);
  p.sign_bit = spec.sign_bit;
  p.magnitude_mask = spec.magnitude_mask;
  p.max_code = spec.max_code;
  p.has_inf = spec.has_inf;
  p.inf_code = spec.inf_code;
  p.nan_signed = spec.nan_signed;
  p.nan_at_sign_bit = spec.is_signed && !spec.negative_zero;
  p.has_zero = spec.has_zero;
  p.subnormals = spec.subnormals;
  p.m = spec.mantissa_bits;
  p.emin = spec.emin;
  p.z = spec.has_zero ? 1 : 0;
  if (p.posit) {
    p.n = spec.bits;
    p.es = spec.exponent_bits;
    const int max_scale = (spec.bits - 2) << spec.exponent_bits;
    p.f32_direct = PositFitsFloat32Normal(spec);
    if (p.f32_direct) p.maxpos_f32 = static_cast<uint32_t>(max_scale + 127) << 23;
    p.maxpos_f64 = static_cast<uint64_t>(max_scale + 1023) << 52;
    return p;
  }
  // Minifloat: normal values are built as float32 bits (mag << (23 - m)) + adj. Where the
  // format reaches below 2^-126, everything is built 2^K higher and scaled by 2^-K (exact), which
  // works while the top binade stays below 2^128.
  if (MinifloatFitsFloat32(spec)) {
    const int k = spec.emin < -126 ? -126 - spec.emin : 0;
    if (spec.emax + k <= 127) {
      p.f32_direct = true;
      p.f32_adj = static_cast<uint32_t>(spec.emin - p.z + 127 + k) << 23;
      p.f32_scale = std::ldexp(1.0f, -k);
      // Exponent field 0: subnormals, or only zeros where the format has none.
      p.f32_sub_scale = spec.subnormals ? std::ldexp(1.0f, spec.emin - spec.mantissa_bits) : 0.0f;
    }
  }
  return p;
}

}  // namespace qfloat::simd
