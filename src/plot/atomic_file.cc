#include "plot/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <system_error>

namespace qfloat::plot::detail {
namespace {

std::string ErrnoText(int err) { return std::error_code(err, std::generic_category()).message(); }

}  // namespace

Status WriteFileAtomically(const std::string& path, std::string_view contents) {
  if (path.empty()) return InvalidArgument("output path is empty");
  // pid + a process-wide counter + O_EXCL: unique among concurrent writers without mkstemp's
  // 0600 mode (O_CREAT with 0666 lets the umask decide, as for any ordinary new file).
  static std::atomic<unsigned> counter{0};
  int fd = -1;
  std::string tmp;
  int err = 0;
  for (int attempt = 0; attempt < 100 && fd < 0; ++attempt) {
    tmp = path + ".tmp-" + std::to_string(static_cast<long>(getpid())) + "-" +
          std::to_string(counter.fetch_add(1));
    fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    err = errno;
    if (fd < 0 && err != EEXIST) break;
  }
  if (fd < 0) return IoError("cannot write '" + path + "': " + ErrnoText(err));

  const char* p = contents.data();
  size_t left = contents.size();
  Status status;
  while (left > 0) {
    const ssize_t n = write(fd, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      status = IoError("cannot write '" + path + "': " + ErrnoText(errno));
      break;
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
  if (status.ok() && fsync(fd) != 0 && errno != EINVAL) {  // EINVAL: a pipe or special file
    status = IoError("cannot write '" + path + "': " + ErrnoText(errno));
  }
  if (close(fd) != 0 && status.ok()) {
    status = IoError("cannot write '" + path + "': " + ErrnoText(errno));
  }
  if (status.ok() && std::rename(tmp.c_str(), path.c_str()) != 0) {
    status = IoError("cannot write '" + path + "': " + ErrnoText(errno));
  }
  if (!status.ok()) unlink(tmp.c_str());
  return status;
}

}  // namespace qfloat::plot::detail
