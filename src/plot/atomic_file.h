// Whole-file writes that never leave a partial file behind.
#ifndef QFLOAT_SRC_PLOT_ATOMIC_FILE_H_
#define QFLOAT_SRC_PLOT_ATOMIC_FILE_H_

#include <string>
#include <string_view>

#include "qfloat/status.h"

namespace qfloat::plot::detail {

// Writes `contents` to a new temporary next to `path` (same directory, so rename(2) is atomic on
// POSIX file systems), flushes it to disk, and renames it over `path`. On any failure the
// temporary is removed, `path` is untouched, and the Status names `path` and the OS error.
Status WriteFileAtomically(const std::string& path, std::string_view contents);

}  // namespace qfloat::plot::detail

#endif  // QFLOAT_SRC_PLOT_ATOMIC_FILE_H_
