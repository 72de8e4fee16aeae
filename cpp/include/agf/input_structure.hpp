// Structured inputs, detected when the data are built (data.hpp, Data::Xt / Data::Xs) and used
// by the two-layer kernels (two_layer.hpp, two_layer_hessian.hpp): block tables (column blocks
// with few distinct rows) and sparse rows.
#pragma once
#include <cstdint>
#include <cstring>
#include <memory>
#include <unordered_map>
#include <vector>
#include "agf/types.hpp"

namespace agf {

// The rows of X in compressed sparse row form: row r's nonzeros are val[ptr[r] .. ptr[r+1]) in
// the columns col[...], in increasing column order.
struct SparseRows {
  std::vector<Index> ptr, col;
  std::vector<double> val;
};

// X in CSR form if at most kSparseDensity of its entries are nonzero (one-hot inputs such as the
// pairs of modular addition, method section 5d), else nullptr. The scan stops as soon as X is
// known to be too dense, so dense data costs a fraction of one pass.
constexpr double kSparseDensity = 0.125;
constexpr Index kSparseMinColumns = 8;
inline std::shared_ptr<const SparseRows> sparse_rows(const ConstRowMap& X) {
  const Index n = X.rows(), d = X.cols();
  if (d < kSparseMinColumns || n == 0) return nullptr;
  const double limit = kSparseDensity * double(n) * double(d);
  auto sp = std::make_shared<SparseRows>();
  sp->ptr.reserve(std::size_t(n) + 1);
  sp->ptr.push_back(0);
  for (Index r = 0; r < n; ++r) {
    const double* row = X.data() + r * d;
    for (Index j = 0; j < d; ++j)
      if (row[j] != 0.0) {
        sp->col.push_back(j);
        sp->val.push_back(row[j]);
      }
    if (double(sp->col.size()) > limit) return nullptr;
    sp->ptr.push_back(Index(sp->col.size()));
  }
  return sp;
}

// Calls f(r, j, x_rj) for every nonzero of rows r0 .. r0+m-1 (r counted from r0), row by row in
// increasing column order.
template <class F>
void for_each_nonzero(const SparseRows& sp, Index r0, Index m, F&& f) {
  for (Index r = 0; r < m; ++r)
    for (Index k = sp.ptr[r0 + r]; k < sp.ptr[r0 + r + 1]; ++k) f(r, sp.col[k], sp.val[k]);
}

// X as B column blocks of equal width w, each with few distinct rows: X = [T_1[idx_1] | ... |
// T_B[idx_B]], T_k (u_k, w) the distinct rows of block k and idx_k[r] the one sample r holds.
// Inputs built from token embeddings have this form (modular addition, method section 5d: the
// p^2 pairs (a, b) are [x_a | x_b] with p distinct rows per block), and the two-layer kernels
// then work on the tables: Z = X W^T is u_k x H products plus a gather, and the Hessian's w-w
// block is assembled from (u_k H) x (u_l H) aggregates instead of an n (H d)^2 rank update.
struct BlockTables {
  Index B = 0, w = 0;
  std::vector<RowMat> T;
  std::vector<std::vector<Index>> idx;
};

// The smallest B in {1, 2, 3, 4} (d divisible by B) for which every block of X has at most
// n / kTableRowsDivisor distinct rows (compared bit for bit), else nullptr. Each attempt stops
// as soon as a block has too many distinct rows, so data with distinct rows costs a small part
// of a pass per attempt.
constexpr Index kTableRowsDivisor = 8;
constexpr Index kTableMinRows = 64;
inline std::shared_ptr<const BlockTables> block_tables(const ConstRowMap& X) {
  const Index n = X.rows(), d = X.cols();
  if (n < kTableMinRows || d < 2) return nullptr;
  const Index max_rows = n / kTableRowsDivisor;
  for (Index B = 1; B <= 4; ++B) {
    if (d % B) continue;
    const Index w = d / B;
    auto bt = std::make_shared<BlockTables>();
    bt->B = B;
    bt->w = w;
    bool ok = true;
    for (Index k = 0; k < B && ok; ++k) {
      std::unordered_map<std::uint64_t, std::vector<Index>> seen;  // row hash -> distinct rows
      std::vector<Index> first;  // sample holding each distinct row
      std::vector<Index> idx(std::size_t(n), 0);
      for (Index r = 0; r < n && ok; ++r) {
        const double* row = X.data() + r * d + k * w;
        std::uint64_t h = 1469598103934665603ull;  // FNV-style over the row's 64-bit words
        for (Index j = 0; j < w; ++j) {
          std::uint64_t bits;
          std::memcpy(&bits, row + j, sizeof bits);
          h = (h ^ (bits ^ (bits >> 29))) * 1099511628211ull;
        }
        auto& cands = seen[h];
        Index id = -1;
        for (Index u : cands)
          if (std::memcmp(X.data() + first[u] * d + k * w, row, std::size_t(w) * sizeof(double)) == 0) { id = u; break; }
        if (id < 0) {
          id = Index(first.size());
          first.push_back(r);
          cands.push_back(id);
          if (Index(first.size()) > max_rows) ok = false;
        }
        idx[std::size_t(r)] = id;
      }
      if (!ok) break;
      RowMat T(Index(first.size()), w);
      for (Index u = 0; u < T.rows(); ++u) T.row(u) = X.block(first[u], k * w, 1, w);
      bt->T.push_back(std::move(T));
      bt->idx.push_back(std::move(idx));
    }
    if (ok) return bt;
  }
  return nullptr;
}

}  // namespace agf
