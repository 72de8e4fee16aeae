// The interface every neuron family implements. A model is a sum of H neurons; its parameters
// are one flat vector theta made of named per-neuron blocks (each block row-major, neuron i in
// row i). All losses are the canonical loss L = (1/2n) sum_n ||y_n - f(x_n)||^2.
#pragma once
#include <memory>
#include <string>
#include <vector>
#include "agf/data.hpp"
#include "agf/types.hpp"

namespace agf {

// Reusable buffers of one thread's kernel calls (no allocation in the hot loop once sized).
// Partial sums and work buffers of one chunk of samples (two_layer.hpp).
struct ChunkBuffers {
  RowMat Z, S, Sp, F, R, RA, G, gW, gA;
  Vec U;
  double loss = 0.0;
};

struct Scratch {
  RowMat Z, S, Sp, F, R, RA, G;
  std::vector<ChunkBuffers> chunks;
  Vec v1, v2;
  std::vector<Vec> hess;  // Hessian work buffers kept between calls (two_layer_hessian.hpp)
  int threads = 1;  // threads a single kernel call may use (deterministic chunking)
};

class Model {
 public:
  virtual ~Model() = default;
  virtual std::string name() const = 0;
  virtual Index n_params() const = 0;
  virtual Index n_neurons() const = 0;
  virtual Index d_in() const = 0;
  virtual Index d_out() const = 0;
  // Degree of homogeneity kappa of one neuron in its own parameters.
  virtual int kappa() const = 0;
  virtual bool homogeneous() const = 0;
  // Neuron that owns parameter p (used by the per-neuron relative error norm).
  virtual Index neuron_of(Index p) const = 0;

  // Network output F (n, c).
  virtual void forward(const Data& data, const double* theta, RowMat& F, Scratch& s) const = 0;

  // Canonical loss; if grad != nullptr, also its gradient dL/dtheta (length n_params).
  virtual double loss_grad(const Data& data, const double* theta, double* grad, Scratch& s) const = 0;

  // Utilities U_i = E_n <f_i(x_n; theta_i), r_n> of every neuron against the residual R (n, c),
  // and their gradients dU_i/dtheta_i laid out like theta. No neuron couples to another.
  virtual void utilities(const Data& data, const double* theta, const RowMat& R, double* U,
                         double* gradU, Scratch& s) const = 0;

  // Dense Hessian d2L/dtheta2 of the canonical loss, written to Hm (resized to n_params^2).
  // Families without an exact Hessian keep this default.
  virtual void hessian(const Data& data, const double* theta, RowMat& Hm, Scratch& s) const {
    (void)data; (void)theta; (void)Hm; (void)s;
    throw ConfigError(name() + ": hessian not implemented");
  }
  // Hessian-vector product out = (d2L/dtheta2) v, without forming the Hessian.
  virtual void hvp(const Data& data, const double* theta, const double* v, double* out, Scratch& s) const {
    (void)data; (void)theta; (void)v; (void)out; (void)s;
    throw ConfigError(name() + ": hvp not implemented");
  }

  // The same family with k neurons, whose flat parameters are those of any k of this model's
  // neurons gathered in increasing parameter order (so a subset of neurons is simulated on a
  // smaller model: AGF's cost minimization on the active set). nullptr if the family cannot.
  virtual std::unique_ptr<Model> subset(Index k) const {
    (void)k;
    return nullptr;
  }

  // Euclidean norm of each neuron's parameters.
  void neuron_norms(const double* theta, double* out) const {
    const Index H = n_neurons();
    for (Index i = 0; i < H; ++i) out[i] = 0.0;
    for (Index p = 0; p < n_params(); ++p) out[neuron_of(p)] += theta[p] * theta[p];
    for (Index i = 0; i < H; ++i) out[i] = std::sqrt(out[i]);
  }

  void check_data(const Data& data) const {
    if (data.d() != d_in())
      throw ConfigError("data has " + std::to_string(data.d()) + " input features, model expects " +
                        std::to_string(d_in()));
    if (data.c() != d_out())
      throw ConfigError("data has " + std::to_string(data.c()) + " outputs, model expects " +
                        std::to_string(d_out()));
    if (data.n() < 1) throw ConfigError("data has no samples");
  }
};

}  // namespace agf
