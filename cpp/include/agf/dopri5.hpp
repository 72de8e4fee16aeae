// Dormand-Prince 5(4) with the FSAL property, PI-free classic step control (Hairer, Norsett &
// Wanner, Solving ODEs I, II.4) and the 4th-order continuous extension used by SciPy's RK45
// for dense output. The error norm is the per-neuron relative norm of error_norm.hpp.
#pragma once
#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include "agf/dopri5_tableau.hpp"
#include "agf/error_norm.hpp"
#include "agf/stepper.hpp"

namespace agf {

class Dopri5 final : public Stepper {
 public:
  Dopri5(GradientSystem& sys, StepperOptions opt) : sys_(sys), opt_(opt), norm_(sys.model()) {
    for (auto& k : K_) k.resize(sys.size());
  }
  std::string name() const override { return "dopri5"; }

  void init(double t0, const Vec& y0) override {
    t_ = t_prev_ = t0;
    y_ = y0;
    y_prev_ = y0;
    loss_ = sys_.rhs(y_, K_[0]);
    h_ = opt_.h0 > 0 ? opt_.h0 : initial_step();
  }

  StepStatus step(double t_end) override {
    bool rejected_before = false;
    while (true) {
      const double h_min = underflow_step(t_);
      bool last = false;
      const double h = bounded_step(h_, t_, t_end, opt_, last);
      if (h < h_min && !last) return StepStatus::StepUnderflow;

      const double loss_new = dopri5_tableau::trial_step([&](const Vec& a, Vec& b) { return sys_.rhs(a, b); }, y_, h, K_, ytmp_, ynew_, err_);

      if (!std::isfinite(loss_new) || !ynew_.allFinite()) {
        // Treat as a failed step: shrink hard; give up when the step is already tiny.
        if (h < h_min * 1e3 || (opt_.h_min > 0 && h <= opt_.h_min * (1 + 1e-12))) return StepStatus::NonFinite;
        h_ = h * 0.1;
        ++n_rejected;
        rejected_before = true;
        continue;
      }
      double en = norm_(err_, y_, ynew_, opt_.rtol, opt_.atol);
      if (en > 1.0 && opt_.h_min > 0 && h <= opt_.h_min * (1 + 1e-12)) { ++n_forced; en = 1.0; }
      if (en <= 1.0) {
        const double fac = kControl.accept(en, rejected_before);
        t_prev_ = t_;
        y_prev_.swap(y_);
        y_.swap(ynew_);
        t_ = last ? t_end : t_ + h;
        h_used_ = h;
        loss_ = loss_new;
        // Dense-output coefficients Q = K P, computed from this step's stages.
        dopri5_tableau::dense_coefficients(K_, Q_);
        K_[0].swap(K_[6]);  // FSAL
        if (!last) h_ = std::max({h * fac, h_min, opt_.h_min});  // a step cut short at t_end keeps h_
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
    dopri5_tableau::dense_output(y_prev_, Q_, t_prev_, h, t, out);
  }

 private:
  static constexpr StepController kControl{0.2, 10.0};

  // Hairer's starting-step heuristic in the relative norm.
  double initial_step() {
    const Vec zero = Vec::Zero(y_.size());
    const double d0 = norm_(y_, y_, y_, opt_.rtol, opt_.atol);
    const double d1 = norm_(K_[0], y_, y_, opt_.rtol, opt_.atol);
    double h0 = (d0 < 1e-5 || d1 < 1e-5) ? 1e-6 : 0.01 * d0 / d1;
    ytmp_ = y_ + h0 * K_[0];
    Vec f1(y_.size());
    sys_.rhs(ytmp_, f1);
    const double d2 = norm_(f1 - K_[0], y_, y_, opt_.rtol, opt_.atol) / h0;
    const double h1 = (std::max(d1, d2) <= 1e-15) ? std::max(1e-6, h0 * 1e-3)
                                                  : std::pow(0.01 / std::max(d1, d2), 0.2);
    double h = std::min(100.0 * h0, h1);
    if (!std::isfinite(h) || h <= 0) h = 1e-6;
    return h;
  }

  GradientSystem& sys_;
  StepperOptions opt_;
  NeuronErrorNorm norm_;
  std::array<Vec, 7> K_;
  std::array<Vec, 4> Q_;
  Vec y_prev_, ynew_, ytmp_, err_;
  double h_ = 0.0, h_used_ = 0.0;
};

}  // namespace agf
