// AGF cost minimization (method section 3): gradient flow of the canonical loss restricted to
// the active neurons, run until it converges. Dormant neurons are frozen and negligible, so they
// are held at exactly 0 in theta: a homogeneous neuron (kappa >= 2) at the origin has zero
// gradient, hence gradient flow of the full parameter vector with the dormant rows at 0 IS the
// flow of the active set. Where the family supports it (Model::subset) the flow runs on a model
// of the active neurons only, which makes every kernel, and above all the Hessian of the stiff
// stepper, cheaper by the ratio of active to all neurons (squared for the Hessian); the result
// is the same flow. The stepper is chosen by name (default "auto": Dopri5 while the flow is
// not stiff, RODAS4 with the exact Hessian once it is), with the per-neuron relative norm.
//
// Stops with
//   Converged     ||grad L|| <= gtol (absolute; the caller passes gtol_rel * loss scale), or
//                 L <= loss_tol, or (when ftol > 0) the loss has stagnated: it fell by at most
//                 ftol L(t) over the last doubling of flow time, [t/2, t] (`stagnated`). The
//                 stagnation rule is for flows that converge only algebraically, e.g. two to
//                 four square neurons sharing one frequency (method section 6.5), whose infimum
//                 lies at infinite norm: the gradient criterion would need flow times of 1e7 and
//                 more, and on the way the neurons drift along the valley (picking up other
//                 frequencies) far beyond anything gradient flow does between two jumps. For
//                 L - L* ~ t^-p the last doubling's decrease is (2^p - 1)(L - L*), so the level
//                 is then known to about ftol L. The rule is checked only once
//                 t >= L(0)/||grad L(0)||^2 (the time the flow needs to lose its whole loss at
//                 its initial speed) and while the loss is below `stag_below` (AGF passes the
//                 plateau before the activation: a neuron that entered with positive utility
//                 must lower the loss, so a flow still above it is in a transient);
//                 with `polish` > 1 a stagnated flow is then continued (stagnation rule off)
//                 for up to (polish - 1) times the flow time it has run: if it meets the
//                 gradient criterion there, the minimum is finite and merely ill-conditioned
//                 (e.g. four square neurons on one frequency of 6.5 next to five on another:
//                 the flow reaches it at t ~ 1e5, 63 times past the stagnation stop) and that
//                 converged state is returned (`polished`); otherwise the continuation is
//                 discarded and the stagnated state is returned unchanged;
//   Deactivation  some active neuron's norm fell below deact_frac times its norm at the start of
//                 this call (the caller returns it to the dormant set and calls again without it);
//   NotConverged  the time or step limit was reached first (explicit status, never silent);
//   Failed        step-size underflow or non-finite values.
// AGF's clock does not advance during cost minimization; `t_spent` is reported for diagnostics.
#pragma once
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>
#include "agf/gradient_flow.hpp"
#include "agf/gradient_system.hpp"

namespace agf {

enum class CostStatus : int { Converged = 0, Deactivation = 1, NotConverged = 2, Failed = 3 };

struct CostMinOptions {
  double rtol = 1e-9;
  double gtol = 1e-10;
  double loss_tol = 0.0;
  double ftol = 0.0;  // stagnation tolerance, relative to the current loss; 0 = off
  double stag_below = std::numeric_limits<double>::infinity();  // stagnation only counts below this loss
  double polish = 0.0;  // continue a stagnated flow up to polish x its flow time; <= 1 = off
  double deact_frac = 0.1;
  double t_max = 1e7;
  long max_steps = 2000000;
  int threads = 1;
  std::string method = "auto";
};

struct CostMinResult {
  CostStatus status = CostStatus::Converged;
  Vec theta;
  double loss = 0.0, grad_norm = 0.0, t_spent = 0.0;
  std::vector<Index> deactivated;
  bool stagnated = false, polished = false;
  long n_steps = 0, n_rhs = 0;
};

inline CostMinResult run_cost_min(const Model& model, const Data& data, const Vec& theta0,
                                  const std::vector<int>& active, const CostMinOptions& opt) {
  model.check_data(data);
  const Index P = model.n_params(), H = model.n_neurons();
  std::vector<Index> owner(P);
  for (Index p = 0; p < P; ++p) owner[p] = model.neuron_of(p);
  // The simulated model: the active subset when the family supports it, else the full model.
  std::vector<Index> act_ids, params;  // active neurons; simulated params (indices into theta)
  for (Index i = 0; i < H; ++i)
    if (active[i]) act_ids.push_back(i);
  std::unique_ptr<Model> sub = act_ids.empty() ? nullptr : model.subset(Index(act_ids.size()));
  const Model& sim = sub ? *sub : model;
  for (Index p = 0; p < P; ++p)
    if (!sub || active[owner[p]]) params.push_back(p);
  const Index Ps = Index(params.size()), Hs = sim.n_neurons();
  std::vector<Index> sim_to_full(Hs);  // neuron of the simulated model -> neuron of the model
  for (Index i = 0; i < Hs; ++i) sim_to_full[i] = sub ? act_ids[i] : i;
  Vec full = theta0;
  for (Index p = 0; p < P; ++p)
    if (!active[owner[p]]) full[p] = 0.0;
  Vec y(Ps);
  for (Index q = 0; q < Ps; ++q) y[q] = full[params[q]];

  Vec n0(Hs), nn(Hs);
  sim.neuron_norms(y.data(), n0.data());
  GradientSystem sys(sim, data, opt.threads);
  CostMinResult res;
  Vec g(Ps);
  auto grad_at = [&](const Vec& th, double& loss) {
    loss = sim.loss_grad(data, th.data(), g.data(), sys.scratch());
    return g.norm();
  };
  auto finish = [&](const Vec& ys, double loss, double gn, double t, long steps) {
    for (Index q = 0; q < Ps; ++q) full[params[q]] = ys[q];
    res.theta = full;
    res.loss = loss;
    res.grad_norm = gn;
    res.t_spent = t;
    res.n_steps = steps;
    res.n_rhs = sys.n_rhs;
  };
  double loss;
  double gn = grad_at(y, loss);
  if (gn <= opt.gtol || loss <= opt.loss_tol) {
    finish(y, loss, gn, 0.0, 0);
    return res;
  }
  StepperOptions so;
  so.rtol = opt.rtol;
  auto st = make_stepper(opt.method, sys, so);
  st->init(0.0, y);
  long steps = 0;
  // Loss history for the stagnation rule (the loss of a gradient flow never increases).
  std::vector<double> hist_t{0.0}, hist_L{loss};
  const double t_stag = loss / (gn * gn);
  auto loss_at = [&](double t) {  // linear interpolation in the history
    const auto it = std::upper_bound(hist_t.begin(), hist_t.end(), t);
    const std::size_t j = std::size_t(it - hist_t.begin());
    if (j >= hist_t.size()) return hist_L.back();
    const double t0 = hist_t[j - 1], t1 = hist_t[j];
    return hist_L[j - 1] + (hist_L[j] - hist_L[j - 1]) * (t - t0) / (t1 - t0);
  };
  // One step of the flow towards t_end: the loss and gradient norm there, and in `dead` the
  // active neurons whose norm fell below deact_frac of their entry norm. False if it failed.
  std::vector<Index> dead;
  auto advance = [&](double t_end) {
    ++steps;
    if (st->step(t_end) != StepStatus::Ok) return false;
    gn = grad_at(st->y(), loss);
    if (!std::isfinite(loss)) return false;
    sim.neuron_norms(st->y().data(), nn.data());
    dead.clear();
    for (Index i = 0; i < Hs; ++i)
      if (active[sim_to_full[i]] && nn[i] < opt.deact_frac * n0[i]) dead.push_back(sim_to_full[i]);
    return true;
  };
  auto at_minimum = [&]() { return gn <= opt.gtol || loss <= opt.loss_tol; };
  while (true) {
    if (!advance(opt.t_max)) { res.status = CostStatus::Failed; break; }
    if (!dead.empty()) { res.deactivated = dead; res.status = CostStatus::Deactivation; break; }
    if (at_minimum()) { res.status = CostStatus::Converged; break; }
    hist_t.push_back(st->t());
    hist_L.push_back(loss);
    const double tn = st->t();
    if (opt.ftol > 0 && tn >= t_stag && loss < opt.stag_below &&
        std::abs(loss_at(0.5 * tn) - loss) <= opt.ftol * loss) {
      res.status = CostStatus::Converged;
      res.stagnated = true;
      break;
    }
    if (st->t() >= opt.t_max || steps >= opt.max_steps) { res.status = CostStatus::NotConverged; break; }
  }
  finish(st->y(), loss, gn, st->t(), steps);
  if (res.stagnated && opt.polish > 1) {
    // The polish (header comment): the same flow goes on, gradient criterion only, until its
    // flow time reaches `polish` times that of the stop. Only a converged end state replaces
    // the result; a deactivation, the limits or a failure leave the stagnated state as it is.
    const double t_end = std::min(opt.t_max, opt.polish * st->t());
    while (st->t() < t_end && steps < opt.max_steps) {
      if (!advance(t_end) || !dead.empty()) break;
      if (at_minimum()) {
        finish(st->y(), loss, gn, st->t(), steps);
        res.polished = true;
        break;
      }
    }
    res.n_steps = steps;
    res.n_rhs = sys.n_rhs;
  }
  return res;
}

}  // namespace agf
