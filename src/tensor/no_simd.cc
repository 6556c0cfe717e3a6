// Linked when the SIMD backend is not built.
#include "tensor/backends.h"
namespace qfloat::backend {
const Kernels* SimdKernels() { return nullptr; }
}  // namespace qfloat::backend
