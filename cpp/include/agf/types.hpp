// Common Eigen types of the agf core. numpy arrays are row-major; binding row-major matrices
// lets pybind11 map them without copies.
#pragma once
#include <Eigen/Dense>
#include <cstdint>
#include <stdexcept>
#include <string>

namespace agf {

using RowMat = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using Vec = Eigen::VectorXd;
using RowMap = Eigen::Map<RowMat>;
using ConstRowMap = Eigen::Map<const RowMat>;
using VecMap = Eigen::Map<Vec>;
using ConstVecMap = Eigen::Map<const Vec>;
using Index = Eigen::Index;

// Input that the core cannot use (shapes, values). Bound to agf.ConfigError / DataError.
struct ConfigError : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};

}  // namespace agf
