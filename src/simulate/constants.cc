// The problem constants of THEORY.md §4, computed in fp64 with Eigen: L and c from a symmetric
// eigensolver, w* by Cholesky plus refinement (least squares) or damped Newton (the others), and
// the variance constants M, M_V from the exact formulas.
#include <Eigen/Cholesky>
#include <Eigen/Dense>
#include <Eigen/Eigenvalues>
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "qfloat/report.h"
#include "qfloat/simulate.h"

namespace qfloat::sim {
namespace {

using Matrix = Eigen::MatrixXd;
using Vector = Eigen::VectorXd;
using RowMatrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

Eigen::Map<const RowMatrix> DataMatrix(const Problem& p) {
  return Eigen::Map<const RowMatrix>(p.data().x.data(), p.samples(), p.data().features);
}

std::span<double> Span(Vector& v) { return {v.data(), static_cast<size_t>(v.size())}; }

// The Hessian of F at w, explicitly (dim x dim). Softmax: block (k, l) of the data term is
// (1/n) sum_i (p_ik [k = l] - p_ik p_il) a_i a_i^T.
Matrix Hessian(const Problem& p, std::span<const double> w) {
  const auto a = DataMatrix(p);
  const int64_t n = p.samples();
  const int64_t d = p.data().features;
  const double inv_n = 1.0 / static_cast<double>(n);
  Matrix h;
  switch (p.kind()) {
    case ProblemKind::kLeastSquares:
      h = inv_n * (a.transpose() * a);
      break;
    case ProblemKind::kLogistic:
    case ProblemKind::kNonconvex: {
      Vector s(n);
      for (int64_t i = 0; i < n; ++i) {
        double z = 0.0;
        for (int64_t j = 0; j < d; ++j) z += a(i, j) * w[j];
        const double sig = 1.0 / (1.0 + std::exp(-z));
        s[i] = sig * (1.0 - sig);
      }
      h = inv_n * (a.transpose() * s.asDiagonal() * a);
      break;
    }
    case ProblemKind::kSoftmax: {
      const int k = p.data().classes;
      Matrix prob(n, k);
      for (int64_t i = 0; i < n; ++i) {
        double zmax = -INFINITY;
        for (int c = 0; c < k; ++c) {
          double z = 0.0;
          for (int64_t j = 0; j < d; ++j) z += a(i, j) * w[c * d + j];
          prob(i, c) = z;
          zmax = std::max(zmax, z);
        }
        double s = 0.0;
        for (int c = 0; c < k; ++c) {
          prob(i, c) = std::exp(prob(i, c) - zmax);
          s += prob(i, c);
        }
        prob.row(i) /= s;
      }
      h = Matrix::Zero(k * d, k * d);
      for (int c = 0; c < k; ++c) {
        for (int l = c; l < k; ++l) {
          Vector coef = -prob.col(c).cwiseProduct(prob.col(l));
          if (c == l) coef += prob.col(c);
          const Matrix block = inv_n * (a.transpose() * coef.asDiagonal() * a);
          h.block(c * d, l * d, d, d) = block;
          if (l != c) h.block(l * d, c * d, d, d) = block.transpose();
        }
      }
      break;
    }
  }
  if (p.kind() == ProblemKind::kNonconvex) {
    for (size_t j = 0; j < p.dim(); ++j) {
      const double x2 = w[j] * w[j];
      const double t = 1.0 + x2;
      h(j, j) += p.lambda() * (2.0 - 6.0 * x2) / (t * t * t);
    }
  } else {
    h.diagonal().array() += p.lambda();
  }
  return h;
}

// Damped Newton from w0 with a Levenberg shift: the step solves (H + tau I) d = -g with the
// smallest tau in {0, 1e-8, 1e-7, ...} x (1 + max |H_ii|) for which the Cholesky factorization
// succeeds (so d is a descent direction also where the nonconvex problem's Hessian is
// indefinite), then Armijo backtracking; stops at |grad F| <= 1e-13 (1 + |F|) or when F stops
// decreasing in fp64.
Status Newton(const Problem& p, Vector& w, int* iterations) {
  const size_t dim = p.dim();
  Vector g(dim), wn(dim);
  double f = p.Value(Span(w));
  for (int it = 0; it < 200; ++it) {
    p.Gradient(Span(w), Span(g));
    *iterations = it;
    if (g.norm() <= 1e-13 * (1.0 + std::abs(f))) return Status::Ok();
    Matrix h = Hessian(p, Span(w));
    const double scale = 1.0 + h.diagonal().cwiseAbs().maxCoeff();
    Vector dir = -g;
    for (double tau = 0.0; tau < 1e6 * scale; tau = tau == 0.0 ? 1e-8 * scale : tau * 10.0) {
      Eigen::LLT<Matrix> llt(h + tau * Matrix::Identity(dim, dim));
      if (llt.info() != Eigen::Success) continue;
      Vector d = -llt.solve(g);
      if (d.allFinite() && d.dot(g) < 0.0) {
        dir = d;
        break;
      }
    }
    double t = 1.0;
    double fn = f;
    bool moved = false;
    for (int ls = 0; ls < 60; ++ls) {
      wn = w + t * dir;
      fn = p.Value(Span(wn));
      if (std::isfinite(fn) && fn <= f + 1e-4 * t * g.dot(dir)) {
        moved = true;
        break;
      }
      t *= 0.5;
    }
    if (!moved) return Status::Ok();  // no further decrease representable in fp64
    const double change = (wn - w).norm();
    w = wn;
    f = fn;
    if (change <= 1e-16 * (1.0 + w.norm())) return Status::Ok();
  }
  *iterations = 200;
  return Status::Ok();
}

double LambdaMax(const Matrix& m) {
  Eigen::SelfAdjointEigenSolver<Matrix> es(m, Eigen::EigenvaluesOnly);
  return es.eigenvalues().maxCoeff();
}
double LambdaMin(const Matrix& m) {
  Eigen::SelfAdjointEigenSolver<Matrix> es(m, Eigen::EigenvaluesOnly);
  return es.eigenvalues().minCoeff();
}

}  // namespace

StatusOr<ProblemAnalysis> AnalyzeProblem(const Problem& p, int64_t batch,
                                         std::span<const double> w1_in) {
  const size_t dim = p.dim();
  if (batch < 0) return InvalidArgument("batch must be >= 0 (0 = full batch)");
  if (!w1_in.empty() && w1_in.size() != dim) {
    return InvalidArgument("w1 has " + std::to_string(w1_in.size()) + " entries, the problem " +
                           std::to_string(dim));
  }
  const int64_t n = p.samples();
  const int64_t d = p.data().features;
  const double nd = static_cast<double>(n);
  const double lambda = p.lambda();
  const double b = static_cast<double>(batch);
  ProblemAnalysis r;
  r.batch = batch;
  r.w1 = w1_in.empty() ? std::vector<double>(dim, 0.0)
                       : std::vector<double>(w1_in.begin(), w1_in.end());
  const auto a = DataMatrix(p);
  const Matrix h0 = (a.transpose() * a) / nd;
  r.lambda_max_data = LambdaMax(h0);
  ProblemConstants& c = r.constants;
  c.mu = 1.0;
  c.mu_G = 1.0;
  double sum_row_sq = 0.0;
  for (int64_t i = 0; i < n; ++i) sum_row_sq += a.row(i).squaredNorm();

  Vector w = Eigen::Map<const Vector>(r.w1.data(), static_cast<Eigen::Index>(dim));
  if (p.kind() == ProblemKind::kLeastSquares) {
    const Matrix h = h0 + lambda * Matrix::Identity(d, d);
    Eigen::SelfAdjointEigenSolver<Matrix> es(h, Eigen::EigenvaluesOnly);
    c.L = es.eigenvalues().maxCoeff();
    c.c = es.eigenvalues().minCoeff();
    if (!(c.c > 0.0)) {
      return InvalidArgument("lsq: H = A^T A/n + lambda I is singular (c = " +
                             FormatSignificant(c.c) + "); use --lambda > 0");
    }
    r.c_local = c.c;
    Eigen::Map<const Vector> y(p.data().y.data(), n);
    const Vector rhs = (a.transpose() * y) / nd;
    Eigen::LLT<Matrix> llt(h);
    w = llt.solve(rhs);
    // Iterative refinement: the residual with long double accumulation, then a correction.
    for (int it = 0; it < 3; ++it) {
      Vector res(d);
      for (int64_t j = 0; j < d; ++j) {
        long double s = rhs[j];
        for (int64_t k = 0; k < d; ++k) s -= static_cast<long double>(h(j, k)) * w[k];
        res[j] = static_cast<double>(s);
      }
      w += llt.solve(res);
    }
    r.notes.push_back("L, c: eigenvalues of H = A^T A/n + lambda I (Eigen SelfAdjointEigenSolver)");
    r.notes.push_back("w*: Cholesky of H, 3 steps of iterative refinement");
    // Variance constants (THEORY.md §4): z_i = grad f_i(w*), C, s, m0.
    const Vector resid = a * w - y;
    Matrix z(n, d);
    for (int64_t i = 0; i < n; ++i) z.row(i) = resid[i] * a.row(i) + lambda * w.transpose();
    double m0 = 0.0;
    Matrix cm = Matrix::Zero(d, d);
    Vector s = Vector::Zero(d);
    for (int64_t i = 0; i < n; ++i) {
      const Vector ai = a.row(i).transpose();
      const Vector zi = z.row(i).transpose();
      m0 += zi.squaredNorm();
      cm.noalias() += ai.squaredNorm() * (ai * ai.transpose());
      s.noalias() += ai * ai.dot(zi) - h0 * zi;
    }
    m0 /= nd;
    cm = cm / nd - h0 * h0;
    s /= nd;
    if (batch > 0) {
      // The exact (M, M_V) curve: M = m0/B + s^T P^{-1} s / B^2 for P = M_V H^2 - C/B > 0.
      // M_V_min = lambda_max(H^-1 C H^-1)/B is where P stops being positive definite; we take
      // M_V = 2 M_V_min (a point on the curve; the choice only trades M against M_V).
      const Matrix hinv = llt.solve(Matrix::Identity(d, d));
      r.M_V_min = std::max(0.0, LambdaMax(hinv * cm * hinv) / b);
      c.M_V = 2.0 * r.M_V_min;
      const Matrix pm = c.M_V * (h * h) - cm / b;
      Eigen::LDLT<Matrix> pl(pm);
      const double quad = s.dot(pl.solve(s));
      c.M = m0 / b + std::max(0.0, quad) / (b * b);
      r.V_star = m0 / b;
      r.M_simple = 2.0 * m0 / b;
      r.M_V_simple = 2.0 * LambdaMax(cm) / (b * c.c * c.c);
      r.notes.push_back(
          "M, M_V: exact curve M = m0/B + s^T P^-1 s/B^2, P = M_V H^2 - C/B, at "
          "M_V = 2 M_V_min = " +
          FormatSignificant(c.M_V) +
          " (simpler pair: M = 2 m0/B = " + FormatSignificant(r.M_simple) +
          ", M_V = 2 lambda_max(C)/(B c^2) = " + FormatSignificant(r.M_V_simple) + ")");
    } else {
      r.notes.push_back("full batch: g = grad F, so M = M_V = 0");
    }
  } else {
    if (Status st = Newton(p, w, &r.newton_iterations); !st.ok()) return st;
    const Matrix hs = Hessian(p, Span(w));
    r.c_local = LambdaMin(hs);
    switch (p.kind()) {
      case ProblemKind::kLogistic:
        c.L = r.lambda_max_data / 4.0 + lambda;
        c.c = lambda;
        r.notes.push_back("L = lambda_max(A^T A)/(4n) + lambda (sigma' <= 1/4); c = lambda");
        break;
      case ProblemKind::kNonconvex:
        c.L = r.lambda_max_data / 4.0 + 2.0 * lambda;
        c.c = 0.0;
        r.notes.push_back(
            "L = lambda_max(A^T A)/(4n) + 2 lambda (regularizer curvature in [-1/2, 2] lambda)");
        break;
      default:
        c.L = r.lambda_max_data / 2.0 + lambda;
        c.c = lambda;
        r.notes.push_back(
            "L = lambda_max(A^T A)/(2n) + lambda (softmax Hessian diag(p) - p p^T <= 1/2 I); "
            "c = lambda");
        break;
    }
    r.notes.push_back("w*: damped Newton from w1 (" + std::to_string(r.newton_iterations) +
                      " iterations)");
    if (batch > 0) {
      // |per-sample data gradient|^2 <= k |a_i|^2 with k = 1 (logistic: |sigma| <= 1) or 2
      // (softmax: |p - e_y|^2 <= 2 (1 - p_y)^2 <= 2); V <= E|g_i|^2 bounds the variance for any w.
      const double k = p.kind() == ProblemKind::kSoftmax ? 2.0 : 1.0;
      c.M = k * sum_row_sq / (b * nd);
      c.M_V = 0.0;
      r.notes.push_back("M = " + std::string(k == 2.0 ? "2" : "") +
                        "sum |a_i|^2/(B n) (bounded per-sample coefficient), M_V = 0");
    } else {
      r.notes.push_back("full batch: M = M_V = 0");
    }
  }
  c.M_G = c.M_V + c.mu_G * c.mu_G;
  r.w_star.assign(w.data(), w.data() + dim);
  r.F_star = p.Value(r.w_star);
  {
    std::vector<double> g(dim);
    p.Gradient(r.w_star, g);
    double s = 0.0;
    for (double v : g) s += v * v;
    r.grad_norm_star = std::sqrt(s);
  }
  if (p.kind() != ProblemKind::kLeastSquares) r.V_star = GradientVariance(p, r.w_star, batch);
  r.F1 = p.Value(r.w1);
  if (p.kind() == ProblemKind::kNonconvex) {
    r.F_inf = 0.0;  // both terms are >= 0 (THEORY.md §4)
    r.notes.push_back(
        "nonconvex: Delta1 = F(w1) - F_inf with F_inf = 0; the curves use F_loc = "
        "the local minimum Newton reaches from w1");
  } else {
    r.F_inf = r.F_star;
  }
  c.Delta1 = r.F1 - r.F_inf;
  if (!(c.L > 0.0) || !std::isfinite(c.M) || !std::isfinite(c.Delta1)) {
    return DataError("problem constants are not finite (L = " + FormatSignificant(c.L) +
                     ", M = " + FormatSignificant(c.M) + ")");
  }
  return r;
}

}  // namespace qfloat::sim
