// The CUDA backend's device-pointer entry points, for callers that already hold device memory.
//
// Host memory goes through the tensor API instead (quantize.h, TensorOptions::backend =
// Backend::kCuda), which stages it through the device. Both give the reference's bits: the
// kernels call the same host/device functions as the scalar reference (qfloat/detail/bits.h), and
// stochastic rounding draws element i's bits from index options.index_offset + i, so a seed gives
// the same result on the CPU and the GPU.
//
// This header needs no CUDA headers: a stream is passed as `void*` (a cudaStream_t; nullptr is
// the legacy default stream). Every call checks its arguments, enqueues its kernel on the stream
// and returns without waiting; the Status reports argument and launch errors, and an error while
// the kernel runs surfaces at the next synchronisation (SynchronizeCudaStream). Pointers must be
// device-accessible (cudaMalloc, managed or registered/pinned host memory) on the current device.
// Without a usable device every call returns Unavailable("no CUDA device: ..."); in a build
// without the CUDA backend, Unavailable("the CUDA backend is not compiled in ...").
#ifndef QFLOAT_CUDA_H_
#define QFLOAT_CUDA_H_

#include <cstddef>
#include <cstdint>

#include "qfloat/format.h"
#include "qfloat/rounding.h"
#include "qfloat/status.h"

namespace qfloat {

// Ok when the backend is compiled in and the current device is usable.
Status CudaDeviceStatus();

// Fake-quant: out[i] = Decode(Encode(in[i])) for i < count. `out` may equal `in` (no other
// overlap).
Status QuantizeOnDevice(const FormatSpec& spec, const float* in, float* out, size_t count,
                        const QuantizeOptions& options, void* stream = nullptr);
Status QuantizeOnDevice(const FormatSpec& spec, const double* in, double* out, size_t count,
                        const QuantizeOptions& options, void* stream = nullptr);
// Inputs held as codes of a <= 16-bit format (bf16, fp16, ...), each widened exactly and then
// quantized once into `spec`.
Status QuantizeFromCodesOnDevice(const FormatSpec& input_spec, const uint16_t* in,
                                 const FormatSpec& spec, float* out, size_t count,
                                 const QuantizeOptions& options, void* stream = nullptr);

// Packed codes, laid out as quantize.h documents (PackedBytes(spec, count) bytes are written).
Status EncodeOnDevice(const FormatSpec& spec, const float* in, uint8_t* packed, size_t count,
                      const QuantizeOptions& options, void* stream = nullptr);
Status EncodeOnDevice(const FormatSpec& spec, const double* in, uint8_t* packed, size_t count,
                      const QuantizeOptions& options, void* stream = nullptr);

// `count` packed codes to float32 (values beyond float32's range round as a cast).
Status DecodeOnDevice(const FormatSpec& spec, const uint8_t* packed, float* out, size_t count,
                      void* stream = nullptr);

// Waits for `stream` and reports an error raised by the work queued on it.
Status SynchronizeCudaStream(void* stream = nullptr);

}  // namespace qfloat

#endif  // QFLOAT_CUDA_H_
