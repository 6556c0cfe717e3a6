// Packed code layout: see quantize.h.
#include <cstring>

#include "qfloat/quantize.h"

namespace qfloat {

size_t PackedBytes(const FormatSpec& spec, size_t count) {
  if (spec.bits <= 4) return (count + 1) / 2;
  if (spec.bits <= 6) return (count + 3) / 4 * 3;
  if (spec.bits <= 8) return count;
  if (spec.bits <= 16) return count * 2;
  return count * 4;
}

uint32_t ReadPackedCode(const FormatSpec& spec, std::span<const uint8_t> packed, size_t i) {
  if (spec.bits <= 4) return (packed[i / 2] >> (4 * (i & 1))) & 0xFu;
  if (spec.bits <= 6) {
    const uint8_t* g = &packed[i / 4 * 3];
    const uint32_t group = g[0] | (uint32_t{g[1]} << 8) | (uint32_t{g[2]} << 16);
    return (group >> (6 * (i & 3))) & 0x3Fu;
  }
  if (spec.bits <= 8) return packed[i];
  if (spec.bits <= 16) return packed[2 * i] | (uint32_t{packed[2 * i + 1]} << 8);
  const uint8_t* p = &packed[4 * i];
  return p[0] | (uint32_t{p[1]} << 8) | (uint32_t{p[2]} << 16) | (uint32_t{p[3]} << 24);
}

void WritePackedCode(const FormatSpec& spec, std::span<uint8_t> packed, size_t i, uint32_t code) {
  if (spec.bits <= 4) {
    uint8_t& b = packed[i / 2];
    const int shift = 4 * static_cast<int>(i & 1);
    b = static_cast<uint8_t>((b & ~(0xFu << shift)) | ((code & 0xFu) << shift));
  } else if (spec.bits <= 6) {
    uint8_t* g = &packed[i / 4 * 3];
    uint32_t group = g[0] | (uint32_t{g[1]} << 8) | (uint32_t{g[2]} << 16);
    const int shift = 6 * static_cast<int>(i & 3);
    group = (group & ~(0x3Fu << shift)) | ((code & 0x3Fu) << shift);
    g[0] = static_cast<uint8_t>(group);
    g[1] = static_cast<uint8_t>(group >> 8);
    g[2] = static_cast<uint8_t>(group >> 16);
  } else if (spec.bits <= 8) {
    packed[i] = static_cast<uint8_t>(code);
  } else if (spec.bits <= 16) {
    packed[2 * i] = static_cast<uint8_t>(code);
    packed[2 * i + 1] = static_cast<uint8_t>(code >> 8);
  } else {
    for (int b = 0; b < 4; ++b) packed[4 * i + b] = static_cast<uint8_t>(code >> (8 * b));
  }
}

}  // namespace qfloat
