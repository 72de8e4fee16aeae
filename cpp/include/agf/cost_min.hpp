// AGF cost minimization (method section 3): gradient flow of the canonical loss restricted to
// the active neurons, run until it converges. Dormant neurons are frozen and negligible, so they
// are held at exactly 0 in theta: a homogeneous neuron (kappa >= 2) at the origin has zero
// gradient, hence gradient flow of the full parameter vector with the dormant rows at 0 IS the
// flow of the active set, and the gradient-flow stepper (Dopri5, per-neuron relative error
// norm) is reused unchanged.
//
// Stops with
//   Converged     ||grad L|| <= gtol (absolute; the caller passes gtol_rel * loss scale), or
//                 L <= loss_tol;
//   Deactivation  some active neuron's norm fell below deact_frac times its norm at the start of
//                 this call (the caller returns it to the dormant set and calls again without it);
//   NotConverged  the time or step limit was reached first (explicit status, never silent);
//   Failed        step-size underflow or non-finite values.
// AGF's clock does not advance during cost minimization; `t_spent` is reported for diagnostics.
#pragma once
#include <cmath>
#include <vector>
#include "agf/dopri5.hpp"
#include "agf/gradient_system.hpp"

namespace agf {

enum class CostStatus : int { Converged = 0, Deactivation = 1, NotConverged = 2, Failed = 3 };

struct CostMinOptions {
  double rtol = 1e-9;
  double gtol = 1e-10;
  double loss_tol = 0.0;
  double deact_frac = 0.1;
  double t_max = 1e7;
  long max_steps = 2000000;
  int threads = 1;
};

struct CostMinResult {
  CostStatus status = CostStatus::Converged;
  Vec theta;
  double loss = 0.0, grad_norm = 0.0, t_spent = 0.0;
  std::vector<Index> deactivated;
  long n_steps = 0, n_rhs = 0;
};

inline CostMinResult run_cost_min(const Model& model, const Data& data, const Vec& theta0,
                                  const std::vector<int>& active, const CostMinOptions& opt) {
  model.check_data(data);
  const Index P = model.n_params(), H = model.n_neurons();
  std::vector<Index> owner(P);
  for (Index p = 0; p < P; ++p) owner[p] = model.neuron_of(p);
  Vec y = theta0;
  for (Index p = 0; p < P; ++p)
    if (!active[owner[p]]) y[p] = 0.0;
  Vec n0(H), nn(H);
  model.neuron_norms(y.data(), n0.data());
  GradientSystem sys(model, data, opt.threads);
  CostMinResult res;
  Vec g(P);
  auto grad_at = [&](const Vec& th, double& loss) {
    loss = model.loss_grad(data, th.data(), g.data(), sys.scratch());
    return g.norm();
  };
  double loss;
  double gn = grad_at(y, loss);
  if (gn <= opt.gtol || loss <= opt.loss_tol) {
    res.theta = y; res.loss = loss; res.grad_norm = gn;
    return res;
  }
  StepperOptions so;
  so.rtol = opt.rtol;
  Dopri5 st(sys, so);
  st.init(0.0, y);
  long steps = 0;
  while (true) {
    const StepStatus s = st.step(opt.t_max);
    ++steps;
    if (s != StepStatus::Ok) { res.status = CostStatus::Failed; break; }
    gn = grad_at(st.y(), loss);
    if (!std::isfinite(loss)) { res.status = CostStatus::Failed; break; }
    model.neuron_norms(st.y().data(), nn.data());
    for (Index i = 0; i < H; ++i)
      if (active[i] && nn[i] < opt.deact_frac * n0[i]) res.deactivated.push_back(i);
    if (!res.deactivated.empty()) { res.status = CostStatus::Deactivation; break; }
    if (gn <= opt.gtol || loss <= opt.loss_tol) { res.status = CostStatus::Converged; break; }
    if (st.t() >= opt.t_max || steps >= opt.max_steps) { res.status = CostStatus::NotConverged; break; }
  }
  res.theta = st.y();
  res.loss = loss;
  res.grad_norm = gn;
  res.t_spent = st.t();
  res.n_steps = steps;
  res.n_rhs = sys.n_rhs;
  return res;
}

}  // namespace agf
