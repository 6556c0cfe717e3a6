// The tensor API's dispatcher: checks arguments once, then hands the whole call to a backend.
#include "qfloat/quantize.h"

#include <string>

#include "qfloat/detail/bits.h"
#include "tensor/backends.h"

namespace qfloat {

StatusOr<Backend> ParseBackend(std::string_view text) {
  if (text == "auto") return Backend::kAuto;
  if (text == "scalar") return Backend::kScalar;
  if (text == "simd") return Backend::kSimd;
  if (text == "cuda") return Backend::kCuda;
  return InvalidArgument("unknown backend '" + std::string(text) +
                         "' (expected auto, scalar, simd or cuda)");
}

std::string ToString(Backend backend) {
  switch (backend) {
    case Backend::kAuto:
      return "auto";
    case Backend::kScalar:
      return "scalar";
    case Backend::kSimd:
      return "simd";
    case Backend::kCuda:
      return "cuda";
  }
  return "?";
}

namespace {

Status CheckSizes(size_t in, size_t out, const char* what) {
  if (in != out) {
    return InvalidArgument(std::string(what) + ": input has " + std::to_string(in) +
                           " elements but output has room for " + std::to_string(out));
  }
  return Status::Ok();
}

Status CheckPacked(const FormatSpec& spec, size_t count, size_t bytes) {
  if (bytes < PackedBytes(spec, count)) {
    return InvalidArgument("packed buffer of " + std::to_string(bytes) +
                           " bytes is too small for " + std::to_string(count) + " codes of " +
                           std::to_string(spec.bits) + " bits");
  }
  return Status::Ok();
}

Status CheckOptions(const TensorOptions& o) {
  if (o.threads < 0) return InvalidArgument("threads: must be >= 0");
  if (o.quantize.rounding.sr_bits > 32) return InvalidArgument("sr:K: K must be 1..32");
  return Status::Ok();
}

}  // namespace

namespace backend {

const Backends& Registered() {
  static const Backends backends = [] {
    Backends b;
    b.scalar = ScalarKernels();
    b.simd = SimdKernels();
    b.cuda = CudaKernels();
    return b;
  }();
  return backends;
}

StatusOr<const Kernels*> Select(Backend requested) {
  const Backends& b = Registered();
  switch (requested) {
    case Backend::kAuto:
      return b.simd != nullptr ? b.simd : b.scalar;
    case Backend::kScalar:
      return b.scalar;
    case Backend::kSimd:
      if (b.simd == nullptr) return Unavailable("the SIMD backend is not compiled in");
      return b.simd;
    case Backend::kCuda:
      if (b.cuda == nullptr) {
        return Unavailable("the CUDA backend is not compiled in (build with QFLOAT_CUDA=ON)");
      }
      return b.cuda;
  }
  return InvalidArgument("unknown backend");
}

}  // namespace backend

Status Quantize(const FormatSpec& spec, std::span<const float> in, std::span<float> out,
                const TensorOptions& options) {
  Status st = CheckSizes(in.size(), out.size(), "quantize");
  if (st.ok()) st = CheckOptions(options);
  if (!st.ok()) return st;
  StatusOr<const backend::Kernels*> k = backend::Select(options.backend);
  if (!k.ok()) return k.status();
  return (*k)->quantize_f32(spec, in, out, options);
}

Status Quantize(const FormatSpec& spec, std::span<const double> in, std::span<double> out,
                const TensorOptions& options) {
  Status st = CheckSizes(in.size(), out.size(), "quantize");
  if (st.ok()) st = CheckOptions(options);
  if (!st.ok()) return st;
  StatusOr<const backend::Kernels*> k = backend::Select(options.backend);
  if (!k.ok()) return k.status();
  return (*k)->quantize_f64(spec, in, out, options);
}

Status QuantizeFromCodes(const FormatSpec& input_spec, std::span<const uint16_t> in,
                         const FormatSpec& spec, std::span<float> out,
                         const TensorOptions& options) {
  Status st = CheckSizes(in.size(), out.size(), "quantize");
  if (st.ok()) st = CheckOptions(options);
  if (!st.ok()) return st;
  if (input_spec.bits > 16) return InvalidArgument("QuantizeFromCodes: input codes are <= 16 bits");
  StatusOr<const backend::Kernels*> k = backend::Select(options.backend);
  if (!k.ok()) return k.status();
  return (*k)->quantize_codes16(input_spec, in, spec, out, options);
}

Status Encode(const FormatSpec& spec, std::span<const float> in, std::span<uint8_t> packed,
              const TensorOptions& options) {
  Status st = CheckPacked(spec, in.size(), packed.size());
  if (st.ok()) st = CheckOptions(options);
  if (!st.ok()) return st;
  StatusOr<const backend::Kernels*> k = backend::Select(options.backend);
  if (!k.ok()) return k.status();
  return (*k)->encode_f32(spec, in, packed, options);
}

Status Encode(const FormatSpec& spec, std::span<const double> in, std::span<uint8_t> packed,
              const TensorOptions& options) {
  Status st = CheckPacked(spec, in.size(), packed.size());
  if (st.ok()) st = CheckOptions(options);
  if (!st.ok()) return st;
  StatusOr<const backend::Kernels*> k = backend::Select(options.backend);
  if (!k.ok()) return k.status();
  return (*k)->encode_f64(spec, in, packed, options);
}

Status Decode(const FormatSpec& spec, std::span<const uint8_t> packed, std::span<float> out,
              const TensorOptions& options) {
  Status st = CheckPacked(spec, out.size(), packed.size());
  if (st.ok()) st = CheckOptions(options);
  if (!st.ok()) return st;
  StatusOr<const backend::Kernels*> k = backend::Select(options.backend);
  if (!k.ok()) return k.status();
  return (*k)->decode_f32(spec, packed, out, options);
}

}  // namespace qfloat
