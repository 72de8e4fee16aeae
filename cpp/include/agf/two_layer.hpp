// Two-layer family f_i(x) = a_i sigma(w_i . x): parameters theta = [W (H, d) row-major,
// A (H, c) row-major]. kappa = degree(sigma) + 1.
//
// Kernels are a few matrix products (method section 2):
//   Z = X W^T, S = sigma(Z), RA = R A^T, U = mean_n[RA . S],
//   dU/da = S^T R / n, dU/dw = (RA . sigma'(Z))^T X / n,
// and the loss gradient is the utility gradient against the full residual: -dL = dU(y - f).
//
// Samples are processed in fixed chunks of kChunk rows whose partial sums are added in chunk
// order, so results do not depend on the number of threads.
#pragma once
#include <cmath>
#include <vector>
#include "agf/activation.hpp"
#include "agf/model.hpp"
#include "agf/parallel.hpp"

namespace agf {

class TwoLayer final : public Model {
 public:
  static constexpr Index kChunk = 2048;

  TwoLayer(Index d, Index c, Index H, Activation act) : d_(d), c_(c), H_(H), act_(act) {
    if (d < 1 || c < 1 || H < 1) throw ConfigError("TwoLayer needs d_in, d_out, width >= 1");
  }
  std::string name() const override { return "two_layer"; }
  Index n_params() const override { return H_ * (d_ + c_); }
  Index n_neurons() const override { return H_; }
  Index d_in() const override { return d_; }
  Index d_out() const override { return c_; }
  int kappa() const override { return act_.degree() + 1; }
  bool homogeneous() const override { return act_.homogeneous(); }
  Index neuron_of(Index p) const override { return p < H_ * d_ ? p / d_ : (p - H_ * d_) / c_; }
  const Activation& activation() const { return act_; }

  ConstRowMap W(const double* theta) const { return ConstRowMap(theta, H_, d_); }
  ConstRowMap A(const double* theta) const { return ConstRowMap(theta + H_ * d_, H_, c_); }

  // S = sigma(Z) and, if Sp != nullptr, Sp = sigma'(Z); the switch sits outside the loops.
  void activate(const RowMat& Z, RowMat& S, RowMat* Sp) const {
    switch (act_.kind) {
      case ActivationKind::Linear:
        S = Z;
        if (Sp) Sp->setOnes(Z.rows(), Z.cols());
        return;
      case ActivationKind::ReLU:
        S = Z.cwiseMax(0.0);
        if (Sp) *Sp = (Z.array() > 0.0).cast<double>().matrix();
        return;
      case ActivationKind::Square:
        S = Z.cwiseProduct(Z);
        if (Sp) *Sp = 2.0 * Z;
        return;
      case ActivationKind::Tanh:
        S = Z.array().tanh().matrix();
        if (Sp) *Sp = (1.0 - S.array().square()).matrix();
        return;
      default:
        S.resize(Z.rows(), Z.cols());
        if (Sp) Sp->resize(Z.rows(), Z.cols());
        for (Index i = 0; i < Z.size(); ++i) {
          S.data()[i] = act_.value(Z.data()[i]);
          if (Sp) Sp->data()[i] = act_.deriv(Z.data()[i]);
        }
    }
  }

  void forward(const Data& data, const double* theta, RowMat& F, Scratch& s) const override {
    s.Z.noalias() = data.X * W(theta).transpose();
    activate(s.Z, s.S, nullptr);
    F.noalias() = s.S * A(theta);
  }

  double loss_grad(const Data& data, const double* theta, double* grad, Scratch& s) const override {
    return chunked(data, theta, nullptr, grad, s);
  }

  void utilities(const Data& data, const double* theta, const RowMat& R, double* U, double* gradU,
                 Scratch& s) const override {
    if (R.rows() != data.n() || R.cols() != c_) throw ConfigError("residual has the wrong shape");
    chunked(data, theta, &R, gradU, s, U);
  }

  // Exact Hessian and Hessian-vector product (two_layer_hessian.hpp).
  void hessian(const Data& data, const double* theta, RowMat& Hm, Scratch& s) const override;
  void hvp(const Data& data, const double* theta, const double* v, double* out, Scratch& s) const override;

 private:
  Index d_, c_, H_;
  Activation act_;

  // One chunk of rows [r0, r0+m): adds the chunk's sum_n of 0.5||r||^2 to *loss, of
  // RA.S to U, of S^T R to gA and of G^T X to gW (G = RA . sigma'(Z)). If R_in is null the
  // residual is Y - F, else the given one.
  void chunk(const Data& data, const double* theta, const RowMat* R_in, Index r0, Index m,
             double* loss, double* U, RowMat& gW, RowMat& gA, Scratch& s) const {
    auto X = data.X.middleRows(r0, m);
    auto Wt = W(theta);
    auto At = A(theta);
    s.Z.noalias() = X * Wt.transpose();
    activate(s.Z, s.S, &s.Sp);
    if (R_in) {
      s.R = R_in->middleRows(r0, m);
    } else {
      s.F.noalias() = s.S * At;
      s.R = data.Y.middleRows(r0, m) - s.F;
      if (loss) *loss += 0.5 * s.R.squaredNorm();
    }
    s.RA.noalias() = s.R * At.transpose();
    if (U) {
      for (Index i = 0; i < H_; ++i) U[i] += s.RA.col(i).dot(s.S.col(i));
    }
    gA.noalias() += s.S.transpose() * s.R;
    s.G = s.RA.cwiseProduct(s.Sp);
    gW.noalias() += s.G.transpose() * X;
  }

  // Sums the chunks in order. With R_in == null: returns the loss and writes dL/dtheta to out
  // (if out); with R_in: writes U and dU/dtheta. Threads (s_threads) only split the chunks.
  double chunked(const Data& data, const double* theta, const RowMat* R_in, double* out,
                 Scratch& s, double* U = nullptr) const {
    const Index n = data.n();
    const Index n_chunks = (n + kChunk - 1) / kChunk;
    const double sign = R_in ? 1.0 : -1.0;  // dL = -dU(residual)
    if (U) for (Index i = 0; i < H_; ++i) U[i] = 0.0;
    if (n_chunks == 1) {
      double loss = 0.0;
      RowMat gW = RowMat::Zero(H_, d_), gA = RowMat::Zero(H_, c_);
      chunk(data, theta, R_in, 0, n, &loss, U, gW, gA, s);
      finish(out, gW, gA, sign / double(n));
      if (U) for (Index i = 0; i < H_; ++i) U[i] /= double(n);
      return loss / double(n);
    }
    std::vector<double> losses(n_chunks, 0.0);
    std::vector<RowMat> gWs(n_chunks, RowMat::Zero(H_, d_)), gAs(n_chunks, RowMat::Zero(H_, c_));
    std::vector<Vec> Us(n_chunks, Vec::Zero(H_));
#ifdef AGF_HAS_OPENMP
#pragma omp parallel for schedule(static) num_threads(s.threads) if (s.threads > 1)
#endif
    for (Index k = 0; k < n_chunks; ++k) {
      Scratch local;
      const Index r0 = k * kChunk;
      const Index m = std::min(kChunk, n - r0);
      chunk(data, theta, R_in, r0, m, &losses[k], U ? Us[k].data() : nullptr, gWs[k], gAs[k], local);
    }
    double loss = 0.0;
    RowMat gW = RowMat::Zero(H_, d_), gA = RowMat::Zero(H_, c_);
    for (Index k = 0; k < n_chunks; ++k) {
      loss += losses[k];
      gW += gWs[k];
      gA += gAs[k];
      if (U) for (Index i = 0; i < H_; ++i) U[i] += Us[k][i];
    }
    finish(out, gW, gA, sign / double(n));
    if (U) for (Index i = 0; i < H_; ++i) U[i] /= double(n);
    return loss / double(n);
  }

  void finish(double* out, const RowMat& gW, const RowMat& gA, double scale) const {
    if (!out) return;
    RowMap(out, H_, d_) = scale * gW;
    RowMap(out + H_ * d_, H_, c_) = scale * gA;
  }
};

}  // namespace agf

#include "agf/two_layer_hessian.hpp"
