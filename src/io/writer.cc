// Writers: everything goes through AtomicFileWriter (temporary + fsync + rename), so a failure
// leaves no partial output (DESIGN.md, CLI contract).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "io/io_internal.h"

namespace qfloat {
namespace {

constexpr size_t kBufferBytes = 1 << 20;

// The process umask, read without changing it (umask(2) would race with other threads).
mode_t CurrentUmask() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("Umask:", 0) == 0)
      return static_cast<mode_t>(std::strtoul(line.c_str() + 6, nullptr, 8));
  }
  return 022;
}

Status WriteAll(int fd, const uint8_t* p, size_t n, const std::string& path) {
  while (n > 0) {
    const ssize_t w = ::write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) return IoError(path + ": write failed: " + std::strerror(errno));
    p += w;
    n -= static_cast<size_t>(w);
  }
  return Status::Ok();
}

// Checks that a tensor to write is self-consistent; returns its element count.
StatusOr<uint64_t> CheckTensor(const TensorView& t, const std::string& path) {
  const std::string what = path + ": tensor \"" + detail::Printable(t.name) + "\"";
  const std::optional<uint64_t> numel = NumElements(t.shape);
  const std::optional<uint64_t> nbytes = numel ? StorageBytes(t.dtype, *numel) : std::nullopt;
  if (!nbytes) return InvalidArgument(what + ": shape overflows 64-bit sizes or is negative");
  if (*nbytes != t.bytes.size()) {
    return InvalidArgument(what + ": shape × " + std::string(ToString(t.dtype)) + " needs " +
                           std::to_string(*nbytes) + " bytes but " +
                           std::to_string(t.bytes.size()) + " were given");
  }
  return *numel;
}

}  // namespace

// ---- AtomicFileWriter ----

StatusOr<AtomicFileWriter> AtomicFileWriter::Create(const std::string& path) {
  AtomicFileWriter w;
  w.path_ = path;
  w.buffer_.reserve(kBufferBytes);
  if (path == "-") {
    w.fd_ = 1;
    return w;
  }
  if (path.empty()) return InvalidArgument("output path is empty");
  const size_t slash = path.find_last_of('/');
  const std::string dir = slash == std::string::npos ? "." : path.substr(0, slash + 1);
  const std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
  if (base.empty()) return InvalidArgument(path + ": output path names a directory");
  std::string temp = (slash == std::string::npos ? "" : dir) + "." + base + ".tmp-XXXXXX";
  const int fd = mkostemp(temp.data(), O_CLOEXEC);
  if (fd < 0) {
    return IoError(path + ": cannot create a temporary file in " + dir + ": " +
                   std::strerror(errno));
  }
  // mkstemp makes the file 0600; give the output the mode a plain open(2) would.
  fchmod(fd, 0666 & ~CurrentUmask());
  w.fd_ = fd;
  w.temp_path_ = temp;
  return w;
}

AtomicFileWriter::AtomicFileWriter(AtomicFileWriter&& o) noexcept
    : path_(std::move(o.path_)),
      temp_path_(std::move(o.temp_path_)),
      fd_(o.fd_),
      committed_(o.committed_),
      buffer_(std::move(o.buffer_)) {
  o.fd_ = -1;
  o.temp_path_.clear();
  o.committed_ = true;
}

AtomicFileWriter& AtomicFileWriter::operator=(AtomicFileWriter&& o) noexcept {
  if (this != &o) {
    if (!committed_) Abandon();
    path_ = std::move(o.path_);
    temp_path_ = std::move(o.temp_path_);
    fd_ = o.fd_;
    committed_ = o.committed_;
    buffer_ = std::move(o.buffer_);
    o.fd_ = -1;
    o.temp_path_.clear();
    o.committed_ = true;
  }
  return *this;
}

AtomicFileWriter::~AtomicFileWriter() {
  if (!committed_) Abandon();
}

void AtomicFileWriter::Abandon() {
  if (fd_ > 2) ::close(fd_);
  fd_ = -1;
  if (!temp_path_.empty()) ::unlink(temp_path_.c_str());
  temp_path_.clear();
  committed_ = true;
}

Status AtomicFileWriter::Flush() {
  if (fd_ < 0) return IoError(path_ + ": writer is closed");
  const Status st = WriteAll(fd_, buffer_.data(), buffer_.size(), path_);
  buffer_.clear();
  return st;
}

Status AtomicFileWriter::Write(std::span<const uint8_t> bytes) {
  if (fd_ < 0) return IoError(path_ + ": writer is closed");
  if (buffer_.size() + bytes.size() > kBufferBytes) {
    if (Status st = Flush(); !st.ok()) return st;
    if (bytes.size() >= kBufferBytes) return WriteAll(fd_, bytes.data(), bytes.size(), path_);
  }
  buffer_.insert(buffer_.end(), bytes.begin(), bytes.end());
  return Status::Ok();
}

Status AtomicFileWriter::Write(std::string_view text) {
  return Write(
      std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(text.data()), text.size()));
}

Status AtomicFileWriter::Commit() {
  if (committed_) return IoError(path_ + ": already committed or abandoned");
  Status st = Flush();
  if (st.ok() && temp_path_.empty()) {  // stdout
    committed_ = true;
    fd_ = -1;
    return Status::Ok();
  }
  if (st.ok() && ::fsync(fd_) != 0) st = IoError(path_ + ": fsync failed: " + std::strerror(errno));
  if (st.ok()) {
    const int rc = ::close(fd_);
    fd_ = -1;
    if (rc != 0) st = IoError(path_ + ": close failed: " + std::strerror(errno));
  }
  if (st.ok() && ::rename(temp_path_.c_str(), path_.c_str()) != 0) {
    st = IoError(path_ + ": cannot rename the temporary file into place: " + std::strerror(errno));
  }
  if (!st.ok()) {
    Abandon();
    return st;
  }
  temp_path_.clear();
  committed_ = true;
  // Make the rename itself durable.
  const size_t slash = path_.find_last_of('/');
  const std::string dir = slash == std::string::npos ? "." : path_.substr(0, slash + 1);
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return Status::Ok();
}

// ---- .npy ----

Status WriteNpy(const std::string& path, const TensorView& tensor) {
  StatusOr<uint64_t> numel = CheckTensor(tensor, path);
  if (!numel.ok()) return numel.status();
  const DTypeInfo& info = GetDTypeInfo(tensor.dtype);
  TensorInfo header_info = tensor;
  StatusOr<std::string> header = detail::FormatNpyHeader(header_info);
  if (!header.ok()) return Status(header.status().code(), path + ": " + header.status().message());
  StatusOr<AtomicFileWriter> w = AtomicFileWriter::Create(path);
  if (!w.ok()) return w.status();
  if (Status st = w->Write(*header); !st.ok()) return st;
  if (info.bits >= 8) {
    if (Status st = w->Write(tensor.bytes); !st.ok()) return st;
  } else {
    // Sub-byte codes go one per byte, as ml_dtypes stores float4/float6 arrays.
    std::vector<uint8_t> chunk;
    chunk.reserve(1 << 16);
    for (uint64_t i = 0; i < *numel; ++i) {
      const uint64_t bit = i * info.bits;
      const uint64_t byte = bit / 8;
      uint32_t word = tensor.bytes[byte];
      if (byte + 1 < tensor.bytes.size()) word |= uint32_t{tensor.bytes[byte + 1]} << 8;
      chunk.push_back(static_cast<uint8_t>((word >> (bit % 8)) & ((1u << info.bits) - 1)));
      if (chunk.size() == chunk.capacity() || i + 1 == *numel) {
        if (Status st = w->Write(chunk); !st.ok()) return st;
        chunk.clear();
      }
    }
  }
  return w->Commit();
}

// ---- .safetensors ----

Status WriteSafetensors(const std::string& path, std::span<const TensorView> tensors,
                        const std::map<std::string, std::string>& metadata) {
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.empty()) {
    nlohmann::ordered_json m = nlohmann::ordered_json::object();
    for (const auto& [k, v] : metadata) m[k] = v;
    header["__metadata__"] = std::move(m);
  }
  std::set<std::string> names;
  uint64_t offset = 0;
  for (const TensorView& t : tensors) {
    const std::string what = path + ": tensor \"" + detail::Printable(t.name) + "\"";
    StatusOr<uint64_t> numel = CheckTensor(t, path);
    if (!numel.ok()) return numel.status();
    if (!GetDTypeInfo(t.dtype).in_safetensors) {
      return InvalidArgument(what + ": dtype " + std::string(ToString(t.dtype)) +
                             " has no safetensors equivalent");
    }
    if (t.fortran_order && t.shape.size() > 1) {
      return InvalidArgument(what +
                             ": safetensors holds C-order data; this tensor is in "
                             "Fortran order (convert it with ToFloat32 first)");
    }
    if (t.name == "__metadata__") return InvalidArgument(what + ": the name is reserved");
    if (!names.insert(t.name).second) return InvalidArgument(what + ": name used twice");
    header[t.name] = {{"dtype", std::string(ToString(t.dtype))},
                      {"shape", t.shape},
                      {"data_offsets", {offset, offset + t.bytes.size()}}};
    offset += t.bytes.size();
  }
  std::string text;
  try {
    text = header.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::strict);
  } catch (const nlohmann::json::exception& e) {
    return InvalidArgument(path + ": a tensor name or metadata string is not valid UTF-8 (" +
                           std::string(e.what()) + ")");
  }
  // Pad so the data buffer starts 8-byte aligned, as the reference writer does.
  text.append((8 - text.size() % 8) % 8, ' ');
  uint8_t length[8];
  detail::StoreUnsigned(length, 8, text.size());
  StatusOr<AtomicFileWriter> w = AtomicFileWriter::Create(path);
  if (!w.ok()) return w.status();
  if (Status st = w->Write(std::span<const uint8_t>(length, 8)); !st.ok()) return st;
  if (Status st = w->Write(text); !st.ok()) return st;
  for (const TensorView& t : tensors) {
    if (Status st = w->Write(t.bytes); !st.ok()) return st;
  }
  return w->Commit();
}

TensorView Float32View(std::string name, std::vector<int64_t> shape,
                       std::span<const float> values) {
  TensorView v;
  v.name = std::move(name);
  v.dtype = DType::kF32;
  v.shape = std::move(shape);
  v.numel = NumElements(v.shape).value_or(0);
  v.nbytes = values.size_bytes();
  v.format = "fp32";
  v.bytes = std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(values.data()),
                                     values.size_bytes());
  return v;
}

}  // namespace qfloat
