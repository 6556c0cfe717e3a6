// The dtype table: safetensors spellings (safetensors/src/tensor.rs `Dtype`), widths and the
// qfloat format of each float dtype (ECOSYSTEM.md section 1).
#include <algorithm>
#include <array>
#include <limits>

#include "io/io_internal.h"
#include "qfloat/io.h"
#include "qfloat/quantize.h"

namespace qfloat {
namespace {

constexpr std::array<DTypeInfo, kNumDTypes> kDTypes = {{
    {DType::kBool, "BOOL", 8, "", true, false, true},
    {DType::kU8, "U8", 8, "", true, false, true},
    {DType::kI8, "I8", 8, "", true, true, true},
    {DType::kU16, "U16", 16, "", true, false, true},
    {DType::kI16, "I16", 16, "", true, true, true},
    {DType::kU32, "U32", 32, "", true, false, true},
    {DType::kI32, "I32", 32, "", true, true, true},
    {DType::kU64, "U64", 64, "", true, false, true},
    {DType::kI64, "I64", 64, "", true, true, true},
    {DType::kF16, "F16", 16, "fp16", false, true, true},
    {DType::kBF16, "BF16", 16, "bf16", false, true, true},
    {DType::kF32, "F32", 32, "fp32", false, true, true},
    {DType::kF64, "F64", 64, "", false, true, true},
    {DType::kC64, "C64", 64, "", false, true, true},
    {DType::kF8E5M2, "F8_E5M2", 8, "e5m2", false, true, true},
    {DType::kF8E4M3, "F8_E4M3", 8, "e4m3fn", false, true, true},
    {DType::kF8E4M3FNUZ, "F8_E4M3FNUZ", 8, "e4m3fnuz", false, true, true},
    {DType::kF8E5M2FNUZ, "F8_E5M2FNUZ", 8, "e5m2fnuz", false, true, true},
    {DType::kF8E8M0, "F8_E8M0", 8, "e8m0fnu", false, false, true},
    {DType::kF4, "F4", 4, "e2m1fn", false, true, true},
    {DType::kF6E2M3, "F6_E2M3", 6, "e2m3fn", false, true, true},
    {DType::kF6E3M2, "F6_E3M2", 6, "e3m2fn", false, true, true},
    {DType::kC128, "C128", 128, "", false, true, false},
    {DType::kOpaque8, "V1", 8, "", false, false, false},
}};

// Two descriptors describe the same codes (the NaN fallback only matters when encoding).
bool SameCodes(const FormatSpec& a, const FormatSpec& b) {
  return a.kind == b.kind && a.bits == b.bits && a.is_signed == b.is_signed &&
         a.exponent_bits == b.exponent_bits && a.mantissa_bits == b.mantissa_bits &&
         (a.kind == FormatKind::kPosit ||
          (a.bias == b.bias && a.subnormals == b.subnormals && a.has_zero == b.has_zero &&
           a.negative_zero == b.negative_zero && a.has_inf == b.has_inf &&
           a.high_nans == b.high_nans));
}

}  // namespace

const DTypeInfo& GetDTypeInfo(DType dtype) {
  const auto i = static_cast<size_t>(dtype);
  return kDTypes[i < kDTypes.size() ? i : static_cast<size_t>(DType::kOpaque8)];
}

std::string_view ToString(DType dtype) { return GetDTypeInfo(dtype).name; }

std::string_view ToString(FileKind kind) {
  switch (kind) {
    case FileKind::kNpy:
      return "npy";
    case FileKind::kNpz:
      return "npz";
    case FileKind::kSafetensors:
      return "safetensors";
  }
  return "?";
}

StatusOr<DType> ParseSafetensorsDType(std::string_view name) {
  for (const DTypeInfo& info : kDTypes) {
    if (info.in_safetensors && info.name == name) return info.dtype;
  }
  return DataError("unknown dtype \"" + detail::Printable(name) + "\"");
}

std::optional<uint64_t> StorageBytes(DType dtype, uint64_t numel) {
  const uint64_t bits = GetDTypeInfo(dtype).bits;
  if (numel > std::numeric_limits<uint64_t>::max() / bits) return std::nullopt;
  return (numel * bits + 7) / 8;
}

std::optional<uint64_t> NumElements(std::span<const int64_t> shape) {
  for (int64_t d : shape) {
    if (d < 0) return std::nullopt;
    if (d == 0) return 0;  // numpy's product: zero whatever the other dimensions are
  }
  uint64_t n = 1;
  for (int64_t d : shape) {
    const auto u = static_cast<uint64_t>(d);
    if (n > std::numeric_limits<uint64_t>::max() / u) return std::nullopt;
    n *= u;
  }
  return n;
}

DType CodeStorageDType(const FormatSpec& spec) {
  // The registered descriptors of the float dtypes, resolved once (immutable after).
  static const std::vector<std::pair<DType, FormatSpec>> kFloatSpecs = [] {
    std::vector<std::pair<DType, FormatSpec>> specs;
    for (const DTypeInfo& info : kDTypes) {
      if (info.format.empty()) continue;
      StatusOr<Format> f = ResolveFormat(info.format);
      if (f.ok()) specs.emplace_back(info.dtype, f->spec);
    }
    return specs;
  }();
  for (const auto& [dtype, s] : kFloatSpecs) {
    if (SameCodes(s, spec)) return dtype;
  }
  if (spec.bits <= 8) return DType::kU8;
  if (spec.bits <= 16) return DType::kU16;
  return DType::kU32;
}

std::vector<uint8_t> CodesToStorage(const FormatSpec& spec, std::span<const uint8_t> packed,
                                    size_t count) {
  const DType dtype = CodeStorageDType(spec);
  const uint64_t bytes = *StorageBytes(dtype, count);
  std::vector<uint8_t> out(bytes, 0);
  const unsigned storage_bits = GetDTypeInfo(dtype).bits;
  // quantize.h packs 4- and 6-bit codes as the same little-endian bit stream as safetensors, and
  // wider codes one per byte / LE uint16 / LE uint32, so only the length differs (unused bits
  // are zero) unless the storage is wider than the code (U8 holding a 5-bit code).
  const bool same_layout = (spec.bits <= 4 && storage_bits == 4) ||
                           (spec.bits > 4 && spec.bits <= 6 && storage_bits == 6) ||
                           (spec.bits > 6 && spec.bits <= 8 && storage_bits == 8) ||
                           (spec.bits > 8 && spec.bits <= 16 && storage_bits == 16) ||
                           (spec.bits > 16 && storage_bits == 32);
  if (same_layout) {
    std::copy_n(packed.begin(), std::min<size_t>(bytes, packed.size()), out.begin());
    return out;
  }
  for (size_t i = 0; i < count; ++i) {
    const uint32_t code = ReadPackedCode(spec, packed, i);
    detail::StoreUnsigned(out.data() + i * (storage_bits / 8), storage_bits / 8, code);
  }
  return out;
}

}  // namespace qfloat
