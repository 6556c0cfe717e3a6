// Linked when the CUDA backend is not built.
#include "tensor/backends.h"
namespace qfloat::backend {
const Kernels* CudaKernels() { return nullptr; }
}  // namespace qfloat::backend
