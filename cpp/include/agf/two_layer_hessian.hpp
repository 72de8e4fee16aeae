// Exact Hessian of the canonical loss for the two-layer family, from its block structure.
//
// With Z = X W^T, S = sigma(Z), S' = sigma'(Z), S'' = sigma''(Z), R = Y - S A, RA = R A^T and
// M[n, (i,j)] = S'_{ni} x_{nj} (n, H d), the blocks of d2L (all sums over samples, / n) are
//   a-a:  H[(i,k),(i',k')] = delta_{kk'} (S^T S)_{ii'}                      (block-diagonal over outputs)
//   w-w:  H[(i,j),(i',j')] = (A A^T)_{ii'} (M^T M)[(i,j),(i',j')]
//                            - delta_{ii'} sum_n RA_{ni} S''_{ni} x_{nj} x_{nj'}
//   w-a:  H[(i,j),(i',k)]  = a_{ik} (M^T S)[(i,j),i'] - delta_{ii'} (M^T R)[(i,j),k]
// i.e. Gauss-Newton J^T J / n minus the residual-weighted second derivatives of f. The cost is
// one (H d)^2 n rank update instead of a dense (n c) x P Jacobian product. Structured inputs
// (input_structure.hpp) are cheaper still: on block tables (method section 6.5: X = [x_a | x_b], p
// distinct rows per block) the w-w block comes from per-pair aggregates, 2.6 ms instead of 13.8
// ms at the paper's sizes; on sparse inputs it is accumulated over each sample's nonzeros,
// H^2 nnz(x)^2 per sample instead of (H d)^2.
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
  {
    RowMat B, C, SS;
    const bool done = data.Xt ? hessian_table_parts(data, theta, Hm, B, C, SS, s)
                              : data.Xs ? (hessian_sparse_parts(data, theta, Hm, B, C, SS), true) : false;
    if (done) {
      hessian_assemble_wa_aa(theta, B, C, SS, 1.0 / double(data.n()), Hm);
      return;
    }
  }
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
  Hm.resize(P, P);  // every w-w block is written below, the rest by hessian_assemble_wa_aa
  // w-w
  for (Index i = 0; i < H; ++i)
    for (Index i2 = 0; i2 < H; ++i2) {
      auto blk = Hm.block(i * d, i2 * d, d, d);
      blk = (AAt(i, i2) * inv_n) * K.block(i * d, i2 * d, d, d);
      if (i == i2) blk -= inv_n * D[i];
    }
  hessian_assemble_wa_aa(theta, B, C, SS, inv_n, Hm);
}

// B = M^T S, C = M^T R and SS = S^T S are sums over samples; Hm's w-w block is already set.
inline void TwoLayer::hessian_assemble_wa_aa(const double* theta, const RowMat& B, const RowMat& C,
                                             const RowMat& SS, double inv_n, RowMat& Hm) const {
  const Index H = H_, d = d_, c = c_, Hd = H * d;
  auto At = A(theta);
  const Index Ha = H * c;
  // w-a (row by row), a-w (its transpose)
  for (Index i = 0; i < H; ++i)
    for (Index j = 0; j < d; ++j) {
      const Index p = i * d + j;
      double* row = Hm.row(p).data() + Hd;
      for (Index i2 = 0; i2 < H; ++i2)
        for (Index k = 0; k < c; ++k) {
          double v = At(i, k) * B(p, i2);
          if (i == i2) v -= C(p, k);
          row[i2 * c + k] = v * inv_n;
        }
    }
  Hm.block(Hd, 0, Ha, Hd) = Hm.block(0, Hd, Hd, Ha).transpose();
  // a-a
  Hm.block(Hd, Hd, Ha, Ha).setZero();
  for (Index i = 0; i < H; ++i)
    for (Index i2 = 0; i2 < H; ++i2) {
      const double v = SS(i, i2) * inv_n;
      for (Index k = 0; k < c; ++k) Hm(Hd + i * c + k, Hd + i2 * c + k) = v;
    }
}

// The structured paths' per-sample weights, sample by sample in order: SS += S^T S and, for each
// sample s, visit(s, coef, S_s, S'_s, R_s) with the H x H weights
//   coef(i, i') = [(A A^T)_{ii'} S'_{si} S'_{si'} - delta_{ii'} RA_{si} S''_{si}] / n.
template <class Visit>
void TwoLayer::sample_weights(const Data& data, const double* theta, RowMat& SS, Visit&& visit) const {
  const Index H = H_, n = data.n();
  auto At = A(theta);
  const RowMat AAt = At * At.transpose();
  const double inv_n = 1.0 / double(n);
  SS.setZero(H, H);
  RowMat Z, S, Sp, Spp, F, R, RA, coef(H, H);
  for (Index r0 = 0; r0 < n; r0 += kChunk) {
    const Index m = std::min(kChunk, n - r0);
    input_product(data, r0, m, W(theta), Z);
    activate(Z, S, &Sp);
    detail::second_derivative(act_, Z, Spp);
    F.noalias() = S * At;
    R = data.Y.middleRows(r0, m) - F;
    RA.noalias() = R * At.transpose();
    SS.noalias() += S.transpose() * S;
    for (Index r = 0; r < m; ++r) {
      coef.noalias() = Sp.row(r).transpose() * Sp.row(r);
      coef = coef.cwiseProduct(AAt);
      coef.diagonal() -= RA.row(r).cwiseProduct(Spp.row(r)).transpose();
      coef *= inv_n;
      visit(r0 + r, coef, S.row(r), Sp.row(r), R.row(r));
    }
  }
}

// Sparse inputs: per sample s with nonzeros x_j (j in nz(s)),
//   w-w  H[(i,j),(i',j')] += [(A A^T)_{ii'} S'_{si} S'_{si'} - delta_{ii'} RA_{si} S''_{si}] x_j x_j' / n,
//   B[(i,j), :] += S'_{si} x_j S_{s,:},   C[(i,j), :] += S'_{si} x_j R_{s,:}.
// Serial over samples in order (the cost is a few nonzeros per sample), so the result does not
// depend on the thread count.
inline void TwoLayer::hessian_sparse_parts(const Data& data, const double* theta, RowMat& Hm, RowMat& B,
                                           RowMat& C, RowMat& SS) const {
  const Index H = H_, d = d_, c = c_, Hd = H * d, P = n_params();
  const SparseRows& sp = *data.Xs;
  Hm.resize(P, P);
  Hm.topLeftCorner(Hd, Hd).setZero();  // accumulated below; the rest is written by hessian_assemble_wa_aa
  B.setZero(Hd, H);
  C.setZero(Hd, c);
  sample_weights(data, theta, SS, [&](Index s, const RowMat& coef, auto S_s, auto Sp_s, auto R_s) {
    const Index k0 = sp.ptr[s], k1 = sp.ptr[s + 1];
    for (Index ka = k0; ka < k1; ++ka) {
      const Index ja = sp.col[ka];
      const double xa = sp.val[ka];
      for (Index kb = k0; kb < k1; ++kb) {
        const Index jb = sp.col[kb];
        const double xx = xa * sp.val[kb];
        for (Index i = 0; i < H; ++i)
          for (Index i2 = 0; i2 < H; ++i2) Hm(i * d + ja, i2 * d + jb) += coef(i, i2) * xx;
      }
      for (Index i = 0; i < H; ++i) {
        const double q = Sp_s(i) * xa;
        B.row(i * d + ja) += q * S_s;
        C.row(i * d + ja) += q * R_s;
      }
    }
  });
}

// Block tables (input_structure.hpp), X = [T_1[idx_1] | ... | T_B[idx_B]]: with the per-sample weights
//   coef_s(i, i') = [(A A^T)_{ii'} S'_{si} S'_{si'} - delta_{ii'} RA_{si} S''_{si}] / n
// summed per pair of distinct rows, Cg_kl[(u, v), (i, i')] = sum over the samples with
// idx_k = u and idx_l = v, the w-w block between input blocks k and l is
//   H[(i, k j), (i', l j')] = sum_{u, v} T_k[u, j] Cg_kl[(u, v), (i, i')] T_l[v, j'],
// two matrix products per block pair; B and C likewise from Q_k[(i, u), :] = sum S'_{si} S_s
// and R_k[(i, u), :] = sum S'_{si} R_s. Serial over samples in order (deterministic; sharing
// the block pairs out to 2 threads measured slower, 4.2 ms against 2.3 ms, on section 6.5).
inline bool TwoLayer::hessian_table_parts(const Data& data, const double* theta, RowMat& Hm, RowMat& B,
                                          RowMat& C, RowMat& SS, Scratch& scratch) const {
  const BlockTables& bt = *data.Xt;
  const Index H = H_, d = d_, c = c_, Hd = H * d, P = n_params(), n = data.n(), nb = bt.B, w = bt.w;
  // Work of the table path against the dense rank update; take the cheaper one (if it fits).
  // Memory: the aggregates hold sum_{k,l} u_k u_l H^2 numbers; no more than the Hessian itself.
  double table_cost = double(n) * double(nb * nb) * double(H * H), dense_cost = 0.5 * double(n) * double(Hd) * double(Hd);
  double cells = 0.0;
  for (Index k = 0; k < nb; ++k)
    for (Index l = 0; l < nb; ++l) {
      const double uk = double(bt.T[k].rows()), ul = double(bt.T[l].rows());
      table_cost += double(H * H) * uk * ul * double(w) + double(H * H) * uk * double(w * w);
      cells += uk * ul;
    }
  if (table_cost > 0.5 * dense_cost || cells > double(d + c) * double(d + c)) return false;
  // Cg_kl laid out [(u, v), (i, i')]: each sample adds its H x H weights to one contiguous block.
  std::vector<Vec>& Cg = scratch.hess;
  Cg.resize(std::size_t(nb * nb));
  for (Index k = 0; k < nb; ++k)
    for (Index l = 0; l < nb; ++l) Cg[std::size_t(k * nb + l)].setZero(bt.T[k].rows() * bt.T[l].rows() * H * H);
  std::vector<RowMat> Q(static_cast<std::size_t>(nb)), Rg(static_cast<std::size_t>(nb));
  for (Index k = 0; k < nb; ++k) {
    Q[std::size_t(k)] = RowMat::Zero(H * bt.T[k].rows(), H);
    Rg[std::size_t(k)] = RowMat::Zero(H * bt.T[k].rows(), c);
  }
  sample_weights(data, theta, SS, [&](Index s, const RowMat& coef, auto S_s, auto Sp_s, auto R_s) {
    for (Index k = 0; k < nb; ++k) {
      const Index uk = bt.T[k].rows(), u = bt.idx[k][s];
      for (Index l = 0; l < nb; ++l) {
        const Index ul = bt.T[l].rows(), v = bt.idx[l][s];
        RowMap(Cg[std::size_t(k * nb + l)].data() + (u * ul + v) * H * H, H, H) += coef;
      }
      for (Index i = 0; i < H; ++i) {
        Q[std::size_t(k)].row(i * uk + u) += Sp_s(i) * S_s;
        Rg[std::size_t(k)].row(i * uk + u) += Sp_s(i) * R_s;
      }
    }
  });
  Hm.resize(P, P);  // the w-w block is written in full here, the rest by hessian_assemble_wa_aa
  RowMat Tmp, Kt;
  using StridedMap = Eigen::Map<const RowMat, 0, Eigen::OuterStride<>>;
  for (Index k = 0; k < nb; ++k) {
    const Index uk = bt.T[k].rows();
    const RowMat TkT = bt.T[k].transpose();  // (w, u_k)
    for (Index l = 0; l < nb; ++l) {
      const Index ul = bt.T[l].rows();
      const double* cg = Cg[std::size_t(k * nb + l)].data();
      Tmp.resize(uk * H * H, w);  // rows (u, i, i'), columns j': sum_v Cg[(u, v), (i, i')] T_l[v, j']
      for (Index u = 0; u < uk; ++u)
        Tmp.middleRows(u * H * H, H * H).noalias() = ConstRowMap(cg + u * ul * H * H, ul, H * H).transpose() * bt.T[l];
      for (Index i = 0; i < H; ++i) {
        StridedMap blk(Tmp.data() + i * H * w, uk, H * w, Eigen::OuterStride<>(H * H * w));  // rows u, cols (i', j')
        Kt.noalias() = TkT * blk;                                                            // rows j, cols (i', j')
        for (Index j = 0; j < w; ++j)
          for (Index i2 = 0; i2 < H; ++i2)
            Hm.block(i * d + k * w + j, i2 * d + l * w, 1, w) = Kt.block(j, i2 * w, 1, w);
      }
    }
  }
  B.resize(Hd, H);
  C.resize(Hd, c);
  for (Index k = 0; k < nb; ++k) {
    const Index uk = bt.T[k].rows();
    for (Index i = 0; i < H; ++i) {
      B.block(i * d + k * w, 0, w, H).noalias() = bt.T[k].transpose() * Q[std::size_t(k)].middleRows(i * uk, uk);
      C.block(i * d + k * w, 0, w, c).noalias() = bt.T[k].transpose() * Rg[std::size_t(k)].middleRows(i * uk, uk);
    }
  }
  return true;
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
    input_product(data, r0, m, Wt, s.Z);
    activate(s.Z, s.S, &s.Sp);
    detail::second_derivative(act_, s.Z, Spp);
    s.F.noalias() = s.S * At;
    s.R = data.Y.middleRows(r0, m) - s.F;
    s.RA.noalias() = s.R * At.transpose();
    input_product(data, r0, m, dW, dZ);
    T = s.Sp.cwiseProduct(dZ);
    dF.noalias() = s.S * dA;
    dF.noalias() += T * At;
    gA.noalias() += s.S.transpose() * dF;
    gA.noalias() -= T.transpose() * s.R;
    G.noalias() = dF * At.transpose();
    G.noalias() -= s.R * dA.transpose();
    G = G.cwiseProduct(s.Sp) - s.RA.cwiseProduct(Spp).cwiseProduct(dZ);
    input_gradient(data, r0, m, G, T);
    gW += T;
  }
  const double inv_n = 1.0 / double(n);
  RowMap(out, H, d) = inv_n * gW;
  RowMap(out + H * d, H, c) = inv_n * gA;
}

}  // namespace agf
