// Internal: the table of kernels each backend provides to the dispatcher (quantize.cc). A
// backend that is not compiled in returns nullptr from its *Kernels() function.
#ifndef QFLOAT_SRC_TENSOR_BACKENDS_H_
#define QFLOAT_SRC_TENSOR_BACKENDS_H_

#include <span>

#include "qfloat/quantize.h"

namespace qfloat::backend {

struct Kernels {
  Status (*quantize_f32)(const FormatSpec&, std::span<const float>, std::span<float>,
                         const TensorOptions&);
  Status (*quantize_f64)(const FormatSpec&, std::span<const double>, std::span<double>,
                         const TensorOptions&);
  Status (*quantize_codes16)(const FormatSpec& input_spec, std::span<const uint16_t>,
                             const FormatSpec&, std::span<float>, const TensorOptions&);
  Status (*encode_f32)(const FormatSpec&, std::span<const float>, std::span<uint8_t>,
                       const TensorOptions&);
  Status (*encode_f64)(const FormatSpec&, std::span<const double>, std::span<uint8_t>,
                       const TensorOptions&);
  Status (*decode_f32)(const FormatSpec&, std::span<const uint8_t>, std::span<float>,
                       const TensorOptions&);
};

struct Backends {
  const Kernels* scalar = nullptr;
  const Kernels* simd = nullptr;
  const Kernels* cuda = nullptr;
};

const Kernels* ScalarKernels();
const Kernels* SimdKernels();  // nullptr when not compiled in
const Kernels* CudaKernels();  // nullptr when not compiled in

const Backends& Registered();
StatusOr<const Kernels*> Select(Backend requested);

}  // namespace qfloat::backend

#endif  // QFLOAT_SRC_TENSOR_BACKENDS_H_
