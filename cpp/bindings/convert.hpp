// Conversions between numpy arrays and the core's Eigen types, shared by the binding files.
#pragma once
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <vector>
#include "agf/model.hpp"

namespace agf_py {
namespace py = pybind11;
using Array = py::array_t<double, py::array::c_style>;

inline agf::Data make_data(const Array& X, const Array& Y) {
  if (X.ndim() != 2 || Y.ndim() != 2) throw agf::ConfigError("X and Y must be 2-D arrays");
  if (X.shape(0) != Y.shape(0)) throw agf::ConfigError("X and Y have different numbers of samples");
  return agf::Data(X.data(), X.shape(0), X.shape(1), Y.data(), Y.shape(1));
}

inline agf::Vec to_vec(const Array& a, agf::Index expected, const char* what) {
  if (a.size() != expected)
    throw agf::ConfigError(std::string(what) + " has " + std::to_string(a.size()) + " entries, expected " +
                           std::to_string(expected));
  return agf::ConstVecMap(a.data(), a.size());
}

inline Array vec_array(const double* p, py::ssize_t n) {
  Array out(n);
  std::copy(p, p + n, out.mutable_data());
  return out;
}

inline Array mat_array(const std::vector<double>& v, py::ssize_t cols) {
  const py::ssize_t rows = cols > 0 ? py::ssize_t(v.size()) / cols : 0;
  Array out({rows, cols});
  std::copy(v.begin(), v.end(), out.mutable_data());
  return out;
}

inline Array rowmat_array(const agf::RowMat& m) {
  Array out({py::ssize_t(m.rows()), py::ssize_t(m.cols())});
  std::copy(m.data(), m.data() + m.size(), out.mutable_data());
  return out;
}
}  // namespace agf_py
