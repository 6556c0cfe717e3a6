// Linked when the CUDA backend is not built: the tensor API has no `cuda` entry, and the
// device-pointer entry points of qfloat/cuda.h exist but report that the backend is missing.
#include "qfloat/cuda.h"
#include "tensor/backends.h"

namespace qfloat {
namespace backend {
const Kernels* CudaKernels() { return nullptr; }
}  // namespace backend

namespace {
Status NotBuilt() {
  return Unavailable("the CUDA backend is not compiled in (build with QFLOAT_CUDA=ON)");
}
}  // namespace

Status CudaDeviceStatus() { return NotBuilt(); }
Status QuantizeOnDevice(const FormatSpec&, const float*, float*, size_t, const QuantizeOptions&,
                        void*) {
  return NotBuilt();
}
Status QuantizeOnDevice(const FormatSpec&, const double*, double*, size_t, const QuantizeOptions&,
                        void*) {
  return NotBuilt();
}
Status QuantizeFromCodesOnDevice(const FormatSpec&, const uint16_t*, const FormatSpec&, float*,
                                 size_t, const QuantizeOptions&, void*) {
  return NotBuilt();
}
Status EncodeOnDevice(const FormatSpec&, const float*, uint8_t*, size_t, const QuantizeOptions&,
                      void*) {
  return NotBuilt();
}
Status EncodeOnDevice(const FormatSpec&, const double*, uint8_t*, size_t, const QuantizeOptions&,
                      void*) {
  return NotBuilt();
}
Status DecodeOnDevice(const FormatSpec&, const uint8_t*, float*, size_t, void*) {
  return NotBuilt();
}
Status SynchronizeCudaStream(void*) { return NotBuilt(); }

}  // namespace qfloat
