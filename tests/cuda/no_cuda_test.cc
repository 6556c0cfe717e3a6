// A build without the CUDA backend: the device-pointer entry points exist and say so, and the
// tensor API's `cuda` backend is refused, both as Unavailable (never a crash or a link error).
#include <catch2/catch.hpp>
#include <cstdint>
#include <span>
#include <vector>

#include "qfloat/cuda.h"
#include "qfloat/format.h"
#include "qfloat/quantize.h"

namespace qfloat {
namespace {

bool NotCompiledIn(const Status& st) {
  return st.code() == StatusCode::kUnavailable &&
         st.message().find("not compiled in") != std::string::npos;
}

TEST_CASE("without the CUDA backend every CUDA entry point is Unavailable", "[backend_absent]") {
  const FormatSpec spec = ResolveFormat("e4m3fn")->spec;
  std::vector<float> x(8, 1.0f), y(8);
  std::vector<double> xd(8, 1.0), yd(8);
  std::vector<uint16_t> c16(8, 0x3F80);
  std::vector<uint8_t> packed(8);
  const QuantizeOptions o;
  CHECK(NotCompiledIn(CudaDeviceStatus()));
  CHECK(NotCompiledIn(QuantizeOnDevice(spec, x.data(), y.data(), x.size(), o)));
  CHECK(NotCompiledIn(QuantizeOnDevice(spec, xd.data(), yd.data(), xd.size(), o)));
  CHECK(NotCompiledIn(QuantizeFromCodesOnDevice(ResolveFormat("bf16")->spec, c16.data(), spec,
                                                y.data(), y.size(), o)));
  CHECK(NotCompiledIn(EncodeOnDevice(spec, x.data(), packed.data(), x.size(), o)));
  CHECK(NotCompiledIn(EncodeOnDevice(spec, xd.data(), packed.data(), xd.size(), o)));
  CHECK(NotCompiledIn(DecodeOnDevice(spec, packed.data(), y.data(), y.size())));
  CHECK(NotCompiledIn(SynchronizeCudaStream()));
  TensorOptions t;
  t.backend = Backend::kCuda;
  CHECK(NotCompiledIn(Quantize(spec, std::span<const float>(x), std::span<float>(y), t)));
  CHECK(NotCompiledIn(Encode(spec, std::span<const float>(x), std::span<uint8_t>(packed), t)));
}

}  // namespace
}  // namespace qfloat
