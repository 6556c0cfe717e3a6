// Uses the installed qfloat: resolves a built-in format and an installed format file, encodes
// through the tensor API and decodes through the scalar reference.
#include <qfloat/format.h>
#include <qfloat/quantize.h>
#include <qfloat/scalar.h>

#include <cstdint>
#include <cstdio>
#include <vector>

int main() {
  const qfloat::StatusOr<qfloat::Format> f = qfloat::ResolveFormat("float8_e4m3fn");
  if (!f.ok()) {
    std::fprintf(stderr, "ResolveFormat: %s\n", f.status().message().c_str());
    return 1;
  }
  const float in[4] = {464.0f, 1.0f, -0.3f, 1e6f};
  const uint32_t want[4] = {0x7e, 0x38, 0xaa, 0x7f};  // 448, 1, -0.3125, NaN (ovf-inf)
  std::vector<uint8_t> packed(qfloat::PackedBytes(f->spec, 4));
  const qfloat::Status st = qfloat::Encode(f->spec, in, packed, qfloat::TensorOptions{});
  if (!st.ok()) {
    std::fprintf(stderr, "Encode: %s\n", st.message().c_str());
    return 1;
  }
  int bad = 0;
  for (size_t i = 0; i < 4; ++i) {
    const uint32_t code = qfloat::ReadPackedCode(f->spec, packed, i);
    if (code != want[i]) {
      std::fprintf(stderr, "element %zu: code %02x, want %02x\n", i, code, want[i]);
      ++bad;
    }
  }
  if (qfloat::DecodeScalar(f->spec, 0x7e) != 448.0) ++bad;

  // The installed format file describes the same format as the built-in registry.
  const qfloat::StatusOr<qfloat::Format> file =
      qfloat::ResolveFormat(QFLOAT_FORMATS_DIR "/e4m3fn.toml");
  if (!file.ok()) {
    std::fprintf(stderr, "format file: %s\n", file.status().message().c_str());
    return 1;
  }
  if (qfloat::DescribeSpec(file->spec) != qfloat::DescribeSpec(f->spec)) ++bad;
  if (bad != 0) return 1;
  std::printf("consumer ok: 464 -> %02x, %s\n", want[0], qfloat::DescribeSpec(f->spec).c_str());
  return 0;
}
