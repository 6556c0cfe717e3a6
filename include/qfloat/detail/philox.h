// Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC'11), the
// counter-based generator behind stochastic rounding. Constants from the paper / Random123.
#ifndef QFLOAT_DETAIL_PHILOX_H_
#define QFLOAT_DETAIL_PHILOX_H_

#include <cstdint>

#include "qfloat/detail/config.h"

namespace qfloat {

struct Philox4x32 {
  uint32_t v[4];
};

namespace detail {
constexpr uint32_t kPhiloxM0 = 0xD2511F53u;
constexpr uint32_t kPhiloxM1 = 0xCD9E8D57u;
constexpr uint32_t kPhiloxW0 = 0x9E3779B9u;  // golden ratio
constexpr uint32_t kPhiloxW1 = 0xBB67AE85u;  // sqrt(3) - 1
}  // namespace detail

// Ten rounds of Philox4x32 on counter c with key (k0, k1).
QFLOAT_HOST_DEVICE constexpr Philox4x32 Philox4x32_10(Philox4x32 c, uint32_t k0, uint32_t k1) {
  for (int round = 0; round < 10; ++round) {
    const uint64_t p0 = static_cast<uint64_t>(detail::kPhiloxM0) * c.v[0];
    const uint64_t p1 = static_cast<uint64_t>(detail::kPhiloxM1) * c.v[2];
    const uint32_t hi0 = static_cast<uint32_t>(p0 >> 32), lo0 = static_cast<uint32_t>(p0);
    const uint32_t hi1 = static_cast<uint32_t>(p1 >> 32), lo1 = static_cast<uint32_t>(p1);
    c = Philox4x32{{hi1 ^ c.v[1] ^ k0, lo1, hi0 ^ c.v[3] ^ k1, lo0}};
    k0 += detail::kPhiloxW0;
    k1 += detail::kPhiloxW1;
  }
  return c;
}

// All four words of counter block `block`: word t serves element 4 * block + t, so
// StochasticBlock(seed, stream, i / 4, word).v[i % 4] == StochasticBits(seed, stream, i, word).
// Kernels that handle four consecutive elements draw them with one Philox evaluation.
QFLOAT_HOST_DEVICE constexpr Philox4x32 StochasticBlock(uint64_t seed, uint32_t stream,
                                                        uint64_t block, uint32_t word) {
  return Philox4x32_10(
      Philox4x32{{static_cast<uint32_t>(block), static_cast<uint32_t>(block >> 32), stream, word}},
      static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32));
}

// Random word `word` (0 = the contract's word; 1, 2, ... extend it for exact `sr`) for element
// `index` of stream `stream` under `seed`: word (index mod 4) of
// Philox4x32-10((lo32(index/4), hi32(index/4), stream, word), (lo32(seed), hi32(seed))).
QFLOAT_HOST_DEVICE constexpr uint32_t StochasticBits(uint64_t seed, uint32_t stream, uint64_t index,
                                                     uint32_t word) {
  return StochasticBlock(seed, stream, index >> 2, word).v[index & 3];
}

}  // namespace qfloat

#endif  // QFLOAT_DETAIL_PHILOX_H_
