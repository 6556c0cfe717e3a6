// ShrinkageStats: merging, the derived figures (THEORY.md §2.1-2.2) and serialization. The
// accumulation passes are in analyze.cc.
#include <cmath>
#include <limits>
#include <string>

#include "analysis/bigint.h"
#include "analysis/internal.h"
#include "qfloat/analysis.h"

namespace qfloat {

using analysis_internal::ClassIndex;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr uint32_t kSerialVersion = 1;

}  // namespace

std::string_view ToString(ElementClass c) {
  switch (c) {
    case ElementClass::kZero:
      return "zero";
    case ElementClass::kExact:
      return "exact";
    case ElementClass::kNormal:
      return "normal";
    case ElementClass::kSubnormal:
      return "subnormal";
    case ElementClass::kFlushed:
      return "flushed";
    case ElementClass::kSaturated:
      return "saturated";
    case ElementClass::kNonFinite:
      return "nonfinite";
  }
  return "?";
}

std::string ToString(SumPath path) { return path == SumPath::kExact ? "exact" : "fast"; }

StatusOr<SumPath> ParseSumPath(std::string_view text) {
  if (text == "exact") return SumPath::kExact;
  if (text == "fast") return SumPath::kFast;
  return InvalidArgument("unknown summation path '" + std::string(text) +
                         "' (expected exact or fast)");
}

ClassThresholds ClassThresholds::ForFormat(const FormatSpec& spec) {
  return ClassThresholds{MaxFinite(spec), MinPositiveNormal(spec)};
}

int RatioBin(double g, double q) {
  if (!std::isfinite(g) || !std::isfinite(q) || g == 0.0) return -1;
  return analysis_internal::ExactRatioBin(g, q);
}

double RatioBinLowerLog2(int bin) {
  if (bin <= 1) return -kInf;
  if (bin >= kRatioBins - 1) return kRatioMaxExp + 1;
  return bin - 2 + kRatioMinExp;
}

ShrinkageStats::ShrinkageStats(SumPath path) : path_(path), min_g_(kInf), max_g_(-kInf) {}

uint64_t ShrinkageStats::count() const {
  uint64_t n = 0;
  for (const uint64_t c : counts_) n += c;
  return n;
}

Status ShrinkageStats::Merge(const ShrinkageStats& other) {
  if (other.path_ != path_) {
    return InvalidArgument("cannot merge " + ToString(other.path_) + "-path stats into " +
                           ToString(path_) + "-path stats");
  }
  for (int c = 0; c < kNumElementClasses; ++c) counts_[c] += other.counts_[c];
  for (int b = 0; b < kRatioBins; ++b) bin_counts_[b] += other.bin_counts_[b];
  min_g_ = std::fmin(min_g_, other.min_g_);
  max_g_ = std::fmax(max_g_, other.max_g_);
  if (path_ == SumPath::kExact) {
    for (int c = 0; c < kNumElementClasses; ++c) {
      exact_[c].gg.Merge(other.exact_[c].gg);
      exact_[c].gq.Merge(other.exact_[c].gq);
      exact_[c].qq.Merge(other.exact_[c].qq);
    }
    for (int b = 0; b < kRatioBins; ++b) exact_bin_energy_[b].Merge(other.exact_bin_energy_[b]);
  } else {
    fast_total_.gg.Merge(other.fast_total_.gg);
    fast_total_.dg.Merge(other.fast_total_.dg);
    fast_total_.dd.Merge(other.fast_total_.dd);
    fast_total_.gq.Merge(other.fast_total_.gq);
    fast_total_.qq.Merge(other.fast_total_.qq);
    for (int c = 0; c < kNumElementClasses; ++c) {
      fast_[c].gg.Merge(other.fast_[c].gg);
      fast_[c].dg.Merge(other.fast_[c].dg);
      fast_[c].dd.Merge(other.fast_[c].dd);
    }
    for (int b = 0; b < kRatioBins; ++b) fast_bin_energy_[b].Merge(other.fast_bin_energy_[b]);
  }
  return Status::Ok();
}

namespace {

void FillCommon(ShrinkageSummary& s, const std::array<uint64_t, kNumElementClasses>& counts,
                double min_g, double max_g) {
  for (int c = 0; c < kNumElementClasses; ++c) {
    s.classes[c].element_class = static_cast<ElementClass>(c);
    s.classes[c].count = counts[c];
    s.count += counts[c];
  }
  s.nonfinite_count = counts[ClassIndex(ElementClass::kNonFinite)];
  s.included_count = s.count - s.nonfinite_count;
  s.broken = s.nonfinite_count > 0;
  for (int c = 0; c < kNumElementClasses; ++c) {
    s.classes[c].count_fraction =
        s.included_count > 0 && c != ClassIndex(ElementClass::kNonFinite)
            ? static_cast<double>(counts[c]) / static_cast<double>(s.included_count)
            : (s.included_count > 0 ? 0.0 : kNaN);
  }
  const bool any = min_g <= max_g;
  s.min_g = any ? min_g : kNaN;
  s.max_g = any ? max_g : kNaN;
  s.amax = any ? std::fmax(std::fabs(min_g), std::fabs(max_g)) : kNaN;
}

void FillFractions(ShrinkageSummary& s) {
  const ClassSummary& fl = s.classes[ClassIndex(ElementClass::kFlushed)];
  const ClassSummary& sat = s.classes[ClassIndex(ElementClass::kSaturated)];
  s.flushed_count_fraction = fl.count_fraction;
  s.saturated_count_fraction = sat.count_fraction;
  s.flushed_energy_fraction = fl.energy_fraction;
  s.saturated_energy_fraction = sat.energy_fraction;
  if (s.s_dd > 0.0) {
    s.sqnr_db = s.s_gg > 0.0 ? 10.0 * std::log10(s.s_gg / s.s_dd) : -kInf;
  } else {
    s.sqnr_db = s.s_gg > 0.0 ? kInf : kNaN;
  }
}

}  // namespace

ShrinkageSummary ShrinkageStats::Summarize() const {
  using namespace analysis_internal;  // NOLINT: Dyadic arithmetic below
  ShrinkageSummary s;
  s.path = path_;
  FillCommon(s, counts_, min_g_, max_g_);

  if (path_ == SumPath::kExact) {
    std::array<Dyadic, kNumElementClasses> gg, dg, dd;
    Dyadic tgg, tdg, tdd;
    for (int c = 0; c < kNumElementClasses; ++c) {
      const Dyadic e_gg = ToDyadic(exact_[c].gg);
      const Dyadic e_gq = ToDyadic(exact_[c].gq);
      const Dyadic e_qq = ToDyadic(exact_[c].qq);
      switch (static_cast<ElementClass>(c)) {
        case ElementClass::kZero:
          dd[c] = e_qq;
          break;
        case ElementClass::kExact:
          gg[c] = e_gg;
          break;
        case ElementClass::kFlushed:
          gg[c] = e_gg;
          dg[c] = Negate(e_gg);
          dd[c] = e_gg;
          break;
        case ElementClass::kNonFinite:
          break;
        default:  // d = Q - g: g d = gQ - g^2, d^2 = Q^2 - 2 gQ + g^2, exactly
          gg[c] = e_gg;
          dg[c] = Sub(e_gq, e_gg);
          dd[c] = Add(Sub(e_qq, Add(e_gq, e_gq)), e_gg);
          break;
      }
      tgg = Add(tgg, gg[c]);
      tdg = Add(tdg, dg[c]);
      tdd = Add(tdd, dd[c]);
    }
    s.s_gg = RoundToDouble(tgg);
    s.s_dg = RoundToDouble(tdg);
    s.s_dd = RoundToDouble(tdd);
    s.defined = tgg.Sign() > 0;
    // S_dd S_gg - S_dg^2 >= 0 exactly (Cauchy-Schwarz); rounded once per figure.
    const Dyadic num = Sub(Mul(tdd, tgg), Mul(tdg, tdg));
    if (s.defined) {
      s.deficit = RoundRatio(Negate(tdg), tgg);
      s.q_hat = RoundRatio(Add(tgg, tdg), tgg);
      s.residual_sq = RoundRatio(num, tgg);
      s.rho_hat = RoundRatio(num, Mul(tgg, tgg));
    } else {
      s.deficit = s.q_hat = s.rho_hat = kNaN;
      s.residual_sq = s.s_dd;  // THEORY.md §2.7: R = S_dd when S_gg = 0
    }
    s.mse = s.included_count > 0 ? RoundRatio(tdd, FromUint(s.included_count)) : kNaN;
    for (int c = 0; c < kNumElementClasses; ++c) {
      ClassSummary& cs = s.classes[c];
      cs.s_gg = RoundToDouble(gg[c]);
      cs.s_dg = RoundToDouble(dg[c]);
      cs.s_dd = RoundToDouble(dd[c]);
      cs.energy_fraction = s.defined ? RoundRatio(gg[c], tgg) : kNaN;
      cs.deficit_share = s.defined ? RoundRatio(Negate(dg[c]), tgg) : kNaN;
    }
    for (int b = 0; b < kRatioBins; ++b) {
      if (bin_counts_[b] == 0) continue;
      HistogramBin h;
      h.bin = b;
      h.lower_log2 = RatioBinLowerLog2(b);
      h.count = bin_counts_[b];
      const Dyadic e = ToDyadic(exact_bin_energy_[b]);
      h.energy = RoundToDouble(e);
      h.energy_fraction = s.defined ? RoundRatio(e, tgg) : kNaN;
      s.histogram.push_back(h);
    }
  } else {
    const DD gg = ToDD(fast_total_.gg);
    const DD dg = ToDD(fast_total_.dg);
    const DD dd = ToDD(fast_total_.dd);
    const DD gq = ToDD(fast_total_.gq);
    const DD qq = ToDD(fast_total_.qq);
    s.s_gg = gg.hi;
    s.s_dg = dg.hi;
    s.s_dd = dd.hi;
    s.defined = gg.hi > 0.0;
    if (s.defined) {
      // Two exact identities, each free of cancellation in its own regime: the d-sums when
      // Q ~ g (q^ near 1), the Q-sums when Q << g (q^ near 0, S_QQ < S_dd):
      //   q^ = 1 + S_dg/S_gg = S_gQ/S_gg,   |eps|^2 = S_dd - S_dg^2/S_gg = S_QQ - S_gQ^2/S_gg.
      const DD b = DivDD(dg, gg);
      s.deficit = -b.hi;
      const bool q_form = qq.hi < dd.hi;
      s.q_hat = q_form ? DivDD(gq, gg).hi : AddDD(DD{1.0, 0.0}, b).hi;
      // The fast sums carry rounding errors, so a tiny negative residual is possible: it is
      // reported as 0 (the exact path never needs this).
      const DD num = q_form ? AddDD(MulDD(qq, gg), NegDD(MulDD(gq, gq)))
                            : AddDD(MulDD(dd, gg), NegDD(MulDD(dg, dg)));
      const double r = DivDD(num, gg).hi;
      s.residual_sq = r > 0.0 ? r : 0.0;
      const double rho = DivDD(num, MulDD(gg, gg)).hi;
      s.rho_hat = rho > 0.0 ? rho : 0.0;
    } else {
      s.deficit = s.q_hat = s.rho_hat = kNaN;
      s.residual_sq = s.s_dd;
    }
    s.mse = s.included_count > 0 ? s.s_dd / static_cast<double>(s.included_count) : kNaN;
    for (int c = 0; c < kNumElementClasses; ++c) {
      ClassSummary& cs = s.classes[c];
      const DD cg = ToDD(fast_[c].gg);
      const DD cd = ToDD(fast_[c].dg);
      cs.s_gg = cg.hi;
      cs.s_dg = cd.hi;
      cs.s_dd = ToDD(fast_[c].dd).hi;
      cs.energy_fraction = s.defined ? DivDD(cg, gg).hi : kNaN;
      cs.deficit_share = s.defined ? -DivDD(cd, gg).hi : kNaN;
    }
    for (int b = 0; b < kRatioBins; ++b) {
      if (bin_counts_[b] == 0) continue;
      HistogramBin h;
      h.bin = b;
      h.lower_log2 = RatioBinLowerLog2(b);
      h.count = bin_counts_[b];
      const DD e = ToDD(fast_bin_energy_[b]);
      h.energy = e.hi;
      h.energy_fraction = s.defined ? DivDD(e, gg).hi : kNaN;
      s.histogram.push_back(h);
    }
  }
  FillFractions(s);
  return s;
}

// ---- Serialization ----

namespace {

void PutU8(std::vector<uint8_t>& out, uint8_t v) { out.push_back(v); }
void PutU32(std::vector<uint8_t>& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}
void PutU64(std::vector<uint8_t>& out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}
void PutF64(std::vector<uint8_t>& out, double v) { PutU64(out, analysis_internal::Bits(v)); }
void PutSum(std::vector<uint8_t>& out, const ExactSum& s) {
  const std::vector<uint8_t> bytes = s.Serialize();
  PutU32(out, static_cast<uint32_t>(bytes.size()));
  out.insert(out.end(), bytes.begin(), bytes.end());
}
void PutSum(std::vector<uint8_t>& out, const CompensatedSum& s) {
  PutF64(out, s.hi);
  PutF64(out, s.lo);
}

class Reader {
 public:
  explicit Reader(std::span<const uint8_t> bytes) : bytes_(bytes) {}
  bool Need(size_t n) {
    if (bytes_.size() - pos_ < n) {
      if (status_.ok()) {
        status_ = DataError("shrinkage stats: truncated at byte " + std::to_string(pos_) + " of " +
                            std::to_string(bytes_.size()));
      }
      return false;
    }
    return true;
  }
  uint64_t U(int width) {
    if (!Need(static_cast<size_t>(width))) return 0;
    uint64_t v = 0;
    for (int i = 0; i < width; ++i) v |= uint64_t{bytes_[pos_ + i]} << (8 * i);
    pos_ += static_cast<size_t>(width);
    return v;
  }
  double F64() {
    const uint64_t b = U(8);
    double x;
    std::memcpy(&x, &b, sizeof(x));
    return x;
  }
  void Sum(ExactSum& s) {
    const uint32_t n = static_cast<uint32_t>(U(4));
    if (!Need(n)) return;
    StatusOr<ExactSum> r = ExactSum::Deserialize(bytes_.subspan(pos_, n));
    pos_ += n;
    if (!r.ok()) {
      if (status_.ok()) status_ = r.status();
      return;
    }
    s = std::move(*r);
  }
  void Sum(CompensatedSum& s) {
    s.hi = F64();
    s.lo = F64();
  }
  bool AtEnd() const { return pos_ == bytes_.size(); }
  const Status& status() const { return status_; }
  size_t pos() const { return pos_; }

 private:
  std::span<const uint8_t> bytes_;
  size_t pos_ = 0;
  Status status_;
};

constexpr uint8_t kMagic[4] = {'Q', 'F', 'S', 'S'};

}  // namespace

std::vector<uint8_t> ShrinkageStats::Serialize() const {
  std::vector<uint8_t> out(kMagic, kMagic + 4);
  PutU32(out, kSerialVersion);
  PutU8(out, static_cast<uint8_t>(path_));
  PutU32(out, kNumElementClasses);
  PutU32(out, kRatioBins);
  for (const uint64_t c : counts_) PutU64(out, c);
  for (const uint64_t c : bin_counts_) PutU64(out, c);
  PutF64(out, min_g_);
  PutF64(out, max_g_);
  if (path_ == SumPath::kExact) {
    for (const ExactClassSums& e : exact_) {
      PutSum(out, e.gg);
      PutSum(out, e.gq);
      PutSum(out, e.qq);
    }
    for (const ExactSum& e : exact_bin_energy_) PutSum(out, e);
  } else {
    PutSum(out, fast_total_.gg);
    PutSum(out, fast_total_.dg);
    PutSum(out, fast_total_.dd);
    PutSum(out, fast_total_.gq);
    PutSum(out, fast_total_.qq);
    for (const FastClassSums& f : fast_) {
      PutSum(out, f.gg);
      PutSum(out, f.dg);
      PutSum(out, f.dd);
    }
    for (const CompensatedSum& e : fast_bin_energy_) PutSum(out, e);
  }
  return out;
}

StatusOr<ShrinkageStats> ShrinkageStats::Deserialize(std::span<const uint8_t> bytes) {
  if (bytes.size() < 4 || std::memcmp(bytes.data(), kMagic, 4) != 0) {
    return DataError("shrinkage stats: not a qfloat shrinkage-stats blob (bad magic)");
  }
  Reader r(bytes.subspan(4));
  const uint32_t version = static_cast<uint32_t>(r.U(4));
  const uint8_t path = static_cast<uint8_t>(r.U(1));
  const uint32_t classes = static_cast<uint32_t>(r.U(4));
  const uint32_t bins = static_cast<uint32_t>(r.U(4));
  if (!r.status().ok()) return r.status();
  if (version != kSerialVersion) {
    return DataError("shrinkage stats: version " + std::to_string(version) + " (expected " +
                     std::to_string(kSerialVersion) + ")");
  }
  if (path > 1) return DataError("shrinkage stats: path " + std::to_string(path) + " unknown");
  if (classes != kNumElementClasses || bins != kRatioBins) {
    return DataError("shrinkage stats: layout " + std::to_string(classes) + " classes / " +
                     std::to_string(bins) + " bins does not match this build");
  }
  ShrinkageStats s(static_cast<SumPath>(path));
  for (uint64_t& c : s.counts_) c = r.U(8);
  for (uint64_t& c : s.bin_counts_) c = r.U(8);
  s.min_g_ = r.F64();
  s.max_g_ = r.F64();
  if (s.path_ == SumPath::kExact) {
    for (ExactClassSums& e : s.exact_) {
      r.Sum(e.gg);
      r.Sum(e.gq);
      r.Sum(e.qq);
    }
    for (ExactSum& e : s.exact_bin_energy_) r.Sum(e);
  } else {
    r.Sum(s.fast_total_.gg);
    r.Sum(s.fast_total_.dg);
    r.Sum(s.fast_total_.dd);
    r.Sum(s.fast_total_.gq);
    r.Sum(s.fast_total_.qq);
    for (FastClassSums& f : s.fast_) {
      r.Sum(f.gg);
      r.Sum(f.dg);
      r.Sum(f.dd);
    }
    for (CompensatedSum& e : s.fast_bin_energy_) r.Sum(e);
  }
  if (!r.status().ok()) return r.status();
  if (!r.AtEnd()) {
    return DataError("shrinkage stats: " + std::to_string(bytes.size() - 4 - r.pos()) +
                     " trailing bytes");
  }
  if (std::isnan(s.min_g_) || std::isnan(s.max_g_)) {
    return DataError("shrinkage stats: min/max of g is NaN");
  }
  return s;
}

// ---- Parts (THEORY.md §2.4, §2.7) ----

PartSummary ToPart(const ShrinkageSummary& s) { return PartSummary{s.s_gg, s.s_dg, s.residual_sq}; }

CombinedParts CombineParts(std::span<const PartSummary> parts) {
  CombinedParts r;
  CompensatedSum sgg;
  CompensatedSum sdg;
  CompensatedSum res;
  for (const PartSummary& p : parts) {
    sgg.Add(p.s_gg);
    sdg.Add(p.s_dg);
    res.Add(p.residual_sq);
  }
  r.s_gg = sgg.Value();
  r.s_dg = sdg.Value();
  r.defined = r.s_gg > 0.0;
  if (!r.defined) {
    r.q_hat = r.deficit = r.rho_hat = kNaN;
    r.residual_sq = res.Value();
    return r;
  }
  // q^ = sum S_b q^_b / S = 1 + sum S_dg,b / S; the residual adds sum S_b (q^_b - q^)^2.
  const double b = r.s_dg / r.s_gg;
  r.deficit = -b;
  r.q_hat = 1.0 + b;
  CompensatedSum between;
  for (const PartSummary& p : parts) {
    if (!(p.s_gg > 0.0)) continue;
    const double diff = p.s_dg / p.s_gg - b;
    between.Add(p.s_gg * diff * diff);
  }
  r.between_parts = between.Value();
  r.residual_sq = res.Value() + r.between_parts;
  r.rho_hat = r.residual_sq / r.s_gg;
  return r;
}

double MergeResidual(const PartSummary& a, const PartSummary& b) {
  if (!(a.s_gg > 0.0) || !(b.s_gg > 0.0)) return a.residual_sq + b.residual_sq;
  const double diff = a.s_dg / a.s_gg - b.s_dg / b.s_gg;
  return a.residual_sq + b.residual_sq + a.s_gg * b.s_gg / (a.s_gg + b.s_gg) * diff * diff;
}

}  // namespace qfloat
