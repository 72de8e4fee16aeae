// Stiff gradient flow with reused Hessians and factorizations: ROS34PW2 (Rang & Angermann,
// BIT 45 (2005)), a 4-stage, stiffly accurate, L-stable Rosenbrock-W method of order 3 with an
// embedded order-2 error estimate. Being a W-method, it keeps order 3 whatever matrix stands
// for the Jacobian, so every stage solves
//     (sigma I + Ht) u_i = f(y0 + sum_j a_ij u_j) + sum_j (c_ij / h) u_j,   sigma = 1/(gamma h_f)
// with Ht a Hessian of L taken at an earlier point and h_f the step size of the factorization
// (a step h != h_f is the W-method with the Jacobian approximation -(Ht + (1/(gamma h_f) -
// 1/(gamma h)) I)). Hence (dense solver):
//   - one Hessian serves several steps: after each accepted step the secant residual
//       theta = ||(f1 - f0) + Ht (y1 - y0)|| / (sigma ||y1 - y0||),
//     an estimate of the contraction ||W^{-1} (J - Jt)|| along the step, is checked; above
//     kTheta, or after a rejected step with a stale Hessian, the Hessian is recomputed;
//   - one Cholesky factorization serves every step whose size stays within [kBandLo, kBandHi]
//     times h_f (the controller's steps are taken as proposed, no refactoring in between).
// With the Krylov solver (krylov.hpp: CG on Hessian-vector products at the step's start), the
// matrix is always the current one with sigma = 1/(gamma h) and nothing is factored.
// Dense output: cubic Hermite interpolation of (y0, f0, y1, f1), order 3 like the method.
// Step sizes: the per-neuron relative error norm (error_norm.hpp), exponent 1/3.
#pragma once
#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include "agf/error_norm.hpp"
#include "agf/krylov.hpp"
#include "agf/shifted_solver.hpp"
#include "agf/stepper.hpp"

namespace agf {

// The linear solver of an implicit stepper: Krylov if asked, or (auto) above dense_max_params.
inline bool use_krylov(const StepperOptions& opt, const Model& model) {
  const std::string& ls = opt.linear_solver;
  if (ls == "dense") return false;
  if (ls == "krylov") return true;
  if (ls == "auto") return model.n_params() > opt.dense_max_params;
  throw ConfigError("unknown linear_solver '" + ls + "' (available: 'auto', 'dense', 'krylov')");
}

class RosW final : public Stepper {
 public:
  RosW(GradientSystem& sys, StepperOptions opt) : sys_(sys), opt_(opt), norm_(sys.model()) {
    krylov_ = use_krylov(opt_, sys.model());
    if (krylov_) kry_ = KrylovSolver(sys.model());
  }
  std::string name() const override { return "ros34pw2"; }
  bool uses_krylov() const { return krylov_; }

  void init(double t0, const Vec& y0) override {
    t_ = t_prev_ = t0;
    y_ = y0;
    y_prev_ = y0;
    loss_ = sys_.rhs(y_, f0_);
    f_prev_ = f0_;
    hess_valid_ = fact_valid_ = false;
    h_used_ = 0.0;
    h_ = opt_.h0 > 0 ? opt_.h0 : initial_step();
  }

  StepStatus step(double t_end) override {
    bool rejected_before = false;
    while (true) {
      const double h_min = underflow_step(t_);
      bool last = false;
      const double h = bounded_step(h_, t_, t_end, opt_, last);
      if (h < h_min && !last) return StepStatus::StepUnderflow;

      prepare(h);
      const double ih = 1.0 / h;
      bool ok = solve(f0_, u_[0]);
      if (ok) {
        ytmp_ = y_ + kA21 * u_[0];
        sys_.rhs(ytmp_, f_);
        rhs_ = f_ + (kC21 * ih) * u_[0];
        ok = solve(rhs_, u_[1]);
      }
      if (ok) {
        ytmp_ = y_ + kA31 * u_[0] + kA32 * u_[1];
        sys_.rhs(ytmp_, f_);
        rhs_ = f_ + ih * (kC31 * u_[0] + kC32 * u_[1]);
        ok = solve(rhs_, u_[2]);
      }
      if (ok) {
        ytmp_ = y_ + kA41 * u_[0] + kA42 * u_[1] + kA43 * u_[2];
        sys_.rhs(ytmp_, f_);
        rhs_ = f_ + ih * (kC41 * u_[0] + kC42 * u_[1] + kC43 * u_[2]);
        ok = solve(rhs_, u_[3]);
      }
      if (!ok) {  // Krylov: negative curvature or no convergence; a shorter step helps both
        if (h < h_min * 1e3) return StepStatus::NonFinite;
        h_ = std::max(h * 0.25, opt_.h_min);
        ++n_rejected;
        ++n_solve_fail;
        rejected_before = true;
        continue;
      }
      ynew_ = ytmp_ + u_[3];
      err_ = kE1 * u_[0] + kE2 * u_[1] + kE3 * u_[2] + kE4 * u_[3];

      if (!ynew_.allFinite()) {
        if (h < h_min * 1e3 || (opt_.h_min > 0 && h <= opt_.h_min * (1 + 1e-12))) return StepStatus::NonFinite;
        h_ = h * 0.1;
        reject_stale();
        rejected_before = true;
        continue;
      }
      double en = norm_(err_, y_, ynew_, opt_.rtol, opt_.atol);
      if (en > 1.0 && opt_.h_min > 0 && h <= opt_.h_min * (1 + 1e-12)) { ++n_forced; en = 1.0; }
      if (en <= 1.0) {
        const double loss_new = sys_.rhs(ynew_, fnew_);
        if (!std::isfinite(loss_new)) {
          if (h < h_min * 1e3) return StepStatus::NonFinite;
          h_ = h * 0.1;
          reject_stale();
          rejected_before = true;
          continue;
        }
        const double fac = kControl.accept(en, rejected_before);
        if (!krylov_) check_hessian();
        t_prev_ = t_;
        y_prev_.swap(y_);
        y_.swap(ynew_);
        f_prev_.swap(f0_);
        f0_.swap(fnew_);
        t_ = last ? t_end : t_ + h;
        h_used_ = h;
        loss_ = loss_new;
        if (!last) h_ = std::max({h * fac, h_min, opt_.h_min});
        ++n_accepted;
        return StepStatus::Ok;
      }
      h_ = std::max(h * kControl.reject(en), opt_.h_min);
      reject_stale();
      rejected_before = true;
    }
  }

  // Cubic Hermite interpolation on [t_prev, t] of the values and slopes at both ends.
  void dense(double t, Vec& out) const override {
    const double h = h_used_;
    if (h == 0.0) { out = y_; return; }
    const double s = (t - t_prev_) / h, s2 = s * s, s3 = s2 * s;
    const double h00 = 2 * s3 - 3 * s2 + 1, h10 = s3 - 2 * s2 + s, h01 = -2 * s3 + 3 * s2, h11 = s3 - s2;
    out = h00 * y_prev_ + h01 * y_ + (h * h10) * f_prev_ + (h * h11) * f0_;
  }

  // Largest |eigenvalue| of the Hessian by warm-started power iteration: on the held dense
  // Hessian (computed at y() if none is held), or on Hessian-vector products at y().
  double spectral_radius(Vec& v, int iters) {
    if (v.size() != y_.size() || v.norm() == 0.0) v = Vec::Ones(y_.size());
    v.normalize();
    if (!krylov_ && !hess_valid_) compute_hessian();
    double lam = 0.0;
    for (int k = 0; k < iters; ++k) {
      if (krylov_) {
        w_.resize(y_.size());
        sys_.model().hvp(sys_.data(), y_.data(), v.data(), w_.data(), sys_.scratch());
        ++n_hvp_power;
      } else {
        w_.noalias() = Hm_ * v;
      }
      lam = std::abs(v.dot(w_));
      const double nw = w_.norm();
      if (!(nw > 0.0) || !std::isfinite(nw)) return 0.0;
      v = w_ / nw;
    }
    return lam;
  }

  double h_next() const { return h_; }
  double h_last() const { return h_used_; }
  long n_hessian = 0, n_factorizations = 0, n_solve_fail = 0, n_hvp_power = 0;
  long n_lu() const { return lin_.n_lu; }
  long n_refine() const { return lin_.n_refine; }
  long n_hvp() const { return (krylov_ ? kry_.n_hvp : 0) + n_hvp_power; }

 private:
  // ROS34PW2 in the transformed variables u = Gamma k of Hairer & Wanner IV.7 (a = alpha
  // Gamma^{-1}, c = diag(1/gamma) - Gamma^{-1}, m = b Gamma^{-1} = a_4. + e_4 since the method
  // is stiffly accurate, e = (b - bhat) Gamma^{-1}), from the published alpha, gamma, b, bhat.
  static constexpr double kGamma = 0.435866521508459;
  static constexpr double kA21 = 2.0000000000000004, kA31 = 1.4192173174557652, kA32 = -0.25923221167296978,
                          kA41 = 4.1847604823191613, kA42 = -0.28519201735549599, kA43 = 2.2942803602790423;
  static constexpr double kC21 = -4.5885607205580836, kC31 = -4.1847604823191613, kC32 = 0.28519201735549599,
                          kC41 = -6.3681792001283597, kC42 = -6.7956209444668367, kC43 = 2.8700986043310550;
  static constexpr double kE1 = 0.2777499476479686, kE2 = -1.4032398951759992, kE3 = 1.772630127667551,
                          kE4 = 0.5;
  static constexpr StepController kControl{1.0 / 3.0, 6.0};
  static constexpr double kBandLo = 0.8, kBandHi = 1.6, kTheta = 0.1;

  void compute_hessian() {
    sys_.model().hessian(sys_.data(), y_.data(), Hm_, sys_.scratch());
    ++n_hessian;
    hess_valid_ = true;
    hess_age_ = 0;
    fact_valid_ = false;
  }

  void prepare(double h) {
    if (krylov_) {
      sigma_ = 1.0 / (kGamma * h);
      kry_.set(sys_, y_, sigma_, opt_.rtol, opt_.atol);
      return;
    }
    if (!hess_valid_) compute_hessian();
    const double ratio = fact_valid_ ? h / h_fact_ : 0.0;
    if (!fact_valid_ || ratio < kBandLo || ratio > kBandHi) factor(h);
  }

  void factor(double h) {
    h_fact_ = h;
    sigma_ = 1.0 / (kGamma * h);
    ++n_factorizations;
    lin_.factor(Hm_, sigma_, sys_.scratch().threads);
    fact_valid_ = true;
  }

  bool solve(const Vec& b, Vec& x) {
    if (krylov_) return kry_.solve(b, x, kMaxKrylov);
    lin_.solve(b, x, [this](const Vec& dx) { return norm_(dx, y_, y_, opt_.rtol, opt_.atol); });
    return true;
  }

  // A rejected step with a Hessian from an earlier point: take a fresh one at y for the retry.
  void reject_stale() {
    ++n_rejected;
    if (!krylov_ && hess_valid_ && hess_age_ > 0) hess_valid_ = false;
  }

  // After an accepted step: keep the Hessian while it still describes the step (secant test).
  void check_hessian() {
    ++hess_age_;
    dy_ = ynew_ - y_;
    const double ndy = dy_.norm();
    if (ndy == 0.0) return;
    w_.noalias() = Hm_ * dy_;
    w_ += fnew_ - f0_;
    const double theta = w_.norm() / ((1.0 / (kGamma * h_fact_)) * ndy);
    last_theta_ = theta;
    if (theta > kTheta) hess_valid_ = false;
  }

  double initial_step() {
    const double d0 = norm_(y_, y_, y_, opt_.rtol, opt_.atol);
    const double d1 = norm_(f0_, y_, y_, opt_.rtol, opt_.atol);
    double h0 = (d0 < 1e-5 || d1 < 1e-5) ? 1e-6 : 0.01 * d0 / d1;
    ytmp_ = y_ + h0 * f0_;
    Vec f1(y_.size());
    sys_.rhs(ytmp_, f1);
    const double d2 = norm_(f1 - f0_, y_, y_, opt_.rtol, opt_.atol) / h0;
    const double h1 = (std::max(d1, d2) <= 1e-15) ? std::max(1e-6, h0 * 1e-3)
                                                  : std::pow(0.01 / std::max(d1, d2), 1.0 / 3.0);
    double h = std::min(100.0 * h0, h1);
    if (!std::isfinite(h) || h <= 0) h = 1e-6;
    return h;
  }

  static constexpr long kMaxKrylov = 500;
  GradientSystem& sys_;
  StepperOptions opt_;
  NeuronErrorNorm norm_;
  bool krylov_ = false;
  KrylovSolver kry_;
  RowMat Hm_;
  ShiftedSolver lin_;
  bool hess_valid_ = false, fact_valid_ = false;
  long hess_age_ = 0;
  double last_theta_ = 0.0;
  Vec f0_, fnew_, f_, f_prev_, rhs_, ytmp_, ynew_, y_prev_, err_, dy_, w_;
  Vec u_[4];
  double h_ = 0.0, h_used_ = 0.0, h_fact_ = 0.0, sigma_ = 0.0;
};

}  // namespace agf
