// The CUDA backend against the scalar reference, bit for bit, on a GPU.
//
//   cuda_backend_test --suite api|random|exhaustive|all [--threads N] [--scale F]
//
// api:        the device-pointer entry points on a stream (argument checks, every packing with
//             tails and misaligned pointers, in-place, index offsets, float64, codes16 inputs,
//             decode of every code) and the tensor API's `cuda` backend over host memory.
// random:     every built-in format under every rounding mode and overflow policy: 2^28 random
//             float32 inputs per format (shared among its configurations) plus every boundary
//             input (each value, midpoint and their neighbours) under each configuration;
//             float64 likewise with 2^22 random inputs per format.
// exhaustive: all 2^32 float32 inputs for e4m3fn, e5m2, e2m1fn and posit8_2 under rne, rne with
//             sat-finite, and sr with a fixed seed.
// Every GPU result is checked on the CPU against EncodeScalar / DecodeScalar (the GPU output is
// copied back in chunks and compared by all CPU threads); nothing is compared with a second GPU
// computation. --scale F shrinks the random and exhaustive input counts by F (a quick run; the
// exhaustive suite then checks an even sample of the 2^32 patterns, not a prefix).
//
// Exit status: 0 all checks passed, 1 a check failed, 77 no usable CUDA device (ctest reports
// the test as skipped through SKIP_RETURN_CODE; before skipping, the program checks that every
// entry point reports the missing device as Unavailable instead of failing otherwise).
#include <cuda_runtime.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <iterator>
#include <mutex>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "inputs.h"
#include "qfloat/cuda.h"
#include "qfloat/format.h"
#include "qfloat/quantize.h"
#include "qfloat/rounding.h"
#include "qfloat/scalar.h"
#include "verify.h"

namespace qfloat {
namespace {

constexpr int kSkip = 77;

// ---- bookkeeping ----

int g_failures = 0;
uint64_t g_checked = 0;
uint64_t g_mismatches = 0;
unsigned g_threads = 1;
double g_scale = 1.0;

#define EXPECT(cond, ...)                                           \
  do {                                                              \
    if (!(cond)) {                                                  \
      ++g_failures;                                                 \
      std::printf("FAILED %s:%d: %s: ", __FILE__, __LINE__, #cond); \
      std::printf(__VA_ARGS__);                                     \
      std::printf("\n");                                            \
    }                                                               \
  } while (0)

#define CUDA_OK(call)                                                                          \
  do {                                                                                         \
    const cudaError_t e_ = (call);                                                             \
    if (e_ != cudaSuccess) {                                                                   \
      std::printf("FATAL %s:%d: %s: %s\n", __FILE__, __LINE__, #call, cudaGetErrorString(e_)); \
      std::exit(1);                                                                            \
    }                                                                                          \
  } while (0)

void ExpectOk(const Status& st, const std::string& what) {
  EXPECT(st.ok(), "%s: %s", what.c_str(), st.message().c_str());
}

// Device and pinned host buffers that free themselves.
template <typename T>
struct DeviceBuffer {
  T* p = nullptr;
  explicit DeviceBuffer(size_t n) { CUDA_OK(cudaMalloc(&p, std::max<size_t>(n, 1) * sizeof(T))); }
  ~DeviceBuffer() { cudaFree(p); }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
};

template <typename T>
struct PinnedBuffer {
  T* p = nullptr;
  size_t n = 0;
  explicit PinnedBuffer(size_t count) : n(count) {
    CUDA_OK(cudaMallocHost(&p, std::max<size_t>(n, 1) * sizeof(T)));
  }
  ~PinnedBuffer() { cudaFreeHost(p); }
  PinnedBuffer(const PinnedBuffer&) = delete;
  PinnedBuffer& operator=(const PinnedBuffer&) = delete;
};

std::vector<Rounding> AllRoundings() {
  std::vector<Rounding> out;
  for (const char* r : {"rne", "rna", "rtz", "rup", "rdn", "rto", "sr", "sr:1", "sr:4", "sr:16"}) {
    out.push_back(*ParseRounding(r));
  }
  return out;
}

const Overflow kOverflows[] = {Overflow::kInf, Overflow::kSatFinite, Overflow::kSatPropagate};

// The formats to test: every built-in element format (block presets share their element's).
std::vector<Format> ElementFormats() {
  std::vector<Format> out;
  for (const Format& f : BuiltinFormats()) {
    if (f.element.empty()) out.push_back(f);
  }
  return out;
}

// ---- the device side of the test: input generation ----

__global__ void FillKernel(test::Source source, test::RandomRange range, uint64_t seed,
                           uint64_t base, void* out, uint64_t n) {
  const uint64_t stride = uint64_t{gridDim.x} * blockDim.x;
  for (uint64_t i = uint64_t{blockIdx.x} * blockDim.x + threadIdx.x; i < n; i += stride) {
    if (source == test::Source::kIdentity) {
      static_cast<uint32_t*>(out)[i] = static_cast<uint32_t>(base + i);
    } else if (source == test::Source::kPermuted) {
      static_cast<uint32_t*>(out)[i] = test::PermutedBits(base + i);
    } else if (source == test::Source::kRandomFloat) {
      static_cast<uint32_t*>(out)[i] = test::RandomFloatBits(range, seed, base + i);
    } else {
      static_cast<uint64_t*>(out)[i] = test::RandomDoubleBits(range, seed, base + i);
    }
  }
}

// ---- GPU results vs the reference over a stream of inputs ----

constexpr uint64_t kChunk = uint64_t{1} << 26;

class Checker {
 public:
  Checker()
      : d_in_(kChunk * 2),  // room for float64 inputs
        d_values_(kChunk * 2),
        d_codes_(kChunk * 4),
        h_values_(kChunk * 2),
        h_codes_(kChunk * 4) {
    CUDA_OK(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking));
  }
  ~Checker() { cudaStreamDestroy(stream_); }

  // Encodes and fake-quantizes the batch on the GPU (device-pointer API, one call per chunk with
  // index_offset advanced) and checks codes and values against the reference.
  test::Outcome Run(const test::Batch& b) {
    test::Outcome total;
    const FormatSpec& spec = b.format->spec;
    const test::ValueTables tables = test::MakeTables(spec);
    for (uint64_t base = 0; base < b.count; base += kChunk) {
      const uint64_t n = std::min(kChunk, b.count - base);
      QuantizeOptions o = b.options;
      o.index_offset = b.options.index_offset + base;
      Upload(b, base, n);
      void* s = stream_;
      if (b.f64) {
        const double* in = reinterpret_cast<const double*>(d_in_.p);
        ExpectOk(EncodeOnDevice(spec, in, d_codes_.p, n, o, s), "EncodeOnDevice f64");
        ExpectOk(QuantizeOnDevice(spec, in, reinterpret_cast<double*>(d_values_.p), n, o, s),
                 "QuantizeOnDevice f64");
      } else {
        const float* in = reinterpret_cast<const float*>(d_in_.p);
        ExpectOk(EncodeOnDevice(spec, in, d_codes_.p, n, o, s), "EncodeOnDevice f32");
        ExpectOk(QuantizeOnDevice(spec, in, reinterpret_cast<float*>(d_values_.p), n, o, s),
                 "QuantizeOnDevice f32");
      }
      const size_t packed = PackedBytes(spec, n);
      CUDA_OK(cudaMemcpyAsync(h_codes_.p, d_codes_.p, packed, cudaMemcpyDeviceToHost, stream_));
      CUDA_OK(cudaMemcpyAsync(h_values_.p, d_values_.p, n * (b.f64 ? 8 : 4), cudaMemcpyDeviceToHost,
                              stream_));
      ExpectOk(SynchronizeCudaStream(stream_), "SynchronizeCudaStream");
      const test::Outcome part =
          test::VerifyChunk(b, tables, o, base, n, std::span<const uint8_t>(h_codes_.p, packed),
                            h_values_.p, g_threads);
      total.checked += part.checked;
      total.code_mismatches += part.code_mismatches;
      total.value_mismatches += part.value_mismatches;
    }
    g_checked += total.checked;
    g_mismatches += total.code_mismatches + total.value_mismatches;
    if (total.code_mismatches + total.value_mismatches != 0) {
      ++g_failures;
      std::printf("FAILED %s %s: %llu inputs, %llu code and %llu value mismatches\n",
                  test::Describe(*b.format, b.options).c_str(), b.f64 ? "f64" : "f32",
                  static_cast<unsigned long long>(total.checked),
                  static_cast<unsigned long long>(total.code_mismatches),
                  static_cast<unsigned long long>(total.value_mismatches));
    }
    return total;
  }

 private:
  void Upload(const test::Batch& b, uint64_t base, uint64_t n) {
    if (b.source == test::Source::kExplicit) {
      const void* src = b.f64 ? static_cast<const void*>(b.doubles->data() + base)
                              : static_cast<const void*>(b.floats->data() + base);
      CUDA_OK(cudaMemcpyAsync(d_in_.p, src, n * (b.f64 ? 8 : 4), cudaMemcpyHostToDevice, stream_));
      return;
    }
    FillKernel<<<1024, 256, 0, stream_>>>(b.source, b.range, b.seed, base, d_in_.p, n);
    CUDA_OK(cudaGetLastError());
  }

  cudaStream_t stream_ = nullptr;
  DeviceBuffer<uint32_t> d_in_;
  DeviceBuffer<uint32_t> d_values_;
  DeviceBuffer<uint8_t> d_codes_;
  PinnedBuffer<uint32_t> h_values_;
  PinnedBuffer<uint8_t> h_codes_;
};

// ---- suites ----

// Without a device: every entry point answers Unavailable("no CUDA device: ..."), none crashes.
int NoDevice(const Status& why) {
  const Format f = *ResolveFormat("e4m3fn");
  std::vector<float> x(16, 1.5f), y(16);
  std::vector<double> xd(16, 1.5), yd(16);
  std::vector<uint16_t> c16(16, 0x3F80);
  std::vector<uint8_t> packed(16);
  const QuantizeOptions q;
  auto expect_unavailable = [&](const Status& st, const char* what) {
    EXPECT(st.code() == StatusCode::kUnavailable && st.message().rfind("no CUDA device: ", 0) == 0,
           "%s without a device: code %d, message '%s'", what, static_cast<int>(st.code()),
           st.message().c_str());
  };
  expect_unavailable(why, "CudaDeviceStatus");
  expect_unavailable(QuantizeOnDevice(f.spec, x.data(), y.data(), x.size(), q), "Quantize f32");
  expect_unavailable(QuantizeOnDevice(f.spec, xd.data(), yd.data(), xd.size(), q), "Quantize f64");
  expect_unavailable(EncodeOnDevice(f.spec, x.data(), packed.data(), x.size(), q), "Encode f32");
  expect_unavailable(EncodeOnDevice(f.spec, xd.data(), packed.data(), x.size(), q), "Encode f64");
  expect_unavailable(DecodeOnDevice(f.spec, packed.data(), y.data(), y.size()), "Decode");
  expect_unavailable(QuantizeFromCodesOnDevice(ResolveFormat("bf16")->spec, c16.data(), f.spec,
                                               y.data(), y.size(), q),
                     "QuantizeFromCodes");
  expect_unavailable(SynchronizeCudaStream(nullptr), "SynchronizeCudaStream");
  TensorOptions t;
  t.backend = Backend::kCuda;
  expect_unavailable(Quantize(f.spec, std::span<const float>(x), std::span<float>(y), t),
                     "tensor Quantize");
  expect_unavailable(Encode(f.spec, std::span<const float>(x), std::span<uint8_t>(packed), t),
                     "tensor Encode");
  expect_unavailable(Decode(f.spec, std::span<const uint8_t>(packed), std::span<float>(y), t),
                     "tensor Decode");
  if (g_failures != 0) {
    std::printf("RESULT suite=none status=FAILED failures=%d\n", g_failures);
    return 1;
  }
  std::printf("SKIPPED: %s (every entry point reported Unavailable as it should)\n",
              why.message().c_str());
  std::printf("RESULT suite=none status=SKIPPED\n");
  return kSkip;
}

uint32_t FloatBitsOf(float f) { return test::FloatBits(f); }

// Host-side reference for a packed encode of `xs` (zero-initialised buffer, as documented).
template <typename T>
std::vector<uint8_t> ReferencePacked(const FormatSpec& spec, const std::vector<T>& xs,
                                     const QuantizeOptions& o) {
  std::vector<uint8_t> out(PackedBytes(spec, xs.size()), 0);
  for (size_t i = 0; i < xs.size(); ++i) {
    WritePackedCode(spec, out, i, EncodeScalar(spec, xs[i], o, i));
  }
  return out;
}

void ApiArguments(void* stream) {
  const Format f = *ResolveFormat("e4m3fn");
  DeviceBuffer<float> d(64);
  std::vector<float> host(64);
  QuantizeOptions o;
  auto expect_invalid = [](const Status& st, const char* what) {
    EXPECT(st.code() == StatusCode::kInvalidArgument, "%s: code %d, '%s'", what,
           static_cast<int>(st.code()), st.message().c_str());
  };
  expect_invalid(QuantizeOnDevice(f.spec, host.data(), d.p, host.size(), o, stream),
                 "host input pointer");
  expect_invalid(QuantizeOnDevice(f.spec, d.p, host.data(), host.size(), o, stream),
                 "host output pointer");
  expect_invalid(QuantizeOnDevice(f.spec, static_cast<const float*>(nullptr), d.p, 4, o, stream),
                 "null input");
  ExpectOk(QuantizeOnDevice(f.spec, static_cast<const float*>(nullptr), nullptr, 0, o, stream),
           "count 0 with null pointers");
  QuantizeOptions bad_k = o;
  bad_k.rounding.mode = RoundingMode::kStochastic;
  bad_k.rounding.sr_bits = 33;
  expect_invalid(QuantizeOnDevice(f.spec, d.p, d.p, 64, bad_k, stream), "sr:33");
  FormatSpec unfinalized;
  unfinalized.magnitude_mask = 0;
  expect_invalid(EncodeOnDevice(unfinalized, d.p, reinterpret_cast<uint8_t*>(d.p), 4,
                                QuantizeOptions{}, stream),
                 "unfinalized spec");
  ExpectOk(SynchronizeCudaStream(stream), "stream after argument errors");
}

// Every packing, with tails, misaligned inputs and misaligned packed buffers (guard bytes around
// the output must survive), through the device-pointer API on a stream; then decode from the
// same misaligned buffers.
void ApiPacking(void* stream) {
  const size_t counts[] = {1, 2, 3, 4, 5, 7, 8, 15, 16, 17, 31, 33, 127, 511, 512, 513, 1000, 4099};
  const size_t max_n = 4099 + 8;
  DeviceBuffer<float> d_in(max_n);
  DeviceBuffer<uint8_t> d_packed(max_n * 4 + 64);
  DeviceBuffer<float> d_out(max_n + 8);
  size_t cases = 0;
  for (const char* name : {"e2m1fn", "e2m3fn", "e3m2fn", "e4m3fn", "posit8_2", "bf16", "posit16_1",
                           "fp32", "posit32_2", "e8m0fnu", "int8_mx"}) {
    const StatusOr<Format> f = ResolveFormat(name);
    if (!f.ok()) continue;
    const FormatSpec& spec = f->spec;
    for (const char* mode : {"rne", "sr"}) {
      QuantizeOptions o;
      o.rounding = *ParseRounding(mode);
      o.seed = 77;
      for (size_t n : counts) {
        for (size_t in_shift : {0, 1, 3}) {
          for (size_t out_shift : {0, 1, 2, 3, 5, 8}) {
            std::vector<float> xs(n);
            const test::RandomRange range = test::RangeOf(spec);
            for (size_t i = 0; i < n; ++i) {
              xs[i] = test::FloatOf(test::RandomFloatBits(range, n * 131 + out_shift, i));
            }
            const size_t bytes = PackedBytes(spec, n);
            std::vector<uint8_t> guard(bytes + out_shift + 16, 0xA5);
            CUDA_OK(cudaMemcpy(d_in.p + in_shift, xs.data(), n * 4, cudaMemcpyHostToDevice));
            CUDA_OK(cudaMemcpy(d_packed.p, guard.data(), guard.size(), cudaMemcpyHostToDevice));
            ExpectOk(EncodeOnDevice(spec, d_in.p + in_shift, d_packed.p + out_shift, n, o, stream),
                     "EncodeOnDevice");
            ExpectOk(SynchronizeCudaStream(stream), "sync");
            std::vector<uint8_t> got(guard.size());
            CUDA_OK(cudaMemcpy(got.data(), d_packed.p, got.size(), cudaMemcpyDeviceToHost));
            const std::vector<uint8_t> want = ReferencePacked(spec, xs, o);
            bool same = std::equal(want.begin(), want.end(), got.begin() + out_shift);
            bool guards = true;
            for (size_t b = 0; b < out_shift; ++b) guards = guards && got[b] == 0xA5;
            for (size_t b = out_shift + bytes; b < got.size(); ++b)
              guards = guards && got[b] == 0xA5;
            EXPECT(same, "%s %s encode n=%zu in+%zu out+%zu differs from the reference", name, mode,
                   n, in_shift, out_shift);
            EXPECT(guards, "%s encode n=%zu out+%zu wrote outside its %zu bytes", name, n,
                   out_shift, bytes);
            // Decode the same (misaligned) packed codes.
            std::vector<float> sentinel(n + 8, test::FloatOf(0x7FBADBADu));
            CUDA_OK(
                cudaMemcpy(d_out.p, sentinel.data(), sentinel.size() * 4, cudaMemcpyHostToDevice));
            ExpectOk(DecodeOnDevice(spec, d_packed.p + out_shift, d_out.p + in_shift, n, stream),
                     "DecodeOnDevice");
            ExpectOk(SynchronizeCudaStream(stream), "sync");
            std::vector<float> dec(n + 8);
            CUDA_OK(cudaMemcpy(dec.data(), d_out.p, dec.size() * 4, cudaMemcpyDeviceToHost));
            size_t bad = 0;
            for (size_t i = 0; i < n; ++i) {
              const uint32_t code = ReadPackedCode(spec, want, i);
              bad += FloatBitsOf(dec[in_shift + i]) !=
                             FloatBitsOf(static_cast<float>(DecodeScalar(spec, code)))
                         ? 1
                         : 0;
            }
            for (size_t i = 0; i < in_shift; ++i) bad += FloatBitsOf(dec[i]) != 0x7FBADBADu;
            for (size_t i = in_shift + n; i < dec.size(); ++i) {
              bad += FloatBitsOf(dec[i]) != 0x7FBADBADu;
            }
            EXPECT(bad == 0, "%s decode n=%zu in+%zu out+%zu: %zu wrong or stray values", name, n,
                   out_shift, in_shift, bad);
            ++cases;
          }
        }
      }
    }
  }
  std::printf("api: packing: %zu encode+decode cases (tails, misaligned pointers, guards)\n",
              cases);
}

// Every code of each <= 16-bit format (and random codes of the 32-bit ones) decodes to the
// reference's float32 bits.
void ApiDecodeAll(void* stream) {
  size_t total = 0;
  for (const Format& f : ElementFormats()) {
    const FormatSpec& spec = f.spec;
    std::vector<uint32_t> codes;
    if (spec.bits <= 16) {
      for (uint32_t c = 0; c < (1u << spec.bits); ++c) codes.push_back(c);
    } else {
      codes = test::BoundaryCodes(spec);
    }
    std::vector<uint8_t> packed(PackedBytes(spec, codes.size()), 0);
    for (size_t i = 0; i < codes.size(); ++i) WritePackedCode(spec, packed, i, codes[i]);
    DeviceBuffer<uint8_t> d_packed(packed.size());
    DeviceBuffer<float> d_out(codes.size());
    CUDA_OK(cudaMemcpy(d_packed.p, packed.data(), packed.size(), cudaMemcpyHostToDevice));
    ExpectOk(DecodeOnDevice(spec, d_packed.p, d_out.p, codes.size(), stream), "DecodeOnDevice");
    ExpectOk(SynchronizeCudaStream(stream), "sync");
    std::vector<float> out(codes.size());
    CUDA_OK(cudaMemcpy(out.data(), d_out.p, out.size() * 4, cudaMemcpyDeviceToHost));
    size_t bad = 0;
    for (size_t i = 0; i < codes.size(); ++i) {
      const uint32_t want = FloatBitsOf(static_cast<float>(DecodeScalar(spec, codes[i])));
      if (FloatBitsOf(out[i]) != want) {
        if (++bad <= 3) {
          std::printf("  decode %s code 0x%x: 0x%08x want 0x%08x\n", f.name.c_str(), codes[i],
                      FloatBitsOf(out[i]), want);
        }
      }
    }
    EXPECT(bad == 0, "decode %s: %zu of %zu codes differ", f.name.c_str(), bad, codes.size());
    total += codes.size();
    g_checked += codes.size();
    g_mismatches += bad;
  }
  std::printf("api: decode: %zu codes over %zu formats\n", total, ElementFormats().size());
}

// Inputs held as bf16 / fp16 codes (every code), quantized into several formats.
void ApiCodes16(void* stream) {
  std::vector<uint16_t> codes(65536);
  for (uint32_t c = 0; c < 65536; ++c) codes[c] = static_cast<uint16_t>(c);
  DeviceBuffer<uint16_t> d_in(codes.size());
  DeviceBuffer<float> d_out(codes.size());
  CUDA_OK(cudaMemcpy(d_in.p, codes.data(), codes.size() * 2, cudaMemcpyHostToDevice));
  size_t cases = 0;
  for (const char* in_name : {"bf16", "fp16", "posit16_1"}) {
    const FormatSpec in_spec = ResolveFormat(in_name)->spec;
    for (const char* name :
         {"e4m3fn", "e5m2", "e2m1fn", "e3m2fn", "posit8_2", "fp16", "bf16", "e8m0fnu"}) {
      const FormatSpec spec = ResolveFormat(name)->spec;
      for (const char* mode : {"rne", "rtz", "sr", "sr:8"}) {
        QuantizeOptions o;
        o.rounding = *ParseRounding(mode);
        o.seed = 5;
        o.index_offset = 3;
        ExpectOk(QuantizeFromCodesOnDevice(in_spec, d_in.p, spec, d_out.p, codes.size(), o, stream),
                 "QuantizeFromCodesOnDevice");
        ExpectOk(SynchronizeCudaStream(stream), "sync");
        std::vector<float> out(codes.size());
        CUDA_OK(cudaMemcpy(out.data(), d_out.p, out.size() * 4, cudaMemcpyDeviceToHost));
        size_t bad = 0;
        for (size_t i = 0; i < codes.size(); ++i) {
          const double x = DecodeScalar(in_spec, codes[i]);
          const float want = static_cast<float>(QuantizeScalar(spec, x, o, i));
          bad += FloatBitsOf(out[i]) != FloatBitsOf(want) ? 1 : 0;
        }
        EXPECT(bad == 0, "codes16 %s -> %s %s: %zu of 65536 differ", in_name, name, mode, bad);
        g_checked += codes.size();
        g_mismatches += bad;
        ++cases;
      }
    }
  }
  std::printf("api: codes16: %zu (input format, format, mode) cases x 65536 codes\n", cases);
}

// In place, index offsets (a call over a suffix draws the whole call's bits), float64 on the
// device-pointer API.
void ApiOffsetsAndInPlace(void* stream) {
  const size_t n = 1 << 20;
  for (const char* name : {"e4m3fn", "posit8_2", "bf16"}) {
    const FormatSpec spec = ResolveFormat(name)->spec;
    std::vector<float> xs(n);
    const test::RandomRange range = test::RangeOf(spec);
    for (size_t i = 0; i < n; ++i) xs[i] = test::FloatOf(test::RandomFloatBits(range, 3, i));
    QuantizeOptions o = QuantizeOptions{};
    o.rounding = *ParseRounding("sr");
    o.seed = 0xDEADBEEFCAFEull;
    o.stream = 9;
    DeviceBuffer<float> d(n);
    CUDA_OK(cudaMemcpy(d.p, xs.data(), n * 4, cudaMemcpyHostToDevice));
    ExpectOk(QuantizeOnDevice(spec, d.p, d.p, n, o, stream), "in-place quantize");
    ExpectOk(SynchronizeCudaStream(stream), "sync");
    std::vector<float> whole(n);
    CUDA_OK(cudaMemcpy(whole.data(), d.p, n * 4, cudaMemcpyDeviceToHost));
    size_t bad = 0;
    for (size_t i = 0; i < n; ++i) {
      bad += FloatBitsOf(whole[i]) != FloatBitsOf(QuantizeScalar(spec, xs[i], o, i)) ? 1 : 0;
    }
    EXPECT(bad == 0, "%s in-place sr: %zu differ", name, bad);
    // Suffixes starting at every residue mod 4: offset k + the suffix == the whole call.
    for (size_t k : {1, 2, 3, 4, 5, 1000001}) {
      QuantizeOptions ok = o;
      ok.index_offset = k;
      CUDA_OK(cudaMemcpy(d.p, xs.data() + k, (n - k) * 4, cudaMemcpyHostToDevice));
      ExpectOk(QuantizeOnDevice(spec, d.p, d.p, n - k, ok, stream), "suffix quantize");
      ExpectOk(SynchronizeCudaStream(stream), "sync");
      std::vector<float> part(n - k);
      CUDA_OK(cudaMemcpy(part.data(), d.p, part.size() * 4, cudaMemcpyDeviceToHost));
      size_t differ = 0;
      for (size_t i = 0; i < part.size(); ++i) {
        differ += FloatBitsOf(part[i]) != FloatBitsOf(whole[k + i]) ? 1 : 0;
      }
      EXPECT(differ == 0, "%s suffix at %zu: %zu differ from the whole call", name, k, differ);
    }
    g_checked += n;
    g_mismatches += bad;
  }
  std::printf("api: in-place and index offsets checked\n");
}

// The tensor API's `cuda` backend over host memory: several staging chunks, an odd index
// offset, every operation, against the scalar backend.
void ApiTensor() {
  const size_t n = (size_t{1} << 22) * 2 + 12345;  // three staging chunks, a ragged end
  TensorOptions gpu, cpu;
  gpu.backend = Backend::kCuda;
  cpu.backend = Backend::kScalar;
  for (const char* name : {"e4m3fn", "e3m2fn", "e2m1fn", "posit16_1"}) {
    const FormatSpec spec = ResolveFormat(name)->spec;
    const test::RandomRange range = test::RangeOf(spec);
    std::vector<float> xs(n);
    std::vector<double> xd(n);
    for (size_t i = 0; i < n; ++i) {
      xs[i] = test::FloatOf(test::RandomFloatBits(range, 11, i));
      const uint64_t b = test::RandomDoubleBits(range, 12, i);
      std::memcpy(&xd[i], &b, 8);
    }
    for (const char* mode : {"rne", "sr"}) {
      gpu.quantize.rounding = cpu.quantize.rounding = *ParseRounding(mode);
      gpu.quantize.seed = cpu.quantize.seed = 31337;
      gpu.quantize.index_offset = cpu.quantize.index_offset = 7;
      std::vector<float> a(n), b(n);
      ExpectOk(Quantize(spec, std::span<const float>(xs), std::span<float>(a), gpu), "tensor q");
      ExpectOk(Quantize(spec, std::span<const float>(xs), std::span<float>(b), cpu), "scalar q");
      EXPECT(std::memcmp(a.data(), b.data(), n * 4) == 0, "tensor quantize f32 %s %s", name, mode);
      std::vector<double> ad(n), bd(n);
      ExpectOk(Quantize(spec, std::span<const double>(xd), std::span<double>(ad), gpu), "q f64");
      ExpectOk(Quantize(spec, std::span<const double>(xd), std::span<double>(bd), cpu), "q f64");
      EXPECT(std::memcmp(ad.data(), bd.data(), n * 8) == 0, "tensor quantize f64 %s %s", name,
             mode);
      std::vector<uint8_t> pa(PackedBytes(spec, n), 0), pb(PackedBytes(spec, n), 0);
      ExpectOk(Encode(spec, std::span<const float>(xs), std::span<uint8_t>(pa), gpu), "encode");
      ExpectOk(Encode(spec, std::span<const float>(xs), std::span<uint8_t>(pb), cpu), "encode");
      EXPECT(pa == pb, "tensor encode f32 %s %s", name, mode);
      std::fill(pa.begin(), pa.end(), 0);
      std::fill(pb.begin(), pb.end(), 0);
      ExpectOk(Encode(spec, std::span<const double>(xd), std::span<uint8_t>(pa), gpu), "encode");
      ExpectOk(Encode(spec, std::span<const double>(xd), std::span<uint8_t>(pb), cpu), "encode");
      EXPECT(pa == pb, "tensor encode f64 %s %s", name, mode);
      ExpectOk(Decode(spec, std::span<const uint8_t>(pb), std::span<float>(a), gpu), "decode");
      ExpectOk(Decode(spec, std::span<const uint8_t>(pb), std::span<float>(b), cpu), "decode");
      EXPECT(std::memcmp(a.data(), b.data(), n * 4) == 0, "tensor decode %s %s", name, mode);
      g_checked += 5 * n;
    }
    // In place through the tensor API.
    std::vector<float> inplace = xs, want(n);
    ExpectOk(Quantize(spec, std::span<const float>(inplace), std::span<float>(inplace), gpu),
             "in place");
    ExpectOk(Quantize(spec, std::span<const float>(xs), std::span<float>(want), cpu), "scalar");
    EXPECT(std::memcmp(inplace.data(), want.data(), n * 4) == 0, "tensor in-place %s", name);
  }
  // bf16 codes in.
  std::vector<uint16_t> c16(1 << 20);
  for (size_t i = 0; i < c16.size(); ++i) c16[i] = static_cast<uint16_t>(test::Mix64(i));
  std::vector<float> a(c16.size()), b(c16.size());
  const FormatSpec bf16 = ResolveFormat("bf16")->spec, e4m3 = ResolveFormat("e4m3fn")->spec;
  ExpectOk(QuantizeFromCodes(bf16, std::span<const uint16_t>(c16), e4m3, std::span<float>(a), gpu),
           "tensor codes16");
  ExpectOk(QuantizeFromCodes(bf16, std::span<const uint16_t>(c16), e4m3, std::span<float>(b), cpu),
           "scalar codes16");
  EXPECT(std::memcmp(a.data(), b.data(), a.size() * 4) == 0, "tensor codes16 bf16 -> e4m3fn");
  std::printf("api: tensor API (Backend::kCuda, host memory, 3 staging chunks) checked\n");
}

void SuiteApi() {
  cudaStream_t stream;
  CUDA_OK(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));
  ApiArguments(stream);
  ApiPacking(stream);
  ApiDecodeAll(stream);
  ApiCodes16(stream);
  ApiOffsetsAndInPlace(stream);
  ApiTensor();
  CUDA_OK(cudaStreamDestroy(stream));
}

// Inputs near the exact-sr tie: word 0 equal to the dropped fraction's first 32 bits with more
// of it below (then word 1 decides). They exist for float32 only below a format's subnormal
// range, so they are placed at the elements whose word 0 allows one.
std::vector<uint32_t> SrTieInputs(const FormatSpec& spec, const QuantizeOptions& o, size_t n) {
  std::vector<uint32_t> xs(n, 0);
  if (spec.kind != FormatKind::kMinifloat) return xs;
  const int ex = spec.emin - spec.mantissa_bits - 10;  // 33 dropped bits
  if (ex < -126 || ex > 127) return xs;
  for (size_t i = 0; i < n; ++i) {
    const uint32_t w = StochasticBits(o.seed, o.stream, o.index_offset + i, 0);
    const uint32_t sign = (test::Mix64(i) & 1) << 31;
    xs[i] = (w >= (1u << 22) && w < (1u << 23))
                ? sign | (static_cast<uint32_t>(ex + 127) << 23) | (((w << 1) | 1u) & 0x7FFFFFu)
                : test::RandomFloatBits(test::RangeOf(spec), 1, i);
  }
  return xs;
}

void SuiteRandom(Checker& checker) {
  const auto start = std::chrono::steady_clock::now();
  const std::vector<Rounding> roundings = AllRoundings();
  const uint64_t configs = roundings.size() * std::size(kOverflows);
  const uint64_t per_f32 = static_cast<uint64_t>(g_scale * (uint64_t{1} << 28)) / configs + 1;
  const uint64_t per_f64 = static_cast<uint64_t>(g_scale * (uint64_t{1} << 22)) / configs + 1;
  for (const Format& f : ElementFormats()) {
    const std::vector<uint32_t> floats = test::BoundaryFloats(f.spec);
    const std::vector<double> boundary_doubles = test::BoundaryDoubles(f.spec);
    std::vector<uint64_t> doubles;
    for (double d : boundary_doubles) doubles.push_back(test::DoubleBits(d));
    uint64_t checked = 0, bad = 0;
    uint64_t k = 0;
    for (const Rounding& r : roundings) {
      for (Overflow ovf : kOverflows) {
        test::Batch b;
        b.format = &f;
        b.options.rounding = r;
        b.options.overflow = ovf;
        b.options.seed = 0x5EED0000ull + k;
        b.options.stream = static_cast<uint32_t>(k);
        b.options.index_offset = (k % 3 == 2) ? 2 : 0;  // some calls with blocks straddled
        b.range = test::RangeOf(f.spec);
        b.seed = 1000 + k;
        ++k;
        std::vector<test::Outcome> outcomes;
        b.source = test::Source::kRandomFloat;  // random float32
        b.count = per_f32;
        outcomes.push_back(checker.Run(b));
        b.source = test::Source::kExplicit;  // boundary float32
        b.floats = &floats;
        b.count = floats.size();
        outcomes.push_back(checker.Run(b));
        b.f64 = true;  // random float64
        b.source = test::Source::kRandomDouble;
        b.count = per_f64;
        outcomes.push_back(checker.Run(b));
        b.source = test::Source::kExplicit;  // boundary float64
        b.doubles = &doubles;
        b.count = doubles.size();
        outcomes.push_back(checker.Run(b));
        if (r.mode == RoundingMode::kStochastic && r.sr_bits == 0) {
          const std::vector<uint32_t> ties = SrTieInputs(f.spec, b.options, 1 << 20);
          b.f64 = false;
          b.floats = &ties;
          b.count = ties.size();
          outcomes.push_back(checker.Run(b));
        }
        for (const test::Outcome& o : outcomes) {
          checked += o.checked;
          bad += o.code_mismatches + o.value_mismatches;
        }
      }
    }
    std::printf("random: %-12s %2llu configurations, %11llu inputs checked, %llu mismatches\n",
                f.name.c_str(), static_cast<unsigned long long>(configs),
                static_cast<unsigned long long>(checked), static_cast<unsigned long long>(bad));
    std::fflush(stdout);
  }
  std::printf("random: %.1f s\n",
              std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
}

void SuiteExhaustive(Checker& checker) {
  const uint64_t count =
      g_scale >= 1.0 ? (uint64_t{1} << 32) : static_cast<uint64_t>(g_scale * (uint64_t{1} << 32));
  for (const char* name : {"e4m3fn", "e5m2", "e2m1fn", "posit8_2"}) {
    const Format f = *ResolveFormat(name);
    struct Config {
      const char* rounding;
      Overflow overflow;
    };
    for (const Config& c : {Config{"rne", Overflow::kInf}, Config{"rne", Overflow::kSatFinite},
                            Config{"sr", Overflow::kInf}}) {
      const auto start = std::chrono::steady_clock::now();
      test::Batch b;
      b.format = &f;
      b.options.rounding = *ParseRounding(c.rounding);
      b.options.overflow = c.overflow;
      b.options.seed = 0x0123456789ABCDEFull;
      // All 2^32 patterns; a scaled-down run takes an even sample of them instead of a prefix.
      b.source = count == (uint64_t{1} << 32) ? test::Source::kIdentity : test::Source::kPermuted;
      b.count = count;
      const test::Outcome o = checker.Run(b);
      std::printf(
          "exhaustive: %-9s %-3s %-10s %llu float32 inputs: %llu code, %llu value "
          "mismatches (%.1f s)\n",
          name, c.rounding, ToString(c.overflow).c_str(),
          static_cast<unsigned long long>(o.checked),
          static_cast<unsigned long long>(o.code_mismatches),
          static_cast<unsigned long long>(o.value_mismatches),
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
      std::fflush(stdout);
    }
  }
}

int Main(int argc, char** argv) {
  std::string suite = "all";
  g_threads = std::max(1u, std::thread::hardware_concurrency());
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--suite" && i + 1 < argc) {
      suite = argv[++i];
    } else if (a == "--threads" && i + 1 < argc) {
      g_threads = static_cast<unsigned>(std::max(1, std::atoi(argv[++i])));
    } else if (a == "--scale" && i + 1 < argc) {
      g_scale = std::atof(argv[++i]);
    } else {
      std::printf("usage: %s [--suite api|random|exhaustive|all] [--threads N] [--scale F]\n",
                  argv[0]);
      return 2;
    }
  }
  if (suite != "api" && suite != "random" && suite != "exhaustive" && suite != "all") {
    std::printf("unknown suite '%s'\n", suite.c_str());
    return 2;
  }
  const Status device = CudaDeviceStatus();
  if (!device.ok()) return NoDevice(device);
  int dev = 0;
  cudaDeviceProp prop{};
  CUDA_OK(cudaGetDevice(&dev));
  CUDA_OK(cudaGetDeviceProperties(&prop, dev));
  std::printf("device %d: %s (sm_%d%d, %d SMs), %u CPU threads for the reference\n", dev, prop.name,
              prop.major, prop.minor, prop.multiProcessorCount, g_threads);
  const auto start = std::chrono::steady_clock::now();
  if (suite == "api" || suite == "all") SuiteApi();
  if (suite == "random" || suite == "exhaustive" || suite == "all") {
    Checker checker;
    if (suite == "random" || suite == "all") SuiteRandom(checker);
    if (suite == "exhaustive" || suite == "all") SuiteExhaustive(checker);
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("RESULT suite=%s status=%s checked=%llu mismatches=%llu failures=%d seconds=%.1f\n",
              suite.c_str(), g_failures == 0 ? "PASSED" : "FAILED",
              static_cast<unsigned long long>(g_checked),
              static_cast<unsigned long long>(g_mismatches), g_failures, seconds);
  return g_failures == 0 ? 0 : 1;
}

}  // namespace
}  // namespace qfloat

int main(int argc, char** argv) { return qfloat::Main(argc, argv); }
