// The linear systems of the Rosenbrock steppers (rosenbrock.hpp, rosenbrock_w.hpp):
//     (sigma I + d2L) x = b,   sigma = 1 / (gamma h),
// with the exact Hessian d2L (symmetric; given row-major, read as its column-major transpose,
// which is the same matrix). Factored by Cholesky while positive definite (the usual case:
// negative curvature of L at a saddle is small against sigma), by partial-pivoting LU otherwise.
//
// Mixed precision (systems of at least kMixedMinSize unknowns): the Cholesky factorization is
// done in single precision, half the work of double precision with AVX2, and every solve is
// refined against the double-precision matrix, x <- x + M_f^{-1} (b - M x), until a correction
// is below kRefineTol in the caller's error norm (the steppers pass the per-neuron relative norm
// of the step tolerance, so a tiny neuron is solved as accurately, relative to itself, as a large
// one; the error left after a correction is predicted from the contraction, see refine()). If
// the single-precision Cholesky fails or a refinement does not contract by 4x per iteration,
// this factorization is redone in double precision. Everything is deterministic.
#pragma once
#include <algorithm>
#include <cmath>
#include <Eigen/Cholesky>
#include <Eigen/LU>
#include "agf/parallel.hpp"
#include "agf/types.hpp"

namespace agf {

class ShiftedSolver {
 public:
  static constexpr Index kMixedMinSize = 256;
  static constexpr double kRefineTol = 1e-3;
  static constexpr int kMaxRefine = 8;

  long n_lu = 0, n_refine = 0;

  // Factor sigma I + Hm on `threads` threads (the result does not depend on their number). Hm
  // must stay alive and unchanged until the next factor().
  void factor(const RowMat& Hm, double sigma, int threads = 1) {
    Hm_ = &Hm;
    sigma_ = sigma;
    threads_ = threads < 1 ? 1 : threads;
    const Index P = Hm.rows();
    mode_ = Mode::Double;
    if (P >= kMixedMinSize) {
      Lf_ = Eigen::Map<const Eigen::MatrixXd>(Hm.data(), P, P).cast<float>();
      Lf_.diagonal().array() += float(sigma);
      if (cholesky_inplace(Lf_, threads_)) {
        mode_ = Mode::Single;
        return;
      }
    }
    factor_double();
  }

  // x = (sigma I + Hm)^{-1} b. err(dx) is the caller's norm of a correction relative to its
  // tolerance (used by the mixed-precision refinement only).
  template <class ErrNorm>
  void solve(const Vec& b, Vec& x, ErrNorm&& err) {
    if (mode_ == Mode::Single) {
      if (refine(b, x, err)) return;
      factor_double();
    }
    if (mode_ == Mode::Double) {
      x = b;
      Ld_.triangularView<Eigen::Lower>().solveInPlace(x);
      Ld_.triangularView<Eigen::Lower>().adjoint().solveInPlace(x);
    } else {
      x = lu_.solve(b);
    }
  }

 private:
  enum class Mode { Single, Double, LU };

  // Lower Cholesky factor in place, right-looking blocked: per block column, the diagonal block
  // (unblocked), the panel below it (triangular solve) and the trailing update A22 -= A21 A21^T.
  // The panel's rows and the trailing update's columns are cut into fixed pieces of kPiece
  // that threads share out; each piece's arithmetic is the same whichever thread does it, so
  // the factor does not depend on the thread count.
  static constexpr Index kBlock = 96, kPiece = 96;
  template <class M>
  static bool cholesky_inplace(M& A, int threads) {
    using Scalar = typename M::Scalar;
    const Index n = A.rows();
    for (Index k = 0; k < n; k += kBlock) {
      const Index kb = std::min(kBlock, n - k), rs = n - k - kb;
      auto A11 = A.block(k, k, kb, kb);
      if (Eigen::internal::llt_inplace<Scalar, Eigen::Lower>::unblocked(A11) != -1) return false;
      if (rs == 0) break;
      const Index np = (rs + kPiece - 1) / kPiece;
#ifdef AGF_HAS_OPENMP
#pragma omp parallel num_threads(threads) if (threads > 1 && np > 1)
#endif
      {
#ifdef AGF_HAS_OPENMP
#pragma omp for schedule(static)
#endif
        for (Index p = 0; p < np; ++p) {  // A21 <- A21 L11^{-T}, by row pieces
          const Index r0 = p * kPiece, rn = std::min(kPiece, rs - r0);
          A11.template triangularView<Eigen::Lower>().adjoint().template solveInPlace<Eigen::OnTheRight>(
              A.block(k + kb + r0, k, rn, kb));
        }
#ifdef AGF_HAS_OPENMP
#pragma omp for schedule(dynamic, 1)
#endif
        for (Index p = 0; p < np; ++p) {  // lower part of A22 -= A21 A21^T, by column pieces
          const Index c0 = p * kPiece, cn = std::min(kPiece, rs - c0);
          auto L = A.block(k + kb + c0, k, rs - c0, kb);
          auto R = A.block(k + kb + c0, k, cn, kb);
          A.block(k + kb + c0, k + kb + c0, rs - c0, cn).noalias() -= L * R.transpose();
        }
      }
    }
    return A.diagonal().allFinite();
  }

  void factor_double() {
    const Index P = Hm_->rows();
    Ld_ = Eigen::Map<const Eigen::MatrixXd>(Hm_->data(), P, P);
    Ld_.diagonal().array() += sigma_;
    if (cholesky_inplace(Ld_, threads_)) {
      mode_ = Mode::Double;
      return;
    }
    Eigen::MatrixXd M = Eigen::Map<const Eigen::MatrixXd>(Hm_->data(), P, P);
    M.diagonal().array() += sigma_;
    lu_.compute(M);
    ++n_lu;
    mode_ = Mode::LU;
  }

  void solve_single(const Vec& b, Vec& x) {
    xf_ = b.cast<float>();
    Lf_.triangularView<Eigen::Lower>().solveInPlace(xf_);
    Lf_.triangularView<Eigen::Lower>().adjoint().solveInPlace(xf_);
    x = xf_.cast<double>();
  }

  // After a correction of size e (in the caller's norm) the error left is about rho e, rho the
  // contraction per iteration; accepted when rho e <= kRefineTol. rho is the ratio of successive
  // corrections, or after the first one e / err(x0), the single-precision solve's own relative
  // error, taken 100x larger for safety (it is a ratio of maxima over neurons).
  template <class ErrNorm>
  bool refine(const Vec& b, Vec& x, ErrNorm& err) {
    solve_single(b, x);
    double prev = err(x);
    for (int it = 0; it < kMaxRefine; ++it) {
      res_.noalias() = b - sigma_ * x;
      res_.noalias() -= (*Hm_) * x;
      solve_single(res_, dx_);
      x += dx_;
      ++n_refine;
      const double e = err(dx_);
      if (!std::isfinite(e)) return false;
      if (e <= kRefineTol) return true;
      const double rho = prev > 0.0 ? (it == 0 ? 100.0 : 1.0) * e / prev : 1.0;
      if (rho < 0.25 && rho * e <= kRefineTol) return true;
      if (it > 0 && rho > 0.25) return false;
      prev = e;
    }
    return false;
  }

  const RowMat* Hm_ = nullptr;
  double sigma_ = 0.0;
  int threads_ = 1;
  Mode mode_ = Mode::Double;
  Eigen::MatrixXf Lf_;
  Eigen::VectorXf xf_;
  Eigen::MatrixXd Ld_;
  Eigen::PartialPivLU<Eigen::MatrixXd> lu_;
  Vec res_, dx_;
};

}  // namespace agf
