// Scalar activations sigma(z) of the two-layer family, with first and second derivatives.
#pragma once
#include <cmath>
#include <string>
#include "agf/types.hpp"

namespace agf {

enum class ActivationKind { Linear, ReLU, Square, Monomial, Tanh, GELU };

struct Activation {
  ActivationKind kind = ActivationKind::Linear;
  int k = 1;  // degree of the monomial z^k (Monomial only)

  static Activation from_name(const std::string& name, int degree) {
    Activation a;
    if (name == "linear") { a.kind = ActivationKind::Linear; a.k = 1; }
    else if (name == "relu") { a.kind = ActivationKind::ReLU; a.k = 1; }
    else if (name == "square") { a.kind = ActivationKind::Square; a.k = 2; }
    else if (name == "monomial") {
      if (degree < 1) throw ConfigError("monomial activation needs degree k >= 1, got " + std::to_string(degree));
      a.kind = ActivationKind::Monomial; a.k = degree;
    }
    else if (name == "tanh") { a.kind = ActivationKind::Tanh; a.k = 1; }
    else if (name == "gelu") { a.kind = ActivationKind::GELU; a.k = 1; }
    else throw ConfigError("unknown activation '" + name + "'");
    return a;
  }

  // Degree of homogeneity of sigma (for tanh and gelu: of their small-argument behaviour).
  int degree() const { return k; }
  bool homogeneous() const { return kind != ActivationKind::Tanh && kind != ActivationKind::GELU; }

  double value(double z) const {
    switch (kind) {
      case ActivationKind::Linear: return z;
      case ActivationKind::ReLU: return z > 0 ? z : 0.0;
      case ActivationKind::Square: return z * z;
      case ActivationKind::Monomial: return ipow(z, k);
      case ActivationKind::Tanh: return std::tanh(z);
      case ActivationKind::GELU: return 0.5 * z * (1.0 + std::erf(z * M_SQRT1_2));
    }
    return 0.0;
  }
  double deriv(double z) const {
    switch (kind) {
      case ActivationKind::Linear: return 1.0;
      case ActivationKind::ReLU: return z > 0 ? 1.0 : 0.0;
      case ActivationKind::Square: return 2.0 * z;
      case ActivationKind::Monomial: return k * ipow(z, k - 1);
      case ActivationKind::Tanh: { double t = std::tanh(z); return 1.0 - t * t; }
      case ActivationKind::GELU:
        return 0.5 * (1.0 + std::erf(z * M_SQRT1_2)) + z * std::exp(-0.5 * z * z) * kInvSqrt2Pi;
    }
    return 0.0;
  }
  double deriv2(double z) const {
    switch (kind) {
      case ActivationKind::Linear: return 0.0;
      case ActivationKind::ReLU: return 0.0;
      case ActivationKind::Square: return 2.0;
      case ActivationKind::Monomial: return k >= 2 ? double(k) * (k - 1) * ipow(z, k - 2) : 0.0;
      case ActivationKind::Tanh: { double t = std::tanh(z); return -2.0 * t * (1.0 - t * t); }
      case ActivationKind::GELU: return std::exp(-0.5 * z * z) * kInvSqrt2Pi * (2.0 - z * z);
    }
    return 0.0;
  }

 private:
  static constexpr double kInvSqrt2Pi = 0.39894228040143267794;
  static double ipow(double z, int p) {
    double r = 1.0;
    for (int i = 0; i < p; ++i) r *= z;
    return r;
  }
};

}  // namespace agf
