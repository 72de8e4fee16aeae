// A generic Dormand-Prince 5(4) stepper (same tableau, step control and 4th-order dense output
// as dopri5.hpp) for an autonomous system `void System::rhs(const Vec& y, Vec& dy)`, with a
// mixed absolute/relative max-norm. Used by the AGF dormant phase (utility_max.hpp), whose state
// (unit directions and accumulated utilities) is O(1), so a mixed norm is the right one there.
#pragma once
#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
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
    static constexpr double A[6][5] = {
        {0, 0, 0, 0, 0},
        {1.0 / 5, 0, 0, 0, 0},
        {3.0 / 40, 9.0 / 40, 0, 0, 0},
        {44.0 / 45, -56.0 / 15, 32.0 / 9, 0, 0},
        {19372.0 / 6561, -25360.0 / 2187, 64448.0 / 6561, -212.0 / 729, 0},
        {9017.0 / 3168, -355.0 / 33, 46732.0 / 5247, 49.0 / 176, -5103.0 / 18656}};
    static constexpr double B[6] = {35.0 / 384, 0, 500.0 / 1113, 125.0 / 192, -2187.0 / 6784, 11.0 / 84};
    static constexpr double E[7] = {-71.0 / 57600, 0, 71.0 / 16695, -71.0 / 1920, 17253.0 / 339200,
                                    -22.0 / 525, 1.0 / 40};
    bool rejected_before = false;
    while (true) {
      const double h_min = 16.0 * std::numeric_limits<double>::epsilon() * std::max(std::abs(t_), 1e-300);
      double h = h_;
      bool last = false;
      if (t_ + h >= t_end) { h = t_end - t_; last = true; }
      if (h < h_min && !last) return false;
      for (int s = 1; s < 6; ++s) {
        ytmp_ = y_;
        for (int j = 0; j < s; ++j)
          if (A[s][j] != 0.0) ytmp_.noalias() += (h * A[s][j]) * K_[j];
        sys_.rhs(ytmp_, K_[s]);
      }
      ynew_ = y_;
      for (int j = 0; j < 6; ++j)
        if (B[j] != 0.0) ynew_.noalias() += (h * B[j]) * K_[j];
      sys_.rhs(ynew_, K_[6]);
      err_.setZero(y_.size());
      for (int j = 0; j < 7; ++j)
        if (E[j] != 0.0) err_.noalias() += (h * E[j]) * K_[j];
      if (!ynew_.allFinite() || !K_[6].allFinite()) {
        if (h < h_min * 1e3) return false;
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
      if (en <= 1.0) {
        double fac = en == 0.0 ? 10.0 : std::min(10.0, 0.9 * std::pow(en, -0.2));
        if (rejected_before) fac = std::min(1.0, fac);
        t_prev_ = t_;
        y_prev_.swap(y_);
        y_.swap(ynew_);
        t_ = last ? t_end : t_ + h;
        h_used_ = h;
        for (int c = 0; c < 4; ++c) {
          Q_[c].setZero(y_.size());
          for (int j = 0; j < 7; ++j)
            if (P[j][c] != 0.0) Q_[c].noalias() += P[j][c] * K_[j];
        }
        K_[0].swap(K_[6]);
        if (!last) h_ = std::max(h * fac, h_min);
        ++n_accepted;
        return true;
      }
      h_ = h * std::max(0.2, 0.9 * std::pow(en, -0.2));
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
    const double x = (t - t_prev_) / h;
    out = y_prev_;
    double p = x;
    for (int c = 0; c < 4; ++c) { out.noalias() += (h * p) * Q_[c]; p *= x; }
  }
  double t() const { return t_; }
  double t_prev() const { return t_prev_; }
  const Vec& y() const { return y_; }
  const Vec& y_prev() const { return y_prev_; }
  double h() const { return h_; }
  long n_accepted = 0, n_rejected = 0;

 private:
  static constexpr double P[7][4] = {
      {1.0, -8048581381.0 / 2820520608, 8663915743.0 / 2820520608, -12715105075.0 / 11282082432},
      {0, 0, 0, 0},
      {0, 131558114200.0 / 32700410799, -68118460800.0 / 10900136933, 87487479700.0 / 32700410799},
      {0, -1754552775.0 / 470086768, 14199869525.0 / 1410260304, -10690763975.0 / 1880347072},
      {0, 127303824393.0 / 49829197408, -318862633887.0 / 49829197408, 701980252875.0 / 199316789632},
      {0, -282668133.0 / 205662961, 2019193451.0 / 616988883, -1453857185.0 / 822651844},
      {0, 40617522.0 / 29380423, -110615467.0 / 29380423, 69997945.0 / 29380423}};
  System& sys_;
  double rtol_, atol_;
  std::array<Vec, 7> K_;
  std::array<Vec, 4> Q_;
  Vec y_, y_prev_, ynew_, ytmp_, err_;
  double t_ = 0.0, t_prev_ = 0.0, h_ = 0.0, h_used_ = 0.0;
};

}  // namespace agf
