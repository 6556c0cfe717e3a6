// libFuzzer target: the .npz reader (OpenTensorBuffer with FileKind::kNpz), then every tensor
// loaded and converted. Seeds: fuzz/corpus/npz/ (scripts/make_io_fixtures.py).
#include "fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  qfloat::fuzz::Exercise(data, size, "fuzz.npz", qfloat::FileKind::kNpz);
  return 0;
}
