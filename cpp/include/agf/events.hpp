// Events of a gradient-flow run: scalar functions g(theta) whose sign changes are located on
// the stepper's dense output (not at the step that passed them). Both kinds are relative, so
// crossings of tiny values (a neuron's norm reaching 1e-6) are located as accurately as large ones.
#pragma once
#include <cmath>
#include <limits>
#include <vector>
#include "agf/gradient_system.hpp"

namespace agf {

enum class EventKind { NormCross = 0, LossCross = 1 };

struct EventSpec {
  EventKind kind = EventKind::NormCross;
  Index neuron = 0;    // NormCross: which neuron
  double value = 0.0;  // the norm (NormCross) or canonical loss (LossCross) to cross; > 0
  int direction = 0;   // +1 increasing only, -1 decreasing only, 0 both
  bool terminal = false;
};

struct EventRecord {
  int index = 0;    // position in the run's event list
  double t = 0.0;   // located time
  double loss = 0.0;
  int direction = 0;  // sign of the crossing: +1 upwards, -1 downwards
};

// g = ||theta_i||^2 / value^2 - 1, or L / value - 1.
inline double event_value(const EventSpec& e, GradientSystem& sys, const Vec& y, double loss_at_y) {
  if (e.kind == EventKind::NormCross) {
    const Model& m = sys.model();
    double sq = 0.0;
    for (Index p = 0; p < m.n_params(); ++p)
      if (m.neuron_of(p) == e.neuron) sq += y[p] * y[p];
    return sq / (e.value * e.value) - 1.0;
  }
  const double L = std::isnan(loss_at_y) ? sys.loss(y) : loss_at_y;
  return L / e.value - 1.0;
}

// Does the sign change g0 -> g1 trigger the event? Returns the crossing direction or 0.
inline int crossing(const EventSpec& e, double g0, double g1) {
  if (g0 < 0.0 && g1 >= 0.0 && e.direction >= 0) return +1;
  if (g0 > 0.0 && g1 <= 0.0 && e.direction <= 0) return -1;
  return 0;
}

// Root of g on [t0, t1] with g(t0) = g0, g(t1) = g1 of opposite signs (Illinois regula falsi
// on the dense output). Converges to a few ulps of t.
template <class G>
double locate_root(G&& g, double t0, double t1, double g0, double g1) {
  const double tol = 4.0 * std::numeric_limits<double>::epsilon() * std::max(std::abs(t0), std::abs(t1));
  int side = 0;
  for (int it = 0; it < 200 && (t1 - t0) > tol; ++it) {
    double t = (g1 * t0 - g0 * t1) / (g1 - g0);
    if (!(t > t0 && t < t1)) t = 0.5 * (t0 + t1);
    const double gt = g(t);
    if (gt == 0.0) return t;
    if ((gt < 0) == (g1 < 0)) {
      t1 = t; g1 = gt;
      if (side == -1) g0 *= 0.5;
      side = -1;
    } else {
      t0 = t; g0 = gt;
      if (side == +1) g1 *= 0.5;
      side = +1;
    }
  }
  return 0.5 * (t0 + t1);
}

}  // namespace agf
