#include "qfloat/scalar.h"

#include <cmath>

#include "qfloat/detail/bits.h"

namespace qfloat {

uint32_t EncodeScalar(const FormatSpec& spec, double x, const QuantizeOptions& options,
                      uint64_t index) {
  return detail::EncodeDouble(spec, x, options, index);
}

uint32_t EncodeScalar(const FormatSpec& spec, float x, const QuantizeOptions& options,
                      uint64_t index) {
  return detail::EncodeDouble(spec, static_cast<double>(x), options, index);
}

double DecodeScalar(const FormatSpec& spec, uint32_t code) {
  return detail::DecodeToDouble(spec, code);
}

double QuantizeScalar(const FormatSpec& spec, double x, const QuantizeOptions& options,
                      uint64_t index) {
  return DecodeScalar(spec, EncodeScalar(spec, x, options, index));
}

float QuantizeScalar(const FormatSpec& spec, float x, const QuantizeOptions& options,
                     uint64_t index) {
  return static_cast<float>(DecodeScalar(spec, EncodeScalar(spec, x, options, index)));
}

CodeClass ClassifyCode(const FormatSpec& spec, uint32_t code) {
  const double v = DecodeScalar(spec, code);
  if (std::isnan(v)) return spec.kind == FormatKind::kPosit ? CodeClass::kNar : CodeClass::kNan;
  if (std::isinf(v)) return CodeClass::kInf;
  if (v == 0) return CodeClass::kZero;
  if (spec.kind == FormatKind::kMinifloat && std::fabs(v) < MinPositiveNormal(spec)) {
    return CodeClass::kSubnormal;
  }
  return CodeClass::kNormal;
}

std::string_view ToString(CodeClass c) {
  switch (c) {
    case CodeClass::kZero:
      return "zero";
    case CodeClass::kSubnormal:
      return "subnormal";
    case CodeClass::kNormal:
      return "normal";
    case CodeClass::kInf:
      return "inf";
    case CodeClass::kNan:
      return "nan";
    case CodeClass::kNar:
      return "nar";
  }
  return "?";
}

}  // namespace qfloat
