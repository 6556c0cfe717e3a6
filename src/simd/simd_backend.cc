// The SIMD backend's kernel table (tensor/backends.h): splits a call into chunks, runs them on
// the thread pool, and hands each chunk to the best Highway target (dispatch.h).
//
// Chunks are fixed-size runs of elements (a multiple of 4, so packed codes of different chunks
// never share a byte), and every element's result depends only on its value and its index in
// the call, so results do not depend on the thread count or on which thread runs which chunk.
#include <algorithm>
#include <cstring>

#include "simd/dispatch.h"
#include "simd/params.h"
#include "simd/thread_pool.h"
#include "tensor/backends.h"

namespace qfloat::backend {
namespace {

constexpr size_t kChunk = size_t{1} << 14;  // elements per task
// Outputs at least this large bypass the caches (non-temporal stores): they cannot stay cached
// anyway, and skipping the read-for-ownership saves a third of the memory traffic.
constexpr size_t kStreamBytes = size_t{16} << 20;

template <class F>
void ForEachChunk(size_t count, int threads, const F& f) {
  const size_t chunks = (count + kChunk - 1) / kChunk;
  const int t = simd::ResolveThreads(threads);
  if (chunks <= 1 || t == 1) {
    for (size_t c = 0; c < chunks; ++c) f(c * kChunk, std::min(kChunk, count - c * kChunk));
    return;
  }
  simd::ThreadPool::Shared().Run(
      chunks, t, [&](size_t c) { f(c * kChunk, std::min(kChunk, count - c * kChunk)); });
}

Status QuantizeF32(const FormatSpec& spec, std::span<const float> in, std::span<float> out,
                   const TensorOptions& o) {
  const simd::EncodeParams encode = simd::MakeEncodeParams(spec, o.quantize);
  const simd::DecodeParams decode = simd::MakeDecodeParams(spec);
  const bool stream = out.size_bytes() >= kStreamBytes;
  ForEachChunk(in.size(), o.threads, [&](size_t begin, size_t n) {
    simd::QuantizeF32Chunk(encode, decode, in.data() + begin, out.data() + begin, n, begin, stream);
  });
  return Status::Ok();
}

Status QuantizeF64(const FormatSpec& spec, std::span<const double> in, std::span<double> out,
                   const TensorOptions& o) {
  const simd::EncodeParams encode = simd::MakeEncodeParams(spec, o.quantize);
  const simd::DecodeParams decode = simd::MakeDecodeParams(spec);
  const bool stream = out.size_bytes() >= kStreamBytes;
  ForEachChunk(in.size(), o.threads, [&](size_t begin, size_t n) {
    simd::QuantizeF64Chunk(encode, decode, in.data() + begin, out.data() + begin, n, begin, stream);
  });
  return Status::Ok();
}

Status QuantizeCodes16(const FormatSpec& input_spec, std::span<const uint16_t> in,
                       const FormatSpec& spec, std::span<float> out, const TensorOptions& o) {
  const simd::DecodeParams input = simd::MakeDecodeParams(input_spec);
  const bool input_f32 = simd::ValuesFitFloat32(input_spec);
  const simd::EncodeParams encode = simd::MakeEncodeParams(spec, o.quantize);
  const simd::DecodeParams decode = simd::MakeDecodeParams(spec);
  ForEachChunk(in.size(), o.threads, [&](size_t begin, size_t n) {
    simd::QuantizeCodes16Chunk(input, input_f32, encode, decode, in.data() + begin,
                               out.data() + begin, n, begin);
  });
  return Status::Ok();
}

Status EncodeF32(const FormatSpec& spec, std::span<const float> in, std::span<uint8_t> packed,
                 const TensorOptions& o) {
  const simd::EncodeParams encode = simd::MakeEncodeParams(spec, o.quantize);
  ForEachChunk(in.size(), o.threads, [&](size_t begin, size_t n) {
    simd::EncodeF32Chunk(encode, in.data() + begin, packed.data(), n, begin);
  });
  return Status::Ok();
}

Status EncodeF64(const FormatSpec& spec, std::span<const double> in, std::span<uint8_t> packed,
                 const TensorOptions& o) {
  const simd::EncodeParams encode = simd::MakeEncodeParams(spec, o.quantize);
  ForEachChunk(in.size(), o.threads, [&](size_t begin, size_t n) {
    simd::EncodeF64Chunk(encode, in.data() + begin, packed.data(), n, begin);
  });
  return Status::Ok();
}

Status DecodeF32(const FormatSpec& spec, std::span<const uint8_t> packed, std::span<float> out,
                 const TensorOptions& o) {
  const simd::DecodeParams decode = simd::MakeDecodeParams(spec);
  const bool stream = out.size_bytes() >= kStreamBytes;
  ForEachChunk(out.size(), o.threads, [&](size_t begin, size_t n) {
    simd::DecodeChunk(decode, packed.data(), out.data() + begin, n, begin, stream);
  });
  return Status::Ok();
}

constexpr Kernels kSimd = {QuantizeF32, QuantizeF64, QuantizeCodes16,
                           EncodeF32,   EncodeF64,   DecodeF32};

}  // namespace

const Kernels* SimdKernels() { return &kSimd; }

}  // namespace qfloat::backend
