// What every tensor-file fuzzer does with an input: open it, then load and convert every tensor
// it declares (bounded sizes), checking the invariants the API promises. Any crash, sanitizer
// report or failed invariant (abort) is a bug.
#ifndef QFLOAT_FUZZ_FUZZ_COMMON_H_
#define QFLOAT_FUZZ_FUZZ_COMMON_H_

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <vector>

#include "io/io_internal.h"
#include "qfloat/io.h"

namespace qfloat::fuzz {

inline void Check(bool ok) {
  if (!ok) std::abort();
}

inline void Exercise(const uint8_t* data, size_t size, const char* name, FileKind kind) {
  ReadOptions options;
  // Half the inputs read opaque '|V1'/'<V2' codes with a format named (the other half must
  // report the missing --as).
  if (size % 2) options.as_format = (size % 4 == 1) ? "e4m3fn" : "e2m1fn";
  options.max_member_bytes = 1 << 22;  // a zip may declare any size: bound the allocation
  StatusOr<TensorFile> file =
      OpenTensorBuffer(std::span<const uint8_t>(data, size), name, options, kind);
  if (!file.ok()) {
    Check(!file.status().message().empty());
    return;
  }
  for (size_t i = 0; i < file->size(); ++i) {
    const TensorInfo& info = file->info(i);
    Check(NumElements(info.shape) == info.numel);
    Check(StorageBytes(info.dtype, info.numel) == info.nbytes);
    StatusOr<TensorView> view = file->Load(i);
    if (!view.ok()) continue;
    Check(view->bytes.size() == info.nbytes);
    if (view->numel > (1u << 20)) continue;
    StatusOr<std::vector<float>> f = ToFloat32(*view);
    if (f.ok()) {
      Check(f->size() == view->numel);
      (void)CountNonFinite(*f);
      // A window converts to the same values as the whole.
      if (!f->empty()) {
        const size_t first = f->size() / 3;
        std::vector<float> part(f->size() - first);
        Check(ToFloat32(*view, first, part).ok());
        for (size_t k = 0; k < part.size(); ++k) {
          const float w = (*f)[first + k];
          Check(std::isnan(w) ? std::isnan(part[k]) : part[k] == w);
        }
      }
    }
    ConvertOptions exact;
    exact.exact = true;
    (void)ToFloat32(*view, exact);
    (void)ToFloat64(*view);
    (void)ReadCodes(*view);
    (void)ElementFormat(*view);
    // The npy header we would write for this tensor parses back to the same description.
    StatusOr<std::string> header = detail::FormatNpyHeader(*view);
    if (header.ok()) {
      const std::span<const uint8_t> h(reinterpret_cast<const uint8_t*>(header->data()),
                                       header->size());
      ReadOptions as8;
      as8.as_format = "e4m3fn";
      StatusOr<detail::NpyHeader> back = detail::ParseNpyHeader(h, "roundtrip", as8);
      Check(back.ok());
      Check(back->info.shape == view->shape);
      Check(back->info.fortran_order == view->fortran_order);
      Check(back->data_offset == header->size() && header->size() % 64 == 0);
    }
  }
}

}  // namespace qfloat::fuzz

#endif  // QFLOAT_FUZZ_FUZZ_COMMON_H_
