// Opening tensor files: map the bytes, recognise the container, parse every header up front.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <new>

#include "io/io_internal.h"

namespace qfloat {
namespace detail {

std::string Printable(std::string_view text, size_t max_chars) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (out.size() >= max_chars) {
      out += "...";
      break;
    }
    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c < 0x7F) {
      out.push_back(static_cast<char>(c));
    } else {
      char hex[8];
      std::snprintf(hex, sizeof(hex), "\\x%02X", c);
      out += hex;
    }
  }
  return out;
}

FileBytes::~FileBytes() {
  if (mapping_ != nullptr) munmap(mapping_, size_);
}

std::shared_ptr<FileBytes> FileBytes::Copy(std::span<const uint8_t> data) {
  auto f = std::make_shared<FileBytes>();
  f->owned_.assign(data.begin(), data.end());
  f->data_ = f->owned_.data();
  f->size_ = f->owned_.size();
  return f;
}

StatusOr<std::shared_ptr<FileBytes>> FileBytes::Open(const std::string& path, bool use_mmap) {
  const bool is_stdin = path == "-";
  const int fd = is_stdin ? 0 : ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    const std::string msg = path + ": cannot open: " + std::strerror(err);
    return err == ENOENT ? NotFound(msg) : IoError(msg);
  }
  struct Closer {
    int fd;
    bool close_it;
    ~Closer() {
      if (close_it) ::close(fd);
    }
  } closer{fd, !is_stdin};
  struct stat st {};
  if (fstat(fd, &st) != 0) return IoError(path + ": cannot stat: " + std::strerror(errno));
  if (S_ISDIR(st.st_mode)) return InvalidArgument(path + ": is a directory, not a tensor file");
  auto f = std::make_shared<FileBytes>();
  if (use_mmap && S_ISREG(st.st_mode) && st.st_size > 0) {
    void* p = mmap(nullptr, static_cast<size_t>(st.st_size), PROT_READ, MAP_PRIVATE, fd, 0);
    if (p != MAP_FAILED) {
      f->mapping_ = p;
      f->data_ = static_cast<const uint8_t*>(p);
      f->size_ = static_cast<size_t>(st.st_size);
      return f;
    }
  }
  // Pipes, stdin, or no mmap: read everything.
  try {
    if (S_ISREG(st.st_mode)) f->owned_.reserve(static_cast<size_t>(st.st_size));
    uint8_t chunk[1 << 16];
    for (;;) {
      const ssize_t got = ::read(fd, chunk, sizeof(chunk));
      if (got < 0 && errno == EINTR) continue;
      if (got < 0) return IoError(path + ": read failed: " + std::strerror(errno));
      if (got == 0) break;
      f->owned_.insert(f->owned_.end(), chunk, chunk + got);
    }
  } catch (const std::bad_alloc&) {
    return IoError(path + ": out of memory reading the file");
  }
  f->data_ = f->owned_.data();
  f->size_ = f->owned_.size();
  return f;
}

}  // namespace detail

namespace {

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

std::string Stem(std::string_view path) {
  const size_t slash = path.find_last_of('/');
  std::string_view base = slash == std::string_view::npos ? path : path.substr(slash + 1);
  const size_t dot = base.find_last_of('.');
  if (dot != std::string_view::npos && dot > 0) base = base.substr(0, dot);
  return std::string(base);
}

std::optional<FileKind> DetectKind(std::span<const uint8_t> d, std::string_view name) {
  auto starts = [&](std::string_view magic) {
    return d.size() >= magic.size() && std::memcmp(d.data(), magic.data(), magic.size()) == 0;
  };
  if (starts("\x93NUMPY")) return FileKind::kNpy;
  if (starts("PK\x03\x04") || starts("PK\x05\x06")) return FileKind::kNpz;
  if (EndsWith(name, ".npy")) return FileKind::kNpy;
  if (EndsWith(name, ".npz")) return FileKind::kNpz;
  if (EndsWith(name, ".safetensors") || (d.size() > 8 && d[8] == '{')) {
    return FileKind::kSafetensors;
  }
  return std::nullopt;
}

StatusOr<TensorFile::Impl> OpenBytes(std::shared_ptr<detail::FileBytes> bytes,
                                     const std::string& where, const ReadOptions& options,
                                     std::optional<FileKind> kind) {
  TensorFile::Impl impl;
  impl.path = where;
  impl.bytes = std::move(bytes);
  const std::span<const uint8_t> data = impl.bytes->data();
  if (!kind) kind = DetectKind(data, where);
  if (!kind) {
    return DataError(where +
                     ": not a tensor file: no .npy magic (\\x93NUMPY), no zip magic (.npz) "
                     "and no safetensors header (u64 length, then '{')");
  }
  switch (*kind) {
    case FileKind::kNpy: {
      StatusOr<detail::ParsedFile> p = detail::ParseNpyFile(data, where, Stem(where), options);
      if (!p.ok()) return p.status();
      impl.parsed = std::move(p).value();
      break;
    }
    case FileKind::kSafetensors: {
      StatusOr<detail::ParsedFile> p = detail::ParseSafetensorsFile(data, where);
      if (!p.ok()) return p.status();
      impl.parsed = std::move(p).value();
      break;
    }
    case FileKind::kNpz: {
      impl.parsed.kind = FileKind::kNpz;
      auto archive = detail::NpzArchive::Open(impl.bytes, where, options, impl.parsed);
      if (!archive.ok()) return archive.status();
      impl.npz = std::move(archive).value();
      break;
    }
  }
  return impl;
}

}  // namespace

TensorFile::TensorFile(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
TensorFile::TensorFile(TensorFile&&) noexcept = default;
TensorFile& TensorFile::operator=(TensorFile&&) noexcept = default;
TensorFile::~TensorFile() = default;

const std::string& TensorFile::path() const { return impl_->path; }
FileKind TensorFile::kind() const { return impl_->parsed.kind; }
size_t TensorFile::size() const { return impl_->parsed.entries.size(); }
const TensorInfo& TensorFile::info(size_t i) const { return impl_->parsed.entries[i].info; }
const std::map<std::string, std::string>& TensorFile::metadata() const {
  return impl_->parsed.metadata;
}

std::optional<size_t> TensorFile::Find(std::string_view name) const {
  for (size_t i = 0; i < size(); ++i) {
    if (info(i).name == name) return i;
  }
  return std::nullopt;
}

StatusOr<TensorView> TensorFile::Load(size_t i) const {
  if (i >= size()) {
    return InvalidArgument(path() + ": no tensor #" + std::to_string(i) + " (the file has " +
                           std::to_string(size()) + ")");
  }
  const detail::Entry& e = impl_->parsed.entries[i];
  if (impl_->npz) return impl_->npz->Load(e);
  TensorView v;
  static_cast<TensorInfo&>(v) = e.info;
  v.bytes = impl_->bytes->data().subspan(e.offset, e.info.nbytes);
  v.storage = impl_->bytes;
  return v;
}

StatusOr<TensorFile> OpenTensorFile(const std::string& path, const ReadOptions& options) {
  StatusOr<std::shared_ptr<detail::FileBytes>> bytes =
      detail::FileBytes::Open(path, options.use_mmap);
  if (!bytes.ok()) return bytes.status();
  StatusOr<TensorFile::Impl> impl =
      OpenBytes(std::move(bytes).value(), path, options, std::nullopt);
  if (!impl.ok()) return impl.status();
  return TensorFile(std::make_unique<TensorFile::Impl>(std::move(impl).value()));
}

StatusOr<TensorFile> OpenTensorBuffer(std::span<const uint8_t> data, std::string_view name,
                                      const ReadOptions& options, std::optional<FileKind> kind) {
  StatusOr<TensorFile::Impl> impl =
      OpenBytes(detail::FileBytes::Copy(data), std::string(name), options, kind);
  if (!impl.ok()) return impl.status();
  return TensorFile(std::make_unique<TensorFile::Impl>(std::move(impl).value()));
}

}  // namespace qfloat
