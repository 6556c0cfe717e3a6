// Internals of the tensor file readers and writers (src/io); not installed.
#ifndef QFLOAT_SRC_IO_IO_INTERNAL_H_
#define QFLOAT_SRC_IO_IO_INTERNAL_H_

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "qfloat/io.h"

namespace qfloat {
namespace detail {

// Text from a file, made safe to quote in a message: non-printable bytes become \xNN and long
// text is cut.
std::string Printable(std::string_view text, size_t max_chars = 64);

inline uint64_t LoadUnsigned(const uint8_t* p, size_t bytes) {
  uint64_t v = 0;
  for (size_t i = 0; i < bytes; ++i) v |= uint64_t{p[i]} << (8 * i);
  return v;
}
inline void StoreUnsigned(uint8_t* p, size_t bytes, uint64_t v) {
  for (size_t i = 0; i < bytes; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}

// The bytes of a whole file: a read-only mapping or a buffer read into memory.
class FileBytes {
 public:
  static StatusOr<std::shared_ptr<FileBytes>> Open(const std::string& path, bool use_mmap);
  static std::shared_ptr<FileBytes> Copy(std::span<const uint8_t> data);
  FileBytes() = default;
  FileBytes(const FileBytes&) = delete;
  FileBytes& operator=(const FileBytes&) = delete;
  ~FileBytes();
  std::span<const uint8_t> data() const { return {data_, size_}; }

 private:
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
  void* mapping_ = nullptr;  // munmap on destruction when set
  std::vector<uint8_t> owned_;
};

// A parsed .npy header.
struct NpyHeader {
  TensorInfo info;       // name left empty
  uint64_t data_offset;  // from the start of the file
  int major_version;
};
// `where` prefixes messages ("a.npy", "a.npz: member 'x.npy'"). `available` is the size of the
// whole file when known (data size is checked against it), `prefix` its first bytes.
StatusOr<NpyHeader> ParseNpyHeader(std::span<const uint8_t> prefix, const std::string& where,
                                   const ReadOptions& options);
// The header of a .npy file (magic to '\n') as numpy writes it: version 1.0, or 2.0 when it
// needs more than 65535 bytes.
StatusOr<std::string> FormatNpyHeader(const TensorInfo& info);
std::string_view NpyDescr(DType dtype);
std::string NpyShapeString(const std::vector<int64_t>& shape);
// Bytes a reader needs to see to parse any header: at most this much is read from npz members.
inline constexpr size_t kNpyPreambleBytes = 12;  // magic, version, u32 header length

// One tensor in a file, and how Load() finds its bytes.
struct Entry {
  TensorInfo info;
  uint64_t offset = 0;       // npy/safetensors: data offset in the file
  uint64_t zip_index = 0;    // npz: member index
  uint64_t data_offset = 0;  // npz: offset of the data inside the member
};

// The result of parsing a whole file.
struct ParsedFile {
  FileKind kind;
  std::vector<Entry> entries;
  std::map<std::string, std::string> metadata;
};

StatusOr<ParsedFile> ParseNpyFile(std::span<const uint8_t> data, const std::string& where,
                                  const std::string& tensor_name, const ReadOptions& options);
StatusOr<ParsedFile> ParseSafetensorsFile(std::span<const uint8_t> data, const std::string& where);

// npz: a zip archive open over the file's bytes.
class NpzArchive {
 public:
  static StatusOr<std::unique_ptr<NpzArchive>> Open(std::shared_ptr<FileBytes> bytes,
                                                    const std::string& where,
                                                    const ReadOptions& options, ParsedFile& parsed);
  ~NpzArchive();
  // Inflates member `entry` into a buffer owned by the returned view.
  StatusOr<TensorView> Load(const Entry& entry) const;

 private:
  NpzArchive() = default;
  std::shared_ptr<FileBytes> bytes_;
  std::string where_;
  ReadOptions options_;
  void* zip_ = nullptr;  // zip_t*
  mutable std::mutex mutex_;
};

// Applies ReadOptions::as_format to an opaque dtype and fills info.format. `where` for messages.
Status ResolveCodeFormat(TensorInfo& info, const ReadOptions& options, const std::string& where);

}  // namespace detail

struct TensorFile::Impl {
  std::string path;
  std::shared_ptr<detail::FileBytes> bytes;
  detail::ParsedFile parsed;
  std::unique_ptr<detail::NpzArchive> npz;
};

}  // namespace qfloat

#endif  // QFLOAT_SRC_IO_IO_INTERNAL_H_
