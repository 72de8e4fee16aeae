// Stiff gradient flow: RODAS4, a 6-stage L-stable, stiffly accurate Rosenbrock method of order
// 4 with an embedded order-3 error estimate and an order-3 continuous extension (Hairer & Wanner,
// Solving ODEs II, IV.7; coefficients of rodas.f), using the exact Hessian: for gradient flow
// the Jacobian of dtheta/dt = -dL is J = -d2L, so every stage solves
//     (I / (gamma h) + d2L) g_i = f(Y_i) + sum_j (c_ij / h) g_j.
// The linear algebra (Cholesky, mixed precision with refinement, LU fallback) is
// shifted_solver.hpp. One Hessian per accepted step (a rejected step reuses it, with a new factorization);
// the step-size controller uses the per-neuron relative error norm of error_norm.hpp.
//
// AutoStepper ("auto"): Dormand-Prince on the non-stiff stretches (tiny-norm plateaus, fast
// drops), RODAS4 where the flow is stiff. It switches to the implicit method when the explicit
// step is held by stability (h * rho(d2L) above 2 at two checks in a row, Dopri5's real stability
// bound being about 3.3; rho from a warm-started power iteration on Hessian-vector products), and
// back when the implicit step spans fewer than 4 explicit stability steps (there the explicit
// method needs no more gradient evaluations and no Hessians). Decisions depend only on the state,
// so runs are reproducible.
#pragma once
#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <string>
#include <utility>
#include <vector>
#include "agf/dopri5.hpp"
#include "agf/error_norm.hpp"
#include "agf/rosenbrock_w.hpp"
#include "agf/shifted_solver.hpp"
#include "agf/stepper.hpp"

namespace agf {

class Rodas4 final : public Stepper {
 public:
  Rodas4(GradientSystem& sys, StepperOptions opt) : sys_(sys), opt_(opt), norm_(sys.model()) {
    krylov_ = use_krylov(opt_, sys.model());
    if (krylov_) kry_ = KrylovSolver(sys.model());
  }
  bool uses_krylov() const { return krylov_; }
  long n_hvp() const { return (krylov_ ? kry_.n_hvp : 0) + n_hvp_power; }
  long n_solve_fail = 0;
  std::string name() const override { return "rodas4"; }

  void init(double t0, const Vec& y0) override {
    t_ = t_prev_ = t0;
    y_ = y0;
    y_prev_ = y0;
    loss_ = sys_.rhs(y_, f0_);
    jac_valid_ = false;
    h_used_ = 0.0;
    h_ = opt_.h0 > 0 ? opt_.h0 : initial_step();
  }

  StepStatus step(double t_end) override {
    bool rejected_before = false;
    if (!jac_valid_ && !krylov_) {
      sys_.model().hessian(sys_.data(), y_.data(), Hm_, sys_.scratch());
      ++n_hessian;
      jac_valid_ = true;
    }
    while (true) {
      const double h_min = underflow_step(t_);
      bool last = false;
      const double h = bounded_step(h_, t_, t_end, opt_, last);
      if (h < h_min && !last) return StepStatus::StepUnderflow;

      factor(h);
      const double ih = 1.0 / h;
      bool ok = solve(f0_, g_[0]);
      if (ok) {
        ytmp_ = y_ + kA21 * g_[0];
        sys_.rhs(ytmp_, f_);
        rhs_ = f_ + (kC21 * ih) * g_[0];
        ok = solve(rhs_, g_[1]);
      }
      if (ok) {
        ytmp_ = y_ + kA31 * g_[0] + kA32 * g_[1];
        sys_.rhs(ytmp_, f_);
        rhs_ = f_ + ih * (kC31 * g_[0] + kC32 * g_[1]);
        ok = solve(rhs_, g_[2]);
      }
      if (ok) {
        ytmp_ = y_ + kA41 * g_[0] + kA42 * g_[1] + kA43 * g_[2];
        sys_.rhs(ytmp_, f_);
        rhs_ = f_ + ih * (kC41 * g_[0] + kC42 * g_[1] + kC43 * g_[2]);
        ok = solve(rhs_, g_[3]);
      }
      if (ok) {
        ytmp_ = y_ + kA51 * g_[0] + kA52 * g_[1] + kA53 * g_[2] + kA54 * g_[3];
        sys_.rhs(ytmp_, f_);
        rhs_ = f_ + ih * (kC51 * g_[0] + kC52 * g_[1] + kC53 * g_[2] + kC54 * g_[3]);
        ok = solve(rhs_, g_[4]);
      }
      if (ok) {
        ytmp_ += g_[4];
        sys_.rhs(ytmp_, f_);
        rhs_ = f_ + ih * (kC61 * g_[0] + kC62 * g_[1] + kC63 * g_[2] + kC64 * g_[3] + kC65 * g_[4]);
        ok = solve(rhs_, g_[5]);
      }
      if (!ok) {  // Krylov: negative curvature or no convergence; a shorter step helps both
        if (h < h_min * 1e3) return StepStatus::NonFinite;
        h_ = std::max(h * 0.25, opt_.h_min);
        ++n_rejected;
        ++n_solve_fail;
        rejected_before = true;
        continue;
      }
      ynew_ = ytmp_ + g_[5];  // g_[5] is the embedded error estimate

      if (!ynew_.allFinite()) {
        if (h < h_min * 1e3 || (opt_.h_min > 0 && h <= opt_.h_min * (1 + 1e-12))) return StepStatus::NonFinite;
        h_ = h * 0.1;
        ++n_rejected;
        rejected_before = true;
        continue;
      }
      double en = norm_(g_[5], y_, ynew_, opt_.rtol, opt_.atol);
      if (en > 1.0 && opt_.h_min > 0 && h <= opt_.h_min * (1 + 1e-12)) { ++n_forced; en = 1.0; }
      if (en <= 1.0) {
        const double loss_new = sys_.rhs(ynew_, fnew_);
        if (!std::isfinite(loss_new)) {
          if (h < h_min * 1e3) return StepStatus::NonFinite;
          h_ = h * 0.1;
          ++n_rejected;
          rejected_before = true;
          continue;
        }
        const double fac = kControl.accept(en, rejected_before);
        cont3_ = kD21 * g_[0] + kD22 * g_[1] + kD23 * g_[2] + kD24 * g_[3] + kD25 * g_[4];
        cont4_ = kD31 * g_[0] + kD32 * g_[1] + kD33 * g_[2] + kD34 * g_[3] + kD35 * g_[4];
        t_prev_ = t_;
        y_prev_.swap(y_);
        y_.swap(ynew_);
        f0_.swap(fnew_);
        t_ = last ? t_end : t_ + h;
        h_used_ = h;
        loss_ = loss_new;
        jac_valid_ = false;
        if (!last) h_ = std::max({h * fac, h_min, opt_.h_min});
        ++n_accepted;
        return StepStatus::Ok;
      }
      h_ = std::max(h * kControl.reject(en), opt_.h_min);
      ++n_rejected;
      rejected_before = true;
    }
  }

  void dense(double t, Vec& out) const override {
    const double h = h_used_;
    if (h == 0.0) { out = y_; return; }
    const double s = (t - t_prev_) / h, s1 = 1.0 - s;
    out = s1 * y_prev_ + s * (y_ + s1 * (cont3_ + s * cont4_));
  }

  // Largest |eigenvalue| of the Hessian at the start of the next step (power iteration on the
  // dense Hessian, warm-started); computes the Hessian if needed.
  double spectral_radius(Vec& v, int iters) {
    if (krylov_) return hvp_power(v, iters);
    if (!jac_valid_) {
      sys_.model().hessian(sys_.data(), y_.data(), Hm_, sys_.scratch());
      ++n_hessian;
      jac_valid_ = true;
    }
    if (v.size() != y_.size() || v.norm() == 0.0) v = Vec::Ones(y_.size());
    v.normalize();
    double lam = 0.0;
    Vec w;
    for (int k = 0; k < iters; ++k) {
      w.noalias() = Hm_ * v;
      lam = std::abs(v.dot(w));
      const double nw = w.norm();
      if (nw == 0.0) return 0.0;
      v = w / nw;
    }
    return lam;
  }

  double h_next() const { return h_; }
  double h_last() const { return h_used_; }
  long n_hessian = 0, n_factorizations = 0;
  long n_lu() const { return lin_.n_lu; }
  long n_refine() const { return lin_.n_refine; }

 private:
  static constexpr double kGamma = 0.25;
  static constexpr double kA21 = 1.544, kA31 = 0.9466785280815826, kA32 = 0.2557011698983284,
                          kA41 = 3.314825187068521, kA42 = 2.896124015972201, kA43 = 0.9986419139977817,
                          kA51 = 1.221224509226641, kA52 = 6.019134481288629, kA53 = 12.53708332932087,
                          kA54 = -0.6878860361058950;
  static constexpr double kC21 = -5.6688, kC31 = -2.430093356833875, kC32 = -0.2063599157091915,
                          kC41 = -0.1073529058151375, kC42 = -9.594562251023355, kC43 = -20.47028614809616,
                          kC51 = 7.496443313967647, kC52 = -10.24680431464352, kC53 = -33.99990352819905,
                          kC54 = 11.70890893206160, kC61 = 8.083246795921522, kC62 = -7.981132988064893,
                          kC63 = -31.52159432874371, kC64 = 16.31930543123136, kC65 = -6.058818238834054;
  static constexpr double kD21 = 10.12623508344586, kD22 = -7.487995877610167, kD23 = -34.80091861555747,
                          kD24 = -7.992771707568823, kD25 = 1.025137723295662, kD31 = -0.6762803392801253,
                          kD32 = 6.087714651680015, kD33 = 16.43084320892478, kD34 = 24.76722511418386,
                          kD35 = -6.594389125716872;
  static constexpr StepController kControl{0.25, 6.0};

  void factor(double h) {
    if (krylov_) {
      kry_.set(sys_, y_, 1.0 / (kGamma * h), opt_.rtol, opt_.atol);
      return;
    }
    ++n_factorizations;
    lin_.factor(Hm_, 1.0 / (kGamma * h), sys_.scratch().threads);
  }
  bool solve(const Vec& b, Vec& x) {
    if (krylov_) return kry_.solve(b, x, kMaxKrylov);
    lin_.solve(b, x, [this](const Vec& dx) { return norm_(dx, y_, y_, opt_.rtol, opt_.atol); });
    return true;
  }
  double hvp_power(Vec& v, int iters) {
    if (v.size() != y_.size() || v.norm() == 0.0) v = Vec::Ones(y_.size());
    v.normalize();
    Vec w(y_.size());
    double lam = 0.0;
    for (int k = 0; k < iters; ++k) {
      sys_.model().hvp(sys_.data(), y_.data(), v.data(), w.data(), sys_.scratch());
      ++n_hvp_power;
      lam = std::abs(v.dot(w));
      const double nw = w.norm();
      if (!(nw > 0.0) || !std::isfinite(nw)) return 0.0;
      v = w / nw;
    }
    return lam;
  }
  static constexpr long kMaxKrylov = 500;
  bool krylov_ = false;
  KrylovSolver kry_;
  long n_hvp_power = 0;

  double initial_step() {
    const double d0 = norm_(y_, y_, y_, opt_.rtol, opt_.atol);
    const double d1 = norm_(f0_, y_, y_, opt_.rtol, opt_.atol);
    double h0 = (d0 < 1e-5 || d1 < 1e-5) ? 1e-6 : 0.01 * d0 / d1;
    ytmp_ = y_ + h0 * f0_;
    Vec f1(y_.size());
    sys_.rhs(ytmp_, f1);
    const double d2 = norm_(f1 - f0_, y_, y_, opt_.rtol, opt_.atol) / h0;
    const double h1 = (std::max(d1, d2) <= 1e-15) ? std::max(1e-6, h0 * 1e-3)
                                                  : std::pow(0.01 / std::max(d1, d2), 0.25);
    double h = std::min(100.0 * h0, h1);
    if (!std::isfinite(h) || h <= 0) h = 1e-6;
    return h;
  }

  GradientSystem& sys_;
  StepperOptions opt_;
  NeuronErrorNorm norm_;
  RowMat Hm_;
  ShiftedSolver lin_;
  bool jac_valid_ = false;
  Vec f0_, fnew_, f_, rhs_, ytmp_, ynew_, y_prev_, cont3_, cont4_;
  Vec g_[6];
  double h_ = 0.0, h_used_ = 0.0;
};

// Explicit (Dopri5) where the flow is not stiff, RODAS4 where it is; see the file comment.
class AutoStepper final : public Stepper {
 public:
  AutoStepper(GradientSystem& sys, StepperOptions opt) : sys_(sys), opt_(opt) {
  }
  std::string name() const override { return "auto"; }

  void init(double t0, const Vec& y0) override {
    t_ = t_prev_ = t0;
    y_ = y0;
    start_explicit(t0, y0, opt_.h0);
    loss_ = active_->loss();
  }

  StepStatus step(double t_end) override {
    maybe_switch();
    const StepStatus st = active_->step(t_end);
    if (st == StepStatus::Ok) {
      t_prev_ = active_->t_prev();
      t_ = active_->t();
      y_ = active_->y();
      loss_ = active_->loss();
      if (implicit_) ++steps_implicit; else ++steps_explicit;
      ++since_switch_;
    }
    sync_counts();
    return st;
  }

  void dense(double t, Vec& out) const override { active_->dense(t, out); }

  long steps_explicit = 0, steps_implicit = 0, n_switches = 0, n_hvp = 0;
  long n_hessian() const { return hess_done_ + (imp_ ? imp_->n_hessian : 0); }
  long n_factorizations() const { return fact_done_ + (imp_ ? imp_->n_factorizations : 0); }
  long n_refine() const { return refine_done_ + (imp_ ? imp_->n_refine() : 0); }
  long n_hvp_total() const { return n_hvp + hvp_done_ + (imp_ ? imp_->n_hvp() : 0); }
  bool implicit() const { return implicit_; }

 private:
  // Dopri5's real stability interval is about [-3.3, 0]: a step with h rho above kStiff is held
  // by stability rather than accuracy.
  static constexpr double kStiff = 2.0, kStabExplicit = 3.0, kBack = 4.0;
  static constexpr int kCheckEvery = 20, kPowerIters = 6;

  void start_explicit(double t, const Vec& y, double h0) {
    StepperOptions o = opt_;
    o.h0 = h0;
    keep_counts();
    exp_ = std::make_unique<Dopri5>(sys_, o);
    exp_->init(t, y);
    active_ = exp_.get();
    implicit_ = false;
    since_switch_ = 0;
    stiff_hits_ = 0;
  }
  void start_implicit(double t, const Vec& y, double h0) {
    StepperOptions o = opt_;
    o.h0 = h0;
    keep_counts();
    if (imp_) {
      hess_done_ += imp_->n_hessian;
      fact_done_ += imp_->n_factorizations;
      hvp_done_ += imp_->n_hvp();
      refine_done_ += imp_->n_refine();
    }
    imp_ = std::make_unique<Rodas4>(sys_, o);
    imp_->init(t, y);
    active_ = imp_.get();
    implicit_ = true;
    since_switch_ = 0;
  }
  void keep_counts() {
    if (active_) { acc_done_ += active_->n_accepted; rej_done_ += active_->n_rejected; forced_done_ += active_->n_forced; }
  }
  void sync_counts() {
    n_accepted = acc_done_ + active_->n_accepted;
    n_rejected = rej_done_ + active_->n_rejected;
    n_forced = forced_done_ + active_->n_forced;
  }

  // Largest |eigenvalue| of d2L at y by power iteration on Hessian-vector products.
  double rho_hvp(const Vec& y, int iters) {
    if (v_.size() != y.size() || v_.norm() == 0.0) v_ = Vec::Ones(y.size());
    v_.normalize();
    Vec w(y.size());
    double lam = 0.0;
    for (int k = 0; k < iters; ++k) {
      sys_.model().hvp(sys_.data(), y.data(), v_.data(), w.data(), sys_.scratch());
      ++n_hvp;
      lam = std::abs(v_.dot(w));
      const double nw = w.norm();
      if (!(nw > 0.0) || !std::isfinite(nw)) return 0.0;
      v_ = w / nw;
    }
    return lam;
  }

  void maybe_switch() {
    if (!hvp_ok_) return;
    if (!implicit_) {
      if (since_switch_ < cooldown_ || since_switch_ % kCheckEvery != 0) return;
      const double h = active_->t() - active_->t_prev();
      if (!(h > 0)) return;
      double rho;
      try {
        rho = rho_hvp(active_->y(), first_check_ ? 4 * kPowerIters : kPowerIters);
        first_check_ = false;
      } catch (const ConfigError&) {
        hvp_ok_ = false;  // no Hessian for this family: stay explicit
        return;
      }
      stiff_hits_ = (h * rho > kStiff) ? stiff_hits_ + 1 : 0;
      // The implicit method pays off only if it can take steps much longer than the explicit
      // stability bound; on a stability-limited stretch it can, so try it.
      if (stiff_hits_ >= 2) {
        ++n_switches;
        start_implicit(active_->t(), active_->y(), 10.0 * h);
      }
    } else {
      if (since_switch_ < 3) return;
      const double h = imp_->h_last();
      const double rho = imp_->spectral_radius(v_, kPowerIters);
      // Explicit steps needed to cover one implicit step. Below kBack, Dopri5 needs no more
      // gradients than RODAS4 (6 per step each) and no Hessian or factorization: go back.
      const double spans = h * rho / kStabExplicit;
      if (spans < kBack) {
        ++n_switches;
        cooldown_ = std::min(cooldown_ * 2, 2000L);
        start_explicit(active_->t(), active_->y(), std::min(h, kStabExplicit / std::max(rho, 1e-300)));
      }
    }
  }

  GradientSystem& sys_;
  StepperOptions opt_;
  std::unique_ptr<Dopri5> exp_;
  std::unique_ptr<Rodas4> imp_;
  Stepper* active_ = nullptr;
  bool implicit_ = false, hvp_ok_ = true, first_check_ = true;
  long since_switch_ = 0, stiff_hits_ = 0, cooldown_ = 40;
  long acc_done_ = 0, rej_done_ = 0, forced_done_ = 0, hess_done_ = 0, fact_done_ = 0, hvp_done_ = 0, refine_done_ = 0;
  Vec v_;
};

// Statistics of the stiff steppers, by name (empty for other steppers).
inline std::vector<std::pair<std::string, double>> stiff_stats(const Stepper& s) {
  std::vector<std::pair<std::string, double>> out;
  if (auto* r = dynamic_cast<const Rodas4*>(&s)) {
    out = {{"n_hessian", double(r->n_hessian)}, {"n_factorizations", double(r->n_factorizations)},
           {"n_lu", double(r->n_lu())}, {"n_refine", double(r->n_refine())}, {"n_hvp", double(r->n_hvp())}, {"steps_implicit", double(r->n_accepted)},
           {"steps_explicit", 0.0}};
  } else if (auto* w = dynamic_cast<const RosW*>(&s)) {
    out = {{"n_hessian", double(w->n_hessian)}, {"n_factorizations", double(w->n_factorizations)},
           {"n_lu", double(w->n_lu())}, {"n_refine", double(w->n_refine())}, {"n_hvp", double(w->n_hvp())}, {"steps_implicit", double(w->n_accepted)},
           {"steps_explicit", 0.0}};
  } else if (auto* a = dynamic_cast<const AutoStepper*>(&s)) {
    out = {{"n_hessian", double(a->n_hessian())}, {"n_factorizations", double(a->n_factorizations())},
           {"n_refine", double(a->n_refine())},
           {"n_hvp", double(a->n_hvp_total())}, {"n_switches", double(a->n_switches)},
           {"steps_implicit", double(a->steps_implicit)}, {"steps_explicit", double(a->steps_explicit)}};
  } else {
    out = {{"n_hessian", 0.0}, {"n_factorizations", 0.0}, {"steps_implicit", 0.0},
           {"steps_explicit", double(s.n_accepted)}};
  }
  return out;
}

}  // namespace agf
