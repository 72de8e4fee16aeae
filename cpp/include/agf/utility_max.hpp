// AGF dormant phase (method section 3, "utility maximization"): every dormant neuron follows the
// polar equations of gradient flow against a FIXED residual r (the residual of the active
// neurons alone):
//
//   d theta_bar_i / dt = speed_i (I - theta_bar theta_bar^T) grad U(theta_bar_i; r)
//   d S_i / dt         = kappa U(theta_bar_i; r)          (U at unit norm = U bar)
//
// speed_i = ||theta_i||^(kappa-2) from the norm law: 1 for kappa = 2, and for kappa > 2
// ||theta||^(2-kappa) = rho0^(2-kappa) - (kappa-2) S, i.e. speed = 1 / (rho0^(2-kappa) - (kappa-2) S).
//
// State y = [theta (n_params; dormant neurons' rows hold their direction, other rows 0), S (H)].
// The right-hand side normalises each dormant neuron before evaluating the batched utility
// kernel (all neurons in one set of matrix products), so small drifts of the stored norm do not
// matter. Integrated with the generic Dormand-Prince 5(4) (agf_dopri.hpp). Events, located on
// the dense output by Illinois regula falsi to `event_rtol` relative in time:
//   - activation: S_i crosses c_i upwards (dormant neurons, frozen or free);
//   - release: a frozen neuron's S_i falls to 0; its direction is released (mode 2 -> 1) and the
//     integration continues (recorded in `releases`).
// Crossings within event_rtol (relative to |t|, at least 1e-12 absolute) of the earliest
// activation activate together.
// Stationarity: the phase stops with status Stationary when, at an accepted step, every free
// dormant neuron has kappa U <= utol and speed * ||projected grad|| <= gtol and every frozen
// one has |kappa U| <= utol: then no dormant neuron can ever reach its threshold.
#pragma once
#include <cmath>
#include <limits>
#include <vector>
#include "agf/agf_dopri.hpp"
#include "agf/model.hpp"

namespace agf {

enum class NeuronMode : int { Active = 0, Dormant = 1, Frozen = 2, Retired = 3 };
enum class DormantStatus : int { Activation = 0, Stationary = 1, TimeLimit = 2, MaxSteps = 3, Failed = 4 };

struct DormantOptions {
  double rtol = 1e-10, atol = 1e-12;
  double event_rtol = 1e-10;
  double t_end = std::numeric_limits<double>::infinity();  // absolute time limit
  long max_steps = 5000000;
  // Forced-acceptance step floor (kinks, see agf_dopri.hpp), relative: steps of h_min times the
  // time the fastest dormant S needs to move by 1, 1 / max_i kappa |U_i| (at most h_min * 1e3),
  // are accepted whatever their error estimate. 0 = none.
  double h_min = 0.0;
  double utol = 0.0, gtol = 0.0;  // stationarity thresholds (absolute); 0 disables
  int threads = 1;
};

struct DormantResult {
  DormantStatus status = DormantStatus::Activation;
  double t = 0.0;
  std::vector<Index> neurons;   // activating neurons
  Vec theta;                    // directions (unit rows for dormant neurons, 0 elsewhere)
  Vec S;                        // accumulated utilities at t
  Vec U;                        // U bar of every neuron at t (0 for non-dormant)
  std::vector<int> mode;        // modes at t (releases applied)
  std::vector<double> release_t;
  std::vector<Index> release_i;
  long n_steps = 0, n_rejected = 0, n_rhs = 0;
};

class DormantSystem {
 public:
  DormantSystem(const Model& model, const Data& data, const RowMat& R, const Vec& rho0,
                const std::vector<int>& mode, int threads)
      : m_(model), d_(data), R_(R), rho0_(rho0), mode_(mode), P_(model.n_params()), H_(model.n_neurons()) {
    owner_.resize(P_);
    for (Index p = 0; p < P_; ++p) owner_[p] = model.neuron_of(p);
    kappa_ = model.kappa();
    nrm_.resize(H_);
    U_.resize(H_);
    gU_.resize(P_);
    th_.resize(P_);
    s_.threads = threads;
  }
  bool dormant(Index i) const { return mode_[i] == int(NeuronMode::Dormant) || mode_[i] == int(NeuronMode::Frozen); }
  double speed(Index i, double S) const {
    if (kappa_ == 2) return 1.0;
    const double q = std::pow(rho0_[i], 2.0 - kappa_) - (kappa_ - 2.0) * S;
    return 1.0 / std::max(q, 1e-300);
  }
  // Evaluates U (U bar at the normalised directions) and the projected gradient into proj_.
  void eval(const Vec& y) {
    nrm_.setZero();
    for (Index p = 0; p < P_; ++p) nrm_[owner_[p]] += y[p] * y[p];
    for (Index i = 0; i < H_; ++i) nrm_[i] = std::sqrt(nrm_[i]);
    for (Index p = 0; p < P_; ++p) {
      const Index i = owner_[p];
      th_[p] = (dormant(i) && nrm_[i] > 0) ? y[p] / nrm_[i] : 0.0;
    }
    m_.utilities(d_, th_.data(), R_, U_.data(), gU_.data(), s_);
    ++n_rhs;
    // projection: g - kappa U theta_bar (Euler: <theta_bar, grad U> = kappa U)
    for (Index p = 0; p < P_; ++p) gU_[p] -= kappa_ * U_[owner_[p]] * th_[p];
  }
  void rhs(const Vec& y, Vec& dy) {
    dy.resize(y.size());
    eval(y);
    for (Index p = 0; p < P_; ++p) {
      const Index i = owner_[p];
      dy[p] = mode_[i] == int(NeuronMode::Dormant) ? speed(i, y[P_ + i]) * gU_[p] : 0.0;
    }
    for (Index i = 0; i < H_; ++i) dy[P_ + i] = dormant(i) ? kappa_ * U_[i] : 0.0;
  }
  // Max over free dormant neurons of speed * ||projected gradient|| (after eval).
  void proj_norms(const Vec& y, Vec& out) const {
    out.setZero(H_);
    for (Index p = 0; p < P_; ++p) out[owner_[p]] += gU_[p] * gU_[p];
    for (Index i = 0; i < H_; ++i) out[i] = std::sqrt(out[i]) * speed(i, y[P_ + i]);
  }
  const Vec& U() const { return U_; }
  const Vec& theta_unit() const { return th_; }
  std::vector<int>& mode() { return mode_; }
  Index P() const { return P_; }
  Index H() const { return H_; }
  int kappa() const { return kappa_; }
  long n_rhs = 0;

 private:
  const Model& m_;
  const Data& d_;
  const RowMat& R_;
  Vec rho0_;
  std::vector<int> mode_;
  Index P_, H_;
  std::vector<Index> owner_;
  int kappa_;
  Vec nrm_, U_, gU_, th_;
  Scratch s_;
};

// Root of component `idx` of the dense output minus `level` on [a, b] (sign change assumed),
// Illinois regula falsi.
template <class Stepper>
double locate_crossing(const Stepper& st, Index idx, double level, double a, double b, double tol) {
  double fa = st.dense_at(a, idx) - level, fb = st.dense_at(b, idx) - level;
  if (fa == 0.0) return a;
  if (fb == 0.0) return b;
  int side = 0;
  for (int it = 0; it < 200 && (b - a) > tol; ++it) {
    double c = (a * fb - b * fa) / (fb - fa);
    if (!(c > a && c < b)) c = 0.5 * (a + b);
    const double fc = st.dense_at(c, idx) - level;
    if (fc == 0.0) return c;
    if ((fc > 0) == (fb > 0)) {
      b = c; fb = fc;
      if (side == -1) fa *= 0.5;
      side = -1;
    } else {
      a = c; fa = fc;
      if (side == 1) fb *= 0.5;
      side = 1;
    }
  }
  return (fa == fb) ? 0.5 * (a + b) : (a * fb - b * fa) / (fb - fa);
}

// Runs the dormant phase from time t0. theta0: directions (rows of dormant neurons, any norm),
// S0 accumulated utilities, c thresholds, rho0 initial norms, mode per neuron.
inline DormantResult run_dormant(const Model& model, const Data& data, const RowMat& R, double t0,
                                 const Vec& theta0, const Vec& S0, const Vec& c, const Vec& rho0,
                                 const std::vector<int>& mode, const DormantOptions& opt) {
  model.check_data(data);
  const Index P = model.n_params(), H = model.n_neurons();
  DormantSystem sys(model, data, R, rho0, mode, opt.threads);
  DormantResult res;
  Vec y(P + H);
  y.head(P) = theta0;
  y.tail(H) = S0;
  auto finish = [&](double t, const Vec& yy, DormantStatus st) {
    sys.eval(yy);
    res.status = st;
    res.t = t;
    res.theta = sys.theta_unit();
    res.S = yy.tail(H);
    res.U = sys.U();
    for (Index i = 0; i < H; ++i) if (!sys.dormant(i)) res.U[i] = 0.0;
    res.mode = sys.mode();
    res.n_rhs = sys.n_rhs;
    return res;
  };
  // Immediate activations: a dormant neuron already at its threshold with positive utility.
  sys.eval(y);
  {
    double best = 0.0;
    for (Index i = 0; i < H; ++i)
      if (sys.dormant(i) && y[P + i] >= c[i] - 1e-12 * std::max(1.0, std::abs(c[i])) &&
          sys.kappa() * sys.U()[i] > opt.utol) {
        res.neurons.push_back(i);
        best = std::max(best, 1.0);
      }
    if (!res.neurons.empty()) return finish(t0, y, DormantStatus::Activation);
  }
  bool any = false;
  for (Index i = 0; i < H; ++i) any = any || sys.dormant(i);
  if (!any) return finish(t0, y, DormantStatus::Stationary);

  GenericDopri5<DormantSystem> st(sys, P + H, opt.rtol, opt.atol);
  // initial step: a fraction of the time the fastest S needs to move by O(1), or directions
  auto fastest_rate = [&]() {
    double r = 0.0;
    for (Index i = 0; i < H; ++i) if (sys.dormant(i)) r = std::max(r, std::abs(sys.kappa() * sys.U()[i]));
    return r;
  };
  auto set_floor = [&](double r) {
    if (opt.h_min > 0) st.h_min = opt.h_min * std::min(1.0 / std::max(r, 1e-300), 1e3);
  };
  double rate = fastest_rate();
  set_floor(rate);
  st.init(t0, y, rate > 0 ? std::min(1e-2 / rate, 1e-2) : 1e-2);
  Vec pn(H);
  long steps = 0;
  while (true) {
    if (steps >= opt.max_steps) { res.n_steps = steps; return finish(st.t(), st.y(), DormantStatus::MaxSteps); }
    if (st.t() >= opt.t_end) { res.n_steps = steps; return finish(st.t(), st.y(), DormantStatus::TimeLimit); }
    if (!st.step(opt.t_end)) { res.n_steps = steps; return finish(st.t(), st.y(), DormantStatus::Failed); }
    ++steps;
    res.n_rejected = st.n_rejected;
    const Vec& yp = st.y_prev();
    const Vec& yn = st.y();
    const double ta = st.t_prev(), tb = st.t();
    const double tol = std::max(opt.event_rtol * std::abs(tb), 1e-14);
    double t_act = std::numeric_limits<double>::infinity(), t_rel = t_act;
    std::vector<std::pair<double, Index>> acts;
    Index rel_i = -1;
    for (Index i = 0; i < H; ++i) {
      if (!sys.dormant(i)) continue;
      const double sa = yp[P + i], sb = yn[P + i];
      if (sa < c[i] && sb >= c[i]) {
        const double tc = locate_crossing(st, P + i, c[i], ta, tb, 0.1 * tol);
        acts.emplace_back(tc, i);
        t_act = std::min(t_act, tc);
      }
      if (sys.mode()[i] == int(NeuronMode::Frozen) && sa > 0.0 && sb <= 0.0) {
        const double tc = locate_crossing(st, P + i, 0.0, ta, tb, 0.1 * tol);
        if (tc < t_rel) { t_rel = tc; rel_i = i; }
      }
    }
    if (rel_i >= 0 && t_rel < t_act) {
      // release the frozen direction and restart from the dense state at t_rel
      Vec ys(P + H);
      st.dense(t_rel, ys);
      ys[P + rel_i] = 0.0;
      sys.mode()[rel_i] = int(NeuronMode::Dormant);
      res.release_t.push_back(t_rel);
      res.release_i.push_back(rel_i);
      const double h = st.h();
      st.init(t_rel, ys, h);
      continue;
    }
    if (!acts.empty()) {
      for (auto& [tc, i] : acts)
        if (tc <= t_act + tol) res.neurons.push_back(i);
      Vec ys(P + H);
      st.dense(t_act, ys);
      for (Index i : res.neurons) ys[P + i] = c[i];
      res.n_steps = steps;
      return finish(t_act, ys, DormantStatus::Activation);
    }
    if (opt.h_min > 0 || opt.utol > 0 || opt.gtol > 0) sys.eval(yn);
    if (opt.h_min > 0) set_floor(fastest_rate());
    if (opt.utol > 0 || opt.gtol > 0) {
      sys.proj_norms(yn, pn);
      bool stationary = true;
      for (Index i = 0; i < H && stationary; ++i) {
        if (!sys.dormant(i)) continue;
        const double ku = sys.kappa() * sys.U()[i];
        if (sys.mode()[i] == int(NeuronMode::Frozen)) stationary = std::abs(ku) <= opt.utol;
        else stationary = ku <= opt.utol && pn[i] <= opt.gtol;
      }
      if (stationary) { res.n_steps = steps; return finish(tb, yn, DormantStatus::Stationary); }
    }
  }
}

}  // namespace agf
