// Tensors in and out: .npy (v1.0/2.0/3.0), .npz (stored or deflated, zip64) and .safetensors.
//
// Reading: OpenTensorFile() maps the file (mmap; `-` reads stdin into memory) and parses every
// header up front, so a malformed file fails at open with a message naming the file and the
// problem. Tensor data is not copied: TensorFile::Load() returns a view into the mapping (npz
// members are inflated one tensor at a time, on demand), so a 10 GB input needs no 10 GB of
// extra memory. Conversions (ToFloat32, ToFloat64, ReadCodes) return C-order data whatever the
// stored order, and can work on a slice of elements so that callers can stream.
//
// Writing: WriteNpy() and WriteSafetensors() go through AtomicFileWriter: a temporary file in the
// destination's directory, fsync, rename. A failure leaves no partial output (DESIGN.md, CLI
// contract).
//
// Conventions adopted from the ecosystem (ECOSYSTEM.md section 1):
// - npy '<V2' is bf16 (JAX's jnp.load convention); '<V1'/'|V1' holds 8-bit codes of a format the
//   header does not name (ml_dtypes), so ReadOptions::as_format must name it; '<f1' is e5m2.
// - safetensors F4/F6 headers hold the logical element count; codes are packed as a
//   little-endian bit stream, element i in bits [i*w, i*w + w) (F4: element 2j in the low nibble,
//   as PyTorch's float4_e2m1fn_x2; F6: quantize.h's layout), the byte count rounded up.
// - F8_E4M3 is e4m3fn (torch float8_e4m3fn), not ml_dtypes' IEEE-like float8_e4m3.
#ifndef QFLOAT_IO_H_
#define QFLOAT_IO_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "qfloat/format.h"
#include "qfloat/status.h"

namespace qfloat {

// ---------------------------------------------------------------------------------------------
// Element types

// Every safetensors dtype, plus what .npy adds (complex128, and the opaque 'V1'/'V2' kinds).
enum class DType : uint8_t {
  kBool,
  kU8,
  kI8,
  kU16,
  kI16,
  kU32,
  kI32,
  kU64,
  kI64,
  kF16,
  kBF16,
  kF32,
  kF64,
  kC64,
  kF8E5M2,
  kF8E4M3,  // = e4m3fn (torch float8_e4m3fn)
  kF8E4M3FNUZ,
  kF8E5M2FNUZ,
  kF8E8M0,
  kF4,  // e2m1fn, two per byte
  kF6E2M3,
  kF6E3M2,
  // npy only:
  kC128,     // '<c16'
  kOpaque8,  // '|V1': one 8-bit code per element, format named by ReadOptions::as_format
};
inline constexpr int kNumDTypes = static_cast<int>(DType::kOpaque8) + 1;

// Static facts about a dtype.
struct DTypeInfo {
  DType dtype;
  std::string_view name;    // safetensors spelling ("F8_E4M3"); npy-only ones: "C128", "V1"
  uint8_t bits;             // bits per element (F4: 4, F6_*: 6, C64: 64)
  std::string_view format;  // the qfloat format whose codes these are ("e4m3fn"), or ""
  bool is_integer;          // BOOL, U*, I*
  bool is_signed;           // I*, and every float/complex dtype
  bool in_safetensors;      // false for C128 and V1
};
const DTypeInfo& GetDTypeInfo(DType dtype);
std::string_view ToString(DType dtype);
// A safetensors dtype string, exactly as the format spells it ("BF16", "F8_E4M3", ...).
StatusOr<DType> ParseSafetensorsDType(std::string_view name);
// Bytes that `numel` elements of `dtype` occupy: ceil(numel * bits / 8); nullopt on overflow.
std::optional<uint64_t> StorageBytes(DType dtype, uint64_t numel);
// Product of the dimensions (0 if any is 0); nullopt if a dimension is negative or the product
// overflows uint64.
std::optional<uint64_t> NumElements(std::span<const int64_t> shape);

// The storage dtype for codes of `spec` in a safetensors file: the float dtype whose format has
// exactly this descriptor (F8_E4M3 for e4m3fn, F4 for e2m1fn, BF16 for bf16, ...), else the
// unsigned integer dtype of the code width: U8 (one code per byte) for <= 8 bits, U16, U32.
// Callers should record the format's name in __metadata__ (the dtype does not name a posit8_1).
DType CodeStorageDType(const FormatSpec& spec);
// Converts `count` codes packed as quantize.h packs them (PackedBytes(spec, count) bytes) into the
// byte layout of CodeStorageDType(spec) (StorageBytes(dtype, count) bytes).
std::vector<uint8_t> CodesToStorage(const FormatSpec& spec, std::span<const uint8_t> packed,
                                    size_t count);

// ---------------------------------------------------------------------------------------------
// Reading

enum class FileKind : uint8_t { kNpy, kNpz, kSafetensors };
std::string_view ToString(FileKind kind);

struct ReadOptions {
  // Format of opaque codes: npy '|V1' (required there: the header does not name the format; any
  // format of <= 8 bits, one code per byte as ml_dtypes stores fp8/fp6/fp4) and '<V2' (default
  // bf16; any format of 9..16 bits). A registered name or a path to a format file. Ignored for
  // dtypes that name their format ('<f2', F8_E4M3, ...), so one value serves a mixed npz.
  std::string as_format;
  // Largest npz member that Load() inflates, in bytes (0 = no limit). A zip can declare sizes
  // far beyond its own length; this bounds the allocation (fuzzers set it).
  uint64_t max_member_bytes = 0;
  // false: read the whole file into memory instead of mapping it.
  bool use_mmap = true;
};

// What a header says about one tensor.
struct TensorInfo {
  std::string name;  // npy: file stem; npz: member name without ".npy"; safetensors: the key
  std::string file;  // the file it came from, for messages
  DType dtype = DType::kF32;
  std::vector<int64_t> shape;
  bool fortran_order = false;  // npy only; data is column-major
  uint64_t numel = 0;
  uint64_t nbytes = 0;    // StorageBytes(dtype, numel)
  std::string format;     // qfloat format decoding the codes ("" for integer/f64/complex)
  std::string npy_descr;  // npy/npz: the descr string as written ("<V2")
};

// A tensor's bytes, as stored (little-endian; F4/F6 packed; Fortran order if fortran_order).
// `storage` keeps them alive: a view stays valid after its TensorFile is gone.
struct TensorView : TensorInfo {
  std::span<const uint8_t> bytes;
  std::shared_ptr<const void> storage;
};

class TensorFile {
 public:
  TensorFile(TensorFile&&) noexcept;
  TensorFile& operator=(TensorFile&&) noexcept;
  ~TensorFile();

  const std::string& path() const;
  FileKind kind() const;
  size_t size() const;                     // number of tensors
  const TensorInfo& info(size_t i) const;  // i < size()
  std::optional<size_t> Find(std::string_view name) const;
  // safetensors __metadata__ (empty for npy/npz).
  const std::map<std::string, std::string>& metadata() const;
  // The data of tensor i. npy/safetensors: a view of the mapping (no copy). npz: the member is
  // inflated now into memory owned by the view. Thread-safe.
  StatusOr<TensorView> Load(size_t i) const;

  struct Impl;

 private:
  friend StatusOr<TensorFile> OpenTensorFile(const std::string&, const ReadOptions&);
  friend StatusOr<TensorFile> OpenTensorBuffer(std::span<const uint8_t>, std::string_view,
                                               const ReadOptions&, std::optional<FileKind>);
  explicit TensorFile(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Opens a tensor file, recognised by its magic bytes (npy "\x93NUMPY", zip "PK"), else by a
// .safetensors layout; "-" reads stdin (npy and safetensors; npz needs the whole file anyway).
// Every header is parsed and checked here: errors name the file and the problem.
StatusOr<TensorFile> OpenTensorFile(const std::string& path, const ReadOptions& options = {});
// The same over bytes in memory (copied); `name` is used in messages and as the npy tensor name.
// `kind` forces the parser; nullopt detects it.
StatusOr<TensorFile> OpenTensorBuffer(std::span<const uint8_t> data, std::string_view name,
                                      const ReadOptions& options = {},
                                      std::optional<FileKind> kind = std::nullopt);

// ---------------------------------------------------------------------------------------------
// Conversions (C order out, whatever the stored order)

struct ConvertOptions {
  // true: fail (naming the element) instead of rounding a value that the target type cannot
  // hold exactly (f64 -> f32, large integers). Every code of a <= 16-bit float format is exact.
  bool exact = false;
};

// Elements [first, first + out.size()) of the tensor in C order, as float32. Floats narrower than
// float32 and every code format are exact; f64 and 32/64-bit integers round to nearest (or fail
// with options.exact). Complex tensors and '|V1' without a format are errors.
Status ToFloat32(const TensorView& view, uint64_t first, std::span<float> out,
                 const ConvertOptions& options = {});
StatusOr<std::vector<float>> ToFloat32(const TensorView& view, const ConvertOptions& options = {});
// As float64: exact for every float dtype and code format; 64-bit integers beyond 2^53 fail
// unless exactly representable.
Status ToFloat64(const TensorView& view, uint64_t first, std::span<double> out);
StatusOr<std::vector<double>> ToFloat64(const TensorView& view);
// The raw bit pattern of each element (C order), for dtypes of <= 32 bits: codes of float
// formats, opaque codes, integers (zero-extended). For comparing codes bit for bit.
StatusOr<std::vector<uint32_t>> ReadCodes(const TensorView& view);
// The qfloat format decoding this view's codes (its `format`), resolved.
StatusOr<Format> ElementFormat(const TensorView& view);

struct NonFiniteCounts {
  uint64_t nan = 0;
  uint64_t inf = 0;
  uint64_t total() const { return nan + inf; }
};
NonFiniteCounts CountNonFinite(std::span<const float> values);
NonFiniteCounts CountNonFinite(std::span<const double> values);

// ---------------------------------------------------------------------------------------------
// Writing

// Writes a file all at once or not at all: bytes go to a temporary in the destination's directory
// (".NAME.tmp-XXXXXX"), Commit() flushes, fsyncs and renames it over `path`; destroying an
// uncommitted writer (or a failed Commit) removes the temporary. "-" writes to stdout directly
// (not atomic).
class AtomicFileWriter {
 public:
  static StatusOr<AtomicFileWriter> Create(const std::string& path);
  AtomicFileWriter(AtomicFileWriter&& other) noexcept;
  AtomicFileWriter& operator=(AtomicFileWriter&& other) noexcept;
  AtomicFileWriter(const AtomicFileWriter&) = delete;
  AtomicFileWriter& operator=(const AtomicFileWriter&) = delete;
  ~AtomicFileWriter();

  Status Write(std::span<const uint8_t> bytes);
  Status Write(std::string_view text);
  Status Commit();
  const std::string& path() const { return path_; }
  const std::string& temp_path() const { return temp_path_; }

 private:
  AtomicFileWriter() = default;
  Status Flush();
  void Abandon();

  std::string path_;
  std::string temp_path_;  // empty for stdout
  int fd_ = -1;
  bool committed_ = false;
  std::vector<uint8_t> buffer_;
};

// The tensor to write: name, dtype, shape, fortran_order and bytes (storage layout, as a
// TensorView holds them) are used; numel/nbytes are recomputed and checked against bytes.
// .npy: version 1.0, or 2.0 when the header exceeds 65535 bytes; data 64-byte aligned as numpy
// writes it, header byte-identical to np.save's. BF16 is written as '<V2' (JAX convention); every
// 8-bit and narrower code dtype as '|V1', one code per byte (F4/F6 unpacked, as ml_dtypes stores
// them), which np.load accepts (it refuses ml_dtypes' own '<f1'): read such a file back with
// as_format, or in numpy with arr.view(ml_dtypes.float8_e4m3fn). The format is not recorded.
Status WriteNpy(const std::string& path, const TensorView& tensor);
// .safetensors: tensors in the given order, C order only (fortran_order is an error), names
// unique and not "__metadata__"; header padded with spaces to a multiple of 8 bytes.
Status WriteSafetensors(const std::string& path, std::span<const TensorView> tensors,
                        const std::map<std::string, std::string>& metadata = {});
// A float32 tensor viewing `values` (no copy; `values` must outlive the view).
TensorView Float32View(std::string name, std::vector<int64_t> shape, std::span<const float> values);

}  // namespace qfloat

#endif  // QFLOAT_IO_H_
