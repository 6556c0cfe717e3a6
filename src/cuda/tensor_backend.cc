// The tensor API's `cuda` entry (backend::CudaKernels()): host spans staged through device
// memory in chunks, on two streams so that one chunk's copies overlap the other's kernel. The
// kernels are the device-pointer entry points of qfloat/cuda.h; chunk c of a call passes
// index_offset + (its first element), so stochastic rounding draws the same bits as one call over
// the whole span (and as the CPU backends).
#include <cuda_runtime.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <string>

#include "cuda/layout.h"
#include "qfloat/cuda.h"
#include "tensor/backends.h"

namespace qfloat::backend {
namespace {

// Elements per staged chunk (16 MiB of float32). A multiple of 4, so packed 6-bit groups and
// nibble pairs never straddle two chunks.
constexpr size_t kChunk = size_t{1} << 22;
constexpr int kLanes = 2;

Status CudaFailure(cudaError_t e, const std::string& what) {
  cudaGetLastError();
  return Unavailable("CUDA error in " + what + ": " + cudaGetErrorName(e) + " (" +
                     cudaGetErrorString(e) + ")");
}

// A stream and its device buffers; everything is released on every path.
struct Lane {
  cudaStream_t stream = nullptr;
  void* in = nullptr;
  void* out = nullptr;
};

class Staging {
 public:
  Staging() = default;
  Staging(const Staging&) = delete;
  Staging& operator=(const Staging&) = delete;
  ~Staging() {
    for (Lane& lane : lanes_) {
      if (lane.stream != nullptr) cudaStreamSynchronize(lane.stream);
      if (lane.in != nullptr) cudaFree(lane.in);
      if (lane.out != nullptr) cudaFree(lane.out);
      if (lane.stream != nullptr) cudaStreamDestroy(lane.stream);
    }
    cudaGetLastError();  // a failure while releasing must not leak into the next call
  }

  Status Init(size_t in_bytes, size_t out_bytes) {
    for (Lane& lane : lanes_) {
      cudaError_t e = cudaStreamCreateWithFlags(&lane.stream, cudaStreamNonBlocking);
      if (e == cudaSuccess) e = cudaMalloc(&lane.in, std::max<size_t>(in_bytes, 1));
      if (e == cudaSuccess) e = cudaMalloc(&lane.out, std::max<size_t>(out_bytes, 1));
      if (e != cudaSuccess) {
        return CudaFailure(e,
                           "staging buffers (" + std::to_string(in_bytes + out_bytes) + " bytes)");
      }
    }
    return Status::Ok();
  }

  Lane& lane(size_t i) { return lanes_[i % kLanes]; }

  Status Finish() {
    for (Lane& lane : lanes_) {
      const cudaError_t e = cudaStreamSynchronize(lane.stream);
      if (e != cudaSuccess) return CudaFailure(e, "the staged kernels");
    }
    return Status::Ok();
  }

 private:
  std::array<Lane, kLanes> lanes_{};
};

// Runs `launch(device_in, device_out, count, first, stream)` over elements [0, n) in chunks.
// in_bytes(i) / out_bytes(i): the byte offset of element i in the host input / output.
template <typename InBytes, typename OutBytes, typename LaunchFn>
Status Staged(size_t n, const void* host_in, void* host_out, InBytes in_bytes, OutBytes out_bytes,
              LaunchFn launch) {
  if (Status st = CudaDeviceStatus(); !st.ok()) return st;
  if (n == 0) return Status::Ok();
  const size_t chunk = std::min(n, kChunk);
  Staging staging;
  if (Status st = staging.Init(in_bytes(chunk), out_bytes(chunk)); !st.ok()) return st;
  size_t c = 0;
  for (size_t first = 0; first < n; first += chunk, ++c) {
    const size_t count = std::min(chunk, n - first);
    Lane& lane = staging.lane(c);
    const size_t in_begin = in_bytes(first), in_end = in_bytes(first + count);
    const size_t out_begin = out_bytes(first), out_end = out_bytes(first + count);
    cudaError_t e = cudaMemcpyAsync(lane.in, static_cast<const uint8_t*>(host_in) + in_begin,
                                    in_end - in_begin, cudaMemcpyHostToDevice, lane.stream);
    if (e != cudaSuccess) return CudaFailure(e, "the copy to the device");
    if (Status st = launch(lane.in, lane.out, count, first, lane.stream); !st.ok()) return st;
    e = cudaMemcpyAsync(static_cast<uint8_t*>(host_out) + out_begin, lane.out, out_end - out_begin,
                        cudaMemcpyDeviceToHost, lane.stream);
    if (e != cudaSuccess) return CudaFailure(e, "the copy from the device");
  }
  return staging.Finish();
}

template <typename T>
auto ElementBytes() {
  return [](size_t i) { return i * sizeof(T); };
}

auto PackedOffset(const FormatSpec& spec) {
  const int bits = spec.bits;
  return [bits](size_t i) { return cuda_detail::PackedBytesOf(bits, i); };
}

QuantizeOptions ChunkOptions(const TensorOptions& o, size_t first) {
  QuantizeOptions q = o.quantize;
  q.index_offset += first;
  return q;
}

Status QuantizeF32(const FormatSpec& spec, std::span<const float> in, std::span<float> out,
                   const TensorOptions& o) {
  return Staged(in.size(), in.data(), out.data(), ElementBytes<float>(), ElementBytes<float>(),
                [&](void* d_in, void* d_out, size_t count, size_t first, cudaStream_t s) {
                  return QuantizeOnDevice(spec, static_cast<const float*>(d_in),
                                          static_cast<float*>(d_out), count, ChunkOptions(o, first),
                                          s);
                });
}

Status QuantizeF64(const FormatSpec& spec, std::span<const double> in, std::span<double> out,
                   const TensorOptions& o) {
  return Staged(in.size(), in.data(), out.data(), ElementBytes<double>(), ElementBytes<double>(),
                [&](void* d_in, void* d_out, size_t count, size_t first, cudaStream_t s) {
                  return QuantizeOnDevice(spec, static_cast<const double*>(d_in),
                                          static_cast<double*>(d_out), count,
                                          ChunkOptions(o, first), s);
                });
}

Status QuantizeCodes16(const FormatSpec& input_spec, std::span<const uint16_t> in,
                       const FormatSpec& spec, std::span<float> out, const TensorOptions& o) {
  return Staged(in.size(), in.data(), out.data(), ElementBytes<uint16_t>(), ElementBytes<float>(),
                [&](void* d_in, void* d_out, size_t count, size_t first, cudaStream_t s) {
                  return QuantizeFromCodesOnDevice(input_spec, static_cast<const uint16_t*>(d_in),
                                                   spec, static_cast<float*>(d_out), count,
                                                   ChunkOptions(o, first), s);
                });
}

Status EncodeF32(const FormatSpec& spec, std::span<const float> in, std::span<uint8_t> packed,
                 const TensorOptions& o) {
  return Staged(in.size(), in.data(), packed.data(), ElementBytes<float>(), PackedOffset(spec),
                [&](void* d_in, void* d_out, size_t count, size_t first, cudaStream_t s) {
                  return EncodeOnDevice(spec, static_cast<const float*>(d_in),
                                        static_cast<uint8_t*>(d_out), count, ChunkOptions(o, first),
                                        s);
                });
}

Status EncodeF64(const FormatSpec& spec, std::span<const double> in, std::span<uint8_t> packed,
                 const TensorOptions& o) {
  return Staged(in.size(), in.data(), packed.data(), ElementBytes<double>(), PackedOffset(spec),
                [&](void* d_in, void* d_out, size_t count, size_t first, cudaStream_t s) {
                  return EncodeOnDevice(spec, static_cast<const double*>(d_in),
                                        static_cast<uint8_t*>(d_out), count, ChunkOptions(o, first),
                                        s);
                });
}

Status DecodeF32(const FormatSpec& spec, std::span<const uint8_t> packed, std::span<float> out,
                 const TensorOptions&) {
  return Staged(out.size(), packed.data(), out.data(), PackedOffset(spec), ElementBytes<float>(),
                [&](void* d_in, void* d_out, size_t count, size_t, cudaStream_t s) {
                  return DecodeOnDevice(spec, static_cast<const uint8_t*>(d_in),
                                        static_cast<float*>(d_out), count, s);
                });
}

constexpr Kernels kCuda = {QuantizeF32, QuantizeF64, QuantizeCodes16,
                           EncodeF32,   EncodeF64,   DecodeF32};

}  // namespace

const Kernels* CudaKernels() { return &kCuda; }

}  // namespace qfloat::backend
