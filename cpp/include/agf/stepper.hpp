// The interface of an adaptive one-step integrator for gradient flow. The driver
// (gradient_flow.hpp) only sees this interface, so a stiff method plugs in by name.
#pragma once
#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include "agf/gradient_system.hpp"

namespace agf {

enum class StepStatus { Ok = 0, StepUnderflow = 1, NonFinite = 2 };

struct StepperOptions {
  double rtol = 1e-8;
  double atol = 0.0;
  double h0 = 0.0;     // initial step; 0 = automatic
  double h_max = 0.0;  // 0 = unbounded
  // Steps of this size are accepted whatever their error estimate (0 = never). For gradients
  // with kinks (ReLU), whose flow can slide along a kink where any error-controlled step
  // shrinks without end; such forced steps are counted in n_forced.
  double h_min = 0.0;
  // Linear solver of the implicit steppers (rosenbrock_w.hpp): "dense" (exact Hessian,
  // Cholesky), "krylov" (Hessian-vector products, CG; krylov.hpp) or "auto" (dense up to
  // dense_max_params parameters, Krylov above).
  std::string linear_solver = "auto";
  long dense_max_params = 3000;
};

// Steps below this size at time t are lost to round-off: the run has stalled.
inline double underflow_step(double t) {
  return 16.0 * std::numeric_limits<double>::epsilon() * std::max(std::abs(t), 1e-300);
}

// The size of the next trial step of every stepper: the controller's proposal h bounded by
// h_max, raised to the forced floor h_min, and cut to end exactly at t_end (then last = true).
inline double bounded_step(double h, double t, double t_end, const StepperOptions& opt, bool& last) {
  if (opt.h_max > 0) h = std::min(h, opt.h_max);
  last = false;
  if (t + h >= t_end) { h = t_end - t; last = true; }
  if (opt.h_min > 0 && h < opt.h_min && !last) h = std::min(opt.h_min, t_end - t);
  return h;
}

// The classic step-size controller (Hairer, Norsett & Wanner I, II.4): after a step with error
// norm en, the next step is h * factor, with the exponent 1/(q+1) of a method of error order q,
// safety 0.9, at most max_factor (never more than 1 right after a rejection) and at least 0.2.
struct StepController {
  double exponent, max_factor;
  double accept(double en, bool rejected_before) const {
    double fac = en == 0.0 ? max_factor : std::min(max_factor, 0.9 * std::pow(en, -exponent));
    return rejected_before ? std::min(1.0, fac) : fac;
  }
  double reject(double en) const { return std::max(0.2, 0.9 * std::pow(en, -exponent)); }
};

class Stepper {
 public:
  virtual ~Stepper() = default;
  virtual std::string name() const = 0;
  // Start at (t0, y0); evaluates the right-hand side there.
  virtual void init(double t0, const Vec& y0) = 0;
  // Takes one accepted step that does not pass t_end (rejected attempts are retried inside).
  virtual StepStatus step(double t_end) = 0;
  // Dense output on [t_prev, t], written to out.
  virtual void dense(double t, Vec& out) const = 0;

  double t() const { return t_; }
  double t_prev() const { return t_prev_; }
  const Vec& y() const { return y_; }
  double loss() const { return loss_; }  // loss at y()
  long n_accepted = 0;
  long n_rejected = 0;
  long n_forced = 0;

 protected:
  double t_ = 0.0, t_prev_ = 0.0, loss_ = 0.0;
  Vec y_;
};

}  // namespace agf
