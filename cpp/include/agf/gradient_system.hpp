// The ODE of gradient flow, dtheta/dt = -dL/dtheta (canonical loss, canonical time), as seen
// by the steppers: an autonomous right-hand side that also returns the loss at the point.
#pragma once
#include "agf/model.hpp"

namespace agf {

class GradientSystem {
 public:
  GradientSystem(const Model& model, const Data& data, int kernel_threads = 1)
      : model_(model), data_(data) {
    scratch_.threads = kernel_threads < 1 ? 1 : kernel_threads;
  }
  Index size() const { return model_.n_params(); }
  const Model& model() const { return model_; }
  const Data& data() const { return data_; }

  // dy = -grad L(y); returns L(y).
  double rhs(const Vec& y, Vec& dy) {
    dy.resize(y.size());
    const double loss = model_.loss_grad(data_, y.data(), dy.data(), scratch_);
    dy = -dy;
    ++n_rhs;
    return loss;
  }
  double loss(const Vec& y) { return model_.loss_grad(data_, y.data(), nullptr, scratch_); }
  Scratch& scratch() { return scratch_; }

  long n_rhs = 0;

 private:
  const Model& model_;
  const Data& data_;
  Scratch scratch_;
};

}  // namespace agf
