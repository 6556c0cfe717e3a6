// The scalar backend: the reference applied element by element, single-threaded.
#include "qfloat/detail/bits.h"
#include "tensor/backends.h"

namespace qfloat::backend {
namespace {

Status QuantizeF32(const FormatSpec& spec, std::span<const float> in, std::span<float> out,
                   const TensorOptions& o) {
  for (size_t i = 0; i < in.size(); ++i) {
    const uint32_t code = detail::EncodeDouble(spec, in[i], o.quantize, i);
    out[i] = static_cast<float>(detail::DecodeToDouble(spec, code));
  }
  return Status::Ok();
}

Status QuantizeF64(const FormatSpec& spec, std::span<const double> in, std::span<double> out,
                   const TensorOptions& o) {
  for (size_t i = 0; i < in.size(); ++i) {
    out[i] = detail::DecodeToDouble(spec, detail::EncodeDouble(spec, in[i], o.quantize, i));
  }
  return Status::Ok();
}

Status QuantizeCodes16(const FormatSpec& input_spec, std::span<const uint16_t> in,
                       const FormatSpec& spec, std::span<float> out, const TensorOptions& o) {
  for (size_t i = 0; i < in.size(); ++i) {
    const double x = detail::DecodeToDouble(input_spec, in[i]);
    out[i] = static_cast<float>(
        detail::DecodeToDouble(spec, detail::EncodeDouble(spec, x, o.quantize, i)));
  }
  return Status::Ok();
}

template <typename T>
Status EncodeT(const FormatSpec& spec, std::span<const T> in, std::span<uint8_t> packed,
               const TensorOptions& o) {
  for (size_t i = 0; i < in.size(); ++i) {
    WritePackedCode(spec, packed, i, detail::EncodeDouble(spec, in[i], o.quantize, i));
  }
  // Documented: unused high bits of the last byte (FP4) or 3-byte group (FP6) are zero.
  if (spec.bits <= 4 && (in.size() & 1)) packed[in.size() / 2] &= 0x0F;
  if (spec.bits > 4 && spec.bits <= 6) {
    for (size_t i = in.size(); i % 4 != 0; ++i) WritePackedCode(spec, packed, i, 0);
  }
  return Status::Ok();
}

Status EncodeF32(const FormatSpec& spec, std::span<const float> in, std::span<uint8_t> packed,
                 const TensorOptions& o) {
  return EncodeT(spec, in, packed, o);
}

Status EncodeF64(const FormatSpec& spec, std::span<const double> in, std::span<uint8_t> packed,
                 const TensorOptions& o) {
  return EncodeT(spec, in, packed, o);
}

Status DecodeF32(const FormatSpec& spec, std::span<const uint8_t> packed, std::span<float> out,
                 const TensorOptions&) {
  for (size_t i = 0; i < out.size(); ++i) {
    out[i] = static_cast<float>(detail::DecodeToDouble(spec, ReadPackedCode(spec, packed, i)));
  }
  return Status::Ok();
}

constexpr Kernels kScalar = {QuantizeF32, QuantizeF64, QuantizeCodes16,
                             EncodeF32,   EncodeF64,   DecodeF32};

}  // namespace

const Kernels* ScalarKernels() { return &kScalar; }

}  // namespace qfloat::backend
