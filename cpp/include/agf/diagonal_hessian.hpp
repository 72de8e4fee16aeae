// Exact Hessian of the canonical loss for the diagonal linear family. With beta = u . v,
// G = X^T X / n and g = X^T r / n (r = y - X beta):
//   d2L/du du = diag(v) G diag(v),  d2L/dv dv = diag(u) G diag(u),
//   d2L/du dv = diag(v) G diag(u) - diag(g).
// Included at the end of diagonal.hpp.
#pragma once
#include "agf/diagonal.hpp"

namespace agf {

inline void Diagonal::hessian(const Data& data, const double* theta, RowMat& Hm, Scratch& s) const {
  check_data(data);
  const Index d = d_;
  ConstVecMap u(theta, d), v(theta + d, d);
  forward(data, theta, s.F, s);
  s.R = data.Y - s.F;
  const double inv_n = 1.0 / double(data.n());
  const Vec g = inv_n * (data.X.transpose() * s.R.col(0));
  const RowMat G = inv_n * (data.X.transpose() * data.X);
  Hm.resize(2 * d, 2 * d);
  Hm.topLeftCorner(d, d) = v.asDiagonal() * G * v.asDiagonal();
  Hm.bottomRightCorner(d, d) = u.asDiagonal() * G * u.asDiagonal();
  RowMat uv = v.asDiagonal() * G * u.asDiagonal();
  uv.diagonal() -= g;
  Hm.topRightCorner(d, d) = uv;
  Hm.bottomLeftCorner(d, d) = uv.transpose();
}

inline void Diagonal::hvp(const Data& data, const double* theta, const double* vec, double* out, Scratch& s) const {
  check_data(data);
  const Index d = d_;
  ConstVecMap u(theta, d), v(theta + d, d), du(vec, d), dv(vec + d, d);
  forward(data, theta, s.F, s);
  s.R = data.Y - s.F;
  const double inv_n = 1.0 / double(data.n());
  const Vec g = inv_n * (data.X.transpose() * s.R.col(0));
  const Vec db = du.cwiseProduct(v) + u.cwiseProduct(dv);
  const Vec Gdb = inv_n * (data.X.transpose() * (data.X * db));
  VecMap(out, d) = v.cwiseProduct(Gdb) - g.cwiseProduct(dv);
  VecMap(out + d, d) = u.cwiseProduct(Gdb) - g.cwiseProduct(du);
}

}  // namespace agf
