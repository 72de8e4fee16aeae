// The Dormand-Prince 5(4) tableau and the pieces of a step that every Dopri5 stepper shares:
// the stages of one trial step with its error estimate, and the 4th-order continuous extension
// (SciPy RK45's coefficients). Used by dopri5.hpp (gradient flow) and agf_dopri.hpp (AGF's
// dormant phase), which differ only in their error norms and step policies.
#pragma once
#include <array>
#include <type_traits>
#include "agf/types.hpp"

namespace agf {
namespace dopri5_tableau {

inline constexpr double A[6][5] = {
    {0, 0, 0, 0, 0},
    {1.0 / 5, 0, 0, 0, 0},
    {3.0 / 40, 9.0 / 40, 0, 0, 0},
    {44.0 / 45, -56.0 / 15, 32.0 / 9, 0, 0},
    {19372.0 / 6561, -25360.0 / 2187, 64448.0 / 6561, -212.0 / 729, 0},
    {9017.0 / 3168, -355.0 / 33, 46732.0 / 5247, 49.0 / 176, -5103.0 / 18656}};
inline constexpr double B[6] = {35.0 / 384, 0, 500.0 / 1113, 125.0 / 192, -2187.0 / 6784, 11.0 / 84};
inline constexpr double E[7] = {-71.0 / 57600, 0, 71.0 / 16695, -71.0 / 1920, 17253.0 / 339200,
                                -22.0 / 525, 1.0 / 40};
inline constexpr double P[7][4] = {
    {1.0, -8048581381.0 / 2820520608, 8663915743.0 / 2820520608, -12715105075.0 / 11282082432},
    {0, 0, 0, 0},
    {0, 131558114200.0 / 32700410799, -68118460800.0 / 10900136933, 87487479700.0 / 32700410799},
    {0, -1754552775.0 / 470086768, 14199869525.0 / 1410260304, -10690763975.0 / 1880347072},
    {0, 127303824393.0 / 49829197408, -318862633887.0 / 49829197408, 701980252875.0 / 199316789632},
    {0, -282668133.0 / 205662961, 2019193451.0 / 616988883, -1453857185.0 / 822651844},
    {0, 40617522.0 / 29380423, -110615467.0 / 29380423, 69997945.0 / 29380423}};

// One trial step of size h from y with K[0] = f(y): fills K[1..6], ynew and err (the difference
// of the 5th- and 4th-order solutions). rhs(y, dy) may return a value (the loss); the value at
// ynew is returned (0 if rhs returns nothing).
template <class Rhs>
double trial_step(Rhs&& rhs, const Vec& y, double h, std::array<Vec, 7>& K, Vec& ytmp, Vec& ynew, Vec& err) {
  for (int s = 1; s < 6; ++s) {
    ytmp = y;
    for (int j = 0; j < s; ++j)
      if (A[s][j] != 0.0) ytmp.noalias() += (h * A[s][j]) * K[j];
    rhs(ytmp, K[s]);
  }
  ynew = y;
  for (int j = 0; j < 6; ++j)
    if (B[j] != 0.0) ynew.noalias() += (h * B[j]) * K[j];
  double value = 0.0;
  if constexpr (std::is_void_v<decltype(rhs(ynew, K[6]))>) rhs(ynew, K[6]);
  else value = rhs(ynew, K[6]);
  err.setZero(y.size());
  for (int j = 0; j < 7; ++j)
    if (E[j] != 0.0) err.noalias() += (h * E[j]) * K[j];
  return value;
}

// Coefficients Q of the dense output of an accepted step: y(t_prev + x h) = y_prev + h sum_c Q_c x^(c+1).
inline void dense_coefficients(const std::array<Vec, 7>& K, std::array<Vec, 4>& Q) {
  for (int c = 0; c < 4; ++c) {
    Q[c].setZero(K[0].size());
    for (int j = 0; j < 7; ++j)
      if (P[j][c] != 0.0) Q[c].noalias() += P[j][c] * K[j];
  }
}

inline void dense_output(const Vec& y_prev, const std::array<Vec, 4>& Q, double t_prev, double h, double t, Vec& out) {
  const double x = (t - t_prev) / h;
  out = y_prev;
  double p = x;
  for (int c = 0; c < 4; ++c) {
    out.noalias() += (h * p) * Q[c];
    p *= x;
  }
}

}  // namespace dopri5_tableau
}  // namespace agf
