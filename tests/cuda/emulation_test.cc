// The CUDA kernels (src/cuda/kernels.cuh) run on the CPU through tests/cuda/emulation.h, against
// the scalar reference: tile and lane indexing, grid-stride loops over several tiles, every
// packing with tails and misaligned pointers (guard bytes around the outputs), the warp-shuffle
// 6-bit packing, the fast and the reference paths, float64 and codes16 inputs. This runs on every
// machine; on a GPU, cuda_backend_test checks the compiled kernels themselves.
#include "emulation.h"  // before the kernels: it stands in for CUDA

// The emulated kernels get a namespace of their own: the library's kernels.cu object (pulled in
// by the tensor API) defines host stubs with the kernels' own names, and the linker would take
// those over these inline copies.
#define cuda_detail cuda_emulated

#include <catch2/catch.hpp>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "cuda/kernels.cuh"
#include "inputs.h"
#include "qfloat/format.h"
#include "qfloat/quantize.h"
#include "qfloat/rounding.h"
#include "qfloat/scalar.h"

namespace qfloat {
namespace {

using namespace cuda_emulated;  // NOLINT: the kernels under test
using test::FloatBits;
using test::FloatOf;

constexpr unsigned kBlocks = 3;  // three warps, so warps stride over several tiles
constexpr uint8_t kGuard = 0xA5;

// Inputs for a case: boundary inputs first (as many as fit), then random ones.
std::vector<uint32_t> Inputs(const FormatSpec& spec, size_t n, uint64_t seed) {
  std::vector<uint32_t> b = test::BoundaryFloats(spec);
  std::vector<uint32_t> xs(n);
  const test::RandomRange range = test::RangeOf(spec);
  for (size_t i = 0; i < n; ++i) {
    xs[i] = (i % 2 == 0 && i / 2 < b.size()) ? b[(i / 2 * 7919 + seed) % b.size()]
                                             : test::RandomFloatBits(range, seed, i);
  }
  return xs;
}

// A buffer with guard bytes on both sides of a payload `misalign` bytes past a 16-byte boundary.
struct AlignedGuarded {
  std::vector<uint4> storage;
  size_t shift, size;
  AlignedGuarded(size_t payload, size_t misalign)
      : storage((payload + 64 + misalign) / 16 + 2), shift(32 + misalign), size(payload) {
    std::memset(storage.data(), kGuard, storage.size() * sizeof(uint4));
  }
  uint8_t* data() { return reinterpret_cast<uint8_t*>(storage.data()) + shift; }
  bool GuardsIntact() {
    const uint8_t* all = reinterpret_cast<const uint8_t*>(storage.data());
    for (size_t i = 0; i < shift; ++i) {
      if (all[i] != kGuard) return false;
    }
    for (size_t i = shift + size; i < storage.size() * sizeof(uint4); ++i) {
      if (all[i] != kGuard) return false;
    }
    return true;
  }
};

std::string Case(const Format& f, const QuantizeOptions& o, size_t n, size_t in_shift,
                 size_t out_shift) {
  return f.name + " " + ToString(o.rounding) + " " + ToString(o.overflow) + " offset " +
         std::to_string(o.index_offset) + " n=" + std::to_string(n) + " in+" +
         std::to_string(in_shift) + " out+" + std::to_string(out_shift);
}

TEST_CASE("emulated float32 kernels == reference (quantize, encode, decode)", "[emulation]") {
  size_t cases = 0, fast_cases = 0;
  for (const char* name : {"e4m3fn", "e5m2", "e2m1fn", "e2m3fn", "e3m2fn", "bf16", "posit8_2",
                           "posit16_1", "fp32", "posit32_2", "e8m0fnu", "int8_mx"}) {
    const StatusOr<Format> format = ResolveFormat(name);
    if (!format.ok()) continue;  // a format not (yet) registered
    const Format& f = *format;
    const FormatSpec& spec = f.spec;
    for (const char* mode : {"rne", "sr", "rtz", "sr:4"}) {
      for (uint64_t offset : {uint64_t{0}, uint64_t{2}}) {
        for (size_t n : {size_t{1}, size_t{7}, size_t{513}, size_t{2051}}) {
          for (const auto& [in_shift, out_shift] :
               {std::pair<size_t, size_t>{0, 0}, std::pair<size_t, size_t>{1, 3}}) {
            QuantizeOptions o;
            o.rounding = *ParseRounding(mode);
            o.overflow = n % 2 == 0 ? Overflow::kSatFinite : Overflow::kInf;
            o.seed = 4242 + n;
            o.stream = 5;
            o.index_offset = offset;
            const std::string what = Case(f, o, n, in_shift, out_shift);
            INFO(what);
            const std::vector<uint32_t> xs = Inputs(spec, n, n + in_shift);
            AlignedGuarded in(n * 4, in_shift * 4);
            std::memcpy(in.data(), xs.data(), n * 4);
            const Params p = MakeParams(spec, o, true);
            fast_cases += p.fast.enabled ? 1 : 0;
            const auto* in_bits = reinterpret_cast<const uint32_t*>(in.data());

            // Fake-quant.
            AlignedGuarded out(n * 4, out_shift * 4);
            const uint32_t qflags =
                (Aligned(in.data(), 16) ? kVecIn : 0u) | (Aligned(out.data(), 16) ? kVecOut : 0u);
            emulation::Launch(kBlocks, p.fast.enabled ? QuantizeF32FastKernel : QuantizeF32Kernel,
                              p, in_bits, reinterpret_cast<uint32_t*>(out.data()), uint64_t{n},
                              qflags);
            size_t bad = 0;
            for (size_t i = 0; i < n; ++i) {
              uint32_t got;
              std::memcpy(&got, out.data() + 4 * i, 4);
              bad += got != FloatBits(QuantizeScalar(spec, FloatOf(xs[i]), o, i)) ? 1 : 0;
            }
            CHECK(bad == 0);
            CHECK(out.GuardsIntact());

            // Encode.
            const size_t bytes = PackedBytes(spec, n);
            AlignedGuarded packed(bytes, out_shift);
            const uint32_t eflags =
                (Aligned(in.data(), 16) ? kVecIn : 0u) |
                (Aligned(packed.data(), PackedAlignment(spec.bits)) ? kVecOut : 0u);
            emulation::Launch(kBlocks, p.fast.enabled ? EncodeF32FastKernel : EncodeF32Kernel, p,
                              in_bits, packed.data(), uint64_t{n}, eflags);
            std::vector<uint8_t> want(bytes, 0);
            for (size_t i = 0; i < n; ++i) {
              WritePackedCode(spec, want, i, EncodeScalar(spec, FloatOf(xs[i]), o, i));
            }
            CHECK(std::memcmp(packed.data(), want.data(), bytes) == 0);
            CHECK(packed.GuardsIntact());

            // Decode the packed codes back (misaligned both ways).
            AlignedGuarded decoded(n * 4, in_shift * 4);
            const uint32_t dflags =
                (Aligned(packed.data(), PackedAlignment(spec.bits)) ? kVecIn : 0u) |
                (Aligned(decoded.data(), 16) ? kVecOut : 0u);
            emulation::Launch(kBlocks,
                              spec.bits <= kTableBits ? DecodeKernel<true> : DecodeKernel<false>,
                              spec, static_cast<const uint8_t*>(packed.data()),
                              reinterpret_cast<uint32_t*>(decoded.data()), uint64_t{n}, dflags);
            bad = 0;
            for (size_t i = 0; i < n; ++i) {
              uint32_t got;
              std::memcpy(&got, decoded.data() + 4 * i, 4);
              const double v = DecodeScalar(spec, ReadPackedCode(spec, want, i));
              bad += got != FloatBits(static_cast<float>(v)) ? 1 : 0;
            }
            CHECK(bad == 0);
            CHECK(decoded.GuardsIntact());
            ++cases;
          }
        }
      }
    }
  }
  CHECK(cases >= 300);
  CHECK(fast_cases > 0);
  CHECK(fast_cases < cases);  // both kernel families ran
}

TEST_CASE("emulated float64 kernels == reference", "[emulation]") {
  for (const char* name : {"e4m3fn", "e3m2fn", "posit16_1", "fp32"}) {
    const Format f = *ResolveFormat(name);
    const FormatSpec& spec = f.spec;
    const test::RandomRange range = test::RangeOf(spec);
    for (const char* mode : {"rne", "sr", "rup"}) {
      for (size_t n : {size_t{3}, size_t{1029}}) {
        for (size_t shift : {size_t{0}, size_t{1}}) {
          QuantizeOptions o;
          o.rounding = *ParseRounding(mode);
          o.seed = 17;
          o.index_offset = shift;
          INFO(Case(f, o, n, shift, shift));
          std::vector<uint64_t> xs(n);
          for (size_t i = 0; i < n; ++i) xs[i] = test::RandomDoubleBits(range, 9, i);
          AlignedGuarded in(n * 8, shift * 8), out(n * 8, shift * 8);
          std::memcpy(in.data(), xs.data(), n * 8);
          const Params p = MakeParams(spec, o, false);
          const auto* in_bits = reinterpret_cast<const uint64_t*>(in.data());
          emulation::Launch(
              kBlocks, QuantizeF64Kernel, p, in_bits, reinterpret_cast<uint64_t*>(out.data()),
              uint64_t{n},
              (Aligned(in.data(), 16) ? kVecIn : 0u) | (Aligned(out.data(), 16) ? kVecOut : 0u));
          const size_t bytes = PackedBytes(spec, n);
          AlignedGuarded packed(bytes, shift);
          emulation::Launch(
              kBlocks, EncodeF64Kernel, p, in_bits, packed.data(), uint64_t{n},
              (Aligned(in.data(), 16) ? kVecIn : 0u) |
                  (Aligned(packed.data(), PackedAlignment(spec.bits)) ? kVecOut : 0u));
          std::vector<uint8_t> want(bytes, 0);
          size_t bad = 0;
          for (size_t i = 0; i < n; ++i) {
            double x;
            std::memcpy(&x, &xs[i], 8);
            WritePackedCode(spec, want, i, EncodeScalar(spec, x, o, i));
            uint64_t got;
            std::memcpy(&got, out.data() + 8 * i, 8);
            bad += got != test::DoubleBits(QuantizeScalar(spec, x, o, i)) ? 1 : 0;
          }
          CHECK(bad == 0);
          CHECK(std::memcmp(packed.data(), want.data(), bytes) == 0);
          CHECK(out.GuardsIntact());
          CHECK(packed.GuardsIntact());
        }
      }
    }
  }
}

TEST_CASE("emulated codes16 kernel == reference", "[emulation]") {
  std::vector<uint16_t> codes(4096 + 5);
  for (size_t i = 0; i < codes.size(); ++i) codes[i] = static_cast<uint16_t>(test::Mix64(i));
  for (const char* in_name : {"bf16", "fp16"}) {
    const FormatSpec in_spec = ResolveFormat(in_name)->spec;
    for (const char* name : {"e4m3fn", "posit8_2", "e8m0fnu"}) {
      const FormatSpec spec = ResolveFormat(name)->spec;
      for (const char* mode : {"rne", "sr"}) {
        QuantizeOptions o;
        o.rounding = *ParseRounding(mode);
        o.seed = 3;
        o.index_offset = 1;
        INFO(std::string(in_name) + " -> " + name + " " + mode);
        std::vector<uint32_t> out(codes.size());
        emulation::Launch(kBlocks, QuantizeCodes16Kernel, MakeParams(spec, o, true), in_spec,
                          ValuesAreFloat32(in_spec), static_cast<const uint16_t*>(codes.data()),
                          out.data(), uint64_t{codes.size()});
        size_t bad = 0;
        for (size_t i = 0; i < codes.size(); ++i) {
          const double x = DecodeScalar(in_spec, codes[i]);
          bad += out[i] != FloatBits(static_cast<float>(QuantizeScalar(spec, x, o, i))) ? 1 : 0;
        }
        CHECK(bad == 0);
      }
    }
  }
}

}  // namespace
}  // namespace qfloat
