// The accumulation passes: Accumulate (caller-provided images) and the fused Analyze
// (quantize a chunk, accumulate it at once), multi-threaded over fixed blocks, plus the
// stochastic-rounding analysis (THEORY.md §2.3).
//
// Determinism: blocks are fixed element ranges. On the exact path every thread adds into its own
// superaccumulators, merged at the end (integer addition: any order, same bits). On the fast path
// each block's partial sums are kept and merged in a fixed pairwise tree per wave of blocks, so
// that the result does not depend on the thread count either (for a given SIMD target).
#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "analysis/internal.h"
#include "hwy/base.h"
#include "qfloat/analysis.h"
#include "qfloat/detail/bits.h"
#include "qfloat/detail/threads.h"
#include "qfloat/quantize.h"
#include "qfloat/scalar.h"

namespace qfloat {

using analysis_internal::ClassIndex;
using analysis_internal::FixedAcc;
using analysis_internal::kBlock;
using analysis_internal::kChunk;

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr size_t kWaveBlocks = 256;  // fast-path partials kept per wave: 16M elements

int ResolveThreads(int threads) { return detail::ResolveThreadCount(threads); }

// ---- Partial accumulators ----

struct FastPartial {
  std::array<uint64_t, kNumElementClasses> counts{};
  std::array<uint64_t, kRatioBins> bin_counts{};
  double min_g = kInf;
  double max_g = -kInf;
  ShrinkageStats::FastTotals total;
  std::array<ShrinkageStats::FastClassSums, kNumElementClasses> cls;
  std::array<qfloat::CompensatedSum, kRatioBins> bin_energy;

  void Merge(const FastPartial& o) {
    for (int c = 0; c < kNumElementClasses; ++c) counts[c] += o.counts[c];
    for (int b = 0; b < kRatioBins; ++b) {
      if (o.bin_counts[b] == 0) continue;
      bin_counts[b] += o.bin_counts[b];
      bin_energy[b].Merge(o.bin_energy[b]);
    }
    min_g = std::fmin(min_g, o.min_g);
    max_g = std::fmax(max_g, o.max_g);
    MergeTotals(total, o.total);
    for (int c = 0; c < kNumElementClasses; ++c) MergeSums(cls[c], o.cls[c]);
  }
  static void MergeTotals(ShrinkageStats::FastTotals& a, const ShrinkageStats::FastTotals& b) {
    a.gg.Merge(b.gg);
    a.dg.Merge(b.dg);
    a.dd.Merge(b.dd);
    a.gq.Merge(b.gq);
    a.qq.Merge(b.qq);
  }
  static void MergeSums(ShrinkageStats::FastClassSums& a, const ShrinkageStats::FastClassSums& b) {
    a.gg.Merge(b.gg);
    a.dg.Merge(b.dg);
    a.dd.Merge(b.dd);
  }
};

void AbsorbFast(ShrinkageStats& s, const FastPartial& p) {
  using A = ShrinkageStatsAccess;
  for (int c = 0; c < kNumElementClasses; ++c) A::counts(s)[c] += p.counts[c];
  for (int b = 0; b < kRatioBins; ++b) {
    A::bin_counts(s)[b] += p.bin_counts[b];
    A::fast_bin_energy(s)[b].Merge(p.bin_energy[b]);
  }
  A::min_g(s) = std::fmin(A::min_g(s), p.min_g);
  A::max_g(s) = std::fmax(A::max_g(s), p.max_g);
  FastPartial::MergeTotals(A::fast_total(s), p.total);
  for (int c = 0; c < kNumElementClasses; ++c) FastPartial::MergeSums(A::fast(s)[c], p.cls[c]);
}

// Exact path, float32 g and Q: fixed-window accumulators flushed into the thread's stats per
// block.
struct ExactF32Buffers {
  std::array<std::array<FixedAcc, 3>, kNumElementClasses> cls;
  std::array<FixedAcc, kRatioBins> bins;

  void FlushInto(ShrinkageStats& s) {
    using A = ShrinkageStatsAccess;
    for (int c = 0; c < kNumElementClasses; ++c) {
      cls[c][0].FlushInto(A::exact(s)[c].gg);
      cls[c][1].FlushInto(A::exact(s)[c].gq);
      cls[c][2].FlushInto(A::exact(s)[c].qq);
    }
    for (int b = 0; b < kRatioBins; ++b) bins[b].FlushInto(A::exact_bin_energy(s)[b]);
  }
};

struct Scratch {
  std::vector<float> q32;
  std::vector<double> g64;
  std::vector<double> q64;
  std::unique_ptr<analysis_internal::ChunkHistogram> hist;
  std::unique_ptr<ExactF32Buffers> exact_buffers;
};

// ---- Chunk kernels ----

void FastChunkF32(FastPartial& p, const float* g, const float* q, size_t n,
                  const ClassThresholds& t, Scratch& scratch, const float* ahead) {
  using namespace analysis_internal;  // NOLINT: slot names
  FastChunk fc;
  if (!scratch.hist) scratch.hist = std::make_unique<ChunkHistogram>();
  ChunkHistogram& hist = *scratch.hist;
  analysis_internal::FastChunkF32(g, q, n, t, &fc, &hist, ahead);
  auto slot = [&](int k) { return qfloat::CompensatedSum{fc.hi[k], fc.lo[k]}; };
  auto neg = [&](int k) { return qfloat::CompensatedSum{-fc.hi[k], -fc.lo[k]}; };
  auto& cls = p.cls;
  auto& exact = cls[ClassIndex(ElementClass::kExact)];
  auto& normal = cls[ClassIndex(ElementClass::kNormal)];
  auto& sub = cls[ClassIndex(ElementClass::kSubnormal)];
  auto& flushed = cls[ClassIndex(ElementClass::kFlushed)];
  auto& sat = cls[ClassIndex(ElementClass::kSaturated)];
  exact.gg.Merge(slot(kSlotExactGG));
  normal.gg.Merge(slot(kSlotNormalGG));
  normal.dg.Merge(slot(kSlotNormalDG));
  normal.dd.Merge(slot(kSlotNormalDD));
  sub.gg.Merge(slot(kSlotSubGG));
  sub.dg.Merge(slot(kSlotSubDG));
  sub.dd.Merge(slot(kSlotSubDD));
  flushed.gg.Merge(slot(kSlotFlushGG));  // flushed: d = -g, so g d = -g^2 and d^2 = g^2
  flushed.dg.Merge(neg(kSlotFlushGG));
  flushed.dd.Merge(slot(kSlotFlushGG));
  sat.gg.Merge(slot(kSlotSatGG));
  sat.dg.Merge(slot(kSlotSatDG));
  sat.dd.Merge(slot(kSlotSatDD));
  cls[ClassIndex(ElementClass::kZero)].dd.Merge(slot(kSlotZeroDD));
  // S_gg and S_dd are sums over the classes; S_dg is compensated per element.
  for (const int k : {kSlotExactGG, kSlotNormalGG, kSlotSubGG, kSlotFlushGG, kSlotSatGG}) {
    p.total.gg.Merge(slot(k));
  }
  p.total.dg.Merge(slot(kSlotTotalDG));
  p.total.gq.Merge(slot(kSlotTotalGQ));
  p.total.qq.Merge(slot(kSlotTotalQQ));
  for (const int k : {kSlotNormalDD, kSlotSubDD, kSlotFlushGG, kSlotSatDD, kSlotZeroDD}) {
    p.total.dd.Merge(slot(k));
  }
  p.min_g = std::fmin(p.min_g, fc.min_g);
  p.max_g = std::fmax(p.max_g, fc.max_g);

  // Histogram: the kernel's copies, folded (each copy a plain sum over at most 2048 energies).
  uint64_t code_counts[kNumCodes];
  for (int b = 0; b < kNumCodes; ++b) {
    code_counts[b] = 0;
    for (int k = 0; k < kHistCopies; ++k) code_counts[b] += hist.count[k][b];
    if (b >= kRatioBins || code_counts[b] == 0) continue;
    p.bin_counts[b] += code_counts[b];
    for (int k = 0; k < kHistCopies; ++k) p.bin_energy[b].Add(hist.energy[k][b]);
  }
  const uint64_t zero = code_counts[kZeroCode];
  const uint64_t nonfinite = code_counts[kNonFiniteCode];
  const uint64_t exact_count = code_counts[0];
  p.counts[ClassIndex(ElementClass::kZero)] += zero;
  p.counts[ClassIndex(ElementClass::kNonFinite)] += nonfinite;
  p.counts[ClassIndex(ElementClass::kExact)] += exact_count;
  p.counts[ClassIndex(ElementClass::kSubnormal)] += fc.subnormal;
  p.counts[ClassIndex(ElementClass::kFlushed)] += fc.flushed;
  p.counts[ClassIndex(ElementClass::kSaturated)] += fc.saturated;
  p.counts[ClassIndex(ElementClass::kNormal)] +=
      n - zero - nonfinite - exact_count - fc.subnormal - fc.flushed - fc.saturated;
}

template <typename T>
void UpdateMinMax(double& mn, double& mx, T g) {
  if (std::isfinite(g)) {
    mn = std::fmin(mn, static_cast<double>(g));
    mx = std::fmax(mx, static_cast<double>(g));
  }
}

// Fast path, float64 g and Q (or float32 g with a float64 image): TwoProd/TwoSum per element.
void FastChunkF64(FastPartial& p, const double* g, const double* q, size_t n,
                  const ClassThresholds& t) {
  using analysis_internal::TwoProd;
  using analysis_internal::TwoSum;
  for (size_t j = 0; j < n; ++j) {
    const double gj = g[j];
    const double qj = q[j];
    const ElementClass c = analysis_internal::Classify(gj, qj, t);
    ++p.counts[ClassIndex(c)];
    UpdateMinMax(p.min_g, p.max_g, gj);
    if (c == ElementClass::kNonFinite) continue;
    ShrinkageStats::FastClassSums& cs = p.cls[ClassIndex(c)];
    double h, l;
    TwoProd(gj, gj, &h, &l);
    p.total.gg.Add(h);
    p.total.gg.Add(l);
    cs.gg.Add(h);
    cs.gg.Add(l);
    double dh, dl;
    TwoSum(qj, -gj, &dh, &dl);  // d = dh + dl exactly
    TwoProd(gj, dh, &h, &l);
    l += gj * dl;
    p.total.dg.Add(h);
    p.total.dg.Add(l);
    cs.dg.Add(h);
    cs.dg.Add(l);
    TwoProd(dh, dh, &h, &l);
    l += 2.0 * dh * dl;
    p.total.dd.Add(h);
    p.total.dd.Add(l);
    cs.dd.Add(h);
    cs.dd.Add(l);
    TwoProd(gj, qj, &h, &l);
    p.total.gq.Add(h);
    p.total.gq.Add(l);
    TwoProd(qj, qj, &h, &l);
    p.total.qq.Add(h);
    p.total.qq.Add(l);
    if (c == ElementClass::kZero) continue;
    const int b = analysis_internal::ExactRatioBin(gj, qj);
    ++p.bin_counts[b];
    TwoProd(gj, gj, &h, &l);
    p.bin_energy[b].Add(h);
    p.bin_energy[b].Add(l);
  }
}

// Exact path, float32 g and Q: products of float32 values are exact doubles.
void ExactChunkF32(ShrinkageStats& s, ExactF32Buffers& buf, const float* g, const float* q,
                   size_t n, const ClassThresholds& t) {
  using A = ShrinkageStatsAccess;
  auto& counts = A::counts(s);
  auto& bin_counts = A::bin_counts(s);
  double mn = A::min_g(s);
  double mx = A::max_g(s);
  for (size_t j = 0; j < n; ++j) {
    const double gj = g[j];
    const double qj = q[j];
    const ElementClass c = analysis_internal::Classify(gj, qj, t);
    const int ci = ClassIndex(c);
    ++counts[ci];
    UpdateMinMax(mn, mx, gj);
    switch (c) {
      case ElementClass::kNonFinite:
        continue;
      case ElementClass::kZero:
        buf.cls[ci][2].Add(qj * qj);
        continue;
      case ElementClass::kExact:
      case ElementClass::kFlushed:
        buf.cls[ci][0].Add(gj * gj);
        break;
      default:
        buf.cls[ci][0].Add(gj * gj);
        buf.cls[ci][1].Add(gj * qj);
        buf.cls[ci][2].Add(qj * qj);
        break;
    }
    const int b = analysis_internal::ExactRatioBin(gj, qj);
    ++bin_counts[b];
    buf.bins[b].Add(gj * gj);
  }
  A::min_g(s) = mn;
  A::max_g(s) = mx;
}

// Exact path, float64: exact 106-bit products into the superaccumulators.
void ExactChunkF64(ShrinkageStats& s, const double* g, const double* q, size_t n,
                   const ClassThresholds& t) {
  using A = ShrinkageStatsAccess;
  auto& counts = A::counts(s);
  auto& exact = A::exact(s);
  for (size_t j = 0; j < n; ++j) {
    const double gj = g[j];
    const double qj = q[j];
    const ElementClass c = analysis_internal::Classify(gj, qj, t);
    const int ci = ClassIndex(c);
    ++counts[ci];
    UpdateMinMax(A::min_g(s), A::max_g(s), gj);
    switch (c) {
      case ElementClass::kNonFinite:
        continue;
      case ElementClass::kZero:
        exact[ci].qq.AddProduct(qj, qj);
        continue;
      case ElementClass::kExact:
      case ElementClass::kFlushed:
        exact[ci].gg.AddProduct(gj, gj);
        break;
      default:
        exact[ci].gg.AddProduct(gj, gj);
        exact[ci].gq.AddProduct(gj, qj);
        exact[ci].qq.AddProduct(qj, qj);
        break;
    }
    const int b = analysis_internal::ExactRatioBin(gj, qj);
    ++A::bin_counts(s)[b];
    A::exact_bin_energy(s)[b].AddProduct(gj, gj);
  }
}

// ---- The driver ----

// One chunk's data, as the provider leaves it.
struct ChunkData {
  const float* g32 = nullptr;
  const float* q32 = nullptr;
  const double* g64 = nullptr;
  const double* q64 = nullptr;
};

class ErrorSlot {
 public:
  void Set(const Status& st) {
    std::lock_guard<std::mutex> lock(mu_);
    if (status_.ok()) status_ = st;
    failed_.store(true, std::memory_order_relaxed);
  }
  bool failed() const { return failed_.load(std::memory_order_relaxed); }
  Status status() const { return status_; }

 private:
  std::mutex mu_;
  Status status_;
  std::atomic<bool> failed_{false};
};

template <typename Fn>
void RunWorkers(int threads, Fn&& fn) {
  std::vector<std::thread> pool;
  pool.reserve(static_cast<size_t>(threads > 1 ? threads - 1 : 0));
  for (int w = 1; w < threads; ++w) pool.emplace_back([&fn, w] { fn(w); });
  fn(0);
  for (std::thread& th : pool) th.join();
}

// provide(scratch, begin, end, ChunkData*) -> Status fills one span of elements. `wide` selects
// the float64 kernels (the provider then sets g64/q64). The fast float32 path asks for a whole
// block at once (one quantizer call per block: its per-call setup is not negligible) and runs the
// kernel over it chunk by chunk; the other paths ask chunk by chunk. `prefetch_g` (may be null):
// the float32 input that the provider reads, prefetched a block ahead by the fast kernel.
template <typename Provider>
Status RunPass(ShrinkageStats& stats, size_t n, int threads, bool wide, const ClassThresholds& t,
               const float* prefetch_g, Provider&& provide) {
  if (n == 0) return Status::Ok();
  const size_t blocks = (n + kBlock - 1) / kBlock;
  const int workers = static_cast<int>(std::min<size_t>(blocks, ResolveThreads(threads)));
  const bool fast_f32 = stats.path() == SumPath::kFast && !wide;
  const size_t span = fast_f32 ? kBlock : kChunk;
  ErrorSlot error;

  // `next_block`: the block this thread runs next (blocks when none), whose input is prefetched.
  auto process_block = [&](size_t block, size_t next_block, Scratch& scratch, FastPartial* fast,
                           ShrinkageStats* exact) {
    const size_t begin = block * kBlock;
    const size_t end = std::min(n, begin + kBlock);
    const size_t next_begin = next_block < blocks ? next_block * kBlock : n;
    for (size_t s0 = begin; s0 < end && !error.failed(); s0 += span) {
      const size_t s1 = std::min(end, s0 + span);
      ChunkData data;
      const Status st = provide(scratch, s0, s1, &data);
      if (!st.ok()) {
        error.Set(st);
        return;
      }
      for (size_t c0 = s0; c0 < s1; c0 += kChunk) {
        const size_t c1 = std::min(s1, c0 + kChunk);
        const size_t len = c1 - c0;
        const size_t off = c0 - s0;
        if (fast != nullptr) {
          if (wide) {
            FastChunkF64(*fast, data.g64 + off, data.q64 + off, len, t);
          } else {
            const size_t ahead = next_begin + (c0 - begin);
            FastChunkF32(*fast, data.g32 + off, data.q32 + off, len, t, scratch,
                         prefetch_g != nullptr && ahead < n ? prefetch_g + ahead : nullptr);
          }
        } else if (wide) {
          ExactChunkF64(*exact, data.g64 + off, data.q64 + off, len, t);
        } else {
          ExactChunkF32(*exact, *scratch.exact_buffers, data.g32 + off, data.q32 + off, len, t);
        }
      }
    }
    if (exact != nullptr && !wide) scratch.exact_buffers->FlushInto(*exact);
  };

  if (stats.path() == SumPath::kFast) {
    for (size_t wave = 0; wave < blocks && !error.failed(); wave += kWaveBlocks) {
      const size_t count = std::min(kWaveBlocks, blocks - wave);
      std::vector<FastPartial> partials(count);
      std::atomic<size_t> next{0};
      const int wave_workers = static_cast<int>(std::min<size_t>(count, workers));
      RunWorkers(wave_workers, [&](int) {
        Scratch scratch;
        // The next block is claimed before this one runs, so that its input can be prefetched.
        size_t b = next.fetch_add(1);
        while (b < count && !error.failed()) {
          const size_t following = next.fetch_add(1);
          process_block(wave + b, wave + std::min(following, count), scratch, &partials[b],
                        nullptr);
          b = following;
        }
      });
      // A fixed pairwise tree over the wave's blocks.
      for (size_t step = 1; step < count; step *= 2) {
        for (size_t i = 0; i + step < count; i += 2 * step) partials[i].Merge(partials[i + step]);
      }
      AbsorbFast(stats, partials[0]);
    }
  } else {
    std::vector<ShrinkageStats> locals(static_cast<size_t>(workers),
                                       ShrinkageStats(SumPath::kExact));
    std::atomic<size_t> next{0};
    RunWorkers(workers, [&](int w) {
      Scratch scratch;
      if (!wide) scratch.exact_buffers = std::make_unique<ExactF32Buffers>();
      for (size_t b = next.fetch_add(1); b < blocks && !error.failed(); b = next.fetch_add(1)) {
        process_block(b, blocks, scratch, nullptr, &locals[static_cast<size_t>(w)]);
      }
    });
    for (const ShrinkageStats& l : locals) {
      const Status st = stats.Merge(l);
      if (!st.ok()) return st;
    }
  }
  return error.status();
}

Status CheckSameLength(size_t g, size_t q, const char* what) {
  if (g == q) return Status::Ok();
  return InvalidArgument(std::string(what) + ": g has " + std::to_string(g) +
                         " elements but the image has " + std::to_string(q));
}

// Rounding to a given precision, for FitsInFloat.
bool MinifloatFitsInFloat(const FormatSpec& s) {
  // Values are multiples of 2^(emin - m) below 2^(emax + 1) with at most m + 1 significant bits.
  return s.mantissa_bits <= 23 && s.emax <= 127 && s.emin - s.mantissa_bits >= -149;
}

bool PositFitsInFloat(const FormatSpec& s) {
  const int es = s.exponent_bits;
  const int max_scale = (s.bits - 2) << es;
  const int max_fraction_bits = std::max(0, s.bits - 3 - es);  // two regime bits near 1
  // Smallest value minpos = 2^-max_scale has no fraction bits; near it the fraction bits are few
  // and the scale is the smallest, so the exponent range and the widest fraction suffice.
  return max_fraction_bits <= 23 && max_scale <= 127;
}

}  // namespace

bool FitsInFloat(const FormatSpec& spec) {
  return spec.kind == FormatKind::kPosit ? PositFitsInFloat(spec) : MinifloatFitsInFloat(spec);
}

Status ShrinkageStats::Accumulate(std::span<const float> g, std::span<const float> q,
                                  const ClassThresholds& thresholds, int threads) {
  Status st = CheckSameLength(g.size(), q.size(), "Accumulate");
  if (!st.ok()) return st;
  if (threads < 0) return InvalidArgument("Accumulate: threads must be >= 0");
  return RunPass(*this, g.size(), threads, false, thresholds, nullptr,
                 [&](Scratch&, size_t b, size_t, ChunkData* d) {
                   d->g32 = g.data() + b;
                   d->q32 = q.data() + b;
                   return Status::Ok();
                 });
}

Status ShrinkageStats::Accumulate(std::span<const double> g, std::span<const double> q,
                                  const ClassThresholds& thresholds, int threads) {
  Status st = CheckSameLength(g.size(), q.size(), "Accumulate");
  if (!st.ok()) return st;
  if (threads < 0) return InvalidArgument("Accumulate: threads must be >= 0");
  return RunPass(*this, g.size(), threads, true, thresholds, nullptr,
                 [&](Scratch&, size_t b, size_t, ChunkData* d) {
                   d->g64 = g.data() + b;
                   d->q64 = q.data() + b;
                   return Status::Ok();
                 });
}

namespace {

Status CheckAnalyzeArgs(size_t n, const TensorOptions& options, const AnalyzeOptions& a) {
  if (options.threads < 0) return InvalidArgument("Analyze: threads must be >= 0");
  if (!a.quantized_f32.empty() && a.quantized_f32.size() != n) {
    return InvalidArgument("Analyze: quantized_f32 has " + std::to_string(a.quantized_f32.size()) +
                           " elements but g has " + std::to_string(n));
  }
  if (!a.quantized_f64.empty() && a.quantized_f64.size() != n) {
    return InvalidArgument("Analyze: quantized_f64 has " + std::to_string(a.quantized_f64.size()) +
                           " elements but g has " + std::to_string(n));
  }
  return Status::Ok();
}

TensorOptions InnerOptions(const TensorOptions& options, size_t begin) {
  TensorOptions inner = options;
  inner.threads = 1;  // the analysis owns the threads
  inner.quantize.index_offset = options.quantize.index_offset + begin;
  return inner;
}

// Q of the float64 chunk g (elements [b, b + g.size()) of the call) into the caller's
// quantized_f64 when given, else into scratch; mirrored into quantized_f32 when that is asked.
StatusOr<const double*> QuantizeChunkF64(const FormatSpec& spec, std::span<const double> g,
                                         size_t b, Scratch& s, const TensorOptions& options,
                                         const AnalyzeOptions& analyze) {
  const size_t len = g.size();
  double* q;
  if (!analyze.quantized_f64.empty()) {
    q = analyze.quantized_f64.data() + b;
  } else {
    if (s.q64.size() < len) s.q64.resize(len);
    q = s.q64.data();
  }
  Status qs = Quantize(spec, g, std::span<double>(q, len), InnerOptions(options, b));
  if (!qs.ok()) return qs;
  if (!analyze.quantized_f32.empty()) {
    for (size_t i = 0; i < len; ++i) analyze.quantized_f32[b + i] = static_cast<float>(q[i]);
  }
  return q;
}

}  // namespace

StatusOr<ShrinkageStats> Analyze(const FormatSpec& spec, std::span<const float> g,
                                 const TensorOptions& options, const AnalyzeOptions& analyze) {
  Status st = CheckAnalyzeArgs(g.size(), options, analyze);
  if (!st.ok()) return st;
  ShrinkageStats stats(analyze.path);
  const ClassThresholds t = ClassThresholds::ForFormat(spec);
  if (FitsInFloat(spec)) {
    st = RunPass(stats, g.size(), options.threads, false, t, g.data(),
                 [&](Scratch& s, size_t b, size_t e, ChunkData* d) -> Status {
                   const size_t len = e - b;
                   float* q;
                   if (!analyze.quantized_f32.empty()) {
                     q = analyze.quantized_f32.data() + b;
                   } else {
                     if (s.q32.size() < len) s.q32.resize(len);
                     q = s.q32.data();
                   }
                   Status qs = Quantize(spec, g.subspan(b, len), std::span<float>(q, len),
                                        InnerOptions(options, b));
                   if (!qs.ok()) return qs;
                   if (!analyze.quantized_f64.empty()) {
                     for (size_t i = 0; i < len; ++i) analyze.quantized_f64[b + i] = q[i];
                   }
                   d->g32 = g.data() + b;
                   d->q32 = q;
                   return Status::Ok();
                 });
  } else {
    // Q(g) may not be a float32 (posit32, wide formats): quantize in float64 so it is exact.
    st = RunPass(stats, g.size(), options.threads, true, t, nullptr,
                 [&](Scratch& s, size_t b, size_t e, ChunkData* d) -> Status {
                   const size_t len = e - b;
                   if (s.g64.size() < len) s.g64.resize(len);
                   for (size_t i = 0; i < len; ++i) s.g64[i] = g[b + i];
                   StatusOr<const double*> q = QuantizeChunkF64(
                       spec, std::span<const double>(s.g64.data(), len), b, s, options, analyze);
                   if (!q.ok()) return q.status();
                   d->g64 = s.g64.data();
                   d->q64 = *q;
                   return Status::Ok();
                 });
  }
  if (!st.ok()) return st;
  return stats;
}

StatusOr<ShrinkageStats> Analyze(const FormatSpec& spec, std::span<const double> g,
                                 const TensorOptions& options, const AnalyzeOptions& analyze) {
  Status st = CheckAnalyzeArgs(g.size(), options, analyze);
  if (!st.ok()) return st;
  ShrinkageStats stats(analyze.path);
  const ClassThresholds t = ClassThresholds::ForFormat(spec);
  st = RunPass(stats, g.size(), options.threads, true, t, nullptr,
               [&](Scratch& s, size_t b, size_t e, ChunkData* d) -> Status {
                 StatusOr<const double*> q =
                     QuantizeChunkF64(spec, g.subspan(b, e - b), b, s, options, analyze);
                 if (!q.ok()) return q.status();
                 d->g64 = g.data() + b;
                 d->q64 = *q;
                 return Status::Ok();
               });
  if (!st.ok()) return st;
  return stats;
}

// ---- Stochastic rounding (THEORY.md §2.3) ----

namespace {

// The value the magnitude code max_code + 1 would have if it were finite: the grid point above
// max that SR rounds toward before the overflow policy applies (minifloats only).
double VirtualNextAboveMax(const FormatSpec& s) {
  const uint64_t c = uint64_t{s.max_code} + 1;
  const int m = s.mantissa_bits;
  const uint64_t exp_field = c >> m;
  const uint64_t mant = c & ((uint64_t{1} << m) - 1);
  const int e = static_cast<int>(exp_field) - (s.has_zero ? 1 : 0) + s.emin;
  return std::ldexp(static_cast<double>((uint64_t{1} << m) + mant), e - m);
}

}  // namespace

SrOutcome StochasticOutcome(const FormatSpec& spec, double x, const QuantizeOptions& options) {
  SrOutcome o;
  auto directed = [&](RoundingMode mode) {
    QuantizeOptions d = options;
    d.rounding = Rounding{mode, 0};
    return QuantizeScalar(spec, x, d);
  };
  if (!std::isfinite(x) || x == 0.0) {
    const double v = QuantizeScalar(spec, x, options);
    o.down = o.up = v;
    o.finite = std::isfinite(x) && std::isfinite(v);
    o.mean_error = o.finite ? v - x : kNaN;
    return o;
  }
  const bool negative = std::signbit(x);
  // Toward zero and away from zero, with the same overflow policy as SR.
  double down = directed(negative ? RoundingMode::kUp : RoundingMode::kDown);
  const double up = directed(negative ? RoundingMode::kDown : RoundingMode::kUp);
  const double ax = std::fabs(x);
  double hi_grid = std::fabs(up);  // the upper grid point (virtual beyond max)
  if (spec.kind == FormatKind::kMinifloat && ax > MaxFinite(spec)) {
    // Directed rounding toward zero returns max past the grid (IEEE 754 §7.4), but SR's
    // toward-zero choice past the last grid point overflows by the policy like its away choice.
    const double next = VirtualNextAboveMax(spec);
    if (ax >= next) down = up;
    hi_grid = next;
  }
  o.down = down;
  o.up = up;
  if (down == up) {
    o.finite = std::isfinite(down);
    o.mean_error = o.finite ? down - x : kNaN;
    return o;
  }
  const double lo_grid = std::fabs(down);
  const double num = ax - lo_grid;       // exact: lo_grid is within a factor 2 of |x|, or 0
  const double den = hi_grid - lo_grid;  // exact: neighbouring grid points
  double p;
  double excess;  // E|Q| - |x|
  if (options.rounding.sr_bits == 0) {
    p = num / den;
    excess = 0.0;
  } else {
    // sr:K rounds up with probability floor(f 2^K) / 2^K, f = num/den.
    const int k = options.rounding.sr_bits;
    const double scaled = std::ldexp(num, k);
    double q0 = std::floor(scaled / den);
    double r = std::fma(-q0, den, scaled);  // scaled - q0 den, sign exact
    if (r < 0.0) {
      q0 -= 1.0;
      r = std::fma(-q0, den, scaled);
    } else if (r >= den) {
      q0 += 1.0;
      r = std::fma(-q0, den, scaled);
    }
    p = std::ldexp(q0, -k);
    excess = -std::ldexp(r, -k);
  }
  o.p_up = p;
  o.finite = std::isfinite(down) && std::isfinite(up);
  o.mean_error = negative ? -excess : excess;
  o.variance = options.rounding.sr_bits == 0 ? num * (hi_grid - ax) : p * (1.0 - p) * den * den;
  if (!o.finite) o.mean_error = kNaN;
  return o;
}

namespace {

struct SrPartial {
  uint64_t count = 0, random = 0, biased = 0, nonfinite = 0;
  qfloat::CompensatedSum gg, ge, ggv, v, ee;
  void Merge(const SrPartial& o) {
    count += o.count;
    random += o.random;
    biased += o.biased;
    nonfinite += o.nonfinite;
    gg.Merge(o.gg);
    ge.Merge(o.ge);
    ggv.Merge(o.ggv);
    v.Merge(o.v);
    ee.Merge(o.ee);
  }
};

void AddProductTo(qfloat::CompensatedSum& s, double a, double b) {
  double h, l;
  analysis_internal::TwoProd(a, b, &h, &l);
  s.Add(h);
  s.Add(l);
}

}  // namespace

namespace {

template <typename T>
StatusOr<StochasticSummary> AnalyzeStochasticT(const FormatSpec& spec, std::span<const T> g,
                                               const TensorOptions& options, int draws,
                                               SumPath path) {
  if (options.quantize.rounding.mode != RoundingMode::kStochastic) {
    return InvalidArgument("AnalyzeStochastic: rounding is " + ToString(options.quantize.rounding) +
                           ", expected sr or sr:K");
  }
  if (draws < 0) return InvalidArgument("AnalyzeStochastic: draws must be >= 0");
  if (options.threads < 0) return InvalidArgument("AnalyzeStochastic: threads must be >= 0");
  if (options.quantize.rounding.sr_bits > 32) {
    return InvalidArgument("AnalyzeStochastic: sr:K needs K in 1..32");
  }
  StochasticSummary r;
  // Analytic moments, per fixed block then a fixed tree (deterministic).
  const size_t n = g.size();
  const size_t blocks = (n + kBlock - 1) / kBlock;
  std::vector<SrPartial> partials(blocks);
  std::atomic<size_t> next{0};
  const int workers = static_cast<int>(
      std::min<size_t>(std::max<size_t>(blocks, 1), ResolveThreads(options.threads)));
  RunWorkers(workers, [&](int) {
    for (size_t b = next.fetch_add(1); b < blocks; b = next.fetch_add(1)) {
      SrPartial& p = partials[b];
      const size_t end = std::min(n, (b + 1) * kBlock);
      for (size_t i = b * kBlock; i < end; ++i) {
        const double x = g[i];
        ++p.count;
        const SrOutcome o = StochasticOutcome(spec, x, options.quantize);
        if (!std::isfinite(x) || !o.finite) {
          ++p.nonfinite;
          continue;
        }
        if (o.p_up > 0.0 && o.p_up < 1.0) ++p.random;
        if (o.mean_error != 0.0) ++p.biased;
        double h, l;
        analysis_internal::TwoProd(x, x, &h, &l);
        p.gg.Add(h);
        p.gg.Add(l);
        AddProductTo(p.ge, x, o.mean_error);
        AddProductTo(p.ggv, h, o.variance);
        AddProductTo(p.ggv, l, o.variance);
        p.v.Add(o.variance);
        AddProductTo(p.ee, o.mean_error, o.mean_error);
      }
    }
  });
  for (size_t step = 1; step < blocks; step *= 2) {
    for (size_t i = 0; i + step < blocks; i += 2 * step) partials[i].Merge(partials[i + step]);
  }
  const SrPartial total = blocks > 0 ? partials[0] : SrPartial();
  r.count = total.count;
  r.random_count = total.random;
  r.biased_count = total.biased;
  r.nonfinite_count = total.nonfinite;
  using namespace analysis_internal;  // NOLINT: DD arithmetic
  const DD sgg = ToDD(total.gg);
  const DD ge = ToDD(total.ge);
  const DD ggv = ToDD(total.ggv);
  const DD v = ToDD(total.v);
  const DD ee = ToDD(total.ee);
  r.s_gg = sgg.hi;
  r.variance_sum = v.hi;
  r.defined = sgg.hi > 0.0;
  if (r.defined) {
    const DD b = DivDD(ge, sgg);
    r.expected_deficit = -b.hi;
    r.expected_q_hat = AddDD(DD{1.0, 0.0}, b).hi;
    r.sd_q_hat = std::sqrt(ggv.hi) / sgg.hi;
    const DD noise = AddDD(v, NegDD(DivDD(ggv, sgg)));
    const DD bias = AddDD(ee, NegDD(DivDD(MulDD(ge, ge), sgg)));
    r.bias_residual_sq = bias.hi;
    r.expected_residual_sq = AddDD(noise, bias).hi;
    r.expected_rho = DivDD(AddDD(noise, bias), sgg).hi;
  } else {
    r.expected_deficit = r.expected_q_hat = r.sd_q_hat = r.expected_rho = kNaN;
    r.expected_residual_sq = AddDD(v, ee).hi;
    r.bias_residual_sq = ee.hi;
  }

  // Empirical: draw k uses seed options.seed + k (Welford means and variances).
  r.draws = draws;
  double mean_d = 0.0, m2_d = 0.0, mean_r = 0.0, m2_r = 0.0;
  for (int k = 0; k < draws; ++k) {
    TensorOptions o = options;
    o.quantize.seed = options.quantize.seed + static_cast<uint64_t>(k);
    AnalyzeOptions ao;
    ao.path = path;
    StatusOr<ShrinkageStats> stats = Analyze(spec, g, o, ao);
    if (!stats.ok()) return stats.status();
    const ShrinkageSummary s = stats->Summarize();
    const double dk = s.deficit;
    const double rk = s.residual_sq;
    r.draw_deficits.push_back(dk);
    const double n1 = k + 1.0;
    const double dd = dk - mean_d;
    mean_d += dd / n1;
    m2_d += dd * (dk - mean_d);
    const double dr = rk - mean_r;
    mean_r += dr / n1;
    m2_r += dr * (rk - mean_r);
  }
  if (draws > 0) {
    r.mean_deficit = mean_d;
    r.mean_q_hat = 1.0 - mean_d;
    r.mean_residual_sq = mean_r;
    if (draws > 1) {
      r.sample_sd_q_hat = std::sqrt(m2_d / (draws - 1.0));
      r.se_q_hat = r.sample_sd_q_hat / std::sqrt(static_cast<double>(draws));
      r.se_deficit = r.se_q_hat;
      r.se_residual_sq = std::sqrt(m2_r / (draws - 1.0)) / std::sqrt(static_cast<double>(draws));
    } else {
      r.sample_sd_q_hat = r.se_q_hat = r.se_deficit = r.se_residual_sq = kNaN;
    }
  } else {
    r.mean_deficit = r.mean_q_hat = r.mean_residual_sq = kNaN;
    r.sample_sd_q_hat = r.se_q_hat = r.se_deficit = r.se_residual_sq = kNaN;
  }
  return r;
}

}  // namespace

StatusOr<StochasticSummary> AnalyzeStochastic(const FormatSpec& spec, std::span<const float> g,
                                              const TensorOptions& options, int draws,
                                              SumPath path) {
  return AnalyzeStochasticT(spec, g, options, draws, path);
}

StatusOr<StochasticSummary> AnalyzeStochastic(const FormatSpec& spec, std::span<const double> g,
                                              const TensorOptions& options, int draws,
                                              SumPath path) {
  return AnalyzeStochasticT(spec, g, options, draws, path);
}

}  // namespace qfloat
