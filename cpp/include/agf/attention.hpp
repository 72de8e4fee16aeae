// Linear-attention family (method section 5c): H rank-one heads with value v_i (scalar), key
// k_i and query q_i in R^D, on inputs x = (h, x_q) in R^{2D} (columns [0, D) are h, [D, 2D)
// are x_q), c = 1:
//   f_i(x) = v_i (k_i . h)(q_i . x_q),   kappa = 3.
// theta = [v (H), k (H, D) row-major, q (H, D) row-major].
//
// Kernels are matrix products of the kernel's sizes (Xh, Xq the two input halves, r residual):
//   Kh = Xh K^T (n, H),  Qx = Xq Q^T (n, H),  P = Kh . Qx,  f = P v,
//   dU/dv = P^T r / n,   dU/dk = diag(v) (Qx . r)^T Xh / n,   dU/dq = diag(v) (Kh . r)^T Xq / n,
//   U_i = v_i (dU/dv)_i,  and the loss gradient is dL = -dU(y - f).
// Exact Hessian (Gauss-Newton plus the residual-weighted second derivatives of f, which couple
// only (v_i, k_i), (v_i, q_i) and (k_i, q_i) within a head):
//   d2L = [J^T J - sum_n r_n d2f_n] / n,   J_n = (P_n, v_i Qx_ni xh_n, v_i Kh_ni xq_n),
//   sum_n r_n d2f/dv_i dk_i = ((r . Qx)^T Xh)_i,  d2f/dv_i dq_i -> ((r . Kh)^T Xq)_i,
//   sum_n r_n d2f/dk_i dq_i = v_i Xh^T diag(r) Xq.
//
// Samples are processed in fixed chunks of kChunk rows summed in chunk order, so results do not
// depend on the number of threads.
#pragma once
#include <cmath>
#include <vector>
#include "agf/model.hpp"
#include "agf/parallel.hpp"

namespace agf {

class Attention final : public Model {
 public:
  static constexpr Index kChunk = 2048;

  Attention(Index D, Index H) : D_(D), H_(H) {
    if (D < 1 || H < 1) throw ConfigError("LinearAttention needs D >= 1 and heads >= 1");
  }
  std::unique_ptr<Model> subset(Index k) const override { return std::make_unique<Attention>(D_, k); }

  std::string name() const override { return "attention"; }
  Index n_params() const override { return H_ * (2 * D_ + 1); }
  Index n_neurons() const override { return H_; }
  Index d_in() const override { return 2 * D_; }
  Index d_out() const override { return 1; }
  int kappa() const override { return 3; }
  bool homogeneous() const override { return true; }
  Index neuron_of(Index p) const override {
    if (p < H_) return p;
    if (p < H_ + H_ * D_) return (p - H_) / D_;
    return (p - H_ - H_ * D_) / D_;
  }
  Index D() const { return D_; }

  ConstVecMap v(const double* theta) const { return ConstVecMap(theta, H_); }
  ConstRowMap K(const double* theta) const { return ConstRowMap(theta + H_, H_, D_); }
  ConstRowMap Q(const double* theta) const { return ConstRowMap(theta + H_ + H_ * D_, H_, D_); }

  void forward(const Data& data, const double* theta, RowMat& F, Scratch& s) const override {
    const Index n = data.n();
    F.resize(n, 1);
    for (Index r0 = 0; r0 < n; r0 += kChunk) {
      const Index m = std::min(kChunk, n - r0);
      products(data, theta, r0, m, s);
      F.middleRows(r0, m).col(0).noalias() = s.Sp * v(theta);
    }
  }

  double loss_grad(const Data& data, const double* theta, double* grad, Scratch& s) const override {
    return chunked(data, theta, nullptr, grad, s, nullptr);
  }

  void utilities(const Data& data, const double* theta, const RowMat& R, double* U, double* gradU,
                 Scratch& s) const override {
    if (R.rows() != data.n() || R.cols() != 1) throw ConfigError("residual has the wrong shape");
    chunked(data, theta, &R, gradU, s, U);
  }

  void hessian(const Data& data, const double* theta, RowMat& Hm, Scratch& s) const override {
    check_data(data);
    const Index H = H_, D = D_, P = n_params(), n = data.n();
    auto vv = v(theta);
    Eigen::MatrixXd JJ = Eigen::MatrixXd::Zero(P, P);  // lower triangle accumulated
    RowMat Ak = RowMat::Zero(H, D), Aq = RowMat::Zero(H, D), C = RowMat::Zero(D, D);
    RowMat J;
    for (Index r0 = 0; r0 < n; r0 += kChunk) {
      const Index m = std::min(kChunk, n - r0);
      auto Xh = data.X.block(r0, 0, m, D);
      auto Xq = data.X.block(r0, D, m, D);
      products(data, theta, r0, m, s);
      s.F.noalias() = s.Sp * vv;
      s.R = data.Y.middleRows(r0, m) - s.F;
      J.resize(m, P);
      J.leftCols(H) = s.Sp;
      for (Index i = 0; i < H; ++i) {
        s.v1 = vv[i] * s.S.col(i);
        J.middleCols(H + i * D, D) = s.v1.asDiagonal() * Xh;
        s.v1 = vv[i] * s.Z.col(i);
        J.middleCols(H + H * D + i * D, D) = s.v1.asDiagonal() * Xq;
      }
      JJ.selfadjointView<Eigen::Lower>().rankUpdate(J.transpose());
      s.G = s.S.array().colwise() * s.R.col(0).array();  // r . Qx
      Ak.noalias() += s.G.transpose() * Xh;
      s.G = s.Z.array().colwise() * s.R.col(0).array();  // r . Kh
      Aq.noalias() += s.G.transpose() * Xq;
      s.v1 = s.R.col(0);
      C.noalias() += Xh.transpose() * (s.v1.asDiagonal() * Xq);
    }
    const double inv_n = 1.0 / double(n);
    Hm = inv_n * RowMat(JJ.selfadjointView<Eigen::Lower>());
    for (Index i = 0; i < H; ++i) {
      const Index pk = H + i * D, pq = H + H * D + i * D;
      for (Index j = 0; j < D; ++j) {
        Hm(i, pk + j) -= inv_n * Ak(i, j);
        Hm(pk + j, i) -= inv_n * Ak(i, j);
        Hm(i, pq + j) -= inv_n * Aq(i, j);
        Hm(pq + j, i) -= inv_n * Aq(i, j);
      }
      Hm.block(pk, pq, D, D) -= (inv_n * vv[i]) * C;
      Hm.block(pq, pk, D, D) -= (inv_n * vv[i]) * C.transpose();
    }
  }

  // Hv = [J^T (J d) - (sum_n r_n d2f_n) d] / n, with dKh = Xh dK^T, dQx = Xq dQ^T,
  // J d = (dv . P + v . (dKh . Qx + Kh . dQx)) summed over heads.
  void hvp(const Data& data, const double* theta, const double* vec, double* out, Scratch& s) const override {
    check_data(data);
    const Index H = H_, D = D_, n = data.n();
    auto vv = v(theta);
    ConstVecMap dv(vec, H);
    ConstRowMap dK(vec + H, H, D), dQ(vec + H + H * D, H, D);
    Vec gv = Vec::Zero(H);
    RowMat gk = RowMat::Zero(H, D), gq = RowMat::Zero(H, D);
    RowMat dKh, dQx, T;
    Vec dF;
    for (Index r0 = 0; r0 < n; r0 += kChunk) {
      const Index m = std::min(kChunk, n - r0);
      auto Xh = data.X.block(r0, 0, m, D);
      auto Xq = data.X.block(r0, D, m, D);
      products(data, theta, r0, m, s);  // Z = Kh, S = Qx, Sp = P
      s.F.noalias() = s.Sp * vv;
      s.R = data.Y.middleRows(r0, m) - s.F;
      auto r = s.R.col(0).array();
      dKh.noalias() = Xh * dK.transpose();
      dQx.noalias() = Xq * dQ.transpose();
      // per-head directional derivative of P: dv_i P + v_i (dKh Qx + Kh dQx)
      T = (dKh.cwiseProduct(s.S) + s.Z.cwiseProduct(dQx)) * vv.asDiagonal();
      dF.noalias() = s.Sp * dv;
      dF.noalias() += T.rowwise().sum();
      auto df = dF.array();
      // v: P^T dF - sum_n r (Qx dKh + Kh dQx)
      gv.noalias() += s.Sp.transpose() * dF;
      gv -= ((dKh.cwiseProduct(s.S) + s.Z.cwiseProduct(dQx)).array().colwise() * r).colwise().sum().matrix().transpose();
      // k: v_i (Qx . dF)^T Xh - (r . (Qx dv_i + dQx v_i))^T Xh
      s.G = (s.S * vv.asDiagonal()).array().colwise() * df;
      s.G -= ((s.S * dv.asDiagonal() + dQx * vv.asDiagonal()).array().colwise() * r).matrix();
      gk.noalias() += s.G.transpose() * Xh;
      // q: v_i (Kh . dF)^T Xq - (r . (Kh dv_i + dKh v_i))^T Xq
      s.G = (s.Z * vv.asDiagonal()).array().colwise() * df;
      s.G -= ((s.Z * dv.asDiagonal() + dKh * vv.asDiagonal()).array().colwise() * r).matrix();
      gq.noalias() += s.G.transpose() * Xq;
    }
    const double inv_n = 1.0 / double(n);
    VecMap(out, H) = inv_n * gv;
    RowMap(out + H, H, D) = inv_n * gk;
    RowMap(out + H + H * D, H, D) = inv_n * gq;
  }

 private:
  Index D_, H_;

  // Rows [r0, r0+m): s.Z = Kh, s.S = Qx, s.Sp = P = Kh . Qx.
  void products(const Data& data, const double* theta, Index r0, Index m, Scratch& s) const {
    s.Z.noalias() = data.X.block(r0, 0, m, D_) * K(theta).transpose();
    s.S.noalias() = data.X.block(r0, D_, m, D_) * Q(theta).transpose();
    s.Sp = s.Z.cwiseProduct(s.S);
  }

  // One chunk: adds sum_n 0.5 r^2 to *loss (own residual only), P^T r to gv,
  // (Qx . r)^T Xh to gk and (Kh . r)^T Xq to gq (all without the factor v or 1/n).
  void chunk(const Data& data, const double* theta, const RowMat* R_in, Index r0, Index m, double* loss,
             Vec& gv, RowMat& gk, RowMat& gq, Scratch& s) const {
    products(data, theta, r0, m, s);
    if (R_in) {
      s.R = R_in->middleRows(r0, m);
    } else {
      s.F.noalias() = s.Sp * v(theta);
      s.R = data.Y.middleRows(r0, m) - s.F;
      if (loss) *loss += 0.5 * s.R.squaredNorm();
    }
    auto r = s.R.col(0).array();
    gv.noalias() += s.Sp.transpose() * s.R.col(0);
    s.G = s.S.array().colwise() * r;
    gk.noalias() += s.G.transpose() * data.X.block(r0, 0, m, D_);
    s.G = s.Z.array().colwise() * r;
    gq.noalias() += s.G.transpose() * data.X.block(r0, D_, m, D_);
  }

  // With R_in == null: returns the loss and writes dL/dtheta to out (if out); with R_in: writes
  // U (if U) and dU/dtheta (if out).
  double chunked(const Data& data, const double* theta, const RowMat* R_in, double* out, Scratch& s,
                 double* U) const {
    const Index n = data.n();
    const Index n_chunks = (n + kChunk - 1) / kChunk;
    double loss = 0.0;
    Vec gv = Vec::Zero(H_);
    RowMat gk = RowMat::Zero(H_, D_), gq = RowMat::Zero(H_, D_);
    if (n_chunks == 1) {
      chunk(data, theta, R_in, 0, n, &loss, gv, gk, gq, s);
    } else {
      std::vector<double> losses(n_chunks, 0.0);
      std::vector<Vec> gvs(n_chunks, Vec::Zero(H_));
      std::vector<RowMat> gks(n_chunks, RowMat::Zero(H_, D_)), gqs(n_chunks, RowMat::Zero(H_, D_));
#ifdef AGF_HAS_OPENMP
#pragma omp parallel for schedule(static) num_threads(s.threads) if (s.threads > 1)
#endif
      for (Index k = 0; k < n_chunks; ++k) {
        Scratch local;
        const Index r0 = k * kChunk;
        const Index m = std::min(kChunk, n - r0);
        chunk(data, theta, R_in, r0, m, &losses[k], gvs[k], gks[k], gqs[k], local);
      }
      for (Index k = 0; k < n_chunks; ++k) {
        loss += losses[k];
        gv += gvs[k];
        gk += gks[k];
        gq += gqs[k];
      }
    }
    const double inv_n = 1.0 / double(n);
    const double sign = R_in ? 1.0 : -1.0;  // dL = -dU(residual)
    auto vv = v(theta);
    gv *= inv_n;
    if (U)
      for (Index i = 0; i < H_; ++i) U[i] = vv[i] * gv[i];
    if (out) {
      VecMap(out, H_) = sign * gv;
      RowMap(out + H_, H_, D_) = (sign * inv_n) * (vv.asDiagonal() * gk);
      RowMap(out + H_ + H_ * D_, H_, D_) = (sign * inv_n) * (vv.asDiagonal() * gq);
    }
    return loss * inv_n;
  }
};

}  // namespace agf
