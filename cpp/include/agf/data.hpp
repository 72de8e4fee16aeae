// The training data of a run: X and Y as row-major maps of the caller's arrays, with X's
// structured forms (input_structure.hpp) detected once when the data are built.
#pragma once
#include <memory>
#include "agf/input_structure.hpp"
#include "agf/types.hpp"

namespace agf {

// The training data of a run, owned by the caller (numpy arrays kept alive by the binding).
// Xt and Xs are X's block-table and sparse forms when X has that structure (input_structure.hpp);
// the two-layer kernels use them.
struct Data {
  ConstRowMap X;  // (n, d)
  ConstRowMap Y;  // (n, c)
  std::shared_ptr<const BlockTables> Xt;
  std::shared_ptr<const SparseRows> Xs;
  Data(const double* x, Index n, Index d, const double* y, Index c)
      : X(x, n, d), Y(y, n, c), Xt(block_tables(X)), Xs(Xt ? nullptr : sparse_rows(X)) {}
  Index n() const { return X.rows(); }
  Index d() const { return X.cols(); }
  Index c() const { return Y.cols(); }
};

}  // namespace agf
