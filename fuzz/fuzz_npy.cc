// libFuzzer target: the .npy reader (OpenTensorBuffer with FileKind::kNpy), then every tensor
// loaded and converted. Seeds: fuzz/corpus/npy/ (scripts/make_io_fixtures.py).
#include "fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  qfloat::fuzz::Exercise(data, size, "fuzz.npy", qfloat::FileKind::kNpy);
  return 0;
}
