// qfloat/selftest.h: a backend against the scalar reference, input by input.
#include "qfloat/selftest.h"

#include <algorithm>
#include <atomic>
#include <bit>
#include <chrono>
#include <cmath>
#include <limits>
#include <mutex>
#include <random>
#include <string>

#include "qfloat/detail/bits.h"
#include "qfloat/scalar.h"
#include "simd/dispatch.h"
#include "simd/thread_pool.h"

namespace qfloat {
namespace {

uint32_t FloatBits(float f) { return std::bit_cast<uint32_t>(f); }

// SplitMix64's finaliser: a cheap bijective mix for the sampled inputs' random low bits.
uint64_t Mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// Adds the float32 nearest to v and its neighbours one ulp either side (both signs are added by
// the caller).
void AddNear(double v, std::vector<uint32_t>& out) {
  if (!(v >= 0) || std::isinf(v)) return;
  const float f = static_cast<float>(v);
  const uint32_t bits = FloatBits(std::isinf(f) ? std::numeric_limits<float>::max() : f);
  out.push_back(bits);
  if (bits > 0) out.push_back(bits - 1);
  if (bits < 0x7F800000u) out.push_back(bits + 1);
}

// Value of an n-bit posit pattern, n <= 33 (for the (n+1)-bit tie points of posit32).
double PositPatternValue(int n, int es, uint64_t c) {
  const int body = n - 1;
  const bool first = ((c >> (body - 1)) & 1) != 0;
  int run = 0;
  while (run < body && (((c >> (body - 1 - run)) & 1) == (first ? 1u : 0u))) ++run;
  const int regime = first ? run - 1 : -run;
  const int left = std::max(body - run - 1, 0);
  const uint64_t rest = left > 0 ? (c & ((uint64_t{1} << left) - 1)) : 0;
  const int e_avail = std::min(left, es);
  const uint64_t e_bits = e_avail > 0 ? (rest >> (left - e_avail)) : 0;
  const int exponent = static_cast<int>(e_bits << (es - e_avail));
  const int frac_bits = left - e_avail;
  const uint64_t frac = frac_bits > 0 ? (rest & ((uint64_t{1} << frac_bits) - 1)) : 0;
  return std::ldexp(1.0 + std::ldexp(static_cast<double>(frac), -frac_bits),
                    regime * (1 << es) + exponent);
}

}  // namespace

std::vector<uint32_t> BoundaryInputs(const FormatSpec& spec, uint64_t seed) {
  std::vector<uint32_t> out;
  const bool posit = spec.kind == FormatKind::kPosit;
  const uint64_t top = spec.max_code;
  const uint64_t first = posit ? 1 : 0;
  // Codes to visit: all of them up to 2^17 codes, else both ends and a seeded sample.
  std::vector<uint64_t> codes;
  if (top - first < (uint64_t{1} << 17)) {
    for (uint64_t c = first; c <= top; ++c) codes.push_back(c);
  } else {
    for (uint64_t c = first; c < first + (1u << 16); ++c) codes.push_back(c);
    for (uint64_t c = top - (1u << 16); c <= top; ++c) codes.push_back(c);
    std::mt19937_64 rng(seed ^ 0x9E3779B97F4A7C15ull);
    for (int i = 0; i < (1 << 18); ++i) codes.push_back(first + rng() % (top - first + 1));
  }
  for (const uint64_t c : codes) {
    const double v = detail::DecodeToDouble(spec, static_cast<uint32_t>(c));
    AddNear(v, out);
    if (c < top) {
      const double w = detail::DecodeToDouble(spec, static_cast<uint32_t>(c + 1));
      AddNear(v + (w - v) / 2, out);  // exact: neighbours differ by a power of two or less
      if (posit) AddNear(PositPatternValue(spec.bits + 1, spec.exponent_bits, 2 * c + 1), out);
    } else {
      const double below =
          c > first ? detail::DecodeToDouble(spec, static_cast<uint32_t>(c - 1)) : 0;
      const double gap = v - below;
      for (const double x : {v + gap / 2, v + gap, 1.5 * (v + gap), 2 * v, 4 * v, 1024 * v}) {
        AddNear(x, out);
      }
    }
  }
  // Float32 landmarks: zero, inf, NaNs, subnormal and normal extremes, one.
  for (const uint32_t b :
       {0x00000000u, 0x7F800000u, 0x7FC00000u, 0x7F800001u, 0x7FFFFFFFu, 0x7FA00000u, 0x00000001u,
        0x00000002u, 0x003FFFFFu, 0x00400000u, 0x007FFFFFu, 0x00800000u, 0x00800001u, 0x3F7FFFFFu,
        0x3F800000u, 0x3F800001u, 0x7F7FFFFFu}) {
    out.push_back(b);
  }
  const size_t positives = out.size();
  for (size_t i = 0; i < positives; ++i) out.push_back(out[i] | 0x80000000u);
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

StatusOr<SelftestReport> RunSelftest(const SelftestOptions& o) {
  if (o.sample_log2 < 0 || o.sample_log2 > 32) {
    return InvalidArgument("selftest: sample size 2^" + std::to_string(o.sample_log2) +
                           " is out of range (0..32)");
  }
  if (o.threads < 0) return InvalidArgument("selftest: threads must be >= 0");
  const FormatSpec& spec = o.spec;
  const auto start = std::chrono::steady_clock::now();

  std::vector<uint32_t> boundaries;
  if (o.boundaries) boundaries = BoundaryInputs(spec, o.sample_seed);
  const uint64_t patterns = uint64_t{1} << o.sample_log2;
  const uint64_t total = patterns + boundaries.size();
  const int low_bits = 32 - o.sample_log2;
  const uint32_t low_mask = low_bits >= 32 ? 0xFFFFFFFFu : ((1u << low_bits) - 1);
  // Input k: the k-th pattern (all patterns: k itself; a sample: k in the top bits, random low
  // bits from a counter-based hash), then the boundary list.
  const auto input = [&](uint64_t k) -> uint32_t {
    if (k >= patterns) return boundaries[k - patterns];
    if (low_bits == 0) return static_cast<uint32_t>(k);
    const uint32_t r = static_cast<uint32_t>(Mix64(o.sample_seed ^ (k * 0x9E3779B97F4A7C15ull)));
    const uint32_t high = low_bits >= 32 ? 0u : static_cast<uint32_t>(k << low_bits);
    return high | (r & low_mask);
  };

  // Expected fake-quant values by code (float32 bits), tabulated for <= 16-bit formats.
  std::vector<uint32_t> value_table;
  if (spec.bits <= 16) {
    value_table.resize(size_t{1} << spec.bits);
    for (uint32_t c = 0; c < value_table.size(); ++c) {
      value_table[c] = FloatBits(static_cast<float>(detail::DecodeToDouble(spec, c)));
    }
  }
  const auto expected_value = [&](uint32_t code) {
    return value_table.empty() ? FloatBits(static_cast<float>(detail::DecodeToDouble(spec, code)))
                               : value_table[code];
  };

  constexpr uint64_t kBlock = uint64_t{1} << 22;
  constexpr size_t kTask = size_t{1} << 15;
  const int threads = simd::ResolveThreads(o.threads);
  std::vector<float> in(static_cast<size_t>(std::min(total, kBlock)));
  std::vector<float> quantized(o.check_quantize ? in.size() : 0);
  std::vector<uint8_t> packed(PackedBytes(spec, in.size()));
  SelftestReport report;
  std::mutex report_mutex;
  std::atomic<uint64_t> mismatches{0};

  for (uint64_t done = 0; done < total;) {
    const size_t n = static_cast<size_t>(std::min(kBlock, total - done));
    simd::ThreadPool::Shared().Run((n + kTask - 1) / kTask, threads, [&](size_t t) {
      const size_t end = std::min(n, (t + 1) * kTask);
      for (size_t j = t * kTask; j < end; ++j) in[j] = std::bit_cast<float>(input(done + j));
    });
    TensorOptions options;
    options.quantize = o.quantize;
    options.quantize.index_offset = o.quantize.index_offset + done;
    options.backend = o.backend;
    options.threads = o.threads;
    const std::span<const float> inputs(in.data(), n);
    const std::span<uint8_t> codes(packed.data(), PackedBytes(spec, n));
    const std::span<float> values(quantized.data(), o.check_quantize ? n : 0);
    if (o.custom) {
      const Status st = o.custom(spec, inputs, codes, values, options);
      if (!st.ok()) return st;
    } else {
      Status st = Encode(spec, inputs, codes, options);
      if (!st.ok()) return st;
      if (o.check_quantize) {
        st = Quantize(spec, inputs, values, options);
        if (!st.ok()) return st;
      }
    }
    simd::ThreadPool::Shared().Run((n + kTask - 1) / kTask, threads, [&](size_t t) {
      const size_t end = std::min(n, (t + 1) * kTask);
      uint64_t bad = 0;
      for (size_t j = t * kTask; j < end; ++j) {
        const uint32_t expected = detail::EncodeDouble(spec, in[j], options.quantize, j);
        const uint32_t actual =
            spec.bits > 6 && spec.bits <= 8 ? packed[j] : ReadPackedCode(spec, packed, j);
        bool code_differs = expected != actual;
        bool value_differs = false;
        uint32_t want = 0, got = 0;
        if (o.check_quantize && !code_differs) {
          want = expected_value(expected);
          got = FloatBits(quantized[j]);
          value_differs = want != got;
        }
        if (!code_differs && !value_differs) continue;
        ++bad;
        std::lock_guard<std::mutex> lock(report_mutex);
        if (report.first.size() < o.max_reported) {
          SelftestMismatch m;
          m.input = FloatBits(in[j]);
          m.index = options.quantize.index_offset + j;
          m.quantize = !code_differs;
          m.expected = code_differs ? expected : want;
          m.actual = code_differs ? actual : got;
          report.first.push_back(m);
        }
      }
      mismatches.fetch_add(bad, std::memory_order_relaxed);
    });
    done += n;
    if (o.progress) o.progress(done, total);
  }
  report.checked = total;
  if (!o.custom && (o.backend == Backend::kSimd || o.backend == Backend::kAuto)) {
    report.target = simd::TargetName(simd::ChosenTarget());
  }
  report.mismatches = mismatches.load();
  std::sort(report.first.begin(), report.first.end(),
            [](const SelftestMismatch& a, const SelftestMismatch& b) { return a.index < b.index; });
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return report;
}

}  // namespace qfloat
