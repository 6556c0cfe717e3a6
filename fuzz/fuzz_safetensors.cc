// libFuzzer target: the .safetensors reader (OpenTensorBuffer with FileKind::kSafetensors), then
// every tensor loaded and converted. Seeds: fuzz/corpus/safetensors/ (scripts/make_io_fixtures.py).
#include "fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  qfloat::fuzz::Exercise(data, size, "fuzz.safetensors", qfloat::FileKind::kSafetensors);
  return 0;
}
