// .npz: a zip of NAME.npy members, stored (np.savez) or deflated (np.savez_compressed), always
// with zip64 extras (numpy gh-10776). libzip reads the archive from the mapped bytes; each
// member's .npy header is inflated at open, its data only when Load() asks for it.
#include <zip.h>

#include <new>
#include <set>

#include "io/io_internal.h"

namespace qfloat::detail {
namespace {

zip_t* Zip(void* p) { return static_cast<zip_t*>(p); }

struct ZipFile {
  zip_file_t* f = nullptr;
  ~ZipFile() {
    if (f != nullptr) zip_fclose(f);
  }
};

// Reads exactly `n` bytes; false on a short read or an error (message in `error`).
bool ReadExactly(zip_file_t* f, uint8_t* out, uint64_t n, std::string& error) {
  while (n > 0) {
    const zip_int64_t got = zip_fread(f, out, n);
    if (got < 0) {
      error = zip_file_strerror(f);
      return false;
    }
    if (got == 0) {
      error = "member ends early";
      return false;
    }
    out += got;
    n -= static_cast<uint64_t>(got);
  }
  return true;
}

}  // namespace

NpzArchive::~NpzArchive() {
  if (zip_ != nullptr) zip_discard(Zip(zip_));
}

StatusOr<std::unique_ptr<NpzArchive>> NpzArchive::Open(std::shared_ptr<FileBytes> bytes,
                                                       const std::string& where,
                                                       const ReadOptions& options,
                                                       ParsedFile& parsed) {
  std::unique_ptr<NpzArchive> a(new NpzArchive());
  a->bytes_ = std::move(bytes);
  a->where_ = where;
  a->options_ = options;
  const std::span<const uint8_t> data = a->bytes_->data();
  zip_error_t error;
  zip_error_init(&error);
  zip_source_t* source = zip_source_buffer_create(data.data(), data.size(), 0, &error);
  if (source == nullptr) {
    const std::string msg = where + ": bad zip archive: " + zip_error_strerror(&error);
    zip_error_fini(&error);
    return DataError(msg);
  }
  zip_t* z = zip_open_from_source(source, ZIP_RDONLY | ZIP_CHECKCONS, &error);
  if (z == nullptr) {
    zip_source_free(source);
    const std::string msg = where + ": bad zip archive (.npz): " + zip_error_strerror(&error);
    zip_error_fini(&error);
    return DataError(msg);
  }
  zip_error_fini(&error);
  a->zip_ = z;

  const zip_int64_t count = zip_get_num_entries(z, 0);
  std::set<std::string> names;
  for (zip_int64_t i = 0; i < count; ++i) {
    const auto index = static_cast<zip_uint64_t>(i);
    const char* raw_name = zip_get_name(z, index, 0);
    if (raw_name == nullptr) {
      return DataError(where + ": bad zip archive: member #" + std::to_string(i) +
                       " has no name: " + zip_strerror(z));
    }
    const std::string name = raw_name;
    constexpr uint64_t kMaxHeaderBytes = 16u << 20;  // a dict of three keys; bounds allocation
    const std::string member = where + ": member '" + Printable(name) + "'";
    if (name.size() < 4 || name.compare(name.size() - 4, 4, ".npy") != 0) {
      return DataError(member + " is not a .npy file (an .npz holds only NAME.npy members)");
    }
    zip_stat_t st;
    zip_stat_init(&st);
    if (zip_stat_index(z, index, 0, &st) != 0 || !(st.valid & ZIP_STAT_SIZE)) {
      return DataError(member + ": cannot stat: " + zip_strerror(z));
    }
    if ((st.valid & ZIP_STAT_ENCRYPTION_METHOD) && st.encryption_method != ZIP_EM_NONE) {
      return DataError(member + " is encrypted");
    }
    ZipFile f;
    f.f = zip_fopen_index(z, index, 0);
    if (f.f == nullptr) return DataError(member + ": cannot open: " + zip_strerror(z));
    // The preamble, then the rest of the header (never more than the member holds).
    std::vector<uint8_t> prefix(std::min<uint64_t>(st.size, kNpyPreambleBytes));
    std::string err;
    if (!ReadExactly(f.f, prefix.data(), prefix.size(), err)) {
      return DataError(member + ": " + err);
    }
    if (prefix.size() >= 10 && prefix[6] >= 1 && prefix[6] <= 3) {
      const size_t len_bytes = prefix[6] == 1 ? 2 : 4;
      const uint64_t header_end =
          8 + len_bytes +
          (prefix.size() >= 8 + len_bytes ? LoadUnsigned(&prefix[8], len_bytes) : 0);
      const std::string header_len = std::to_string(header_end - 8 - len_bytes);
      if (header_end > st.size) {
        return DataError(member + ": header length " + header_len +
                         " runs past the end of the member (" + std::to_string(st.size) +
                         " bytes)");
      }
      if (header_end > kMaxHeaderBytes) {
        return DataError(member + ": header length " + header_len +
                         " is implausibly large (over 16 MiB)");
      }
      const uint64_t want = header_end;
      if (want > prefix.size()) {
        const size_t have = prefix.size();
        prefix.resize(want);
        if (!ReadExactly(f.f, prefix.data() + have, want - have, err)) {
          return DataError(member + ": " + err);
        }
      }
    }
    StatusOr<NpyHeader> h = ParseNpyHeader(prefix, member, options);
    if (!h.ok()) return h.status();
    const uint64_t have = st.size - std::min<uint64_t>(st.size, h->data_offset);
    if (have != h->info.nbytes) {
      return DataError(member + ": shape " + NpyShapeString(h->info.shape) + " × '" +
                       Printable(h->info.npy_descr) + "' needs " + std::to_string(h->info.nbytes) +
                       " bytes of data but the member has " + std::to_string(have));
    }
    Entry e;
    e.info = std::move(h->info);
    e.info.name = name.substr(0, name.size() - 4);
    e.info.file = where;
    if (!names.insert(e.info.name).second) {
      return DataError(where + ": two members named '" + Printable(name) + "'");
    }
    e.zip_index = index;
    e.data_offset = h->data_offset;
    parsed.entries.push_back(std::move(e));
  }
  return a;
}

StatusOr<TensorView> NpzArchive::Load(const Entry& e) const {
  const std::string member = where_ + ": member '" + Printable(e.info.name) + ".npy'";
  if (options_.max_member_bytes != 0 && e.info.nbytes > options_.max_member_bytes) {
    return DataError(member + " holds " + std::to_string(e.info.nbytes) +
                     " bytes, over the limit of " + std::to_string(options_.max_member_bytes));
  }
  std::shared_ptr<std::vector<uint8_t>> buffer;
  try {
    buffer = std::make_shared<std::vector<uint8_t>>(e.info.nbytes);
  } catch (const std::bad_alloc&) {
    return IoError(member + ": cannot allocate " + std::to_string(e.info.nbytes) + " bytes");
  } catch (const std::length_error&) {
    return IoError(member + ": cannot allocate " + std::to_string(e.info.nbytes) + " bytes");
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    ZipFile f;
    f.f = zip_fopen_index(Zip(zip_), e.zip_index, 0);
    if (f.f == nullptr) return DataError(member + ": cannot open: " + zip_strerror(Zip(zip_)));
    std::vector<uint8_t> header(e.data_offset);
    std::string err;
    if (!ReadExactly(f.f, header.data(), header.size(), err) ||
        !ReadExactly(f.f, buffer->data(), buffer->size(), err)) {
      return DataError(member + ": " + err);
    }
    // Reading to the end makes libzip check the CRC.
    uint8_t extra;
    const zip_int64_t got = zip_fread(f.f, &extra, 1);
    if (got < 0) return DataError(member + ": " + zip_file_strerror(f.f));
    if (got > 0) return DataError(member + ": holds more data than its header describes");
  }
  TensorView v;
  static_cast<TensorInfo&>(v) = e.info;
  v.bytes = std::span<const uint8_t>(buffer->data(), buffer->size());
  v.storage = std::move(buffer);
  return v;
}

}  // namespace qfloat::detail
