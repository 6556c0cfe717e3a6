// C entry points for bench/gpu/torch_compare.py (ctypes): the device-pointer API of qfloat/cuda.h
// on tensors that PyTorch allocated, on PyTorch's current stream (cudaStream_t and CUstream are
// interchangeable, and both runtimes use the device's primary context).
//
// Each returns 0, or 1 with a message in `error` (NUL-terminated, at most error_size bytes).
#include <cstdint>
#include <cstdio>
#include <string>

#include "qfloat/cuda.h"
#include "qfloat/format.h"
#include "qfloat/rounding.h"
#include "qfloat/scalar.h"

namespace {

int Fail(const std::string& message, char* error, size_t error_size) {
  if (error != nullptr && error_size > 0) std::snprintf(error, error_size, "%s", message.c_str());
  return 1;
}

// Resolves the format and options, or reports why not.
bool Prepare(const char* format, const char* rounding, const char* overflow, uint64_t seed,
             qfloat::FormatSpec* spec, qfloat::QuantizeOptions* options, std::string* why) {
  const qfloat::StatusOr<qfloat::Format> f = qfloat::ResolveFormat(format);
  if (!f.ok()) {
    *why = f.status().message();
    return false;
  }
  const qfloat::StatusOr<qfloat::Rounding> r = qfloat::ParseRounding(rounding);
  if (!r.ok()) {
    *why = r.status().message();
    return false;
  }
  const qfloat::StatusOr<qfloat::Overflow> o = qfloat::ParseOverflow(overflow);
  if (!o.ok()) {
    *why = o.status().message();
    return false;
  }
  *spec = f->spec;
  options->rounding = *r;
  options->overflow = *o;
  options->seed = seed;
  return true;
}

}  // namespace

extern "C" {

int qfloat_shim_encode_f32(const char* format, const char* rounding, const char* overflow,
                           uint64_t seed, const void* in, void* packed, uint64_t count,
                           void* stream, char* error, size_t error_size) {
  qfloat::FormatSpec spec;
  qfloat::QuantizeOptions options;
  std::string why;
  if (!Prepare(format, rounding, overflow, seed, &spec, &options, &why)) {
    return Fail(why, error, error_size);
  }
  const qfloat::Status st = qfloat::EncodeOnDevice(
      spec, static_cast<const float*>(in), static_cast<uint8_t*>(packed), count, options, stream);
  return st.ok() ? 0 : Fail(st.message(), error, error_size);
}

int qfloat_shim_quantize_f32(const char* format, const char* rounding, const char* overflow,
                             uint64_t seed, const void* in, void* out, uint64_t count, void* stream,
                             char* error, size_t error_size) {
  qfloat::FormatSpec spec;
  qfloat::QuantizeOptions options;
  std::string why;
  if (!Prepare(format, rounding, overflow, seed, &spec, &options, &why)) {
    return Fail(why, error, error_size);
  }
  const qfloat::Status st = qfloat::QuantizeOnDevice(
      spec, static_cast<const float*>(in), static_cast<float*>(out), count, options, stream);
  return st.ok() ? 0 : Fail(st.message(), error, error_size);
}

// The scalar reference on host memory, one uint32 code per element (no device needed; the
// script's self-test and small CPU comparisons use it).
int qfloat_shim_encode_f32_host(const char* format, const char* rounding, const char* overflow,
                                uint64_t seed, const float* in, uint32_t* codes, uint64_t count,
                                char* error, size_t error_size) {
  qfloat::FormatSpec spec;
  qfloat::QuantizeOptions options;
  std::string why;
  if (!Prepare(format, rounding, overflow, seed, &spec, &options, &why)) {
    return Fail(why, error, error_size);
  }
  for (uint64_t i = 0; i < count; ++i) codes[i] = qfloat::EncodeScalar(spec, in[i], options, i);
  return 0;
}

// The largest finite value of a format (a negative number when the name is unknown).
double qfloat_shim_max_finite(const char* format) {
  const qfloat::StatusOr<qfloat::Format> f = qfloat::ResolveFormat(format);
  return f.ok() ? qfloat::MaxFinite(f->spec) : -1.0;
}

}  // extern "C"
