// The four test problems of THEORY.md §4: values, gradients, minibatch gradients and
// Hessian-vector products in fp64.
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "qfloat/simulate.h"

namespace qfloat::sim {
namespace {

// log(1 + exp(-z)) without overflow.
double LogOnePlusExpNeg(double z) {
  return z > 0.0 ? std::log1p(std::exp(-z)) : -z + std::log1p(std::exp(z));
}
// sigma(-z) = 1 / (1 + exp(z)).
double SigmoidNeg(double z) {
  if (z >= 0.0) {
    const double e = std::exp(-z);
    return e / (1.0 + e);
  }
  return 1.0 / (1.0 + std::exp(z));
}

double Dot(const double* a, const double* b, int64_t n) {
  double s = 0.0;
  for (int64_t j = 0; j < n; ++j) s += a[j] * b[j];
  return s;
}

// One sample's softmax numerators without overflow: e_c = exp(z_c - max z) for the logits
// z_c = <a, w_c> of the k class rows of w (resized into e). Returns max z and the sum of the e_c.
struct ShiftedExp {
  double zmax;
  double sum;
};
ShiftedExp SoftmaxNumerators(const double* a, const double* w, int64_t d, int k,
                             std::vector<double>& e) {
  e.resize(k);
  double zmax = -INFINITY;
  for (int c = 0; c < k; ++c) {
    e[c] = Dot(a, w + c * d, d);
    zmax = std::max(zmax, e[c]);
  }
  double sum = 0.0;
  for (int c = 0; c < k; ++c) {
    e[c] = std::exp(e[c] - zmax);
    sum += e[c];
  }
  return {zmax, sum};
}

}  // namespace

StatusOr<ProblemKind> ParseProblemKind(std::string_view text) {
  if (text == "lsq" || text == "least-squares") return ProblemKind::kLeastSquares;
  if (text == "logreg" || text == "logistic") return ProblemKind::kLogistic;
  if (text == "nonconvex") return ProblemKind::kNonconvex;
  if (text == "softmax" || text == "multinomial") return ProblemKind::kSoftmax;
  return InvalidArgument("unknown problem '" + std::string(text) +
                         "' (lsq, logreg, nonconvex, softmax)");
}

std::string ToString(ProblemKind kind) {
  switch (kind) {
    case ProblemKind::kLeastSquares:
      return "lsq";
    case ProblemKind::kLogistic:
      return "logreg";
    case ProblemKind::kNonconvex:
      return "nonconvex";
    case ProblemKind::kSoftmax:
      return "softmax";
  }
  return "?";
}

std::string DefaultDataset(ProblemKind kind) {
  switch (kind) {
    case ProblemKind::kLeastSquares:
      return "diabetes";
    case ProblemKind::kSoftmax:
      return "digits";
    default:
      return "breast_cancer";
  }
}

bool StronglyConvex(ProblemKind kind) { return kind != ProblemKind::kNonconvex; }

StatusOr<Problem> Problem::Create(ProblemKind kind, Dataset data, double lambda) {
  const std::string what = ToString(kind) + " on " + data.name;
  if (!std::isfinite(lambda) || lambda < 0.0) {
    return InvalidArgument(what + ": lambda " + std::to_string(lambda) + " must be >= 0");
  }
  if (StronglyConvex(kind) && kind != ProblemKind::kLeastSquares && lambda <= 0.0) {
    return InvalidArgument(what + ": lambda must be > 0 (strong convexity, THEORY.md §4)");
  }
  if (data.samples <= 0 || data.features <= 0 ||
      data.x.size() != static_cast<size_t>(data.samples * data.features) ||
      data.y.size() != static_cast<size_t>(data.samples)) {
    return InvalidArgument(what + ": malformed data set");
  }
  Problem p;
  p.kind_ = kind;
  p.lambda_ = lambda;
  switch (kind) {
    case ProblemKind::kLeastSquares:
      if (data.classes != 0) {
        return InvalidArgument(what + ": least squares needs a regression target (diabetes)");
      }
      p.dim_ = static_cast<size_t>(data.features);
      break;
    case ProblemKind::kLogistic:
    case ProblemKind::kNonconvex:
      if (data.classes != 2) {
        return InvalidArgument(what + ": logistic regression needs +-1 labels (breast_cancer)");
      }
      p.dim_ = static_cast<size_t>(data.features);
      break;
    case ProblemKind::kSoftmax:
      if (data.classes < 2) {
        return InvalidArgument(what + ": softmax needs class labels (digits, breast_cancer)");
      }
      if (data.classes == 2) {
        for (double& v : data.y) v = v > 0.0 ? 1.0 : 0.0;  // +-1 labels -> classes 0/1
      }
      for (double v : data.y) {
        if (v < 0 || v >= data.classes || v != std::floor(v)) {
          return InvalidArgument(what + ": label " + std::to_string(v) + " is not a class index");
        }
      }
      p.dim_ = static_cast<size_t>(data.classes * data.features);
      break;
  }
  p.data_ = std::move(data);
  return p;
}

std::vector<int64_t> Problem::shape() const {
  if (kind_ == ProblemKind::kSoftmax) return {data_.classes, data_.features};
  return {data_.features};
}

double Problem::RegularizerValue(std::span<const double> w) const {
  double s = 0.0;
  if (kind_ == ProblemKind::kNonconvex) {
    for (double v : w) s += v * v / (1.0 + v * v);
    return lambda_ * s;
  }
  for (double v : w) s += v * v;
  return 0.5 * lambda_ * s;
}

void Problem::AddRegularizerGradient(std::span<const double> w, std::span<double> g) const {
  if (kind_ == ProblemKind::kNonconvex) {
    for (size_t j = 0; j < w.size(); ++j) {
      const double t = 1.0 + w[j] * w[j];
      g[j] += lambda_ * 2.0 * w[j] / (t * t);
    }
    return;
  }
  for (size_t j = 0; j < w.size(); ++j) g[j] += lambda_ * w[j];
}

double Problem::SampleLoss(std::span<const double> w, int64_t i,
                           std::vector<double>& scratch) const {
  const int64_t d = data_.features;
  const double* a = data_.x.data() + i * d;
  const double y = data_.y[i];
  switch (kind_) {
    case ProblemKind::kLeastSquares: {
      const double r = Dot(a, w.data(), d) - y;
      return 0.5 * r * r;
    }
    case ProblemKind::kLogistic:
    case ProblemKind::kNonconvex:
      return LogOnePlusExpNeg(y * Dot(a, w.data(), d));
    case ProblemKind::kSoftmax: {
      const ShiftedExp t = SoftmaxNumerators(a, w.data(), d, data_.classes, scratch);
      return t.zmax + std::log(t.sum) - Dot(a, w.data() + static_cast<int64_t>(y) * d, d);
    }
  }
  return 0.0;
}

void Problem::AddSampleDataGradient(std::span<const double> w, int64_t i, double scale,
                                    std::span<double> g, std::vector<double>& scratch) const {
  const int64_t d = data_.features;
  const double* a = data_.x.data() + i * d;
  const double y = data_.y[i];
  switch (kind_) {
    case ProblemKind::kLeastSquares: {
      const double r = scale * (Dot(a, w.data(), d) - y);
      for (int64_t j = 0; j < d; ++j) g[j] += r * a[j];
      return;
    }
    case ProblemKind::kLogistic:
    case ProblemKind::kNonconvex: {
      const double coef = -scale * y * SigmoidNeg(y * Dot(a, w.data(), d));
      for (int64_t j = 0; j < d; ++j) g[j] += coef * a[j];
      return;
    }
    case ProblemKind::kSoftmax: {
      const int k = data_.classes;
      const double s = SoftmaxNumerators(a, w.data(), d, k, scratch).sum;
      const int label = static_cast<int>(y);
      for (int c = 0; c < k; ++c) {
        const double coef = scale * (scratch[c] / s - (c == label ? 1.0 : 0.0));
        double* gc = g.data() + c * d;
        for (int64_t j = 0; j < d; ++j) gc[j] += coef * a[j];
      }
      return;
    }
  }
}

double Problem::Value(std::span<const double> w) const {
  std::vector<double> scratch;
  double s = 0.0;
  for (int64_t i = 0; i < data_.samples; ++i) s += SampleLoss(w, i, scratch);
  return s / static_cast<double>(data_.samples) + RegularizerValue(w);
}

void Problem::Gradient(std::span<const double> w, std::span<double> g) const {
  std::fill(g.begin(), g.end(), 0.0);
  std::vector<double> scratch;
  const double scale = 1.0 / static_cast<double>(data_.samples);
  for (int64_t i = 0; i < data_.samples; ++i) AddSampleDataGradient(w, i, scale, g, scratch);
  AddRegularizerGradient(w, g);
}

void Problem::BatchGradient(std::span<const double> w, std::span<const int64_t> batch,
                            std::span<double> g) const {
  std::fill(g.begin(), g.end(), 0.0);
  std::vector<double> scratch;
  const double scale = 1.0 / static_cast<double>(batch.size());
  for (int64_t i : batch) AddSampleDataGradient(w, i, scale, g, scratch);
  AddRegularizerGradient(w, g);
}

void Problem::SampleGradient(std::span<const double> w, int64_t i, std::span<double> g) const {
  const int64_t one[1] = {i};
  BatchGradient(w, one, g);
}

void Problem::HessianVector(std::span<const double> w, std::span<const double> v,
                            std::span<double> out) const {
  const int64_t d = data_.features;
  const double inv_n = 1.0 / static_cast<double>(data_.samples);
  std::fill(out.begin(), out.end(), 0.0);
  std::vector<double> p, u;
  for (int64_t i = 0; i < data_.samples; ++i) {
    const double* a = data_.x.data() + i * d;
    switch (kind_) {
      case ProblemKind::kLeastSquares: {
        const double t = inv_n * Dot(a, v.data(), d);
        for (int64_t j = 0; j < d; ++j) out[j] += t * a[j];
        break;
      }
      case ProblemKind::kLogistic:
      case ProblemKind::kNonconvex: {
        const double s = SigmoidNeg(-Dot(a, w.data(), d));  // sigma(a^T w)
        const double t = inv_n * s * (1.0 - s) * Dot(a, v.data(), d);
        for (int64_t j = 0; j < d; ++j) out[j] += t * a[j];
        break;
      }
      case ProblemKind::kSoftmax: {
        const int k = data_.classes;
        u.resize(k);
        const double s = SoftmaxNumerators(a, w.data(), d, k, p).sum;
        double pu = 0.0;
        for (int c = 0; c < k; ++c) {
          p[c] /= s;
          u[c] = Dot(a, v.data() + c * d, d);
          pu += p[c] * u[c];
        }
        // (diag(p) - p p^T) u, the Hessian of the cross-entropy in the logits.
        for (int c = 0; c < k; ++c) {
          const double t = inv_n * p[c] * (u[c] - pu);
          double* oc = out.data() + c * d;
          for (int64_t j = 0; j < d; ++j) oc[j] += t * a[j];
        }
        break;
      }
    }
  }
  if (kind_ == ProblemKind::kNonconvex) {
    for (size_t j = 0; j < w.size(); ++j) {
      const double x2 = w[j] * w[j];
      const double t = 1.0 + x2;
      out[j] += lambda_ * (2.0 - 6.0 * x2) / (t * t * t) * v[j];
    }
  } else {
    for (size_t j = 0; j < v.size(); ++j) out[j] += lambda_ * v[j];
  }
}

double GradientVariance(const Problem& problem, std::span<const double> w, int64_t batch) {
  if (batch <= 0) return 0.0;
  const size_t dim = problem.dim();
  std::vector<double> mean(dim), gi(dim);
  problem.Gradient(w, mean);
  double v = 0.0;
  for (int64_t i = 0; i < problem.samples(); ++i) {
    problem.SampleGradient(w, i, gi);
    for (size_t j = 0; j < dim; ++j) {
      const double e = gi[j] - mean[j];
      v += e * e;
    }
  }
  return v / static_cast<double>(problem.samples()) / static_cast<double>(batch);
}

}  // namespace qfloat::sim
