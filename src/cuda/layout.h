// Internal: the packed code layout of quantize.h, for the CUDA backend's host and device code
// (the tensor library's PackedBytes lives in a library above this one).
#ifndef QFLOAT_SRC_CUDA_LAYOUT_H_
#define QFLOAT_SRC_CUDA_LAYOUT_H_

#include <cstddef>
#include <cstdint>

#include "qfloat/detail/config.h"

namespace qfloat::cuda_detail {

// Codes of <= 4 bits: two per byte, element 2j in the low nibble; 5..6 bits: four per three
// bytes, element 4j+t in bits [6t, 6t+6) of the little-endian 24-bit group; 7..8 bits: a byte;
// 9..16: a little-endian uint16; 17..32: a little-endian uint32.
enum class Packing : uint8_t { kNibble, kSixBit, kByte, kHalf, kWord };

QFLOAT_HOST_DEVICE QFLOAT_INLINE Packing PackingOf(int bits) {
  if (bits <= 4) return Packing::kNibble;
  if (bits <= 6) return Packing::kSixBit;
  if (bits <= 8) return Packing::kByte;
  if (bits <= 16) return Packing::kHalf;
  return Packing::kWord;
}

// Bytes holding `count` codes (count rounded up to whole bytes / 3-byte groups).
QFLOAT_HOST_DEVICE QFLOAT_INLINE size_t PackedBytesOf(int bits, size_t count) {
  switch (PackingOf(bits)) {
    case Packing::kNibble:
      return (count + 1) / 2;
    case Packing::kSixBit:
      return (count + 3) / 4 * 3;
    case Packing::kByte:
      return count;
    case Packing::kHalf:
      return count * 2;
    case Packing::kWord:
      return count * 4;
  }
  return count * 4;
}

}  // namespace qfloat::cuda_detail

#endif  // QFLOAT_SRC_CUDA_LAYOUT_H_
