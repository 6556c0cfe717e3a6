// Applying a scaling recipe through the tensor API.
//
// Each block's amax is the integer max of its magnitude bits (so a NaN anywhere makes the block's
// amax NaN, as torch.amax), its scale comes from the one scalar rule in recipe.cc, and its
// elements are scaled, rounded by the caller's backend and (fake-quant) multiplied back. The work
// runs in chunks of kChunk elements on the worker threads. A chunk may span blocks: each run of
// elements sharing a scale gets its own factor, so the chunking never changes a bit (stochastic
// rounding uses the flat index). Three routes, from the most general:
//   - two passes: every block's amax and scale first (per-tensor, per-channel, 2-D tiles, NVFP4's
//     tensor scale), then the chunks;
//   - local: blocks that are runs along a row take their amax and scale inside the chunk that
//     uses them, a piece of about kLocalPiece elements at a time, so the tensor is read once;
//   - block kernels (SIMD backend, float32, rows and chunks of whole blocks, MX): the simd
//     layer's QuantizeBlocksF32 / EncodeBlocksF32 look each block's scale up from its amax bits
//     (AmaxBinades, built from the same rule) and fuse amax, scaling, rounding and output per
//     piece; a piece with a block they cannot take (NaN or subnormal amax, inexact products) goes
//     the local route.
#include <algorithm>
#include <atomic>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <thread>
#include <type_traits>

#include "qfloat/detail/bits.h"
#include "qfloat/detail/threads.h"
#include "qfloat/scaling.h"
#include "scaling/internal.h"
#include "simd/block_scale.h"
#include "simd/dispatch.h"
#include "simd/params.h"
#include "tensor/backends.h"

namespace qfloat {
namespace scaling {

int ThreadCount(int requested) { return detail::ResolveThreadCount(requested); }

void ParallelFor(int64_t tasks, int threads, const std::function<void(int64_t, int)>& fn) {
  const int64_t workers = std::min<int64_t>(ThreadCount(threads), tasks);
  if (workers <= 1) {
    for (int64_t t = 0; t < tasks; ++t) fn(t, 0);
    return;
  }
  std::atomic<int64_t> next{0};
  auto work = [&](int worker) {
    for (int64_t t = next.fetch_add(1); t < tasks; t = next.fetch_add(1)) fn(t, worker);
  };
  std::vector<std::thread> pool;
  pool.reserve(static_cast<size_t>(workers - 1));
  for (int64_t w = 1; w < workers; ++w) pool.emplace_back(work, static_cast<int>(w));
  work(0);
  for (std::thread& t : pool) t.join();
}

namespace {

int64_t CeilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

StatusOr<int> NormalizeAxis(int axis, size_t rank, const Scaling& s) {
  const int r = static_cast<int>(rank);
  const int a = axis < 0 ? axis + r : axis;
  if (a < 0 || a >= r) {
    return InvalidArgument("scaling " + ToString(s) + ": axis " + std::to_string(axis) +
                           " is out of range for a tensor of rank " + std::to_string(rank));
  }
  return a;
}

int64_t Product(std::span<const int64_t> dims, size_t begin, size_t end) {
  int64_t p = 1;
  for (size_t k = begin; k < end; ++k) p *= dims[k];
  return p;
}

}  // namespace

StatusOr<Geometry> MakeGeometry(const Scaling& s, std::span<const int64_t> shape_in) {
  std::vector<int64_t> shape(shape_in.begin(), shape_in.end());
  int64_t n = 1;
  for (int64_t d : shape) {
    if (d < 0) return InvalidArgument("tensor shape: negative dimension " + std::to_string(d));
    if (d > 0 && n > (int64_t{1} << 48) / d) {
      return InvalidArgument("tensor shape: more than 2^48 elements");
    }
    n *= d;
  }
  Geometry g;
  switch (s.kind) {
    case ScalingKind::kNone:
    case ScalingKind::kTensor:
    case ScalingKind::kDelayed:
      g.i = n;
      g.bi = std::max<int64_t>(n, 1);
      g.scale_shape = {1};
      break;
    case ScalingKind::kChannel: {
      if (shape.empty())
        return InvalidArgument("scaling " + ToString(s) + ": a scalar has no axes");
      StatusOr<int> a = NormalizeAxis(s.axis, shape.size(), s);
      if (!a.ok()) return a.status();
      g.o = Product(shape, 0, *a);
      g.l = shape[*a];
      g.i = Product(shape, *a + 1, shape.size());
      g.bo = std::max<int64_t>(g.o, 1);
      g.bi = std::max<int64_t>(g.i, 1);
      g.scale_shape = {g.l};
      break;
    }
    case ScalingKind::kBlock:
    case ScalingKind::kNvfp4: {
      if (shape.empty()) shape = {1};
      g.scale_shape = shape;
      if (s.block_rows > 0) {
        if (shape.size() >= 2) {
          g.o = Product(shape, 0, shape.size() - 2);
          g.l = shape[shape.size() - 2];
          g.i = shape.back();
          g.scale_shape[shape.size() - 2] = CeilDiv(g.l, s.block_rows);
        } else {
          g.i = shape[0];
        }
        g.bl = s.block_rows;
        g.bi = s.block_size;
        g.scale_shape.back() = CeilDiv(g.i, s.block_size);
      } else {
        const int axis = s.kind == ScalingKind::kNvfp4 ? -1 : s.axis;
        StatusOr<int> a = NormalizeAxis(axis, shape.size(), s);
        if (!a.ok()) return a.status();
        const int64_t outer = Product(shape, 0, *a);
        const int64_t len = shape[*a];
        const int64_t inner = Product(shape, *a + 1, shape.size());
        if (inner == 1) {  // blocks are contiguous runs
          g.o = outer;
          g.i = len;
          g.bi = s.block_size;
        } else {
          g.o = outer;
          g.l = len;
          g.i = inner;
          g.bl = s.block_size;
        }
        g.scale_shape[*a] = CeilDiv(len, s.block_size);
      }
      break;
    }
  }
  g.no = CeilDiv(g.o, g.bo);
  g.nl = CeilDiv(g.l, g.bl);
  g.ni = CeilDiv(g.i, g.bi);
  return g;
}

}  // namespace scaling

StatusOr<std::vector<int64_t>> ScaleShape(const Scaling& scaling, std::span<const int64_t> shape) {
  if (scaling.kind == ScalingKind::kNone) return std::vector<int64_t>{};
  StatusOr<scaling::Geometry> g = scaling::MakeGeometry(scaling, shape);
  if (!g.ok()) return g.status();
  return g->scale_shape;
}

namespace {

using scaling::Geometry;

constexpr int64_t kChunk = 65536;  // elements per task: a multiple of 8 keeps packed codes aligned
// Fake-quant outputs at least this large are written with non-temporal stores (as simd_backend).
constexpr size_t kStreamBytes = size_t{16} << 20;

enum class Mode { kPow2, kFloat, kNvfp4 };

// The factors of one block: the element input is x * enc (kFloat, kNvfp4, and kPow2 where enc is
// 2^-k_enc), the dequantized value v * dec (kPow2: v * 2^k_dec exactly).
struct Entry {
  float enc = 1.0f;
  float dec = 1.0f;
  int32_t k_enc = 0;
  int32_t k_dec = 0;
  uint32_t code = 0;  // the scale's code in the scale format
  bool nan = false;   // a NaN scale: the block's elements become NaN
  // kPow2 and float32 inputs: whether x * enc is exact in float32 for the whole block. kExact from
  // the block's amax alone, kCheckLow when k_enc > 0 (an element may become subnormal: checked per
  // element), kNotF32 when a factor or amax * enc is outside float32.
  enum : uint8_t { kExact = 0, kCheckLow, kNotF32 } f32 = kExact;
};

// floor(log2 amax) from the bits (large for inf/NaN, small for 0 and subnormals).
inline int AmaxExponent(double amax) {
  return static_cast<int>((std::bit_cast<uint64_t>(amax) >> 52) & 0x7FF) - 1023;
}

// Sets e.f32 from the block's amax (see Entry::f32).
void ClassifyF32(Entry& e, double amax) {
  if (e.nan) {
    e.f32 = Entry::kExact;
  } else if (e.k_enc < -127 || e.k_enc > 149 || e.k_dec < -149 || e.k_dec > 127) {
    e.f32 = Entry::kNotF32;
  } else if (e.k_enc > 0) {
    e.f32 = Entry::kCheckLow;
  } else if (e.k_enc < 0 && AmaxExponent(amax) - e.k_enc >= 128) {
    e.f32 = Entry::kNotF32;  // amax * 2^-k would overflow float32 (or amax is infinite)
  } else {
    e.f32 = Entry::kExact;
  }
}

struct Run {
  int64_t begin;
  int64_t end;
  int64_t entry;
  // The whole block the run lies in, within its row (local mode reads it all for the amax).
  int64_t block_begin;
  int64_t block_end;
};

// The runs of [c0, c1) that share one scale.
void CollectRuns(const Geometry& g, int64_t c0, int64_t c1, std::vector<Run>* runs) {
  runs->clear();
  if (c0 >= c1) return;
  int64_t j = c0;
  const int64_t row = j / g.i;
  int64_t i = j - row * g.i;
  int64_t o = row / g.l;
  int64_t l = row - o * g.l;
  while (true) {
    const int64_t row_start = j - i;
    const int64_t base = ((o / g.bo) * g.nl + l / g.bl) * g.ni;
    for (int64_t block = i / g.bi; block * g.bi < g.i; ++block) {
      const int64_t block_end = row_start + std::min((block + 1) * g.bi, g.i);
      const int64_t end = std::min(c1, block_end);
      runs->push_back(Run{j, end, base + block, row_start + block * g.bi, block_end});
      j = end;
      if (j >= c1) return;
    }
    i = 0;
    if (++l == g.l) {
      l = 0;
      ++o;
    }
  }
}

template <typename T>
using BitsT = std::conditional_t<sizeof(T) == 4, uint32_t, uint64_t>;

// The largest magnitude's bits of x[0, n) (NaN above inf above every finite value). N > 0: n == N,
// a fixed trip count the compiler unrolls and vectorizes fully (the common block of 32).
template <typename T, int N>
inline BitsT<T> MaxMagnitudeBits(const T* x, int64_t n) {
  using U = BitsT<T>;
  constexpr U kMask = ~(U{1} << (8 * sizeof(U) - 1));
  const int64_t count = N > 0 ? N : n;
  U m = 0;
  for (int64_t j = 0; j < count; ++j) {
    const U v = std::bit_cast<U>(x[j]) & kMask;
    m = v > m ? v : m;
  }
  return m;
}

// amax of every block, NaN-propagating, as exact doubles.
template <typename T>
std::vector<double> ComputeAmax(const Geometry& g, std::span<const T> x, int threads) {
  using U = BitsT<T>;
  constexpr U kMask = ~(U{1} << (8 * sizeof(U) - 1));
  std::vector<U> amax(static_cast<size_t>(g.Entries()), 0);
  auto rows_into = [&](int64_t o_begin, int64_t o_end, int64_t l_begin, int64_t l_end, U* dst) {
    if constexpr (std::is_same_v<T, float>) {
      if (g.bo == 1 && g.bl == 1) {
        // One row per group, blocks in runs along it: the SIMD amax kernel on its whole blocks.
        const T* row = x.data() + (o_begin * g.l + l_begin) * g.i;
        const int64_t whole = g.i / g.bi;
        simd::RunMaxMagnitudeF32(row, static_cast<size_t>(whole), static_cast<size_t>(g.bi), dst,
                                 x.data() + x.size());
        if (whole < g.ni)
          dst[whole] = MaxMagnitudeBits<T, 0>(row + whole * g.bi, g.i - whole * g.bi);
        return;
      }
    }
    for (int64_t o = o_begin; o < o_end; ++o) {
      for (int64_t l = l_begin; l < l_end; ++l) {
        const T* row = x.data() + (o * g.l + l) * g.i;
        for (int64_t b = 0; b < g.ni; ++b) {
          const int64_t begin = b * g.bi;
          const int64_t end = std::min(begin + g.bi, g.i);
          U m = dst[b];
          for (int64_t j = begin; j < end; ++j) {
            const U v = std::bit_cast<U>(row[j]) & kMask;
            m = v > m ? v : m;
          }
          dst[b] = m;
        }
      }
    }
  };
  const int64_t groups = g.no * g.nl;
  const int workers = scaling::ThreadCount(threads);
  if (groups >= 8 * workers || g.Elements() < (int64_t{1} << 16)) {
    scaling::ParallelFor(
        g.Elements() < (int64_t{1} << 16) ? 1 : groups, threads, [&](int64_t t, int) {
          const int64_t first = g.Elements() < (int64_t{1} << 16) ? 0 : t;
          const int64_t last = g.Elements() < (int64_t{1} << 16) ? groups : t + 1;
          for (int64_t grp = first; grp < last; ++grp) {
            const int64_t ob = grp / g.nl;
            const int64_t lb = grp - ob * g.nl;
            rows_into(ob * g.bo, std::min(g.o, (ob + 1) * g.bo), lb * g.bl,
                      std::min(g.l, (lb + 1) * g.bl), &amax[static_cast<size_t>(grp * g.ni)]);
          }
        });
  } else {
    // Few large groups (tensor, channel, big tiles): split each group's rows across threads.
    for (int64_t grp = 0; grp < groups; ++grp) {
      const int64_t ob = grp / g.nl;
      const int64_t lb = grp - ob * g.nl;
      const int64_t o0 = ob * g.bo, o1 = std::min(g.o, (ob + 1) * g.bo);
      const int64_t l0 = lb * g.bl, l1 = std::min(g.l, (lb + 1) * g.bl);
      const int64_t rows = (o1 - o0) * (l1 - l0);
      const int64_t parts = std::min<int64_t>(rows, 4 * workers);
      std::vector<std::vector<U>> partial(static_cast<size_t>(parts),
                                          std::vector<U>(static_cast<size_t>(g.ni), 0));
      scaling::ParallelFor(parts, threads, [&](int64_t p, int) {
        const int64_t r0 = rows * p / parts, r1 = rows * (p + 1) / parts;
        for (int64_t r = r0; r < r1; ++r) {
          const int64_t o = o0 + r / (l1 - l0);
          const int64_t l = l0 + r % (l1 - l0);
          rows_into(o, o + 1, l, l + 1, partial[static_cast<size_t>(p)].data());
        }
      });
      U* dst = &amax[static_cast<size_t>(grp * g.ni)];
      for (const std::vector<U>& part : partial) {
        for (int64_t b = 0; b < g.ni; ++b) dst[b] = std::max(dst[b], part[static_cast<size_t>(b)]);
      }
    }
  }
  std::vector<double> out(amax.size());
  for (size_t k = 0; k < amax.size(); ++k) out[k] = static_cast<double>(std::bit_cast<T>(amax[k]));
  return out;
}

// fn(begin, end) over [0, n) in ranges of 64K, on up to `threads` threads.
template <typename Fn>
void ForRanges(size_t n, int threads, const Fn& fn) {
  constexpr size_t kRange = size_t{1} << 16;
  const int64_t tasks = static_cast<int64_t>((n + kRange - 1) / kRange);
  scaling::ParallelFor(tasks, threads, [&](int64_t t, int) {
    const size_t begin = static_cast<size_t>(t) * kRange;
    fn(begin, std::min(n, begin + kRange));
  });
}

float Pow2f(int k) { return std::ldexp(1.0f, k); }  // exact for k in [-149, 127]

float NanMin(float a, float b) { return std::isnan(a) ? a : std::min(a, b); }  // torch.minimum
float Clamp(float v, float lo, float hi) {  // torch.clamp: NaN stays NaN
  return std::isnan(v) ? v : std::min(std::max(v, lo), hi);
}

uint32_t Fp32Code(float v) { return std::bit_cast<uint32_t>(v); }

// TransformerEngine's compute_scale_from_amax (recipe_common.cuh) with a margin.
float CurrentScale(const Scaling& s, float fmax, float amax) {
  if (std::isinf(amax) || amax == 0.0f || std::isnan(amax)) return 1.0f;
  const float scaled_max = fmax * std::ldexp(1.0f, -s.margin);
  float scale = scaled_max / amax;
  if (std::isinf(scale)) scale = std::numeric_limits<float>::max();
  if (s.pow2) scale = std::bit_cast<float>(std::bit_cast<uint32_t>(scale) & 0xFF800000u);
  return scale;
}

// The per-call plan: mode, element descriptor and options, and every block's factors.
struct Plan {
  Mode mode = Mode::kPow2;
  FormatSpec element;
  Geometry geometry;
  std::vector<Entry> entries;
  FormatSpec scale_spec;
  float tensor_scale = 1.0f;
  float clamp = 0.0f;        // kNvfp4: clamp x * enc to ±clamp before rounding
  bool plus_zero = false;    // kNvfp4 te: y + 0.0 (its cast maps -0 to code 0)
  bool f32_elements = true;  // every element value and 2^k factor fits float32 exactly
  bool twos = false;
  bool has_state = false;  // delayed: the state after this step, committed on success
  ScalingState next_state;
  // Block recipes whose blocks are runs within a row (bo = bl = 1) compute each block's amax and
  // scale inside the chunk that uses it (`local`), so the tensor is read once.
  bool local = false;
  scaling::Pow2Params pow2;
  Scaling scaling;
  std::vector<Entry> pow2_table;  // Pow2Entry for every k in [pow2.kmin, pow2.kmax]
  Entry nan_entry;
  // The caller's backend is the SIMD one: float32 chunks go through its fused block kernels
  // (scale, round and scale back a piece at a time), with these parameters made once per call.
  bool simd = false;
  simd::EncodeParams encode;
  simd::DecodeParams decode;
  // Local float32 plans with many blocks: each block's scale from its amax bits by lookup.
  bool has_binades = false;
  scaling::AmaxBinades binades;
  // Local float32 plans on the SIMD backend whose rows and chunks hold whole blocks of a multiple
  // of 8 elements (MX): the block kernels (simd/dispatch.h QuantizeBlocksF32), with the lookup's
  // per-entry factors and codes in these arrays.
  bool block_kernel = false;
  simd::BlockScaleLookup lookup;
  std::vector<float> lookup_enc, lookup_dec;
  std::vector<uint8_t> lookup_code;
};

// Blocks from which a local float32 plan builds its AmaxBinades (a few microseconds): below
// this, Pow2ScaleOf per block costs less.
constexpr int64_t kBinadeMinBlocks = 2048;

// The block kernels' lookup: the binades' entries, minus those the kernels must not take (a NaN
// scale, or x * enc possibly inexact in float32 for some amax of the binade: Entry::f32).
void MakeBlockLookup(Plan& plan) {
  const scaling::Pow2Params& p = plan.pow2;
  for (size_t k = 0; k < plan.pow2_table.size(); ++k) {
    const Entry& e = plan.pow2_table[k];
    plan.lookup_enc.push_back(e.enc);
    plan.lookup_dec.push_back(e.dec);
    plan.lookup_code.push_back(static_cast<uint8_t>(e.code));
  }
  for (uint32_t f = 0; f < 256; ++f) {
    plan.lookup.threshold[f] = plan.binades.threshold[f];
    plan.lookup.entry_lo[f] = plan.lookup.entry_hi[f] = -1;
    if (!plan.binades.valid[f]) continue;
    // The binade's largest amax bounds amax * enc for every block in it.
    const double amax_top = static_cast<double>(std::bit_cast<float>((f << 23) | 0x7FFFFFu));
    auto usable = [&](int32_t k) -> int16_t {
      Entry e = plan.pow2_table[static_cast<size_t>(k - p.kmin)];
      ClassifyF32(e, amax_top);
      return e.nan || e.f32 != Entry::kExact ? int16_t{-1} : static_cast<int16_t>(k - p.kmin);
    };
    plan.lookup.entry_lo[f] = usable(plan.binades.k_lo[f]);
    plan.lookup.entry_hi[f] = usable(plan.binades.k_hi[f]);
  }
  // All-zero blocks (amax bits 0, common in real gradients) take the scale of amax 0; subnormal
  // amax values (fraction >= 1 in field 0) go the general way.
  const detail::Pow2Scale zero = scaling::Pow2ScaleOf(p, 0.0, true);
  if (!zero.is_nan) {
    Entry e = plan.pow2_table[static_cast<size_t>(zero.k - p.kmin)];
    ClassifyF32(e, 0.0);
    if (!e.nan && e.f32 == Entry::kExact) {
      plan.lookup.threshold[0] = 1;
      plan.lookup.entry_lo[0] = static_cast<int16_t>(zero.k - p.kmin);
    }
  }
}

// The entry of a power-of-two scale, from the plan's table.
const Entry& TableEntry(const Plan& plan, const detail::Pow2Scale& ps) {
  return ps.is_nan ? plan.nan_entry : plan.pow2_table[static_cast<size_t>(ps.k - plan.pow2.kmin)];
}

Entry Pow2Entry(const Scaling& s, const detail::Pow2Scale& ps, const FormatSpec& scale_spec) {
  Entry e;
  if (ps.is_nan) {
    e.nan = true;
    e.code = scale_spec.nan_code;
    e.enc = e.dec = std::numeric_limits<float>::quiet_NaN();
    return e;
  }
  e.k_dec = ps.k;
  e.k_enc = ps.k;
  if (s.tiny == TinyScale::kTorchao) {
    // torchao 0.18 mx_tensor.py: FLOOR/CEIL/EVEN clamp the fp32 divisor to 2^-126; RCEIL (and TE's
    // exp2f_rcp) multiply by 1 for the E8M0 byte 0.
    if (s.rule == ScaleRule::kRceil) {
      if (ps.k == -127) e.k_enc = 0;
    } else {
      e.k_enc = std::max(ps.k, -126);
    }
  }
  QuantizeOptions rne;
  e.code = detail::EncodeDouble(scale_spec, std::ldexp(1.0, ps.k), rne, 0);
  e.enc = (e.k_enc >= -127 && e.k_enc <= 149) ? Pow2f(-e.k_enc) : 0.0f;
  e.dec = (e.k_dec >= -149 && e.k_dec <= 127) ? Pow2f(e.k_dec) : 0.0f;
  return e;
}

template <typename T>
StatusOr<Plan> MakePlan(const FormatSpec& element, const Scaling& s, std::span<const int64_t> shape,
                        std::span<const T> in, const TensorOptions& options, ScalingState* state) {
  Status st = scaling::CheckScaling(element, s);
  if (!st.ok()) return st;
  StatusOr<Geometry> g = scaling::MakeGeometry(s, shape);
  if (!g.ok()) return g.status();
  if (static_cast<int64_t>(in.size()) != g->Elements()) {
    return InvalidArgument("scaled quantize: the shape holds " + std::to_string(g->Elements()) +
                           " elements but the input has " + std::to_string(in.size()));
  }
  if (s.kind == ScalingKind::kDelayed && state == nullptr) {
    return InvalidArgument("scaling " + ToString(s) + ": delayed scaling needs a ScalingState");
  }
  Plan plan;
  plan.element = element;
  {
    StatusOr<const backend::Kernels*> kernels = backend::Select(options.backend);
    plan.simd = kernels.ok() && *kernels != nullptr && *kernels == backend::SimdKernels();
  }
  plan.geometry = std::move(g).value();
  plan.scale_spec = s.scale_spec;
  plan.twos = s.twos_complement;
  const double emax_value = MaxFinite(element);
  plan.f32_elements = emax_value < 0x1p127 && MinPositive(element) >= 0x1p-126;
  constexpr bool kF32 = std::is_same_v<T, float>;
  plan.scaling = s;
  plan.pow2 = scaling::MakePow2Params(element, s);
  plan.local = s.kind == ScalingKind::kBlock && plan.geometry.bo == 1 && plan.geometry.bl == 1 &&
               s.scale_spec.bits % 8 == 0;
  if (s.kind == ScalingKind::kBlock) {
    for (int k = plan.pow2.kmin; k <= plan.pow2.kmax; ++k) {
      detail::Pow2Scale ps;
      ps.k = k;
      plan.pow2_table.push_back(Pow2Entry(s, ps, s.scale_spec));
    }
    detail::Pow2Scale nan;
    nan.is_nan = true;
    plan.nan_entry = Pow2Entry(s, nan, s.scale_spec);
    for (Entry& e : plan.pow2_table) ClassifyF32(e, 0.0);  // the amax-independent part
    plan.pow2_table.push_back(plan.nan_entry);             // index kmax - kmin + 1
  }
  const std::vector<double> amax =
      plan.local ? std::vector<double>{} : ComputeAmax(plan.geometry, in, options.threads);
  plan.entries.resize(amax.size());
  switch (s.kind) {
    case ScalingKind::kNone:
      break;
    case ScalingKind::kBlock: {
      plan.mode = Mode::kPow2;
      const scaling::Pow2Params p = scaling::MakePow2Params(element, s);
      if (plan.local) break;
      for (size_t k = 0; k < amax.size(); ++k) {
        plan.entries[k] = TableEntry(plan, scaling::Pow2ScaleOf(p, amax[k], kF32));
        ClassifyF32(plan.entries[k], amax[k]);
      }
      break;
    }
    case ScalingKind::kTensor:
    case ScalingKind::kChannel:
    case ScalingKind::kDelayed: {
      plan.mode = Mode::kFloat;
      const float fmax = static_cast<float>(emax_value);
      auto set = [&](Entry& e, float scale) {
        e.enc = scale;
        e.dec = 1.0f / scale;
        e.code = Fp32Code(e.dec);
      };
      if (s.kind == ScalingKind::kDelayed) {
        plan.has_state = true;
        plan.next_state = *state;
        state = &plan.next_state;
        set(plan.entries[0], state->scale);
        // TE delayed_scaling.cu: the history takes this step's amax; the next scale comes from
        // its max (fmaxf: NaN entries are skipped) or from this amax.
        const float amax_t = static_cast<float>(amax.empty() ? 0.0 : amax[0]);
        state->amax_history.insert(state->amax_history.begin(), amax_t);
        if (state->amax_history.size() > static_cast<size_t>(s.history)) {
          state->amax_history.resize(static_cast<size_t>(s.history));
        }
        float a = amax_t;
        if (s.algo == AmaxAlgo::kMax) {
          a = 0.0f;
          for (float h : state->amax_history) a = std::fmax(a, h);
        }
        const float scaled_max = fmax * std::ldexp(1.0f, -s.margin);
        float next = state->scale;
        if (std::isfinite(a) && a > 0.0f) next = scaled_max / a;
        if (s.pow2) next = std::bit_cast<float>(std::bit_cast<uint32_t>(next) & 0xFF800000u);
        state->scale = next;
        ++state->steps;
      } else {
        for (size_t k = 0; k < amax.size(); ++k) {
          set(plan.entries[k], CurrentScale(s, fmax, static_cast<float>(amax[k])));
        }
      }
      break;
    }
    case ScalingKind::kNvfp4: {
      plan.mode = Mode::kNvfp4;
      const float emax_f = static_cast<float>(emax_value);             // 6
      const float smax = static_cast<float>(MaxFinite(s.scale_spec));  // 448
      const float both = smax * emax_f;                                // 2688
      float gmax = 0.0f;                                               // torch.max: NaN-propagating
      for (double a : amax) {
        const float af = static_cast<float>(a);
        if (std::isnan(af) || std::isnan(gmax)) {
          gmax = std::numeric_limits<float>::quiet_NaN();
        } else {
          gmax = std::max(gmax, af);
        }
      }
      plan.clamp = emax_f;
      // Each block's decode scale before rounding (ds), rounded to the scale format on the
      // caller's backend (bit for bit what EncodeDouble gives), then the block's factors.
      const size_t nb = amax.size();
      std::vector<float> ds(nb), s32(nb);
      std::vector<uint8_t> codes(PackedBytes(s.scale_spec, nb));
      auto round_scales = [&]() {
        TensorOptions so;
        so.backend = options.backend;
        so.threads = options.threads;
        Status rounded = Encode(s.scale_spec, ds, codes, so);
        if (rounded.ok()) rounded = Quantize(s.scale_spec, ds, s32, so);
        return rounded;
      };
      auto set_code = [&](size_t k) {
        plan.entries[k].code = ReadPackedCode(s.scale_spec, codes, k);
      };
      if (s.nvfp4 == Nvfp4Variant::kTransformerEngine) {
        plan.plus_zero = true;
        plan.element.nan_fallback = NanFallback::kZero;  // cast_to_fp4x2: NaN matches no range
        float senc = NanMin(both / gmax, std::numeric_limits<float>::max());
        if (senc == 0.0f) senc = 1.0f;
        const float sdec = 1.0f / senc;
        const float mult = senc * (1.0f / emax_f);
        const float factor_inv = static_cast<float>(1.0 / (static_cast<double>(emax_f) * smax));
        plan.tensor_scale = gmax;
        ForRanges(nb, options.threads, [&](size_t begin, size_t end) {
          for (size_t k = begin; k < end; ++k) {
            const float d =
                NanMin(static_cast<float>(amax[k]) * mult, std::numeric_limits<float>::max());
            ds[k] = Clamp(d, -smax, smax);
          }
        });
        if (Status rounded = round_scales(); !rounded.ok()) return rounded;
        ForRanges(nb, options.threads, [&](size_t begin, size_t end) {
          for (size_t k = begin; k < end; ++k) {
            Entry& e = plan.entries[k];
            set_code(k);
            e.enc = NanMin(1.0f / (s32[k] * sdec), std::numeric_limits<float>::max());
            e.dec = (s32[k] * gmax) * factor_inv;
          }
        });
      } else {
        const float per_tensor = gmax / both;
        const float inv_per_tensor = 1.0f / per_tensor;
        const float tiny = static_cast<float>(MinPositiveNormal(s.scale_spec));  // finfo.tiny
        plan.tensor_scale = per_tensor;
        ForRanges(nb, options.threads, [&](size_t begin, size_t end) {
          for (size_t k = begin; k < end; ++k) {
            const float block_scale = static_cast<float>(amax[k]) / emax_f;
            ds[k] = Clamp(block_scale / per_tensor, tiny, smax);
          }
        });
        if (Status rounded = round_scales(); !rounded.ok()) return rounded;
        ForRanges(nb, options.threads, [&](size_t begin, size_t end) {
          for (size_t k = begin; k < end; ++k) {
            Entry& e = plan.entries[k];
            set_code(k);
            e.enc = inv_per_tensor / s32[k];
            e.dec = per_tensor * s32[k];
          }
        });
      }
      break;
    }
  }
  const Geometry& geo = plan.geometry;
  if (kF32 && plan.local && geo.Entries() >= kBinadeMinBlocks) {
    plan.has_binades = true;
    plan.binades = scaling::MakeAmaxBinades(plan.pow2);
    plan.block_kernel = plan.simd && plan.f32_elements && !plan.twos && geo.bi % 8 == 0 &&
                        geo.bi <= 1024 && geo.i % geo.bi == 0 && kChunk % geo.bi == 0 &&
                        s.scale_spec.bits == 8;
    if (plan.block_kernel) MakeBlockLookup(plan);
  }
  if (plan.simd && kF32) {
    QuantizeOptions q = options.quantize;
    if (s.saturate) q.overflow = Overflow::kSatFinite;
    plan.encode = simd::MakeEncodeParams(plan.element, q);
    plan.decode = simd::MakeDecodeParams(plan.element);
  }
  return plan;
}

// Whether x * 2^-k (k > 0) is exact in float32 for every x of the run: no product may become
// subnormal. (k <= 0 is decided from the block's amax: ClassifyF32.)
bool RunIsF32Exact(const float* x, int64_t n, int32_t k_enc) {
  const uint32_t low = static_cast<uint32_t>(k_enc + 1) << 23;  // bits of 2^(k - 126)
  uint32_t bad = 0;
  for (int64_t j = 0; j < n; ++j) {
    const uint32_t a = std::bit_cast<uint32_t>(x[j]) & 0x7FFFFFFFu;
    bad |= static_cast<uint32_t>(a - 1u < low - 1u);  // 0 < |x| < 2^(k-126)
  }
  return bad == 0;
}

// Converts sign-magnitude integer codes to two's complement in place (and back: `to_twos` false).
void ConvertTwos(const FormatSpec& spec, std::span<uint8_t> packed, int64_t count, bool to_twos) {
  const uint32_t mask = (1u << spec.bits) - 1;
  for (int64_t j = 0; j < count; ++j) {
    const uint32_t c = ReadPackedCode(spec, packed, static_cast<size_t>(j));
    uint32_t r = c;
    if (c & spec.sign_bit) {
      r = to_twos ? ((0u - (c & spec.magnitude_mask)) & mask) : (spec.sign_bit | ((0u - c) & mask));
    }
    WritePackedCode(spec, packed, static_cast<size_t>(j), r);
  }
}

struct Buffers {
  std::vector<Run> runs;
  std::vector<float> yf;
  std::vector<double> yd, qd;
  std::vector<uint32_t> amax_bits;  // local float32: each run's block amax bits
  std::vector<float> enc, dec;      // float32: each run's factors
  std::vector<uint32_t> ends;       // float32 on the SIMD backend: each run's end in the chunk
};

// Calls fn(k, e, len) for each maximal stretch [k, e) of runs whose spans [begin_of(run),
// end_of(run)) all have length len and follow one another in memory: one SIMD kernel call each
// (a whole chunk of full blocks is one stretch).
template <typename Begin, typename End, typename Fn>
void ForEachStretch(std::span<const Run> runs, Begin begin_of, End end_of, Fn fn) {
  size_t k = 0;
  while (k < runs.size()) {
    const int64_t start = begin_of(runs[k]);
    const int64_t len = end_of(runs[k]) - start;
    size_t e = k + 1;
    while (e < runs.size() && begin_of(runs[e]) == start + static_cast<int64_t>(e - k) * len &&
           end_of(runs[e]) - begin_of(runs[e]) == len) {
      ++e;
    }
    fn(k, e, len);
    k = e;
  }
}

// Local mode: the amax and scale of the block of every run in `runs` (a block straddling the
// chunk's edges is read whole), renumbering the runs to index `entries`; the chunk (starting at
// c0) holding a block's first element writes its scale code. Returns false if a factor does not
// fit float32. Float32 inputs take the amax with SIMD (simd/block_scale.h); float64 ones with the
// loop above.
template <typename T>
bool LocalEntries(const Plan& plan, std::span<const T> in, int64_t c0, std::span<Run> runs,
                  Buffers* b, std::span<uint8_t> scales_out) {
  using U = BitsT<T>;
  constexpr bool kF32 = std::is_same_v<T, float>;
  const scaling::Pow2Params& p = plan.pow2;
  const int64_t nan_index = p.kmax - p.kmin + 1;
  bool f32 = true;
  // The scale of run ri from its block's amax bits m: renumbers the run to its table entry.
  auto settle = [&](size_t ri, U m) {
    Run& r = runs[ri];
    const int64_t start = r.block_begin;
    int64_t index;
    int amax_exp;
    const uint32_t field = kF32 ? static_cast<uint32_t>(m >> 23) : 0u;
    if (kF32 && plan.has_binades && plan.binades.valid[field]) {
      // A normal float32 amax: its binade's k (scaling/internal.h AmaxBinades).
      const bool hi = (static_cast<uint32_t>(m) & 0x7FFFFFu) >= plan.binades.threshold[field];
      index = (hi ? plan.binades.k_hi[field] : plan.binades.k_lo[field]) - p.kmin;
      amax_exp = static_cast<int>(field) - 127;
    } else {
      const double amax = static_cast<double>(std::bit_cast<T>(m));
      const detail::Pow2Scale ps = scaling::Pow2ScaleOf(p, amax, kF32);
      index = ps.is_nan ? nan_index : ps.k - p.kmin;
      amax_exp = AmaxExponent(amax);
    }
    const Entry& e = plan.pow2_table[static_cast<size_t>(index)];
    // amax * 2^-k beyond float32 (or an infinite amax with a finite scale): the float64 path.
    if (e.f32 == Entry::kNotF32 || (!e.nan && e.k_enc < 0 && amax_exp - e.k_enc >= 128)) {
      f32 = false;
    }
    if (!scales_out.empty() && start >= c0) {
      // CollectRuns numbered the run by its block (row * ni + block in local mode).
      WritePackedCode(plan.scale_spec, scales_out, static_cast<size_t>(r.entry), e.code);
    }
    r.entry = index;
  };
  if constexpr (kF32) {
    // SIMD amax over stretches of adjacent equal blocks, in pieces small enough that the scalar
    // scale work of a piece overlaps the memory reads of the next (prefetched) piece.
    constexpr size_t kPiece = 64;
    b->amax_bits.resize(kPiece);
    ForEachStretch(
        runs, [](const Run& r) { return r.block_begin; }, [](const Run& r) { return r.block_end; },
        [&](size_t k, size_t e, int64_t len) {
          for (size_t k0 = k; k0 < e; k0 += kPiece) {
            const size_t count = std::min(kPiece, e - k0);
            simd::RunMaxMagnitudeF32(in.data() + runs[k0].block_begin, count,
                                     static_cast<size_t>(len), b->amax_bits.data(),
                                     in.data() + in.size());
            for (size_t j = 0; j < count; ++j) settle(k0 + j, b->amax_bits[j]);
          }
        });
  } else {
    for (size_t ri = 0; ri < runs.size(); ++ri) {
      const int64_t start = runs[ri].block_begin, end = runs[ri].block_end;
      settle(ri, end - start == 32 ? MaxMagnitudeBits<T, 32>(in.data() + start, 32)
                                   : MaxMagnitudeBits<T, 0>(in.data() + start, end - start));
    }
  }
  return f32;
}

// What one Elementwise call reads and writes: fake-quant into `out` (if non-empty) and/or packed
// codes into `packed` and block scale codes into `scales_out` (local mode).
template <typename T>
struct Io {
  std::span<const T> in;
  std::span<T> out;
  std::span<uint8_t> packed;
  std::span<uint8_t> scales_out;
};

// Elements per piece of a chunk on the SIMD backend in local mode: each piece's amax, scales and
// rounding run back to back while its inputs are in L1, so the memory reads of the next piece
// overlap the work on this one.
constexpr int64_t kLocalPiece = 2048;

// Rounds the elements of `runs` (consecutive runs of the chunk starting at c0; the first begins
// at a multiple of 8, so packed codes of different calls never share a byte).
template <typename T>
Status RoundRuns(const Plan& plan, const Io<T>& io, int64_t c0, std::span<Run> runs, Buffers& b,
                 const TensorOptions& options, bool saturate) {
  constexpr bool kF32 = std::is_same_v<T, float>;
  const std::span<const T> in = io.in;
  const std::span<T> out = io.out;
  const std::span<uint8_t> packed = io.packed;
  const int64_t e0 = runs.front().begin;
  const int64_t len = runs.back().end - e0;
  bool local_f32 = true;
  if (plan.local) local_f32 = LocalEntries<T>(plan, in, c0, runs, &b, io.scales_out);
  const std::vector<Entry>& entries = plan.local ? plan.pow2_table : plan.entries;
  TensorOptions inner = options;
  inner.threads = 1;
  inner.quantize.index_offset = options.quantize.index_offset + static_cast<uint64_t>(e0);
  if (saturate) inner.quantize.overflow = Overflow::kSatFinite;
  const FormatSpec& el = plan.element;
  const bool stream = out.size_bytes() >= kStreamBytes;
  bool f32 = false;
  bool any_nan = false;
  if constexpr (kF32) {
    f32 = plan.f32_elements && local_f32;
    if (f32) {
      // Each run's factors, gathered for the SIMD kernels (kPow2: and whether x * 2^-k stays
      // exact in float32 for the whole chunk).
      b.enc.resize(runs.size());
      b.dec.resize(runs.size());
      for (size_t k = 0; k < runs.size(); ++k) {
        const Run& r = runs[k];
        const Entry& e = entries[static_cast<size_t>(r.entry)];
        b.enc[k] = e.enc;
        b.dec[k] = e.dec;
        any_nan |= e.nan;
        if (plan.mode == Mode::kPow2 &&
            (e.f32 == Entry::kNotF32 ||
             (e.f32 == Entry::kCheckLow &&
              !RunIsF32Exact(in.data() + r.begin, r.end - r.begin, e.k_enc)))) {
          f32 = false;
          break;
        }
      }
    }
  }
  const float nanf = std::numeric_limits<float>::quiet_NaN();
  const size_t packed_offset = PackedBytes(el, static_cast<size_t>(e0));
  std::span<uint8_t> packed_chunk =
      packed.empty() ? packed : packed.subspan(packed_offset, PackedBytes(el, len));
  Status st;
  bool done = false;
  if constexpr (kF32) {
    if (f32 && plan.simd && !any_nan) {
      // The SIMD backend's fused kernels: one pass over the chunk, a piece at a time.
      done = true;
      b.ends.resize(runs.size());
      for (size_t k = 0; k < runs.size(); ++k) {
        b.ends[k] = static_cast<uint32_t>(runs[k].end - e0);
      }
      simd::RunFactors factors;
      factors.end = b.ends.data();
      factors.enc = b.enc.data();
      factors.dec = b.dec.data();
      if (plan.mode == Mode::kNvfp4) {
        factors.clamp = plan.clamp;
        factors.plus_zero = plan.plus_zero;
      }
      const float* x = in.data() + e0;
      const uint64_t first = static_cast<uint64_t>(e0);
      if (!packed.empty()) {
        simd::EncodeRunsF32(plan.encode, factors, x, packed.data(), static_cast<size_t>(len),
                            first);
      }
      if (!out.empty()) {
        simd::QuantizeRunsF32(plan.encode, plan.decode, factors, x, out.data() + e0,
                              static_cast<size_t>(len), first, stream);
      }
    } else if (f32) {
      done = true;
      // Fake-quant forms the scaled elements in the output itself and rounds them in place; a
      // large output is formed in the (cached) scratch and streamed out at the end instead, so
      // its lines are never read from memory.
      float* y;
      if (!out.empty() && !stream) {
        y = reinterpret_cast<float*>(out.data()) + e0;
      } else {
        b.yf.resize(static_cast<size_t>(len));
        y = b.yf.data();
      }
      const float* x = in.data();
      const auto run_begin = [](const Run& r) { return r.begin; };
      const auto run_end = [](const Run& r) { return r.end; };
      if (plan.mode != Mode::kNvfp4) {
        // One float32 product per element (kPow2: exact, checked above), as the scalar code.
        ForEachStretch(runs, run_begin, run_end, [&](size_t k, size_t e, int64_t m) {
          simd::ScaleRunsF32(x + runs[k].begin, y + (runs[k].begin - e0), e - k,
                             static_cast<size_t>(m), &b.enc[k]);
        });
      }
      if (plan.mode == Mode::kNvfp4 || any_nan) {
        for (const Run& r : runs) {
          const Entry& e = entries[static_cast<size_t>(r.entry)];
          float* yr = y + (r.begin - e0);
          const float* xr = x + r.begin;
          const int64_t m = r.end - r.begin;
          if (e.nan) {
            std::fill(yr, yr + m, nanf);
          } else if (plan.mode == Mode::kNvfp4) {
            const float f = e.enc, lim = plan.clamp;
            for (int64_t j = 0; j < m; ++j) yr[j] = Clamp(xr[j] * f, -lim, lim);
            if (plan.plus_zero) {
              for (int64_t j = 0; j < m; ++j) yr[j] += 0.0f;
            }
          }
        }
      }
      std::span<const float> ys(y, static_cast<size_t>(len));
      if (!packed_chunk.empty()) st = Encode(el, ys, packed_chunk, inner);
      if (st.ok() && !out.empty()) {
        st = Quantize(el, ys, std::span<float>(y, static_cast<size_t>(len)), inner);
        if (st.ok()) {
          ForEachStretch(runs, run_begin, run_end, [&](size_t k, size_t e, int64_t m) {
            simd::ScaleRunsF32(y + (runs[k].begin - e0), y + (runs[k].begin - e0), e - k,
                               static_cast<size_t>(m), &b.dec[k]);
          });
          if (stream) simd::StreamCopyF32(y, out.data() + e0, static_cast<size_t>(len));
        }
      }
    }
  }
  if (!done) {
    b.yd.resize(static_cast<size_t>(len));
    double* y = b.yd.data();
    for (const Run& r : runs) {
      const Entry& e = entries[static_cast<size_t>(r.entry)];
      double* yr = y + (r.begin - e0);
      const T* xr = in.data() + r.begin;
      const int64_t m = r.end - r.begin;
      if (e.nan) {
        std::fill(yr, yr + m, std::numeric_limits<double>::quiet_NaN());
      } else if (plan.mode == Mode::kPow2) {
        for (int64_t j = 0; j < m; ++j) yr[j] = std::ldexp(static_cast<double>(xr[j]), -e.k_enc);
      } else {
        for (int64_t j = 0; j < m; ++j) {
          double v;
          if constexpr (kF32) {
            v = static_cast<double>(xr[j] * e.enc);  // the recipe's float32 product
          } else {
            v = xr[j] * static_cast<double>(e.enc);
          }
          if (plan.mode == Mode::kNvfp4) {
            v = std::isnan(v) ? v : std::clamp(v, -double{plan.clamp}, double{plan.clamp});
            if (plan.plus_zero) v += 0.0;
          }
          yr[j] = v;
        }
      }
    }
    std::span<const double> ys(y, static_cast<size_t>(len));
    if (!packed_chunk.empty()) st = Encode(el, ys, packed_chunk, inner);
    if (st.ok() && !out.empty()) {
      b.qd.resize(static_cast<size_t>(len));
      st = Quantize(el, ys, std::span<double>(b.qd.data(), static_cast<size_t>(len)), inner);
      if (st.ok()) {
        for (const Run& r : runs) {
          const Entry& e = entries[static_cast<size_t>(r.entry)];
          const double* q = b.qd.data() + (r.begin - e0);
          T* o = out.data() + r.begin;
          const int64_t m = r.end - r.begin;
          if (e.nan) {
            std::fill(o, o + m, std::numeric_limits<T>::quiet_NaN());
          } else if (plan.mode == Mode::kPow2) {
            for (int64_t j = 0; j < m; ++j) o[j] = static_cast<T>(std::ldexp(q[j], e.k_dec));
          } else if constexpr (kF32) {
            for (int64_t j = 0; j < m; ++j) o[j] = static_cast<float>(q[j]) * e.dec;
          } else {
            for (int64_t j = 0; j < m; ++j) o[j] = q[j] * static_cast<double>(e.dec);
          }
        }
      }
    }
  }
  if (st.ok() && plan.twos && !packed_chunk.empty()) ConvertTwos(el, packed_chunk, len, true);
  return st;
}

// Pass 2 over [0, n), in chunks of kChunk elements on the worker threads.
template <typename T>
Status Elementwise(const Plan& plan, const Io<T>& io, const TensorOptions& options, bool saturate) {
  constexpr bool kF32 = std::is_same_v<T, float>;
  const int64_t n = static_cast<int64_t>(io.in.size());
  const int64_t chunks = (n + kChunk - 1) / kChunk;
  const int workers = scaling::ThreadCount(options.threads);
  std::vector<Buffers> buffers(static_cast<size_t>(std::max(1, workers)));
  std::vector<Status> errors(static_cast<size_t>(chunks));
  simd::BlockScaleLookup lookup = plan.lookup;  // with the plan's arrays
  lookup.enc = plan.lookup_enc.data();
  lookup.dec = plan.lookup_dec.data();
  lookup.code = plan.lookup_code.data();
  scaling::ParallelFor(chunks, options.threads, [&](int64_t c, int worker) {
    Buffers& b = buffers[static_cast<size_t>(worker)];
    // The general path over [from, to) (from at a multiple of 8 or the chunk's start).
    auto general = [&](int64_t from, int64_t to) {
      CollectRuns(plan.geometry, from, to, &b.runs);
      const std::span<Run> runs(b.runs);
      Status st;
      if (kF32 && plan.local && plan.simd) {
        // Pieces of about kLocalPiece elements, cut where a run starts at a multiple of 8.
        for (size_t k = 0; k < runs.size() && st.ok();) {
          size_t e = k + 1;
          while (e < runs.size() &&
                 (runs[e].begin - runs[k].begin < kLocalPiece || runs[e].begin % 8 != 0)) {
            ++e;
          }
          st = RoundRuns<T>(plan, io, from, runs.subspan(k, e - k), b, options, saturate);
          k = e;
        }
      } else if (!runs.empty()) {
        st = RoundRuns<T>(plan, io, from, runs, b, options, saturate);
      }
      return st;
    };
    int64_t c0 = c * kChunk;
    const int64_t c1 = std::min(n, c0 + kChunk);
    Status st;
    if (kF32 && plan.block_kernel) {
      // Whole blocks with scales by lookup; a piece holding a block the lookup leaves out goes
      // the general way, and the block kernel resumes after it.
      const int64_t len = plan.geometry.bi;
      const int64_t piece = static_cast<int64_t>(simd::kBlockPieceFloats) / len * len;
      while (c0 < c1 && st.ok()) {
        const size_t blocks = static_cast<size_t>((c1 - c0) / len);
        const uint64_t first = static_cast<uint64_t>(c0);
        size_t done = 0;
        if constexpr (kF32) {
          const float* x = io.in.data() + c0;
          if (!io.out.empty()) {
            done = simd::QuantizeBlocksF32(plan.encode, plan.decode, lookup, x, io.out.data() + c0,
                                           blocks, static_cast<size_t>(len), first,
                                           io.out.size_bytes() >= kStreamBytes);
          } else {
            done = simd::EncodeBlocksF32(plan.encode, lookup, x, io.packed.data(),
                                         io.scales_out.data() + c0 / len, blocks,
                                         static_cast<size_t>(len), first);
          }
        }
        c0 += static_cast<int64_t>(done) * len;
        if (c0 < c1) {
          st = general(c0, std::min(c1, c0 + piece));
          c0 = std::min(c1, c0 + piece);
        }
      }
    } else {
      st = general(c0, c1);
    }
    errors[static_cast<size_t>(c)] = st;
  });
  for (const Status& st : errors) {
    if (!st.ok()) return st;
  }
  return Status::Ok();
}

template <typename T>
Status QuantizeScaledT(const FormatSpec& element, const Scaling& s, std::span<const int64_t> shape,
                       std::span<const T> in, std::span<T> out, const TensorOptions& options,
                       ScalingState* state) {
  if (in.size() != out.size()) {
    return InvalidArgument("scaled quantize: input has " + std::to_string(in.size()) +
                           " elements but output has room for " + std::to_string(out.size()));
  }
  if (s.kind == ScalingKind::kNone) {
    StatusOr<Geometry> g = scaling::MakeGeometry(s, shape);
    if (!g.ok()) return g.status();
    if (g->Elements() != static_cast<int64_t>(in.size())) {
      return InvalidArgument("scaled quantize: the shape holds " + std::to_string(g->Elements()) +
                             " elements but the input has " + std::to_string(in.size()));
    }
    return Quantize(element, in, out, options);
  }
  StatusOr<Plan> plan = MakePlan(element, s, shape, in, options, state);
  if (!plan.ok()) return plan.status();
  const Status st = Elementwise<T>(*plan, Io<T>{in, out, {}, {}}, options, s.saturate);
  if (st.ok() && plan->has_state) *state = plan->next_state;
  return st;
}

template <typename T>
Status EncodeScaledT(const FormatSpec& element, const Scaling& s, std::span<const int64_t> shape,
                     std::span<const T> in, ScaledTensor* out, const TensorOptions& options,
                     ScalingState* state) {
  if (out == nullptr) return InvalidArgument("scaled encode: no output");
  ScaledTensor result;
  result.shape.assign(shape.begin(), shape.end());
  result.element = element;
  result.scaling = s;
  result.codes.assign(PackedBytes(element, in.size()), 0);
  if (s.kind == ScalingKind::kNone) {
    StatusOr<Geometry> g = scaling::MakeGeometry(s, shape);
    if (!g.ok()) return g.status();
    if (g->Elements() != static_cast<int64_t>(in.size())) {
      return InvalidArgument("scaled encode: the shape holds " + std::to_string(g->Elements()) +
                             " elements but the input has " + std::to_string(in.size()));
    }
    const Status st = Encode(element, in, result.codes, options);
    if (!st.ok()) return st;
    *out = std::move(result);
    return Status::Ok();
  }
  StatusOr<Plan> plan = MakePlan(element, s, shape, in, options, state);
  if (!plan.ok()) return plan.status();
  result.scale_spec = plan->scale_spec;
  result.scale_shape = plan->geometry.scale_shape;
  result.scales.assign(PackedBytes(result.scale_spec, plan->geometry.Entries()), 0);
  const Io<T> io{
      in, {}, result.codes, plan->local ? std::span<uint8_t>(result.scales) : std::span<uint8_t>()};
  Status st = Elementwise<T>(*plan, io, options, s.saturate);
  if (!st.ok()) return st;
  if (plan->has_state) *state = plan->next_state;
  for (size_t k = 0; k < plan->entries.size(); ++k) {
    WritePackedCode(result.scale_spec, result.scales, k, plan->entries[k].code);
  }
  result.tensor_scale = plan->tensor_scale;
  *out = std::move(result);
  return Status::Ok();
}

}  // namespace

Status QuantizeScaled(const FormatSpec& element, const Scaling& scaling,
                      std::span<const int64_t> shape, std::span<const float> in,
                      std::span<float> out, const TensorOptions& options, ScalingState* state) {
  return QuantizeScaledT<float>(element, scaling, shape, in, out, options, state);
}

Status QuantizeScaled(const FormatSpec& element, const Scaling& scaling,
                      std::span<const int64_t> shape, std::span<const double> in,
                      std::span<double> out, const TensorOptions& options, ScalingState* state) {
  return QuantizeScaledT<double>(element, scaling, shape, in, out, options, state);
}

Status EncodeScaled(const FormatSpec& element, const Scaling& scaling,
                    std::span<const int64_t> shape, std::span<const float> in, ScaledTensor* out,
                    const TensorOptions& options, ScalingState* state) {
  return EncodeScaledT<float>(element, scaling, shape, in, out, options, state);
}

Status EncodeScaled(const FormatSpec& element, const Scaling& scaling,
                    std::span<const int64_t> shape, std::span<const double> in, ScaledTensor* out,
                    const TensorOptions& options, ScalingState* state) {
  return EncodeScaledT<double>(element, scaling, shape, in, out, options, state);
}

Status DecodeScaled(const ScaledTensor& p, std::span<float> out, const TensorOptions& options) {
  const Scaling& s = p.scaling;
  StatusOr<Geometry> g = scaling::MakeGeometry(s, p.shape);
  if (!g.ok()) return g.status();
  const int64_t n = g->Elements();
  if (static_cast<int64_t>(out.size()) != n) {
    return InvalidArgument("scaled decode: the shape holds " + std::to_string(n) +
                           " elements but the output has room for " + std::to_string(out.size()));
  }
  if (p.codes.size() < PackedBytes(p.element, static_cast<size_t>(n))) {
    return InvalidArgument("scaled decode: " + std::to_string(p.codes.size()) +
                           " bytes of codes are too few for " + std::to_string(n) + " elements");
  }
  if (s.kind == ScalingKind::kNone) return Decode(p.element, p.codes, out, options);
  const int64_t entries = g->Entries();
  if (p.scales.size() < PackedBytes(p.scale_spec, static_cast<size_t>(entries))) {
    return InvalidArgument("scaled decode: the scale array holds fewer than " +
                           std::to_string(entries) + " scales");
  }
  // Each block's dequantization factor, from its stored scale code.
  std::vector<Entry> e(static_cast<size_t>(entries));
  // Element values that float32 does not hold exactly are decoded in float64 one by one.
  const bool elem_f32 = MaxFinite(p.element) < 0x1p127 && MinPositive(p.element) >= 0x1p-126;
  bool f32 = elem_f32;
  const float smax = static_cast<float>(MaxFinite(p.scale_spec));
  const float emax_f = static_cast<float>(MaxFinite(p.element));
  for (int64_t k = 0; k < entries; ++k) {
    Entry& en = e[static_cast<size_t>(k)];
    const double v = detail::DecodeToDouble(
        p.scale_spec, ReadPackedCode(p.scale_spec, p.scales, static_cast<size_t>(k)));
    if (s.kind == ScalingKind::kBlock) {
      if (std::isnan(v) || !(v > 0) || std::isinf(v)) {
        en.nan = true;
        continue;
      }
      en.k_dec = std::ilogb(v);
      if (en.k_dec < -149 || en.k_dec > 127) f32 = false;
      en.dec = (en.k_dec >= -149 && en.k_dec <= 127) ? Pow2f(en.k_dec) : 0.0f;
    } else if (s.kind == ScalingKind::kNvfp4) {
      const float s32 = static_cast<float>(v);
      if (s.nvfp4 == Nvfp4Variant::kTransformerEngine) {
        const float factor_inv = static_cast<float>(1.0 / (static_cast<double>(emax_f) * smax));
        en.dec = (s32 * p.tensor_scale) * factor_inv;
      } else {
        en.dec = p.tensor_scale * s32;
      }
    } else {
      en.dec = static_cast<float>(v);
    }
  }
  const FormatSpec& el = p.element;
  const int64_t chunks = (n + kChunk - 1) / kChunk;
  std::vector<Status> errors(static_cast<size_t>(chunks));
  scaling::ParallelFor(chunks, options.threads, [&](int64_t c, int) {
    const int64_t c0 = c * kChunk;
    const int64_t c1 = std::min(n, c0 + kChunk);
    const int64_t len = c1 - c0;
    std::vector<Run> runs;
    CollectRuns(*g, c0, c1, &runs);
    std::span<const uint8_t> codes(p.codes.data() + PackedBytes(el, static_cast<size_t>(c0)),
                                   PackedBytes(el, static_cast<size_t>(len)));
    std::vector<uint8_t> converted;
    std::vector<int64_t> most_negative;  // two's complement 100...0: -2^(bits-1) quanta
    if (s.twos_complement) {
      converted.assign(codes.begin(), codes.end());
      for (int64_t j = 0; j < len; ++j) {
        if (ReadPackedCode(el, converted, static_cast<size_t>(j)) == el.sign_bit) {
          most_negative.push_back(j);
        }
      }
      ConvertTwos(el, converted, len, false);
      codes = converted;
    }
    TensorOptions inner = options;
    inner.threads = 1;
    std::vector<float> q(static_cast<size_t>(len));
    std::vector<double> qd;
    Status st;
    if (elem_f32) {
      st = Decode(el, codes, q, inner);
    } else {
      qd.resize(static_cast<size_t>(len));
      for (int64_t j = 0; j < len; ++j) {
        qd[static_cast<size_t>(j)] =
            detail::DecodeToDouble(el, ReadPackedCode(el, codes, static_cast<size_t>(j)));
      }
    }
    if (st.ok()) {
      for (int64_t j : most_negative) {
        const double v = -std::ldexp(MinPositive(el), el.bits - 1);
        q[static_cast<size_t>(j)] = static_cast<float>(v);
        if (!qd.empty()) qd[static_cast<size_t>(j)] = v;
      }
      for (const Run& r : runs) {
        const Entry& en = e[static_cast<size_t>(r.entry)];
        const float* qr = q.data() + (r.begin - c0);
        float* o = out.data() + r.begin;
        const int64_t m = r.end - r.begin;
        if (en.nan) {
          std::fill(o, o + m, std::numeric_limits<float>::quiet_NaN());
        } else if (!elem_f32) {
          const double* qdr = qd.data() + (r.begin - c0);
          for (int64_t j = 0; j < m; ++j) {
            o[j] = s.kind == ScalingKind::kBlock ? static_cast<float>(std::ldexp(qdr[j], en.k_dec))
                                                 : static_cast<float>(qdr[j]) * en.dec;
          }
        } else if (s.kind == ScalingKind::kBlock && !f32) {
          for (int64_t j = 0; j < m; ++j) {
            o[j] = static_cast<float>(std::ldexp(static_cast<double>(qr[j]), en.k_dec));
          }
        } else {
          for (int64_t j = 0; j < m; ++j) o[j] = qr[j] * en.dec;
        }
      }
    }
    errors[static_cast<size_t>(c)] = st;
  });
  for (const Status& st : errors) {
    if (!st.ok()) return st;
  }
  return Status::Ok();
}

}  // namespace qfloat
