// The step-size controller's error norm: per-neuron relative.
//
//   err = max_i ||e_i|| / (atol + rtol * max(||y_i||, ||y_i_new||))
//
// where e_i is the local error estimate restricted to neuron i's parameters. Every neuron is
// held to relative accuracy rtol whatever its size: a neuron of norm 1e-15 is integrated as
// accurately, relative to itself, as a neuron of norm 1, which an absolute tolerance (or a norm
// mixing all parameters) cannot do at small initialization. atol defaults to 0; a neuron that is
// exactly zero stays zero under gradient flow (the gradient of a homogeneous neuron vanishes at
// its origin), so 0/0 is read as 0.
#pragma once
#include <algorithm>
#include <cmath>
#include <vector>
#include "agf/model.hpp"

namespace agf {

class NeuronErrorNorm {
 public:
  NeuronErrorNorm() = default;
  explicit NeuronErrorNorm(const Model& model) : owner_(model.n_params()), n_groups_(model.n_neurons()) {
    for (Index p = 0; p < model.n_params(); ++p) owner_[p] = model.neuron_of(p);
    a_.resize(n_groups_);
    b_.resize(n_groups_);
    e_.resize(n_groups_);
  }

  // Squared norm of every neuron of v, written to out (size n_groups).
  void group_sq(const Vec& v, std::vector<double>& out) const {
    std::fill(out.begin(), out.end(), 0.0);
    for (size_t p = 0; p < owner_.size(); ++p) out[owner_[p]] += v[p] * v[p];
  }

  double operator()(const Vec& err, const Vec& y0, const Vec& y1, double rtol, double atol) {
    group_sq(err, e_);
    group_sq(y0, a_);
    group_sq(y1, b_);
    double worst = 0.0;
    for (Index i = 0; i < n_groups_; ++i) {
      const double e = std::sqrt(e_[i]);
      if (e == 0.0) continue;
      const double scale = atol + rtol * std::sqrt(std::max(a_[i], b_[i]));
      const double r = scale > 0.0 ? e / scale : HUGE_VAL;
      worst = std::max(worst, r);
    }
    return worst;
  }

  Index n_groups() const { return n_groups_; }

 private:
  std::vector<Index> owner_;
  Index n_groups_ = 0;
  std::vector<double> a_, b_, e_;
};

}  // namespace agf
