// A generic Dormand-Prince 5(4) stepper (the tableau and dense output of dopri5_tableau.hpp,
// shared with dopri5.hpp) for an autonomous system `void System::rhs(const Vec& y, Vec& dy)`, with a
// mixed absolute/relative max-norm. Used by the AGF dormant phase (utility_max.hpp), whose state
// (unit directions and accumulated utilities) is O(1), so a mixed norm is the right one there.
#pragma once
#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include "agf/dopri5_tableau.hpp"
#include "agf/stepper.hpp"
#include "agf/types.hpp"

namespace agf {

template <class System>
class GenericDopri5 {
 public:
  GenericDopri5(System& sys, Index n, double rtol, double atol) : sys_(sys), rtol_(rtol), atol_(atol) {
    for (auto& k : K_) k.resize(n);
  }
  void init(double t0, const Vec& y0, double h0 = 0.0) {
    t_ = t_prev_ = t0;
    y_ = y0;
    y_prev_ = y0;
    sys_.rhs(y_, K_[0]);
    h_ = h0 > 0 ? h0 : 1e-4;
    h_used_ = 0.0;
  }
  // One accepted step not passing t_end. Returns false if the step size underflowed or
  // the state became non-finite.
  bool step(double t_end) {
    bool rejected_before = false;
    while (true) {
      const double h_min = 16.0 * std::numeric_limits<double>::epsilon() * std::max(std::abs(t_), 1e-300);
      double h = h_;
      bool last = false;
      if (t_ + h >= t_end) { h = t_end - t_; last = true; }
      if (this->h_min > 0 && h < this->h_min && !last) h = std::min(this->h_min, t_end - t_);
      if (h < h_min && !last) return false;
      dopri5_tableau::trial_step([&](const Vec& a, Vec& b) { return sys_.rhs(a, b); }, y_, h, K_, ytmp_, ynew_, err_);
      if (!ynew_.allFinite() || !K_[6].allFinite()) {
        if (h < h_min * 1e3 || (this->h_min > 0 && h <= this->h_min * (1 + 1e-12))) return false;
        h_ = 0.1 * h;
        rejected_before = true;
        ++n_rejected;
        continue;
      }
      double en = 0.0;
      for (Index i = 0; i < y_.size(); ++i) {
        const double sc = atol_ + rtol_ * std::max(std::abs(y_[i]), std::abs(ynew_[i]));
        en = std::max(en, std::abs(err_[i]) / sc);
      }
      if (en > 1.0 && this->h_min > 0 && h <= this->h_min * (1 + 1e-12)) { ++n_forced; en = 1.0; }
      if (en <= 1.0) {
        const double fac = kControl.accept(en, rejected_before);
        t_prev_ = t_;
        y_prev_.swap(y_);
        y_.swap(ynew_);
        t_ = last ? t_end : t_ + h;
        h_used_ = h;
        dopri5_tableau::dense_coefficients(K_, Q_);
        K_[0].swap(K_[6]);
        if (!last) h_ = std::max({h * fac, h_min, this->h_min});
        ++n_accepted;
        return true;
      }
      h_ = std::max(h * kControl.reject(en), this->h_min);
      ++n_rejected;
      rejected_before = true;
    }
  }
  // Component i of the dense output at t in [t_prev, t].
  double dense_at(double t, Index i) const {
    const double h = h_used_;
    if (h == 0.0) return y_[i];
    const double x = (t - t_prev_) / h;
    double out = y_prev_[i], p = x;
    for (int c = 0; c < 4; ++c) { out += h * p * Q_[c][i]; p *= x; }
    return out;
  }
  void dense(double t, Vec& out) const {
    const double h = h_used_;
    if (h == 0.0) { out = y_; return; }
    dopri5_tableau::dense_output(y_prev_, Q_, t_prev_, h, t, out);
  }
  double t() const { return t_; }
  double t_prev() const { return t_prev_; }
  const Vec& y() const { return y_; }
  const Vec& y_prev() const { return y_prev_; }
  double h() const { return h_; }
  long n_accepted = 0, n_rejected = 0, n_forced = 0;
  // Steps of this size are accepted whatever their error (0 = never), as in dopri5.hpp: for
  // utilities with kinks (ReLU), where a direction can slide along a kink; counted in n_forced.
  double h_min = 0.0;

 private:
  static constexpr StepController kControl{0.2, 10.0};
  System& sys_;
  double rtol_, atol_;
  std::array<Vec, 7> K_;
  std::array<Vec, 4> Q_;
  Vec y_, y_prev_, ynew_, ytmp_, err_;
  double t_ = 0.0, t_prev_ = 0.0, h_ = 0.0, h_used_ = 0.0;
};

}  // namespace agf
