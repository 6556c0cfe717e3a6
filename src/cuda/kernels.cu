// The CUDA backend's launches: the device-pointer entry points of qfloat/cuda.h over the
// kernels of cuda/kernels.cuh.
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>
#include <string>

#include "cuda/kernels.cuh"
#include "qfloat/cuda.h"

namespace qfloat {
namespace cuda_detail {
namespace {

Status CudaError(cudaError_t e, const std::string& what) {
  cudaGetLastError();  // clear a non-sticky error so later calls start clean
  return Unavailable("CUDA error in " + what + ": " + cudaGetErrorName(e) + " (" +
                     cudaGetErrorString(e) + ")");
}

Status CheckSpec(const FormatSpec& spec, const char* what) {
  if (spec.bits < 2 || spec.bits > 32 || spec.magnitude_mask == 0) {
    return InvalidArgument(std::string(what) + ": the format descriptor is not finalized (bits " +
                           std::to_string(spec.bits) + ")");
  }
  return Status::Ok();
}

Status CheckOptions(const QuantizeOptions& o) {
  if (o.rounding.sr_bits > 32) {
    return InvalidArgument("sr:K: K must be 1..32 (got " + std::to_string(o.rounding.sr_bits) +
                           ")");
  }
  return Status::Ok();
}

// A pointer the kernels may dereference: device, managed or registered host memory.
Status CheckDevicePointer(const void* p, const char* what, const char* call) {
  if (p == nullptr) return InvalidArgument(std::string(call) + ": " + what + " is null");
  cudaPointerAttributes attributes{};
  const cudaError_t e = cudaPointerGetAttributes(&attributes, p);
  if (e != cudaSuccess) {
    cudaGetLastError();
    return InvalidArgument(std::string(call) + ": " + what + " is not a CUDA pointer (" +
                           cudaGetErrorString(e) + ")");
  }
  if (attributes.type == cudaMemoryTypeUnregistered) {
    return InvalidArgument(std::string(call) + ": " + what +
                           " is plain host memory; pass device memory (or use the tensor API "
                           "with Backend::kCuda for host memory)");
  }
  return Status::Ok();
}

// Launches `kernel` for `threads_wanted` threads, capped at what the device holds at once (the
// kernels stride over the rest). Two cheap attribute queries; no occupancy calculation, whose
// cost would show in the timing of a call: a kernel that fits fewer blocks runs the grid in
// waves of equal blocks.
template <typename... KernelArgs, typename... Args>
Status Launch(void (*kernel)(KernelArgs...), uint64_t threads_wanted, cudaStream_t stream,
              const char* what, Args&&... args) {
  int device = 0;
  cudaError_t e = cudaGetDevice(&device);
  int sms = 0;
  int threads_per_sm = 0;
  if (e == cudaSuccess) e = cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device);
  if (e == cudaSuccess) {
    e = cudaDeviceGetAttribute(&threads_per_sm, cudaDevAttrMaxThreadsPerMultiProcessor, device);
  }
  if (e != cudaSuccess) return CudaError(e, what);
  const uint64_t wanted = (threads_wanted + kThreads - 1) / kThreads;
  const uint64_t resident =
      static_cast<uint64_t>(std::max(sms, 1)) * std::max(threads_per_sm / kThreads, 1);
  const unsigned blocks = static_cast<unsigned>(std::max<uint64_t>(1, std::min(wanted, resident)));
  kernel<<<blocks, kThreads, 0, stream>>>(std::forward<Args>(args)...);
  e = cudaGetLastError();
  if (e != cudaSuccess) return CudaError(e, what);
  return Status::Ok();
}

// Device presence, checked per call (cheap once the runtime is up).
Status DeviceStatus() {
  int count = 0;
  const cudaError_t e = cudaGetDeviceCount(&count);
  if (e != cudaSuccess) {
    cudaGetLastError();
    return Unavailable(std::string("no CUDA device: ") + cudaGetErrorString(e));
  }
  if (count == 0) return Unavailable("no CUDA device: cudaGetDeviceCount found none");
  return Status::Ok();
}

// The checks every entry point makes, in order: device, descriptor, options, pointers.
Status Prologue(const char* call, const FormatSpec& spec, const QuantizeOptions* options,
                const void* in, const void* out, size_t count) {
  if (Status st = DeviceStatus(); !st.ok()) return st;
  if (Status st = CheckSpec(spec, call); !st.ok()) return st;
  if (options != nullptr) {
    if (Status st = CheckOptions(*options); !st.ok()) return st;
  }
  if (count == 0) return Status::Ok();
  if (Status st = CheckDevicePointer(in, "the input", call); !st.ok()) return st;
  return CheckDevicePointer(out, "the output", call);
}

}  // namespace
}  // namespace cuda_detail

namespace cd = cuda_detail;

Status CudaDeviceStatus() { return cd::DeviceStatus(); }

Status QuantizeOnDevice(const FormatSpec& spec, const float* in, float* out, size_t count,
                        const QuantizeOptions& options, void* stream) {
  Status st = cd::Prologue("QuantizeOnDevice", spec, &options, in, out, count);
  if (!st.ok() || count == 0) return st;
  const uint32_t flags =
      (cd::Aligned(in, 16) ? cd::kVecIn : 0u) | (cd::Aligned(out, 16) ? cd::kVecOut : 0u);
  const cd::Params params = cd::MakeParams(spec, options, true);
  return cd::Launch(params.fast.enabled ? cd::QuantizeF32FastKernel : cd::QuantizeF32Kernel,
                    cd::TileThreads(count), static_cast<cudaStream_t>(stream),
                    "QuantizeOnDevice (float32)", params, reinterpret_cast<const uint32_t*>(in),
                    reinterpret_cast<uint32_t*>(out), uint64_t{count}, flags);
}

Status QuantizeOnDevice(const FormatSpec& spec, const double* in, double* out, size_t count,
                        const QuantizeOptions& options, void* stream) {
  Status st = cd::Prologue("QuantizeOnDevice", spec, &options, in, out, count);
  if (!st.ok() || count == 0) return st;
  const uint32_t flags =
      (cd::Aligned(in, 16) ? cd::kVecIn : 0u) | (cd::Aligned(out, 16) ? cd::kVecOut : 0u);
  return cd::Launch(cd::QuantizeF64Kernel, cd::TileThreads(count),
                    static_cast<cudaStream_t>(stream), "QuantizeOnDevice (float64)",
                    cd::MakeParams(spec, options, false), reinterpret_cast<const uint64_t*>(in),
                    reinterpret_cast<uint64_t*>(out), uint64_t{count}, flags);
}

Status QuantizeFromCodesOnDevice(const FormatSpec& input_spec, const uint16_t* in,
                                 const FormatSpec& spec, float* out, size_t count,
                                 const QuantizeOptions& options, void* stream) {
  Status st = cd::Prologue("QuantizeFromCodesOnDevice", spec, &options, in, out, count);
  if (!st.ok()) return st;
  if (Status in_st = cd::CheckSpec(input_spec, "QuantizeFromCodesOnDevice (input format)");
      !in_st.ok()) {
    return in_st;
  }
  if (input_spec.bits > 16) {
    return InvalidArgument(
        "QuantizeFromCodesOnDevice: input codes are <= 16 bits (the input "
        "format has " +
        std::to_string(input_spec.bits) + ")");
  }
  if (count == 0) return st;
  return cd::Launch(cd::QuantizeCodes16Kernel, uint64_t{count}, static_cast<cudaStream_t>(stream),
                    "QuantizeFromCodesOnDevice", cd::MakeParams(spec, options, true), input_spec,
                    cd::ValuesAreFloat32(input_spec), in, reinterpret_cast<uint32_t*>(out),
                    uint64_t{count});
}

Status EncodeOnDevice(const FormatSpec& spec, const float* in, uint8_t* packed, size_t count,
                      const QuantizeOptions& options, void* stream) {
  Status st = cd::Prologue("EncodeOnDevice", spec, &options, in, packed, count);
  if (!st.ok() || count == 0) return st;
  const uint32_t flags = (cd::Aligned(in, 16) ? cd::kVecIn : 0u) |
                         (cd::Aligned(packed, cd::PackedAlignment(spec.bits)) ? cd::kVecOut : 0u);
  const cd::Params params = cd::MakeParams(spec, options, true);
  return cd::Launch(params.fast.enabled ? cd::EncodeF32FastKernel : cd::EncodeF32Kernel,
                    cd::TileThreads(count), static_cast<cudaStream_t>(stream),
                    "EncodeOnDevice (float32)", params, reinterpret_cast<const uint32_t*>(in),
                    packed, uint64_t{count}, flags);
}

Status EncodeOnDevice(const FormatSpec& spec, const double* in, uint8_t* packed, size_t count,
                      const QuantizeOptions& options, void* stream) {
  Status st = cd::Prologue("EncodeOnDevice", spec, &options, in, packed, count);
  if (!st.ok() || count == 0) return st;
  const uint32_t flags = (cd::Aligned(in, 16) ? cd::kVecIn : 0u) |
                         (cd::Aligned(packed, cd::PackedAlignment(spec.bits)) ? cd::kVecOut : 0u);
  return cd::Launch(cd::EncodeF64Kernel, cd::TileThreads(count), static_cast<cudaStream_t>(stream),
                    "EncodeOnDevice (float64)", cd::MakeParams(spec, options, false),
                    reinterpret_cast<const uint64_t*>(in), packed, uint64_t{count}, flags);
}

Status DecodeOnDevice(const FormatSpec& spec, const uint8_t* packed, float* out, size_t count,
                      void* stream) {
  Status st = cd::Prologue("DecodeOnDevice", spec, nullptr, packed, out, count);
  if (!st.ok() || count == 0) return st;
  const uint32_t flags = (cd::Aligned(packed, cd::PackedAlignment(spec.bits)) ? cd::kVecIn : 0u) |
                         (cd::Aligned(out, 16) ? cd::kVecOut : 0u);
  return cd::Launch(spec.bits <= cd::kTableBits ? cd::DecodeKernel<true> : cd::DecodeKernel<false>,
                    cd::TileThreads(count), static_cast<cudaStream_t>(stream), "DecodeOnDevice",
                    spec, packed, reinterpret_cast<uint32_t*>(out), uint64_t{count}, flags);
}

Status SynchronizeCudaStream(void* stream) {
  Status st = cd::DeviceStatus();
  if (!st.ok()) return st;
  const cudaError_t e = cudaStreamSynchronize(static_cast<cudaStream_t>(stream));
  if (e != cudaSuccess) return cd::CudaError(e, "SynchronizeCudaStream");
  return Status::Ok();
}

}  // namespace qfloat
