// Two-layer family f_i(x) = a_i sigma(w_i . x): parameters theta = [W (H, d) row-major,
// A (H, c) row-major]. kappa = degree(sigma) + 1.
//
// Kernels are a few matrix products (method section 2):
//   Z = X W^T, S = sigma(Z), RA = R A^T, U = mean_n[RA . S],
//   dU/da = S^T R / n, dU/dw = (RA . sigma'(Z))^T X / n,
// and the loss gradient is the utility gradient against the full residual: -dL = dU(y - f).
//
// Samples are processed in chunks whose number depends on n only; their partial sums are added
// in chunk order, so results do not depend on the number of threads.
#pragma once
#include <cmath>
#include <vector>
#include "agf/activation.hpp"
#include "agf/model.hpp"
#include "agf/parallel.hpp"

namespace agf {

class TwoLayer final : public Model {
 public:
  static constexpr Index kMinChunkedRows = 256;
  static constexpr Index kChunk = 2048;  // row block of the serial Hessian loops (two_layer_hessian.hpp)

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
  std::unique_ptr<Model> subset(Index k) const override { return std::make_unique<TwoLayer>(d_, c_, k, act_); }

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

  // Z = X[r0, r0+m) W^T and gW = G^T X[r0, r0+m) (G: m x H): dense, or on the data's block
  // tables (input_structure.hpp: u_k w H products and an O(m H) gather / scatter), or over the nonzeros of
  // sparse inputs (O(nnz H) instead of O(m d H)).
  void input_product(const Data& data, Index r0, Index m, const ConstRowMap& Wm, RowMat& Z) const {
    if (data.Xt) {
      const BlockTables& bt = *data.Xt;
      Z.setZero(m, H_);
      RowMat ZT;
      for (Index k = 0; k < bt.B; ++k) {
        ZT.noalias() = bt.T[k] * Wm.middleCols(k * bt.w, bt.w).transpose();  // (u_k, H)
        const Index* ix = bt.idx[k].data() + r0;
        for (Index r = 0; r < m; ++r) Z.row(r) += ZT.row(ix[r]);
      }
      return;
    }
    if (!data.Xs) {
      Z.noalias() = data.X.middleRows(r0, m) * Wm.transpose();
      return;
    }
    const RowMat WT = Wm.transpose();  // (d, H): one contiguous row per input feature
    Z.setZero(m, H_);
    for_each_nonzero(*data.Xs, r0, m, [&](Index r, Index j, double x) { Z.row(r) += x * WT.row(j); });
  }
  void input_gradient(const Data& data, Index r0, Index m, const RowMat& G, RowMat& gW) const {
    if (data.Xt) {
      const BlockTables& bt = *data.Xt;
      gW.resize(H_, d_);
      RowMat Gs;
      for (Index k = 0; k < bt.B; ++k) {
        Gs.setZero(bt.T[k].rows(), H_);  // G summed over the samples holding each distinct row
        const Index* ix = bt.idx[k].data() + r0;
        for (Index r = 0; r < m; ++r) Gs.row(ix[r]) += G.row(r);
        gW.middleCols(k * bt.w, bt.w).noalias() = Gs.transpose() * bt.T[k];
      }
      return;
    }
    if (!data.Xs) {
      gW.noalias() = G.transpose() * data.X.middleRows(r0, m);
      return;
    }
    RowMat gWT = RowMat::Zero(d_, H_);
    for_each_nonzero(*data.Xs, r0, m, [&](Index r, Index j, double x) { gWT.row(j) += x * G.row(r); });
    gW = gWT.transpose();
  }

  void forward(const Data& data, const double* theta, RowMat& F, Scratch& s) const override {
    input_product(data, 0, data.n(), W(theta), s.Z);
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
  // The Hessian's w-w block written into Hm over the nonzeros of sparse inputs, B = M^T S and
  // C = M^T R (two_layer_hessian.hpp).
  void hessian_sparse_parts(const Data& data, const double* theta, RowMat& Hm, RowMat& B, RowMat& C,
                            RowMat& SS) const;
  template <class Visit>
  void sample_weights(const Data& data, const double* theta, RowMat& SS, Visit&& visit) const;
  // The same from the data's block tables; false (nothing done) where the dense path is cheaper.
  bool hessian_table_parts(const Data& data, const double* theta, RowMat& Hm, RowMat& B, RowMat& C,
                           RowMat& SS, Scratch& scratch) const;
  // The w-a, a-w and a-a blocks from B, C, S^T S (shared by the dense and sparse paths).
  void hessian_assemble_wa_aa(const double* theta, const RowMat& B, const RowMat& C, const RowMat& SS,
                              double inv_n, RowMat& Hm) const;

 private:
  Index d_, c_, H_;
  Activation act_;

  // Samples are split into chunks whose number depends on n only (even, ~512 rows each), so
  // that two threads balance and the summation order never depends on the thread count.
  static Index n_chunks_for(Index n) {
    if (n < kMinChunkedRows) return 1;
    return std::min<Index>(2 * ((n + 1023) / 1024), 256);
  }

  // One chunk of rows [r0, r0+m) into b: the chunk's sum_n of 0.5||r||^2 (b.loss), of RA.S
  // (b.U, if want_U), of S^T R (b.gA) and of G^T X (b.gW), G = RA . sigma'(Z). If R_in is
  // null the residual is Y - F, else the given one.
  void chunk(const Data& data, const double* theta, const RowMat* R_in, Index r0, Index m, bool want_U,
             ChunkBuffers& b) const {
    auto At = A(theta);
    input_product(data, r0, m, W(theta), b.Z);
    activate(b.Z, b.S, &b.Sp);
    b.loss = 0.0;
    if (R_in) {
      b.R = R_in->middleRows(r0, m);
    } else {
      b.F.noalias() = b.S * At;
      b.R = data.Y.middleRows(r0, m) - b.F;
      b.loss = 0.5 * b.R.squaredNorm();
    }
    b.RA.noalias() = b.R * At.transpose();
    if (want_U) {
      b.U.resize(H_);
      for (Index i = 0; i < H_; ++i) b.U[i] = b.RA.col(i).dot(b.S.col(i));
    }
    b.gA.noalias() = b.S.transpose() * b.R;
    b.G = b.RA.cwiseProduct(b.Sp);
    input_gradient(data, r0, m, b.G, b.gW);
  }

  // Sums the chunks in order. With R_in == null: returns the loss and writes dL/dtheta to out
  // (if out); with R_in: writes U and dU/dtheta. Threads (s.threads) only split the chunks.
  double chunked(const Data& data, const double* theta, const RowMat* R_in, double* out,
                 Scratch& s, double* U = nullptr) const {
    const Index n = data.n();
    const Index nc = n_chunks_for(n);
    if (Index(s.chunks.size()) < nc) s.chunks.resize(nc);
    const double sign = R_in ? 1.0 : -1.0;  // dL = -dU(residual)
#ifdef AGF_HAS_OPENMP
#pragma omp parallel for schedule(static) num_threads(s.threads) if (s.threads > 1 && nc > 1)
#endif
    for (Index k = 0; k < nc; ++k) {
      const Index r0 = k * n / nc, r1 = (k + 1) * n / nc;
      chunk(data, theta, R_in, r0, r1 - r0, U != nullptr, s.chunks[k]);
    }
    ChunkBuffers& first = s.chunks[0];
    double loss = first.loss;
    for (Index k = 1; k < nc; ++k) {
      const ChunkBuffers& b = s.chunks[k];
      loss += b.loss;
      first.gW += b.gW;
      first.gA += b.gA;
      if (U) first.U += b.U;
    }
    finish(out, first.gW, first.gA, sign / double(n));
    if (U) for (Index i = 0; i < H_; ++i) U[i] = first.U[i] / double(n);
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
