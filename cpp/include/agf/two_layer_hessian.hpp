// Exact Hessian of the canonical loss for the two-layer family, from its block structure.
//
// With Z = X W^T, S = sigma(Z), S' = sigma'(Z), S'' = sigma''(Z), R = Y - S A, RA = R A^T and
// M[n, (i,j)] = S'_{ni} x_{nj} (n, H d), the blocks of d2L (all sums over samples, / n) are
//   a-a:  H[(i,k),(i',k')] = delta_{kk'} (S^T S)_{ii'}                      (block-diagonal over outputs)
//   w-w:  H[(i,j),(i',j')] = (A A^T)_{ii'} (M^T M)[(i,j),(i',j')]
//                            - delta_{ii'} sum_n RA_{ni} S''_{ni} x_{nj} x_{nj'}
//   w-a:  H[(i,j),(i',k)]  = a_{ik} (M^T S)[(i,j),i'] - delta_{ii'} (M^T R)[(i,j),k]
// i.e. Gauss-Newton J^T J / n minus the residual-weighted second derivatives of f. The cost is
// one (H d)^2 n rank update instead of a dense (n c) x P Jacobian product.
//
// The Hessian-vector product needs only matrix products of the kernel's sizes:
//   dZ = X dW^T, dF = S dA + (S' . dZ) A,
//   (Hv)_A = [S^T dF - (S' . dZ)^T R] / n,
//   (Hv)_W = [((dF A^T) . S' - RA . S'' . dZ - (R dA^T) . S')^T X] / n.
// Included at the end of two_layer.hpp.
#pragma once
#include "agf/two_layer.hpp"

namespace agf {

namespace detail {
inline void second_derivative(const Activation& act, const RowMat& Z, RowMat& Spp) {
  Spp.resize(Z.rows(), Z.cols());
  if (act.kind == ActivationKind::Linear || act.kind == ActivationKind::ReLU) { Spp.setZero(); return; }
  if (act.kind == ActivationKind::Square) { Spp.setConstant(2.0); return; }
  for (Index i = 0; i < Z.size(); ++i) Spp.data()[i] = act.deriv2(Z.data()[i]);
}
}  // namespace detail

inline void TwoLayer::hessian(const Data& data, const double* theta, RowMat& Hm, Scratch& s) const {
  check_data(data);
  const Index H = H_, d = d_, c = c_, Hd = H * d, P = n_params(), n = data.n();
  auto Wt = W(theta);
  auto At = A(theta);
  // Partial sums over sample blocks whose number depends on n only (as the gradient kernels);
  // threads (s.threads) split the blocks, which are added in block order: the Hessian does not
  // depend on the thread count.
  struct Part {
    Eigen::MatrixXd Kc;   // sum_n M^T M, lower triangle
    RowMat B, C, SS;      // M^T S, M^T R, S^T S
    std::vector<RowMat> D;  // X^T diag(RA_i S''_i) X
  };
  const Index nb = n_chunks_for(n);
  std::vector<Part> parts(nb);
#ifdef AGF_HAS_OPENMP
#pragma omp parallel for schedule(static) num_threads(s.threads) if (s.threads > 1 && nb > 1)
#endif
  for (Index b = 0; b < nb; ++b) {
    Part& pt = parts[b];
    pt.Kc = Eigen::MatrixXd::Zero(Hd, Hd);
    pt.B = RowMat::Zero(Hd, H);
    pt.C = RowMat::Zero(Hd, c);
    pt.SS = RowMat::Zero(H, H);
    pt.D.assign(H, RowMat::Zero(d, d));
    RowMat Z, S, Sp, Spp, F, R, RA, M, N;
    const Index b0 = b * n / nb, b1 = (b + 1) * n / nb;
    for (Index r0 = b0; r0 < b1; r0 += kChunk) {
      const Index m = std::min(kChunk, b1 - r0);
      auto X = data.X.middleRows(r0, m);
      Z.noalias() = X * Wt.transpose();
      activate(Z, S, &Sp);
      detail::second_derivative(act_, Z, Spp);
      F.noalias() = S * At;
      R = data.Y.middleRows(r0, m) - F;
      RA.noalias() = R * At.transpose();
      M.resize(m, Hd);
      for (Index i = 0; i < H; ++i) M.middleCols(i * d, d) = Sp.col(i).asDiagonal() * X;
      pt.Kc.selfadjointView<Eigen::Lower>().rankUpdate(M.transpose());
      pt.B.noalias() += M.transpose() * S;
      pt.C.noalias() += M.transpose() * R;
      pt.SS.noalias() += S.transpose() * S;
      for (Index i = 0; i < H; ++i) {
        N = (RA.col(i).cwiseProduct(Spp.col(i))).asDiagonal() * X;
        pt.D[i].noalias() += X.transpose() * N;
      }
    }
  }
  for (Index b = 1; b < nb; ++b) {
    parts[0].Kc.triangularView<Eigen::Lower>() += parts[b].Kc;
    parts[0].B += parts[b].B;
    parts[0].C += parts[b].C;
    parts[0].SS += parts[b].SS;
    for (Index i = 0; i < H; ++i) parts[0].D[i] += parts[b].D[i];
  }
  Eigen::MatrixXd& Kc = parts[0].Kc;
  const RowMat& B = parts[0].B;
  const RowMat& C = parts[0].C;
  const RowMat& SS = parts[0].SS;
  const std::vector<RowMat>& D = parts[0].D;
  RowMat K;
  K = Kc.selfadjointView<Eigen::Lower>();
  const double inv_n = 1.0 / double(n);
  const RowMat AAt = At * At.transpose();
  Hm.setZero(P, P);
  // w-w
  for (Index i = 0; i < H; ++i)
    for (Index i2 = 0; i2 < H; ++i2) {
      auto blk = Hm.block(i * d, i2 * d, d, d);
      blk = (AAt(i, i2) * inv_n) * K.block(i * d, i2 * d, d, d);
      if (i == i2) blk -= inv_n * D[i];
    }
  // w-a and a-w
  for (Index i = 0; i < H; ++i)
    for (Index j = 0; j < d; ++j) {
      const Index p = i * d + j;
      for (Index i2 = 0; i2 < H; ++i2)
        for (Index k = 0; k < c; ++k) {
          double v = At(i, k) * B(p, i2);
          if (i == i2) v -= C(p, k);
          v *= inv_n;
          const Index q = Hd + i2 * c + k;
          Hm(p, q) = v;
          Hm(q, p) = v;
        }
    }
  // a-a
  for (Index i = 0; i < H; ++i)
    for (Index i2 = 0; i2 < H; ++i2) {
      const double v = SS(i, i2) * inv_n;
      for (Index k = 0; k < c; ++k) Hm(Hd + i * c + k, Hd + i2 * c + k) = v;
    }
}

inline void TwoLayer::hvp(const Data& data, const double* theta, const double* v, double* out, Scratch& s) const {
  check_data(data);
  const Index H = H_, d = d_, c = c_, n = data.n();
  auto Wt = W(theta);
  auto At = A(theta);
  ConstRowMap dW(v, H, d), dA(v + H * d, H, c);
  RowMat gW = RowMat::Zero(H, d), gA = RowMat::Zero(H, c);
  RowMat Spp, dZ, T, dF, G;
  for (Index r0 = 0; r0 < n; r0 += kChunk) {
    const Index m = std::min(kChunk, n - r0);
    auto X = data.X.middleRows(r0, m);
    s.Z.noalias() = X * Wt.transpose();
    activate(s.Z, s.S, &s.Sp);
    detail::second_derivative(act_, s.Z, Spp);
    s.F.noalias() = s.S * At;
    s.R = data.Y.middleRows(r0, m) - s.F;
    s.RA.noalias() = s.R * At.transpose();
    dZ.noalias() = X * dW.transpose();
    T = s.Sp.cwiseProduct(dZ);
    dF.noalias() = s.S * dA;
    dF.noalias() += T * At;
    gA.noalias() += s.S.transpose() * dF;
    gA.noalias() -= T.transpose() * s.R;
    G.noalias() = dF * At.transpose();
    G.noalias() -= s.R * dA.transpose();
    G = G.cwiseProduct(s.Sp) - s.RA.cwiseProduct(Spp).cwiseProduct(dZ);
    gW.noalias() += G.transpose() * X;
  }
  const double inv_n = 1.0 / double(n);
  RowMap(out, H, d) = inv_n * gW;
  RowMap(out + H * d, H, c) = inv_n * gA;
}

}  // namespace agf
