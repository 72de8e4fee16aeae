// Matrix-free linear solver of the stiff steppers for models too large for a dense Hessian:
// conjugate gradients on the symmetric system
//     (sigma I + d2L(y_J)) x = b,     sigma = 1 / (gamma h),
// whose operator is one Hessian-vector product (Model::hvp) per iteration.
//
// Stopping rule in the integrator's per-neuron relative norm (error_norm.hpp): for the
// non-stiff components x ~ b / sigma, so a residual r moves x by about r / sigma, and CG stops
// once, for every neuron i,
//     ||r_i|| <= kappa * sigma * (rtol ||y_i|| + atol),
// i.e. the linear-solve error is a small fraction kappa of the local error tolerance of every
// neuron, tiny ones included (a Euclidean residual test would swamp neurons of norm 1e-12).
// CG needs the matrix to be positive definite; negative curvature along a search direction
// (p^T A p <= 0: a saddle with curvature below -sigma) or no convergence within max_iter
// returns false, and the stepper retries with a shorter step (larger sigma).
#pragma once
#include <algorithm>
#include <cmath>
#include <vector>
#include "agf/error_norm.hpp"
#include "agf/gradient_system.hpp"

namespace agf {

class KrylovSolver {
 public:
  KrylovSolver() = default;
  KrylovSolver(const Model& model, double kappa = 1e-2) : owner_(model.n_params()), kappa_(kappa) {
    for (Index p = 0; p < model.n_params(); ++p) owner_[p] = model.neuron_of(p);
    groups_ = model.n_neurons();
    sq_.resize(groups_);
    tol_.resize(groups_);
    rsq_.resize(groups_);
  }

  // Sets the operator: Hessian at y (kept by reference until the next call), shift sigma, and
  // the per-neuron residual tolerances from the state's neuron norms.
  void set(GradientSystem& sys, const Vec& y, double sigma, double rtol, double atol) {
    sys_ = &sys;
    y_ = &y;
    sigma_ = sigma;
    group_sq(y, sq_);
    for (Index i = 0; i < groups_; ++i) tol_[i] = kappa_ * sigma * (atol + rtol * std::sqrt(sq_[i]));
  }

  // x = A^{-1} b (x0 = b / sigma). Returns false on negative curvature or no convergence.
  bool solve(const Vec& b, Vec& x, long max_iter) {
    x = b / sigma_;
    apply(x, Ap_);
    r_ = b - Ap_;
    if (converged(r_)) return true;
    p_ = r_;
    double rr = r_.squaredNorm();
    for (long k = 0; k < max_iter; ++k) {
      apply(p_, Ap_);
      const double pAp = p_.dot(Ap_);
      if (!(pAp > 0.0) || !std::isfinite(pAp)) return false;
      const double alpha = rr / pAp;
      x.noalias() += alpha * p_;
      r_.noalias() -= alpha * Ap_;
      ++iterations;
      if (converged(r_)) return true;
      const double rr_new = r_.squaredNorm();
      if (rr_new == 0.0) return true;
      p_ = r_ + (rr_new / rr) * p_;
      rr = rr_new;
    }
    return false;
  }

  long n_hvp = 0, iterations = 0;

 private:
  void apply(const Vec& v, Vec& out) {
    out.resize(v.size());
    sys_->model().hvp(sys_->data(), y_->data(), v.data(), out.data(), sys_->scratch());
    ++n_hvp;
    out.noalias() += sigma_ * v;
  }
  void group_sq(const Vec& v, std::vector<double>& out) const {
    std::fill(out.begin(), out.end(), 0.0);
    for (size_t p = 0; p < owner_.size(); ++p) out[owner_[p]] += v[p] * v[p];
  }
  bool converged(const Vec& r) {
    group_sq(r, rsq_);
    for (Index i = 0; i < groups_; ++i) {
      if (rsq_[i] == 0.0) continue;
      if (!(std::sqrt(rsq_[i]) <= tol_[i])) return false;
    }
    return true;
  }

  std::vector<Index> owner_;
  Index groups_ = 0;
  double kappa_ = 1e-2, sigma_ = 1.0;
  GradientSystem* sys_ = nullptr;
  const Vec* y_ = nullptr;
  std::vector<double> sq_, tol_, rsq_;
  Vec r_, p_, Ap_;
};

}  // namespace agf
