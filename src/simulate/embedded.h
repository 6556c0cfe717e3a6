// The data sets of data/ embedded at build time (src/simulate/EmbedData.cmake).
#ifndef QFLOAT_SRC_SIMULATE_EMBEDDED_H_
#define QFLOAT_SRC_SIMULATE_EMBEDDED_H_

#include <cstddef>

namespace qfloat::sim::detail {

struct EmbeddedFile {
  const char* name;  // file name under data/
  const unsigned char* bytes;
  size_t size;
};
extern const EmbeddedFile kEmbeddedData[];
extern const size_t kEmbeddedDataCount;

}  // namespace qfloat::sim::detail

#endif  // QFLOAT_SRC_SIMULATE_EMBEDDED_H_
