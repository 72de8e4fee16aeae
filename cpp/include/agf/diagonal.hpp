// Diagonal linear family f(x) = sum_i u_i v_i x_i (c = 1, H = d, kappa = 2).
// theta = [u (d), v (d)]. With beta = u . v and g = X^T r / n (r = y - X beta):
//   U_i = u_i v_i g_i,  dU/du_i = v_i g_i,  dU/dv_i = u_i g_i,  and dL = -dU(y - f).
#pragma once
#include "agf/model.hpp"

namespace agf {

class Diagonal final : public Model {
 public:
  explicit Diagonal(Index d) : d_(d) {
    if (d < 1) throw ConfigError("DiagonalLinear needs d >= 1");
  }
  std::string name() const override { return "diagonal"; }
  Index n_params() const override { return 2 * d_; }
  Index n_neurons() const override { return d_; }
  Index d_in() const override { return d_; }
  Index d_out() const override { return 1; }
  int kappa() const override { return 2; }
  bool homogeneous() const override { return true; }
  Index neuron_of(Index p) const override { return p % d_; }

  // Exact Hessian and Hessian-vector product (diagonal_hessian.hpp).
  void hessian(const Data& data, const double* theta, RowMat& Hm, Scratch& s) const override;
  void hvp(const Data& data, const double* theta, const double* v, double* out, Scratch& s) const override;

  void forward(const Data& data, const double* theta, RowMat& F, Scratch& s) const override {
    beta(theta, s.v1);
    F.resize(data.n(), 1);
    F.col(0).noalias() = data.X * s.v1;
  }

  double loss_grad(const Data& data, const double* theta, double* grad, Scratch& s) const override {
    forward(data, theta, s.F, s);
    s.R = data.Y - s.F;
    const double loss = 0.5 * s.R.squaredNorm() / double(data.n());
    if (grad) {
      s.v2.noalias() = data.X.transpose() * s.R.col(0);
      s.v2 /= double(data.n());
      for (Index i = 0; i < d_; ++i) {
        grad[i] = -theta[d_ + i] * s.v2[i];
        grad[d_ + i] = -theta[i] * s.v2[i];
      }
    }
    return loss;
  }

  void utilities(const Data& data, const double* theta, const RowMat& R, double* U, double* gradU,
                 Scratch& s) const override {
    if (R.rows() != data.n() || R.cols() != 1) throw ConfigError("residual has the wrong shape");
    s.v2.noalias() = data.X.transpose() * R.col(0);
    s.v2 /= double(data.n());
    for (Index i = 0; i < d_; ++i) {
      if (U) U[i] = theta[i] * theta[d_ + i] * s.v2[i];
      if (gradU) {
        gradU[i] = theta[d_ + i] * s.v2[i];
        gradU[d_ + i] = theta[i] * s.v2[i];
      }
    }
  }

 private:
  Index d_;
  void beta(const double* theta, Vec& b) const {
    b.resize(d_);
    for (Index i = 0; i < d_; ++i) b[i] = theta[i] * theta[d_ + i];
  }
};

}  // namespace agf

#include "agf/diagonal_hessian.hpp"
