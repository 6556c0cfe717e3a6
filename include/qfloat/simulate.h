// Simulate: SGD in fp64 on real test problems where only the minibatch gradient is quantized
// (THEORY.md §4-5), and the comparison of what it observes with what the bounds predict.
//
// Weights, updates and F stay in fp64. At step k the minibatch gradient g_k is computed in fp64 and
// rounded ONCE by the library's quantizers (Quantize / QuantizeScaled: any format, rounding,
// overflow policy and scaling recipe) into g~_k; then w_{k+1} = w_k - alpha_k g~_k. The identity
// quantizer (the FP baseline) uses g_k as is.
//
// Randomness is counter-based and keyed so that every quantizer sees the same randomness (common
// random numbers): the minibatch of step k under seed r is drawn from Philox4x32-10 keyed by
// (r, a fixed batch constant), so it never depends on the quantizer or the iterate; stochastic
// rounding of element i at step k uses seed r, stream k, index i (quantize.h's SR contract).
//
// Problems (THEORY.md §4; data: data/README.md, columns standardized in fp64 plus an intercept):
//   lsq        F = 1/(2n) |Aw - b|^2 + lambda/2 |w|^2                          (diabetes)
//   logreg     F = 1/n sum log(1 + exp(-y_i a_i^T w)) + lambda/2 |w|^2       (breast_cancer)
//   nonconvex  logistic loss + lambda sum_j w_j^2 / (1 + w_j^2)               (breast_cancer)
//   softmax    F = 1/n sum -log softmax(W a_i)_{y_i} + lambda/2 |W|_F^2       (digits)
// Each sample's f_i includes the regularizer, so g = (1/B) sum_{i in batch} grad f_i(w) with the
// batch drawn uniformly with replacement (the variance formulas of THEORY.md §4 assume this);
// batch 0 means full batch (g = grad F, M = 0).
#ifndef QFLOAT_SIMULATE_H_
#define QFLOAT_SIMULATE_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "qfloat/analysis.h"
#include "qfloat/convergence.h"
#include "qfloat/format.h"
#include "qfloat/rounding.h"
#include "qfloat/scaling.h"
#include "qfloat/status.h"

namespace qfloat::sim {

// ---------------------------------------------------------------------------------------------
// Data.
struct Dataset {
  std::string name;
  int64_t samples = 0;
  int64_t features = 0;   // columns of x, the intercept (last column) included
  int classes = 0;        // 0: regression target; 2: labels +-1; K > 2: class indices 0..K-1
  std::vector<double> x;  // samples x features, row-major
  std::vector<double> y;
};

// The bundled sets (data/, embedded at build time): "diabetes", "breast_cancer", "digits".
std::vector<std::string> BuiltinDatasets();
// Loads a bundled set; `max_samples` > 0 keeps the first rows only (before standardizing), for
// quick runs and tests. Columns standardized in fp64, intercept appended (data/README.md).
StatusOr<Dataset> LoadDataset(std::string_view name, int64_t max_samples = 0);
// The raw (unstandardized) rows of a bundled set: features then target, as parsed.
struct RawTable {
  int64_t rows = 0;
  int64_t cols = 0;  // features only
  std::vector<double> x;
  std::vector<double> y;
};
StatusOr<RawTable> LoadRawDataset(std::string_view name);
// Standardizes every column (mean 0, population sd 1; a constant column becomes 0) and appends
// an intercept column of ones.
std::vector<double> StandardizeWithIntercept(std::span<const double> x, int64_t rows, int64_t cols);

// ---------------------------------------------------------------------------------------------
// Problems.
enum class ProblemKind : uint8_t { kLeastSquares = 0, kLogistic, kNonconvex, kSoftmax };
StatusOr<ProblemKind> ParseProblemKind(std::string_view text);  // lsq logreg nonconvex softmax
std::string ToString(ProblemKind kind);
std::string DefaultDataset(ProblemKind kind);  // diabetes, breast_cancer, breast_cancer, digits
bool StronglyConvex(ProblemKind kind);         // all but nonconvex (lambda > 0)

class Problem {
 public:
  // Checks that the data fit the kind (regression target, +-1 labels, class indices) and that
  // lambda is finite and >= 0 (> 0 for the strongly convex kinds).
  static StatusOr<Problem> Create(ProblemKind kind, Dataset data, double lambda);

  ProblemKind kind() const { return kind_; }
  double lambda() const { return lambda_; }
  const Dataset& data() const { return data_; }
  int64_t samples() const { return data_.samples; }
  // Number of parameters: features, or classes x features for softmax.
  size_t dim() const { return dim_; }
  // The gradient tensor's shape, {features} or {classes, features}: scaling blocks run along the
  // last axis, as a framework would lay out a weight matrix.
  std::vector<int64_t> shape() const;

  double Value(std::span<const double> w) const;                        // F(w)
  void Gradient(std::span<const double> w, std::span<double> g) const;  // grad F(w)
  // (1/|batch|) sum over the batch of grad f_i(w) (indices may repeat).
  void BatchGradient(std::span<const double> w, std::span<const int64_t> batch,
                     std::span<double> g) const;
  void SampleGradient(std::span<const double> w, int64_t i, std::span<double> g) const;
  // Hessian-vector product H(w) v (for the Lanczos / power-iteration cross-checks).
  void HessianVector(std::span<const double> w, std::span<const double> v,
                     std::span<double> out) const;

 private:
  Problem() = default;
  // Adds scale * grad of the data term of sample i at w to g.
  void AddSampleDataGradient(std::span<const double> w, int64_t i, double scale,
                             std::span<double> g, std::vector<double>& scratch) const;
  double SampleLoss(std::span<const double> w, int64_t i, std::vector<double>& scratch) const;
  double RegularizerValue(std::span<const double> w) const;
  void AddRegularizerGradient(std::span<const double> w, std::span<double> g) const;

  ProblemKind kind_ = ProblemKind::kLeastSquares;
  double lambda_ = 0.0;
  Dataset data_;
  size_t dim_ = 0;
};

// The problem's constants, computed as THEORY.md §4 says, for minibatch size `batch` (0 = full).
struct ProblemAnalysis {
  ProblemConstants constants;  // L, c (0 for nonconvex), mu = mu_G = 1, M, M_V, M_G, Delta1
  int64_t batch = 0;
  double lambda_max_data = 0.0;  // lambda_max(A^T A / n)
  double c_local = 0.0;          // lambda_min of the Hessian at w* (logreg, softmax; = c for lsq)
  double F_star = 0.0;           // min F (convex); the local minimum reached from w1 (nonconvex)
  double F_inf = 0.0;            // the lower bound used for Delta1 (= F_star; 0 for nonconvex)
  double F1 = 0.0;               // F(w1)
  double grad_norm_star = 0.0;   // |grad F(w*)| after the solve (its accuracy)
  double V_star = 0.0;           // V(w*) = E|g - grad F|^2 at w*: the local floor constant M_*
  double M_V_min = 0.0;          // lsq: M_V below which no finite M exists (P = M_V H^2 - C/B >= 0)
  double M_simple = 0.0;         // lsq: the simpler pair M = 2 m0/B, M_V = 2 lambda_max(C)/(B c^2)
  double M_V_simple = 0.0;
  int newton_iterations = 0;
  std::vector<double> w_star;
  std::vector<double> w1;
  std::vector<std::string> notes;  // how each constant was obtained (for the report)
};
// w1 empty: the origin.
StatusOr<ProblemAnalysis> AnalyzeProblem(const Problem& problem, int64_t batch,
                                         std::span<const double> w1 = {});
// V(w) = E_xi |g(w, xi) - grad F(w)|^2 for minibatches of `batch` drawn with replacement (exact:
// the per-sample variance over all n samples divided by batch; 0 for full batch).
double GradientVariance(const Problem& problem, std::span<const double> w, int64_t batch);

// ---------------------------------------------------------------------------------------------
// Schedules.
struct Schedule {
  enum class Kind : uint8_t { kFixed = 0, kDiminishing } kind = Kind::kFixed;
  double theta = 1.0;   // fixed: alpha = theta mu / (L M_G) unless `alpha` is given
  double alpha = 0.0;   // fixed: explicit step (> 0 overrides theta)
  double beta = 0.0;    // diminishing: alpha_k = beta / (gamma + k); 0 = default (Resolve)
  double gamma = -1.0;  // < 0 = default
  double Alpha(int64_t k) const;  // k >= 1; needs Resolve first
};
// fixed[:THETA] | fixed:alpha=A | diminishing[:beta=B][:gamma=G] (',' also separates).
StatusOr<Schedule> ParseSchedule(std::string_view text);
std::string ToString(const Schedule& s);
// Fills the defaults from the constants: fixed alpha = theta mu/(L M_G); diminishing
// beta = 2/(c mu) (nonconvex: 100 mu/(L M_G)) and gamma so that alpha_1 = mu/(L M_G) (the FP
// admissibility limit), at least 1e-9 (BCN Thm 4.7 needs gamma > 0).
Status ResolveSchedule(Schedule& s, const ProblemConstants& p);

// ---------------------------------------------------------------------------------------------
// Quantizers.
struct Quantizer {
  std::string label;          // how tables name it ("e4m3fn", "mxfp4", "e4m3fn+tensor@sr")
  bool identity = false;      // FP baseline: no quantization
  FormatSpec element;         // the element format
  Scaling scaling;            // kNone: plain Quantize
  QuantizeOptions quantize;   // rounding and overflow; seed/stream/index set per step
  bool null_control = false;  // expected q ~ 1 (THEORY.md §5 "Null controls")
};
// A null control by its descriptor: at least 7 fraction bits (bf16, fp16, fp32 and wider) or
// stochastic rounding with a scaling recipe; never by name.
bool IsNullControl(const FormatSpec& element, const Scaling& scaling, const Rounding& rounding);

// Rounds g (shape `shape`) once into `out` with quantizer q; SR keyed by (seed, step, index).
// Fills the ShrinkageStats (fast path) with each element classified against the thresholds of
// its own dequantization scale (ClassThresholds::Scaled). `stats` may be null; `state` carries
// delayed scaling across steps (may be null for the other recipes).
Status QuantizeGradient(const Quantizer& q, std::span<const int64_t> shape,
                        std::span<const double> g, uint64_t seed, uint64_t step,
                        std::span<double> out, ShrinkageStats* stats,
                        ScalingState* state = nullptr);

// ---------------------------------------------------------------------------------------------
// The SGD runs.
struct SimulateOptions {
  int64_t steps = 1000;     // K
  int seeds = 8;            // R
  uint64_t seed = 0;        // seeds are seed, seed + 1, ..., seed + R - 1
  int64_t batch = 32;       // 0 = full batch
  Schedule schedule;        // resolved
  int record_points = 160;  // size of the log-spaced record grid (all steps if >= steps + 1)
  int threads = 0;          // 0 = hardware threads; results do not depend on it
  bool every_step_gradnorm = false;  // |grad F(w_k)|^2 at every step (running average exact)
  // Called after each finished run (thread-safe counter for a progress bar).
  std::function<void()> on_run_done;
};

// The minibatch of step k (>= 1) under `seed`: `batch` indices in [0, n), sample j uniform from
// 64 bits of Philox4x32-10 (counter (lo32(j/4), hi32(j/4), k, 0xBA7C4000 + w), key = seed, words
// w = 0, 1 combined; multiply-shift, bias below n/2^64). It depends on nothing else, so every
// quantizer sees the same sequence (common random numbers).
void MinibatchIndices(uint64_t seed, uint64_t step, int64_t n, std::span<int64_t> out);

// The record grid over the iterates w_1..w_K: 1..10, then half the points geometric up to K
// and half linear over [K/2, K] (where plateaus are measured); all steps when points >= K.
std::vector<int64_t> RecordGrid(int64_t steps, int points);

// One (quantizer, seed) run. Index j of every vector refers to grid[j] (iterate w_k, k = grid[j]).
struct RunRecord {
  std::vector<double> gap;              // F(w_k) - F_star
  std::vector<double> grad_sq;          // |grad F(w_k)|^2
  std::vector<double> grad_sq_running;  // (1/k) sum_{i<=k} |grad F(w_i)|^2 (exact if every step)
  std::vector<StepRecord> steps;        // the quantization record of step k (k <= K)
  // FP baseline, first seed only: V(w_k) exactly (the check V <= M + M_V |grad F|^2 of §4).
  std::vector<double> variance;
  StepSummary summary;          // over every step of the run (analysis.h SummarizeSteps)
  double weighted_q = 1.0;      // sum alpha_k q_k / sum alpha_k over every step
  int64_t nonfinite_steps = 0;  // steps whose quantized gradient was not finite
  bool diverged = false;        // w or F became non-finite (the run stops there)
  uint64_t batch_digest = 0;    // a hash of every minibatch drawn (common random numbers)
  int64_t diverged_step = 0;
};

struct SimulationResult {
  ProblemKind kind = ProblemKind::kLeastSquares;
  std::string dataset;
  double lambda = 0.0;
  ProblemAnalysis analysis;
  SimulateOptions options;  // on_run_done cleared
  std::vector<int64_t> grid;
  std::vector<double> alpha;                 // alpha_k at grid steps
  std::vector<Quantizer> quantizers;         // [0] is the FP baseline (identity)
  std::vector<std::vector<RunRecord>> runs;  // [quantizer][seed]
};

// Runs every quantizer (the identity is prepended) for every seed, in parallel over
// (quantizer, seed). Fails on an invalid option or a quantizer error.
StatusOr<SimulationResult> Simulate(const Problem& problem, const ProblemAnalysis& analysis,
                                    std::vector<Quantizer> quantizers,
                                    const SimulateOptions& options);

// ---------------------------------------------------------------------------------------------
// The comparison report (THEORY.md §5 "Report").
struct CompareOptions {
  int bootstrap = 1000;  // resamples of the seeds
  double confidence = 0.95;
  uint64_t bootstrap_seed = 1;
  // Targets: fractions of Delta1 (10^-j) and multiples of the FP plateau; empty = defaults
  // ({1e-1, 1e-2, 1e-3, 1e-4, 1e-6, 1e-8} x Delta1 reached by the FP curve, and 1.5, 2, 4 x the
  // FP plateau when the batch is not full).
  std::vector<double> delta_fractions;
  std::vector<double> plateau_multiples;
  NoiseModel noise = NoiseModel::kRelative;
  ShrinkageMode mode = ShrinkageMode::kG;
};

struct Interval {
  double lo = 0.0;
  double hi = 0.0;
};

struct TargetResult {
  std::string name;  // "1e-2 Delta1", "2x plateau"
  double epsilon = 0.0;
  bool transient = true;  // a Delta1 fraction (rate regime), not a plateau multiple
  double k_fp = 0.0;      // iterations to target, seed-averaged curves (inf: not reached)
  double k_lp = 0.0;
  double s_obs = 0.0;    // k_lp / k_fp
  Interval s_ci;         // bootstrap over seeds (paired)
  double s_bound = 0.0;  // S_pred(q_min): the theorem's K_LP/K_FP with measured constants
                         // (NaN when the FP theorem's floor is above the target: vacuous)
  double s_rate = 0.0;   // the theorem's transient slowdown with q_min, floors ignored:
                         // ln(1 - alpha c mu)/ln(1 - alpha c mu q_min) (a); 1/q_min (c)
  double s_point = 0.0;  // S_pred(q-bar_alpha): floors calibrated on the observed FP plateau
  bool ci_contains_one = false;
  bool within_one_percent = false;  // |s_obs - 1| < 1% (practical equivalence for null controls)
  // S_obs <= s_bound, or <= s_rate where the theorem is vacuous (true when the LP one is inf):
  // false only when the whole CI lies above it (0.1% slack for the interpolation of K).
  bool bound_holds = false;
};

struct QuantizerComparison {
  std::string label;
  bool identity = false;
  bool null_control = false;
  // Quantization statistics over every step of every seed.
  double q_min = 0.0;
  double q_max = 0.0;
  double q_weighted = 0.0;   // q-bar_alpha, mean over seeds
  double q_plateau = 0.0;    // mean q^_k over the second half (the floor's point predictor)
  double rho_max = 0.0;      // delta
  double rho_plateau = 0.0;  // mean rho^_k over the second half
  double sigma0_sq_max = 0.0;
  double flushed_energy_max = 0.0;
  double saturated_energy_max = 0.0;
  int64_t nonfinite_steps = 0;
  int diverged_runs = 0;
  ShrinkageConstants shrinkage;  // what feeds the bounds (DeriveShrinkageConstants)
  bool shrinkage_valid = false;  // q_min > 0 and finite: the LP bounds say something
  // Slowdown.
  std::vector<TargetResult> targets;
  double log_slope_ratio = 0.0;  // transient log-slope ratio LP/FP (vs q-bar_alpha)
  // Floor.
  double plateau = 0.0;     // mean of the second half of the seed-averaged curve
  bool stationary = false;  // third and fourth quarter means agree within 10% (or CI)
  double phi_obs = 0.0;     // plateau / FP plateau
  Interval phi_ci;
  double phi_bound = 0.0;  // FloorRatio with (q_min, q_max, delta, sigma0^2)
  double phi_point = 0.0;  // q + (delta M_* + sigma0^2)/(q M_*) with plateau means
  // Validity of the bound against the seed-averaged curve.
  bool bound_applicable = false;  // strongly convex fixed step with valid shrinkage constants
  bool admissible = false;        // alpha <= alpha_max (LP, mode)
  bool bound_violated = false;
  int64_t violation_step = 0;    // first grid step where the mean curve exceeds the bound
  double violation_ratio = 0.0;  // max observed / bound over the grid
  // Stall (unscaled low precision): final gap and the q trajectory.
  double final_gap = 0.0;              // mean over seeds of the last grid point
  bool stalled = false;                // final gap > 10x FP's and q collapsed (< 0.5) at the end
  int64_t q_collapse_step = 0;         // first grid step with seed-mean q^ < 0.5 (0: never)
  std::vector<double> mean_gap;        // seed-averaged curve on the grid
  std::vector<double> gap_lo, gap_hi;  // pointwise bootstrap band
  std::vector<double> mean_q;          // seed-mean q^_k on the grid (k <= K)
  std::vector<double> bound_curve;     // LP bound on the grid (NaN where not applicable)
  std::string note;                    // what holds and what does not, in words
};

struct Comparison {
  std::string metric;  // "F - F*" or "F - F_loc" (nonconvex)
  double fp_plateau = 0.0;
  bool fp_stationary = false;
  bool fp_bound_violated = false;  // the FP theorem with our constants vs the FP curve: a bug if so
  double fp_bound_ratio = 0.0;     // max FP curve / FP bound
  double variance_check = 0.0;     // max over recorded FP points of V(w) / (M + M_V |grad F|^2)
  std::vector<QuantizerComparison> rows;  // [0] = FP baseline
};

StatusOr<Comparison> Compare(const Problem& problem, const SimulationResult& result,
                             const CompareOptions& options = {});

}  // namespace qfloat::sim

#endif  // QFLOAT_SIMULATE_H_
