// Analysis: what a quantizer does to a gradient, measured exactly (THEORY.md §2).
//
// ShrinkageStats is a mergeable accumulator filled in one fused pass with the quantizer (Analyze)
// or from a gradient and an image computed elsewhere (Accumulate, for scaled recipes). It keeps
//   S_gg = sum g^2, S_dg = sum g d, S_dd = sum d^2   (d = Q(g) - g),
// per-class counts and sums (THEORY.md §2.2), a fixed-bin histogram of log2|r - 1| (r = Q(g)/g),
// and min/max of g. Derived (Summarize): q^ = 1 + S_dg/S_gg, the deficit 1 - q^ = -S_dg/S_gg
// computed directly, |eps|^2 = S_dd - S_dg^2/S_gg without cancellation, rho^ = |eps|^2/S_gg,
// flushed/saturated fractions. q is never clamped.
//
// Two summation paths (THEORY.md §2.7):
// - kExact: a fixed-point superaccumulator (ExactSum). Every sum is exact; merging shards in any
//   order, with any thread count or chunking, gives identical bits, and each derived figure is
//   the exact rational rounded once (round to nearest even).
// - kFast: compensated fp64 (TwoSum lanes, double-double totals). The error bound is stated in
//   docs/theory-notes.md and checked by the tests against the exact path.
//
// Over steps: StepRecord (one small record per step), SummarizeSteps (q_min, quantiles with the
// binomial confidence statement of THEORY.md §2.6, q-bar_alpha, q_max, delta and sigma0^2),
// StepLog (per-tensor breakdowns and the model-level q_k), and DeriveShrinkageConstants, which
// feeds convergence.h.
//
// Every struct below is plain data (numbers, strings, vectors) so that the CLI can write it as
// JSON. Figures that are undefined (S_gg = 0) are NaN with a `defined = false` flag.
#ifndef QFLOAT_ANALYSIS_H_
#define QFLOAT_ANALYSIS_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "qfloat/convergence.h"
#include "qfloat/format.h"
#include "qfloat/quantize.h"
#include "qfloat/rounding.h"
#include "qfloat/status.h"

namespace qfloat {

// ---------------------------------------------------------------------------------------------
// Element classes (THEORY.md §2.2): each element is in exactly one, tested in this order.
enum class ElementClass : uint8_t {
  kZero = 0,       // g = 0 (Q may still be nonzero, e.g. a format without zero)
  kExact = 1,      // Q = g
  kNormal = 2,     // rounded, |g| >= the smallest normal
  kSubnormal = 3,  // rounded to a nonzero value, |g| < the smallest normal (posits: minpos)
  kFlushed = 4,    // Q = 0 != g
  kSaturated = 5,  // |Q| = max_finite < |g|
  kNonFinite = 6,  // g or Q not finite: counted, excluded from every sum (the model is broken)
};
inline constexpr int kNumElementClasses = 7;
std::string_view ToString(ElementClass c);  // zero exact normal subnormal flushed saturated ...

// The thresholds that classify an element. For a scaled recipe Q_s(g) = s Q(g/s), scale both by s.
struct ClassThresholds {
  double max_finite = 0.0;  // saturation: |Q| == max_finite < |g| (0: never)
  double min_normal = 0.0;  // subnormal region: |g| < min_normal
  static ClassThresholds ForFormat(const FormatSpec& spec);
  ClassThresholds Scaled(double s) const { return {max_finite * s, min_normal * s}; }
};

// Histogram of log2|r - 1| = log2(|d|/|g|) over finite elements with g != 0, fixed bins:
//   bin 0: exact (r = 1);  bin 1: |r - 1| < 2^kRatioMinExp;
//   bin 2 + (k - kRatioMinExp): 2^k <= |r - 1| < 2^(k+1), k = kRatioMinExp..kRatioMaxExp;
//   last bin: |r - 1| >= 2^(kRatioMaxExp + 1).
// The bin of an element is computed exactly from g and Q (flushed elements have |r - 1| = 1).
inline constexpr int kRatioMinExp = -64;
inline constexpr int kRatioMaxExp = 63;
inline constexpr int kRatioBins = 3 + (kRatioMaxExp - kRatioMinExp + 1);  // 131
// The bin of (g, q) for finite g != 0 and finite q; -1 otherwise.
int RatioBin(double g, double q);
// log2 of a bin's lower edge: -inf for bins 0 and 1, k for the regular bins, kRatioMaxExp + 1
// for the last.
double RatioBinLowerLog2(int bin);

enum class SumPath : uint8_t { kExact = 0, kFast = 1 };
std::string ToString(SumPath path);  // "exact", "fast"
StatusOr<SumPath> ParseSumPath(std::string_view text);

// ---------------------------------------------------------------------------------------------
// An exact sum of doubles and of products of two doubles: a two's-complement fixed-point integer
// in 32-bit digits held in int64 limbs (lazy carry), over a window that grows to whatever range
// the terms need (fp32-derived products: 2^-298..2^256; any fp64 product: 2^-2148..2^2048).
// Merge is limb-wise integer addition, so merging in any order gives the same value, and the
// canonical serialization identical bytes.
class ExactSum {
 public:
  // Exact. A non-finite argument adds nothing and marks the sum invalid (ToDouble gives NaN).
  void Add(double x);
  void AddProduct(double a, double b);   // exact a*b (106-bit product)
  void Merge(const ExactSum& other);     // this += other
  void Subtract(const ExactSum& other);  // this -= other
  bool IsZero() const;
  int Sign() const;  // -1, 0, 1
  bool valid() const { return !invalid_; }
  // The value rounded once to nearest even (+-inf beyond double's range; NaN if invalid).
  double ToDouble() const;
  // Canonical form: identical values give identical bytes.
  std::vector<uint8_t> Serialize() const;
  static StatusOr<ExactSum> Deserialize(std::span<const uint8_t> bytes);
  friend bool operator==(const ExactSum& a, const ExactSum& b);

  // Internal representation, for the analysis internals: value = sum limbs[i] 2^(32 (lo + i)).
  int32_t lo_digit() const { return lo_; }
  const std::vector<int64_t>& limbs() const { return limbs_; }
  // Adds raw limbs (each |limb| < 2^50) at digit `lo_digit`.
  void AddLimbs(int32_t lo_digit, std::span<const int64_t> limbs);
  void Normalize();  // carry-propagates into the canonical form

 private:
  void AddDigits(int32_t digit, const uint32_t* digits, int n, bool negative);
  void Reserve(int32_t digit_lo, int32_t digit_hi);
  void Combine(const ExactSum& other, bool negate);

  int32_t lo_ = 0;
  std::vector<int64_t> limbs_;
  uint64_t pending_ = 0;  // bound on max |limb| / 2^32 since the last normalization
  bool invalid_ = false;  // a non-finite term was added
};

// A compensated fp64 sum (double-double: value = hi + lo).
struct CompensatedSum {
  double hi = 0.0;
  double lo = 0.0;
  void Add(double x);                       // TwoSum
  void Merge(const CompensatedSum& other);  // double-double addition
  double Value() const { return hi + lo; }
};

// ---------------------------------------------------------------------------------------------
struct ClassSummary {
  ElementClass element_class = ElementClass::kZero;
  uint64_t count = 0;
  double count_fraction = 0.0;   // of the included (non-excluded) elements; NaN if none
  double s_gg = 0.0;             // sum g^2 over the class (its energy)
  double s_dg = 0.0;             // sum g d
  double s_dd = 0.0;             // sum d^2
  double energy_fraction = 0.0;  // s_gg / S_gg (NaN when S_gg = 0)
  double deficit_share = 0.0;    // -s_dg / S_gg: the class's share of 1 - q^ (THEORY.md §2.2)
};

struct HistogramBin {
  int bin = 0;
  double lower_log2 = 0.0;  // RatioBinLowerLog2(bin)
  uint64_t count = 0;
  double energy = 0.0;           // sum g^2 over the bin
  double energy_fraction = 0.0;  // energy / S_gg
};

struct ShrinkageSummary {
  SumPath path = SumPath::kExact;
  uint64_t count = 0;           // every element seen
  uint64_t included_count = 0;  // count minus the non-finite ones
  uint64_t nonfinite_count = 0;
  bool defined = false;  // S_gg > 0: q_hat, deficit and rho_hat are meaningful
  bool broken = false;   // some element or image was not finite (THEORY.md §2.1)
  double s_gg = 0.0;
  double s_dg = 0.0;
  double s_dd = 0.0;
  double q_hat = 0.0;        // 1 + S_dg/S_gg, never clamped
  double deficit = 0.0;      // 1 - q^ = -S_dg/S_gg, computed directly
  double residual_sq = 0.0;  // |eps|^2 = S_dd - S_dg^2/S_gg (= S_dd when S_gg = 0)
  double rho_hat = 0.0;      // |eps|^2 / S_gg
  double mse = 0.0;          // S_dd / included_count
  double sqnr_db = 0.0;      // 10 log10(S_gg / S_dd)
  double min_g = 0.0;        // over finite g (NaN when there is none)
  double max_g = 0.0;
  double amax = 0.0;
  double flushed_count_fraction = 0.0;
  double flushed_energy_fraction = 0.0;
  double saturated_count_fraction = 0.0;
  double saturated_energy_fraction = 0.0;
  std::array<ClassSummary, kNumElementClasses> classes{};
  std::vector<HistogramBin> histogram;  // nonempty bins, in bin order
};

// ---------------------------------------------------------------------------------------------
class ShrinkageStats {
 public:
  explicit ShrinkageStats(SumPath path = SumPath::kFast);

  SumPath path() const { return path_; }

  // Adds elements g with their images q (same length). `threads` 0 = all hardware threads; the
  // exact path's result does not depend on it (nor, for a given SIMD target, the fast path's).
  // The fast path's stated bound assumes products g g, g Q, Q Q within double's normal range
  // (always so for float32 values); the exact path has no range limit.
  Status Accumulate(std::span<const float> g, std::span<const float> q,
                    const ClassThresholds& thresholds, int threads = 1);
  Status Accumulate(std::span<const double> g, std::span<const double> q,
                    const ClassThresholds& thresholds, int threads = 1);

  // this += other (same path, else InvalidArgument).
  Status Merge(const ShrinkageStats& other);

  uint64_t count() const;
  uint64_t count(ElementClass c) const { return counts_[static_cast<int>(c)]; }
  uint64_t bin_count(int bin) const {
    return bin >= 0 && bin < kRatioBins ? bin_counts_[static_cast<size_t>(bin)] : 0;
  }
  double min_g() const { return min_g_; }  // +inf when no finite g was seen
  double max_g() const { return max_g_; }  // -inf when no finite g was seen

  ShrinkageSummary Summarize() const;

  // Versioned little-endian bytes; Deserialize checks everything it reads (DataError).
  std::vector<uint8_t> Serialize() const;
  static StatusOr<ShrinkageStats> Deserialize(std::span<const uint8_t> bytes);

  // Exact path: per-class sums g^2, g Q, Q^2 (d-sums are derived exactly from them).
  struct ExactClassSums {
    ExactSum gg, gq, qq;
  };
  // Fast path: per-class sums g^2, g d, d^2; the totals add g Q and Q^2, so that q^ and |eps|^2
  // stay accurate relative to themselves when q^ is near 0 (everything flushed or saturated).
  struct FastClassSums {
    CompensatedSum gg, dg, dd;
  };
  struct FastTotals {
    CompensatedSum gg, dg, dd, gq, qq;
  };

 private:
  friend struct ShrinkageStatsAccess;  // src/analysis internals

  SumPath path_;
  std::array<uint64_t, kNumElementClasses> counts_{};
  std::array<uint64_t, kRatioBins> bin_counts_{};
  double min_g_;
  double max_g_;
  // Exact path.
  std::array<ExactClassSums, kNumElementClasses> exact_;
  std::array<ExactSum, kRatioBins> exact_bin_energy_;
  // Fast path: totals (compensated lane sums), classes, bin energies.
  FastTotals fast_total_;
  std::array<FastClassSums, kNumElementClasses> fast_;
  std::array<CompensatedSum, kRatioBins> fast_bin_energy_;
};

// ---------------------------------------------------------------------------------------------
// The fused pass: quantizes g in cache-sized chunks with the tensor API (qfloat::Quantize, the
// backend from `options`) into a per-thread buffer and accumulates at once; no second pass over
// memory. Threads: options.threads (0 = all). Stochastic rounding draws element i's bits from
// index options.quantize.index_offset + i, as one Quantize call over the whole tensor would.
struct AnalyzeOptions {
  SumPath path = SumPath::kFast;
  // If non-empty (same length as g), receives Q(g) (the only case where it is materialised).
  std::span<float> quantized_f32 = {};
  std::span<double> quantized_f64 = {};
};
StatusOr<ShrinkageStats> Analyze(const FormatSpec& spec, std::span<const float> g,
                                 const TensorOptions& options, const AnalyzeOptions& analyze = {});
StatusOr<ShrinkageStats> Analyze(const FormatSpec& spec, std::span<const double> g,
                                 const TensorOptions& options, const AnalyzeOptions& analyze = {});
// Whether every finite value of `spec` is a float32 (then the fused pass quantizes in float32;
// otherwise it widens to float64 so that Q(g) is exact).
bool FitsInFloat(const FormatSpec& spec);

// ---------------------------------------------------------------------------------------------
// Blocks, tensors and shards (THEORY.md §2.4): from each part's S_gg, S_dg and |eps|^2,
//   q^ = sum_b S_gg,b q^_b / S_gg,   |eps|^2 = sum_b [|eps_b|^2 + (q^_b - q^)^2 S_gg,b]
// (exact because eps_b is orthogonal to g_b). The same formula gives the model-level q_k from
// per-tensor values. Parts with S_gg = 0 contribute |eps_b|^2 (= S_dd,b) only.
struct PartSummary {
  double s_gg = 0.0;
  double s_dg = 0.0;
  double residual_sq = 0.0;
};
PartSummary ToPart(const ShrinkageSummary& s);
struct CombinedParts {
  bool defined = false;
  double s_gg = 0.0;
  double s_dg = 0.0;
  double q_hat = 0.0;
  double deficit = 0.0;
  double residual_sq = 0.0;
  double rho_hat = 0.0;
  double between_parts = 0.0;  // sum_b (q^_b - q^)^2 S_gg,b: shrinkage that differs by part
};
CombinedParts CombineParts(std::span<const PartSummary> parts);
// The two-part residual merge of THEORY.md §2.7 (b = S_dg/S_gg):
//   R_AB = R_A + R_B + S_A S_B / (S_A + S_B) (b_A - b_B)^2; every term >= 0.
double MergeResidual(const PartSummary& a, const PartSummary& b);

// ---------------------------------------------------------------------------------------------
// Stochastic rounding (THEORY.md §2.3). For one element x, the reference's SR picks between the
// toward-zero outcome `down` and the away-from-zero outcome `up` (both as the reference returns
// them, overflow policy included); p_up is the exact probability for `sr` and floor(f 2^K)/2^K
// for `sr:K` (f = (|x| - |down|)/(|up| - |down|)). Deterministic cases have down == up, p_up = 0.
struct SrOutcome {
  double down = 0.0;
  double up = 0.0;
  double p_up = 0.0;
  double mean_error = 0.0;  // E d = E Q(x) - x (0 for `sr` between finite neighbours)
  double variance = 0.0;    // Var Q(x) = p (1 - p) (up - down)^2; (x - l)(h - x) for `sr`
  bool finite = true;       // both outcomes finite (else excluded and counted)
};
// `options.rounding` must be sr or sr:K. The neighbours come from the reference with directed
// rounding (rdn/rup on the sign of x) under options.overflow.
SrOutcome StochasticOutcome(const FormatSpec& spec, double x, const QuantizeOptions& options);

struct StochasticSummary {
  uint64_t count = 0;
  uint64_t random_count = 0;     // elements with 0 < p_up < 1
  uint64_t biased_count = 0;     // elements with E d != 0 (saturation, clamps, sr:K, ...)
  uint64_t nonfinite_count = 0;  // an outcome (or g) not finite: excluded
  bool defined = false;          // S_gg > 0
  double s_gg = 0.0;
  // Analytic (no sampling): with e_i = E d_i and v_i = Var d_i,
  //   E q^ = 1 + sum g_i e_i / S_gg,  sd(q^) = sqrt(sum g_i^2 v_i) / S_gg,
  //   E|eps|^2 = sum v_i (1 - g_i^2/S_gg) + [sum e_i^2 - (sum g_i e_i)^2 / S_gg].
  // Unbiased (all e_i = 0): E q^ = 1 and E|eps|^2 = sum v_i (1 - g_i^2/S_gg), THEORY.md §2.3.
  double expected_q_hat = 0.0;
  double expected_deficit = 0.0;
  double sd_q_hat = 0.0;
  double expected_residual_sq = 0.0;
  double expected_rho = 0.0;
  double variance_sum = 0.0;      // sum v_i
  double bias_residual_sq = 0.0;  // the bracket above: residual of the mean image
  // Empirical, over `draws` independent draws (draw r uses seed options.seed + r).
  int draws = 0;
  double mean_q_hat = 0.0;
  double se_q_hat = 0.0;  // sample sd / sqrt(draws)
  double sample_sd_q_hat = 0.0;
  double mean_deficit = 0.0;
  double se_deficit = 0.0;
  double mean_residual_sq = 0.0;
  double se_residual_sq = 0.0;
  std::vector<double> draw_deficits;  // per draw, for plots
};
StatusOr<StochasticSummary> AnalyzeStochastic(const FormatSpec& spec, std::span<const float> g,
                                              const TensorOptions& options, int draws,
                                              SumPath path = SumPath::kFast);
StatusOr<StochasticSummary> AnalyzeStochastic(const FormatSpec& spec, std::span<const double> g,
                                              const TensorOptions& options, int draws,
                                              SumPath path = SumPath::kFast);

// ---------------------------------------------------------------------------------------------
// Over steps (THEORY.md §2.6).
struct StepRecord {
  int64_t step = 0;      // k
  double alpha = 0.0;    // alpha_k
  bool defined = false;  // S_gg > 0
  bool broken = false;   // non-finite elements present
  double q_hat = 0.0;
  double deficit = 0.0;
  double rho_hat = 0.0;
  double residual_sq = 0.0;  // |eps_k|^2
  double grad_sq = 0.0;      // |g_k|^2 = S_gg
  uint64_t count = 0;
  std::array<double, kNumElementClasses> count_fraction{};
  std::array<double, kNumElementClasses> energy_fraction{};
};
StepRecord MakeStepRecord(int64_t step, double alpha, const ShrinkageSummary& s);

// Lower confidence bound of a low quantile (THEORY.md §2.6): P(X_(j) <= xi_p) = P(Bin(N,p) >= j);
// j is the largest with this >= confidence = 1 - a. The same j from the top, X_(N+1-j), is an
// upper bound of xi_(1-p) (used for delta and sigma0^2).
struct QuantileBound {
  double p = 0.0;
  double confidence = 0.0;         // 1 - a
  uint64_t n = 0;                  // samples
  uint64_t j = 0;                  // order statistic (1-based); 0 when N is too small
  double achieved = 0.0;           // P(Bin(N,p) >= j)
  bool valid = false;              // j >= 1
  double value = 0.0;              // X_(j) (lower) or X_(N+1-j) (upper); NaN when !valid
  uint64_t min_n_for_extreme = 0;  // ceil(ln a / ln(1 - p)): N needed for the min (max) itself
};
QuantileBound LowerQuantileBound(std::span<const double> values, double p, double a);
QuantileBound UpperQuantileBound(std::span<const double> values, double p, double a);
// Largest j with P(Bin(n, p) >= j) >= 1 - a (0 if none), and that probability.
uint64_t BinomialOrderIndex(uint64_t n, double p, double a, double* achieved = nullptr);
// P(Bin(n, p) >= j), computed in log space (accurate far into the tails).
double BinomialUpperTail(uint64_t n, double p, uint64_t j);

struct StepSummaryOptions {
  double quantile_p = 0.01;  // low quantile of q (and 1 - p for delta, sigma0^2)
  double quantile_a = 0.05;  // confidence 1 - a
};
struct StepSummary {
  uint64_t steps = 0;
  uint64_t defined_steps = 0;  // steps with S_gg > 0 (the others are skipped)
  uint64_t broken_steps = 0;
  double q_min = 0.0;  // exact minimum (NaN when no defined step)
  int64_t q_min_step = 0;
  double q_max = 0.0;
  int64_t q_max_step = 0;
  double q_mean = 0.0;
  double q_weighted_mean = 0.0;  // q-bar_alpha = sum alpha_k q_k / sum alpha_k
  QuantileBound q_low;           // lower bound of the p-quantile of q
  double delta_max = 0.0;        // max rho^_k
  QuantileBound delta_high;      // upper bound of the (1-p)-quantile of rho^_k
  double sigma0_sq_max = 0.0;    // max |eps_k|^2
  QuantileBound sigma0_sq_high;
  double max_flushed_energy_fraction = 0.0;
  double max_saturated_energy_fraction = 0.0;
};
StepSummary SummarizeSteps(std::span<const StepRecord> records,
                           const StepSummaryOptions& options = {});
// Windows of `window` consecutive records (the last may be shorter): steps are not i.i.d.
std::vector<StepSummary> SummarizeWindows(std::span<const StepRecord> records, size_t window,
                                          const StepSummaryOptions& options = {});

// Which plug-ins feed the bounds (THEORY.md §2.6 "Upper constants").
enum class NoiseModel : uint8_t {
  kRelative = 0,  // N-rel: delta from rho^_k, sigma0^2 = 0 (|eps_k|^2 = rho^_k |g_k|^2 exactly)
  kAbsolute = 1,  // N-abs: sigma0^2 from |eps_k|^2, delta = 0
  kCombined = 2,  // both (conservative: either alone already bounds the measured noise)
};
struct ConstantsChoice {
  bool q_min_from_quantile = false;  // the quantile bound instead of the minimum (a heuristic)
  bool noise_from_quantile = false;  // the high-quantile bound instead of the maximum
  NoiseModel noise = NoiseModel::kRelative;
};
ShrinkageConstants DeriveShrinkageConstants(const StepSummary& summary,
                                            const ConstantsChoice& choice = {});
// Per-step inputs of the mode-P trajectory bound (convergence.h TrajectoryBound).
std::vector<TrajectoryStep> ToTrajectorySteps(std::span<const StepRecord> records,
                                              NoiseModel noise = NoiseModel::kRelative);

// Per-tensor breakdowns and the model-level record of each step: the model-level stats are the
// merge of the tensors' stats (exact on the exact path), which equals CombineParts over them.
struct NamedStats {
  std::string name;
  ShrinkageStats stats;
};
struct TensorBreakdown {
  std::string name;
  std::vector<StepRecord> records;
};
class StepLog {
 public:
  // Adds one step. Tensor names may differ between steps (a tensor absent at a step has no
  // record there). Fails if two tensors share a name or their paths differ.
  Status AddStep(int64_t step, double alpha, std::span<const NamedStats> tensors);
  const std::vector<StepRecord>& model() const { return model_; }
  const std::vector<TensorBreakdown>& tensors() const { return tensors_; }
  StepSummary ModelSummary(const StepSummaryOptions& options = {}) const;
  // One summary per tensor, in the order tensors first appeared.
  std::vector<std::pair<std::string, StepSummary>> TensorSummaries(
      const StepSummaryOptions& options = {}) const;

 private:
  std::vector<StepRecord> model_;
  std::vector<TensorBreakdown> tensors_;
};

}  // namespace qfloat

#endif  // QFLOAT_ANALYSIS_H_
