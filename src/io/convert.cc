// Tensor bytes -> values. Every conversion rounds once: codes decode exactly to float64 and are
// then cast; integers and f64 are cast straight to the target type (never through another).
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <type_traits>

#include "io/io_internal.h"
#include "qfloat/quantize.h"
#include "qfloat/scalar.h"

namespace qfloat {
namespace {

std::string Where(const TensorView& v) {
  return (v.file.empty() ? "" : v.file + ": ") + "tensor \"" + detail::Printable(v.name) + "\"";
}

// Code `index` of a little-endian bit stream of `width`-bit codes; bits past the end read as 0.
uint32_t ReadBits(std::span<const uint8_t> bytes, uint64_t index, unsigned width) {
  const uint64_t bit = index * width;
  const uint64_t byte = bit / 8;
  const unsigned shift = static_cast<unsigned>(bit % 8);
  uint64_t word = 0;
  const unsigned need = (shift + width + 7) / 8;
  for (unsigned k = 0; k < need && byte + k < bytes.size(); ++k) {
    word |= uint64_t{bytes[byte + k]} << (8 * k);
  }
  return static_cast<uint32_t>((word >> shift) & ((uint64_t{1} << width) - 1));
}

// Maps C-order element indices to storage indices (identity unless Fortran order).
class IndexMap {
 public:
  explicit IndexMap(const TensorView& v)
      : fortran_(v.fortran_order && v.shape.size() > 1), shape_(v.shape) {
    if (!fortran_) return;
    stride_.resize(shape_.size());
    uint64_t s = 1;
    for (size_t k = 0; k < shape_.size(); ++k) {
      stride_[k] = s;
      s *= static_cast<uint64_t>(shape_[k]);  // no overflow: numel was checked
    }
  }
  bool identity() const { return !fortran_; }
  // Storage indices of C-order elements [first, first + out.size()).
  void Map(uint64_t first, std::span<uint64_t> out) {
    if (!fortran_) {
      for (size_t i = 0; i < out.size(); ++i) out[i] = first + i;
      return;
    }
    const size_t rank = shape_.size();
    std::vector<uint64_t> idx(rank);
    uint64_t c = first, s = 0;
    for (size_t k = rank; k-- > 0;) {
      const auto d = static_cast<uint64_t>(shape_[k]);
      idx[k] = c % d;
      c /= d;
      s += idx[k] * stride_[k];
    }
    for (size_t i = 0; i < out.size(); ++i) {
      out[i] = s;
      size_t k = rank - 1;
      ++idx[k];
      s += stride_[k];
      while (idx[k] == static_cast<uint64_t>(shape_[k]) && k > 0) {
        s -= idx[k] * stride_[k];
        idx[k] = 0;
        --k;
        ++idx[k];
        s += stride_[k];
      }
    }
  }

 private:
  bool fortran_;
  std::vector<int64_t> shape_;
  std::vector<uint64_t> stride_;
};

enum class Kind { kF32, kF64, kCode, kBool, kUnsigned, kSigned };

struct Plan {
  Kind kind = Kind::kF32;
  unsigned storage_bits = 32;  // width of one stored element
  FormatSpec spec;             // kCode
  std::string format;          // kCode
};

// The view's shape, numel, byte count and the requested range agree.
Status CheckView(const TensorView& v, uint64_t first, size_t count) {
  const std::optional<uint64_t> numel = NumElements(v.shape);
  if (!numel || *numel != v.numel) {
    return InvalidArgument(Where(v) + ": numel " + std::to_string(v.numel) +
                           " does not match its shape");
  }
  const std::optional<uint64_t> nbytes = StorageBytes(v.dtype, v.numel);
  if (!nbytes || *nbytes != v.bytes.size()) {
    return InvalidArgument(Where(v) + ": holds " + std::to_string(v.bytes.size()) +
                           " bytes; its shape and dtype need " +
                           (nbytes ? std::to_string(*nbytes) : std::string("more")));
  }
  if (first > v.numel || count > v.numel - first) {
    return InvalidArgument(Where(v) + ": elements [" + std::to_string(first) + ", " +
                           std::to_string(first + count) + ") are out of range (numel " +
                           std::to_string(v.numel) + ")");
  }
  return Status::Ok();
}

StatusOr<Plan> MakePlan(const TensorView& v, uint64_t first, size_t count) {
  const DTypeInfo& info = GetDTypeInfo(v.dtype);
  if (Status st = CheckView(v, first, count); !st.ok()) return st;
  Plan p;
  p.storage_bits = info.bits;
  if (v.dtype == DType::kC64 || v.dtype == DType::kC128) {
    return DataError(Where(v) + ": complex dtype " + std::string(info.name) +
                     " has no real value to convert to");
  }
  if (!v.format.empty() && v.dtype != DType::kF32) {
    StatusOr<Format> f = ResolveFormat(v.format);
    if (!f.ok()) return Status(f.status().code(), Where(v) + ": " + f.status().message());
    if (f->spec.bits > p.storage_bits) {
      return InvalidArgument(Where(v) + ": format " + f->name + " has " +
                             std::to_string(f->spec.bits) + "-bit codes but dtype " +
                             std::string(info.name) + " stores " + std::to_string(p.storage_bits));
    }
    p.kind = Kind::kCode;
    p.spec = f->spec;
    p.format = f->name;
    return p;
  }
  switch (v.dtype) {
    case DType::kF32:
      p.kind = Kind::kF32;
      return p;
    case DType::kF64:
      p.kind = Kind::kF64;
      return p;
    case DType::kBool:
      p.kind = Kind::kBool;
      return p;
    case DType::kU8:
    case DType::kU16:
    case DType::kU32:
    case DType::kU64:
      p.kind = Kind::kUnsigned;
      return p;
    case DType::kI8:
    case DType::kI16:
    case DType::kI32:
    case DType::kI64:
      p.kind = Kind::kSigned;
      return p;
    case DType::kOpaque8:
      return DataError(Where(v) + ": dtype '" + detail::Printable(v.npy_descr) +
                       "' holds 8-bit codes of a format the header does not name: name it "
                       "with --as FMT");
    default:
      return DataError(Where(v) + ": dtype " + std::string(info.name) + " has no format");
  }
}

// The stored value of element s, exactly, for messages.
std::string ElementText(const TensorView& v, const Plan& p, uint64_t s) {
  const unsigned bytes = p.storage_bits / 8;
  if (p.kind == Kind::kUnsigned) {
    return std::to_string(detail::LoadUnsigned(v.bytes.data() + s * bytes, bytes));
  }
  if (p.kind == Kind::kSigned) {
    uint64_t u = detail::LoadUnsigned(v.bytes.data() + s * bytes, bytes);
    if (bytes < 8 && (u >> (8 * bytes - 1))) u |= ~uint64_t{0} << (8 * bytes);
    return std::to_string(static_cast<int64_t>(u));
  }
  double x = 0;
  if (p.kind == Kind::kF64) std::memcpy(&x, v.bytes.data() + 8 * s, 8);
  if (p.kind == Kind::kCode) x = DecodeScalar(p.spec, ReadBits(v.bytes, s, p.storage_bits));
  char buf[40];
  std::snprintf(buf, sizeof(buf), "%.17g", x);
  return buf;
}

template <typename Out, typename In>
Out Cast(In x, bool exact, bool& inexact) {
  const Out y = static_cast<Out>(x);
  if (exact) {
    if constexpr (std::is_floating_point_v<In>) {
      if (!std::isnan(x) && static_cast<In>(y) != x) inexact = true;
    } else {
      // Exact iff y converts back to x; y >= 2^digits is out of In's range (and so inexact), and
      // converting it back would be undefined. (No long double: valgrind computes it as double.)
      const Out limit = std::ldexp(Out{1}, std::numeric_limits<In>::digits);
      if (y >= limit || static_cast<In>(y) != x) inexact = true;
    }
  }
  return y;
}

// One element at storage index s, converted to Out.
template <typename Out>
Out Fetch(const TensorView& v, const Plan& p, uint64_t s, bool exact, bool& inexact) {
  const uint8_t* b = v.bytes.data();
  switch (p.kind) {
    case Kind::kF32: {
      float x;
      std::memcpy(&x, b + 4 * s, 4);
      return static_cast<Out>(x);
    }
    case Kind::kF64: {
      double x;
      std::memcpy(&x, b + 8 * s, 8);
      return Cast<Out>(x, exact, inexact);
    }
    case Kind::kCode: {
      const uint32_t code = ReadBits(v.bytes, s, p.storage_bits);
      const double x = DecodeScalar(p.spec, code & ((uint64_t{1} << p.spec.bits) - 1));
      return Cast<Out>(x, exact, inexact);
    }
    case Kind::kBool:
      return static_cast<Out>(b[s] != 0);
    case Kind::kUnsigned: {
      const uint64_t x = detail::LoadUnsigned(b + s * (p.storage_bits / 8), p.storage_bits / 8);
      return Cast<Out>(x, exact, inexact);
    }
    case Kind::kSigned: {
      const unsigned bytes = p.storage_bits / 8;
      uint64_t u = detail::LoadUnsigned(b + s * bytes, bytes);
      if (bytes < 8 && (u >> (8 * bytes - 1))) u |= ~uint64_t{0} << (8 * bytes);
      const auto x = static_cast<int64_t>(u);
      return Cast<Out>(x, exact, inexact);
    }
  }
  return Out{};
}

// A code wider than the format (a '|V1' byte holding a 4-bit code) must have its high bits zero.
Status CheckCodeRange(const TensorView& v, const Plan& p, uint64_t s, uint64_t c_index) {
  if (p.kind != Kind::kCode || p.spec.bits >= p.storage_bits) return Status::Ok();
  const uint32_t code = ReadBits(v.bytes, s, p.storage_bits);
  if (code >> p.spec.bits) {
    char hex[16];
    std::snprintf(hex, sizeof(hex), "0x%X", code);
    return DataError(Where(v) + ": element " + std::to_string(c_index) + " holds code " + hex +
                     ", which does not fit " + p.format + "'s " + std::to_string(p.spec.bits) +
                     " bits");
  }
  return Status::Ok();
}

template <typename Out>
Status Convert(const TensorView& v, uint64_t first, std::span<Out> out, bool exact) {
  StatusOr<Plan> plan = MakePlan(v, first, out.size());
  if (!plan.ok()) return plan.status();
  const Plan& p = *plan;
  IndexMap map(v);
  // Fast paths (C order): float32 as is; codes whose storage is quantize.h's packing go through
  // the tensor API (the fastest backend compiled in).
  if (out.empty()) return Status::Ok();
  if (map.identity() && p.kind == Kind::kF32 && std::is_same_v<Out, float>) {
    std::memcpy(out.data(), v.bytes.data() + 4 * first, 4 * out.size());
    return Status::Ok();
  }
  const bool packed_like =
      p.kind == Kind::kCode && p.spec.bits == p.storage_bits &&
      (p.storage_bits == 4 || p.storage_bits == 6 || p.storage_bits == 8 || p.storage_bits == 16);
  if constexpr (std::is_same_v<Out, float>) {
    if (map.identity() && packed_like && !exact) {
      // Whole groups of codes starting on a byte boundary go to Decode; the rest one by one.
      const uint64_t group = p.storage_bits == 4 ? 2 : p.storage_bits == 6 ? 4 : 1;
      uint64_t lo = (first + group - 1) / group * group;
      uint64_t hi = (first + out.size()) / group * group;
      if (lo < hi) {
        const uint64_t byte0 = lo * p.storage_bits / 8;
        const size_t n = static_cast<size_t>(hi - lo);
        const Status st = Decode(p.spec, v.bytes.subspan(byte0, PackedBytes(p.spec, n)),
                                 out.subspan(static_cast<size_t>(lo - first), n), TensorOptions{});
        if (!st.ok()) return Status(st.code(), Where(v) + ": " + st.message());
      } else {
        lo = hi = first;
      }
      bool inexact = false;
      for (uint64_t c = first; c < first + out.size(); ++c) {
        if (c >= lo && c < hi) continue;
        out[c - first] = Fetch<float>(v, p, c, false, inexact);
      }
      return Status::Ok();
    }
  }
  constexpr size_t kBlock = 4096;
  uint64_t idx[kBlock];
  for (size_t done = 0; done < out.size(); done += kBlock) {
    const size_t n = std::min(kBlock, out.size() - done);
    map.Map(first + done, std::span<uint64_t>(idx, n));
    for (size_t i = 0; i < n; ++i) {
      if (p.kind == Kind::kCode && p.spec.bits < p.storage_bits) {
        const Status st = CheckCodeRange(v, p, idx[i], first + done + i);
        if (!st.ok()) return st;
      }
      bool inexact = false;
      out[done + i] = Fetch<Out>(v, p, idx[i], exact, inexact);
      if (inexact) {
        return DataError(Where(v) + ": element " + std::to_string(first + done + i) + " = " +
                         ElementText(v, p, idx[i]) + " is not exactly representable as " +
                         (std::is_same_v<Out, float> ? "float32" : "float64"));
      }
    }
  }
  return Status::Ok();
}

template <typename Out>
StatusOr<std::vector<Out>> ConvertAll(const TensorView& v, bool exact) {
  std::vector<Out> out;
  try {
    out.resize(v.numel);
  } catch (const std::exception&) {
    return IoError(Where(v) + ": cannot allocate " + std::to_string(v.numel) + " values");
  }
  const Status st = Convert<Out>(v, 0, std::span<Out>(out), exact);
  if (!st.ok()) return st;
  return out;
}

}  // namespace

Status ToFloat32(const TensorView& view, uint64_t first, std::span<float> out,
                 const ConvertOptions& options) {
  return Convert<float>(view, first, out, options.exact);
}

StatusOr<std::vector<float>> ToFloat32(const TensorView& view, const ConvertOptions& options) {
  return ConvertAll<float>(view, options.exact);
}

Status ToFloat64(const TensorView& view, uint64_t first, std::span<double> out) {
  return Convert<double>(view, first, out, true);
}

StatusOr<std::vector<double>> ToFloat64(const TensorView& view) {
  return ConvertAll<double>(view, true);
}

StatusOr<std::vector<uint32_t>> ReadCodes(const TensorView& view) {
  if (Status st = CheckView(view, 0, 0); !st.ok()) return st;
  const unsigned bits = GetDTypeInfo(view.dtype).bits;
  if (bits > 32) {
    return DataError(Where(view) + ": dtype " + std::string(ToString(view.dtype)) +
                     " is wider than 32 bits: no codes to read");
  }
  std::vector<uint32_t> out;
  try {
    out.resize(view.numel);
  } catch (const std::exception&) {
    return IoError(Where(view) + ": cannot allocate " + std::to_string(view.numel) + " codes");
  }
  IndexMap map(view);
  constexpr size_t kBlock = 4096;
  uint64_t idx[kBlock];
  for (size_t done = 0; done < out.size(); done += kBlock) {
    const size_t n = std::min<size_t>(kBlock, out.size() - done);
    map.Map(done, std::span<uint64_t>(idx, n));
    for (size_t i = 0; i < n; ++i) out[done + i] = ReadBits(view.bytes, idx[i], bits);
  }
  return out;
}

StatusOr<Format> ElementFormat(const TensorView& view) {
  if (view.format.empty()) {
    return InvalidArgument(Where(view) + ": dtype " + std::string(ToString(view.dtype)) +
                           " is not the code of a float format");
  }
  StatusOr<Format> f = ResolveFormat(view.format);
  if (!f.ok()) return Status(f.status().code(), Where(view) + ": " + f.status().message());
  return f;
}

NonFiniteCounts CountNonFinite(std::span<const float> values) {
  NonFiniteCounts c;
  for (float x : values) {
    c.nan += std::isnan(x);
    c.inf += std::isinf(x);
  }
  return c;
}

NonFiniteCounts CountNonFinite(std::span<const double> values) {
  NonFiniteCounts c;
  for (double x : values) {
    c.nan += std::isnan(x);
    c.inf += std::isinf(x);
  }
  return c;
}

}  // namespace qfloat
