// GPU bench of the CUDA backend (CUDA events): fake-quant, encode and decode on a float32 tensor
// of --mib MiB (default 1024), each against a device-to-device cudaMemcpy of the same tensor
// measured in the same run.
//
//   qfloat_gpu_bench [--mib N] [--reps R]
//
// Every figure is the median of R timed runs after 3 warm-ups. Bandwidth counts the bytes an
// operation must move (each input read once, each output written once); the copy moves 2x the
// tensor. `ratio` = the operation's bandwidth / the copy's; targets (issue 4): fake-quant rne
// >= 0.8, sr >= 0.6. The first 2^20 outputs of each operation are checked against the scalar
// reference. Exit status 77 when there is no CUDA device, 1 when a check fails.
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "qfloat/cuda.h"
#include "qfloat/format.h"
#include "qfloat/quantize.h"
#include "qfloat/rounding.h"
#include "qfloat/scalar.h"

namespace qfloat {
namespace {

#define CUDA_OK(call)                                                                             \
  do {                                                                                            \
    const cudaError_t e_ = (call);                                                                \
    if (e_ != cudaSuccess) {                                                                      \
      std::fprintf(stderr, "%s:%d: %s: %s\n", __FILE__, __LINE__, #call, cudaGetErrorString(e_)); \
      std::exit(1);                                                                               \
    }                                                                                             \
  } while (0)

void Ok(const Status& st, const char* what) {
  if (!st.ok()) {
    std::fprintf(stderr, "%s: %s\n", what, st.message().c_str());
    std::exit(1);
  }
}

__device__ uint64_t Mix(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

// Gradient-like data: random signs and fractions, magnitudes log-uniform over 2^-14 .. 2^10
// (so e4m3fn sees subnormals, normals and a few overflows), 1% zeros.
__global__ void FillKernel(uint32_t* out, uint64_t n, uint64_t seed) {
  const uint64_t stride = uint64_t{gridDim.x} * blockDim.x;
  for (uint64_t i = uint64_t{blockIdx.x} * blockDim.x + threadIdx.x; i < n; i += stride) {
    const uint64_t h = Mix(seed ^ Mix(i));
    const uint32_t sign = static_cast<uint32_t>(h >> 63) << 31;
    const uint32_t field = 127 - 14 + static_cast<uint32_t>((h >> 32) % 24);
    out[i] = (h & 0xFF) < 3 ? sign : sign | (field << 23) | static_cast<uint32_t>(h & 0x7FFFFF);
  }
}

struct Row {
  std::string op, format, rounding;
  double ms = 0;
  double bytes = 0;
  double target = 0;  // 0: none
  uint64_t mismatches = 0;
};

class Bench {
 public:
  Bench(uint64_t n, int reps) : n_(n), reps_(reps) {
    CUDA_OK(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking));
    CUDA_OK(cudaEventCreate(&start_));
    CUDA_OK(cudaEventCreate(&stop_));
    CUDA_OK(cudaMalloc(&in_, n * 4));
    CUDA_OK(cudaMalloc(&out_, n * 4));
    CUDA_OK(cudaMalloc(&packed_, n * 4));
    FillKernel<<<2048, 256, 0, stream_>>>(reinterpret_cast<uint32_t*>(in_), n, 2024);
    CUDA_OK(cudaGetLastError());
    CUDA_OK(cudaStreamSynchronize(stream_));
    host_in_.resize(kCheck);
    CUDA_OK(cudaMemcpy(host_in_.data(), in_, kCheck * 4, cudaMemcpyDeviceToHost));
  }
  ~Bench() {
    cudaFree(in_);
    cudaFree(out_);
    cudaFree(packed_);
    cudaEventDestroy(start_);
    cudaEventDestroy(stop_);
    cudaStreamDestroy(stream_);
  }

  // Median milliseconds of fn() on the stream.
  double Time(const std::function<void()>& fn) {
    for (int i = 0; i < 3; ++i) fn();
    std::vector<float> ms;
    for (int i = 0; i < reps_; ++i) {
      CUDA_OK(cudaEventRecord(start_, stream_));
      fn();
      CUDA_OK(cudaEventRecord(stop_, stream_));
      CUDA_OK(cudaEventSynchronize(stop_));
      float t = 0;
      CUDA_OK(cudaEventElapsedTime(&t, start_, stop_));
      ms.push_back(t);
    }
    Ok(SynchronizeCudaStream(stream_), "stream");
    std::sort(ms.begin(), ms.end());
    return ms[ms.size() / 2];
  }

  Row Copy() {
    Row r{"copy", "-", "-"};
    r.ms = Time(
        [&] { CUDA_OK(cudaMemcpyAsync(out_, in_, n_ * 4, cudaMemcpyDeviceToDevice, stream_)); });
    r.bytes = 8.0 * n_;
    return r;
  }

  Row Quantize(const char* format, const char* rounding, double target) {
    const FormatSpec spec = ResolveFormat(format)->spec;
    const QuantizeOptions o = Options(rounding);
    Row r{"quantize", format, rounding};
    r.target = target;
    r.ms = Time([&] { Ok(QuantizeOnDevice(spec, in_, out_, n_, o, stream_), "quantize"); });
    r.bytes = 8.0 * n_;
    std::vector<float> got(kCheck);
    CUDA_OK(cudaMemcpy(got.data(), out_, kCheck * 4, cudaMemcpyDeviceToHost));
    for (uint64_t i = 0; i < kCheck; ++i) {
      const float want = QuantizeScalar(spec, host_in_[i], o, i);
      r.mismatches += std::memcmp(&want, &got[i], 4) != 0 ? 1 : 0;
    }
    return r;
  }

  Row Encode(const char* format, const char* rounding) {
    const FormatSpec spec = ResolveFormat(format)->spec;
    const QuantizeOptions o = Options(rounding);
    Row r{"encode", format, rounding};
    r.ms = Time([&] { Ok(EncodeOnDevice(spec, in_, packed_, n_, o, stream_), "encode"); });
    r.bytes = 4.0 * n_ + static_cast<double>(PackedBytes(spec, n_));
    std::vector<uint8_t> got(PackedBytes(spec, kCheck));
    CUDA_OK(cudaMemcpy(got.data(), packed_, got.size(), cudaMemcpyDeviceToHost));
    for (uint64_t i = 0; i < kCheck; ++i) {
      r.mismatches += ReadPackedCode(spec, got, i) != EncodeScalar(spec, host_in_[i], o, i);
    }
    return r;
  }

  // Decodes the codes the last Encode of `format` left in the packed buffer.
  Row Decode(const char* format) {
    const FormatSpec spec = ResolveFormat(format)->spec;
    Row r{"decode", format, "-"};
    r.ms = Time([&] { Ok(DecodeOnDevice(spec, packed_, out_, n_, stream_), "decode"); });
    r.bytes = 4.0 * n_ + static_cast<double>(PackedBytes(spec, n_));
    std::vector<uint8_t> codes(PackedBytes(spec, kCheck));
    std::vector<float> got(kCheck);
    CUDA_OK(cudaMemcpy(codes.data(), packed_, codes.size(), cudaMemcpyDeviceToHost));
    CUDA_OK(cudaMemcpy(got.data(), out_, kCheck * 4, cudaMemcpyDeviceToHost));
    for (uint64_t i = 0; i < kCheck; ++i) {
      const float want = static_cast<float>(DecodeScalar(spec, ReadPackedCode(spec, codes, i)));
      r.mismatches += std::memcmp(&want, &got[i], 4) != 0 ? 1 : 0;
    }
    return r;
  }

 private:
  static constexpr uint64_t kCheck = uint64_t{1} << 20;

  static QuantizeOptions Options(const char* rounding) {
    QuantizeOptions o;
    o.rounding = *ParseRounding(rounding);
    o.seed = 0xC0FFEE;
    return o;
  }

  uint64_t n_;
  int reps_;
  cudaStream_t stream_ = nullptr;
  cudaEvent_t start_ = nullptr, stop_ = nullptr;
  float* in_ = nullptr;
  float* out_ = nullptr;
  uint8_t* packed_ = nullptr;
  std::vector<float> host_in_;
};

int Main(int argc, char** argv) {
  uint64_t mib = 1024;
  int reps = 20;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--mib" && i + 1 < argc) {
      mib = std::strtoull(argv[++i], nullptr, 10);
    } else if (a == "--reps" && i + 1 < argc) {
      reps = std::max(1, std::atoi(argv[++i]));
    } else {
      std::printf("usage: %s [--mib N] [--reps R]\n", argv[0]);
      return 2;
    }
  }
  if (Status st = CudaDeviceStatus(); !st.ok()) {
    std::printf("SKIPPED: %s\n", st.message().c_str());
    return 77;
  }
  const uint64_t n = std::max<uint64_t>(mib, 1) * (uint64_t{1} << 20) / 4;
  cudaDeviceProp prop{};
  int dev = 0;
  CUDA_OK(cudaGetDevice(&dev));
  CUDA_OK(cudaGetDeviceProperties(&prop, dev));
  std::printf("device: %s (sm_%d%d, %d SMs); tensor: %llu float32 (%llu MiB); median of %d\n",
              prop.name, prop.major, prop.minor, prop.multiProcessorCount,
              static_cast<unsigned long long>(n), static_cast<unsigned long long>(mib), reps);
  Bench bench(n, reps);
  std::vector<Row> rows;
  rows.push_back(bench.Copy());
  rows.push_back(bench.Quantize("e4m3fn", "rne", 0.8));
  rows.push_back(bench.Quantize("e4m3fn", "sr", 0.6));
  rows.push_back(bench.Encode("e4m3fn", "sr"));
  rows.push_back(bench.Encode("e4m3fn", "rne"));
  rows.push_back(bench.Decode("e4m3fn"));
  rows.push_back(bench.Quantize("e5m2", "rne", 0.8));
  rows.push_back(bench.Quantize("e2m1fn", "rne", 0.8));
  rows.push_back(bench.Quantize("bf16", "rne", 0.8));
  rows.push_back(bench.Quantize("e4m3fn", "sr:8", 0.6));
  rows.push_back(bench.Encode("e3m2fn", "rne"));
  rows.push_back(bench.Encode("e2m1fn", "rne"));
  rows.push_back(bench.Decode("e2m1fn"));
  rows.push_back(bench.Quantize("posit8_2", "rne", 0));  // the reference path (no fast path)
  rows.push_back(bench.Copy());  // again: the spread between the two is the run's noise
  const double copy_gbps = rows[0].bytes / (rows[0].ms * 1e6);
  std::printf("\n%-9s %-9s %-6s %9s %10s %8s %8s %s\n", "op", "format", "round", "ms", "GB/s",
              "ratio", "target", "check");
  int failed = 0;
  for (const Row& r : rows) {
    const double gbps = r.bytes / (r.ms * 1e6);
    const double ratio = gbps / copy_gbps;
    const char* verdict = r.target == 0 ? "-" : (ratio >= r.target ? "met" : "MISSED");
    std::printf(
        "%-9s %-9s %-6s %9.3f %10.1f %8.3f %8s %s\n", r.op.c_str(), r.format.c_str(),
        r.rounding.c_str(), r.ms, gbps, ratio,
        r.target == 0 ? "-" : (std::to_string(r.target).substr(0, 3) + " " + verdict).c_str(),
        r.mismatches == 0 ? "ok" : "MISMATCH");
    std::printf(
        "BENCH op=%s format=%s rounding=%s ms=%.4f gbps=%.1f ratio=%.3f target=%.2f "
        "mismatches=%llu\n",
        r.op.c_str(), r.format.c_str(), r.rounding.c_str(), r.ms, gbps, ratio, r.target,
        static_cast<unsigned long long>(r.mismatches));
    failed += r.mismatches != 0 ? 1 : 0;
  }
  return failed == 0 ? 0 : 1;
}

}  // namespace
}  // namespace qfloat

int main(int argc, char** argv) { return qfloat::Main(argc, argv); }
