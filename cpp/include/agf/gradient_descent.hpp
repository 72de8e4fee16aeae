// Full-batch gradient descent with the exact update rule of torch.optim.SGD (momentum,
// dampening, Nesterov, weight decay), on the loss s * L (s = loss_scale, L canonical):
//   g = s dL + wd * theta
//   buf = g (first step) or momentum * buf + (1 - dampening) * g
//   g = g + momentum * buf (Nesterov) or buf
//   theta -= lr * g
#pragma once
#include <chrono>
#include <cmath>
#include <functional>
#include <vector>
#include "agf/model.hpp"
#include "agf/gradient_flow.hpp"

namespace agf {

struct DescentOptions {
  double lr = 0.01, momentum = 0.0, dampening = 0.0, weight_decay = 0.0, loss_scale = 1.0;
  bool nesterov = false;
  long steps = 0;
  long save_every = 1;
  bool save_params = false;
  int kernel_threads = 1;
  ProgressFn progress;
  double progress_seconds = 0.25;
};

struct DescentResult {
  std::vector<long> step;
  std::vector<double> loss, norms, params;  // canonical loss before the update at `step`
  FlowStatus status = FlowStatus::Success;
  std::string message;
  Vec y_final;
  long steps_done = 0;
  Index n_neurons = 0, n_params = 0;
};

inline DescentResult gradient_descent(const Model& model, const Data& data, const Vec& y0, const DescentOptions& opt) {
  model.check_data(data);
  if (y0.size() != model.n_params()) throw ConfigError("initial parameters have the wrong length");
  Scratch s;
  s.threads = std::max(1, opt.kernel_threads);
  const Index P = model.n_params(), H = model.n_neurons();
  DescentResult res;
  res.n_neurons = H;
  res.n_params = P;
  Vec theta = y0, g(P), buf(P);
  std::vector<double> nrm(H);
  auto record = [&](long k, double loss) {
    res.step.push_back(k);
    res.loss.push_back(loss);
    model.neuron_norms(theta.data(), nrm.data());
    res.norms.insert(res.norms.end(), nrm.begin(), nrm.end());
    if (opt.save_params) res.params.insert(res.params.end(), theta.data(), theta.data() + P);
  };
  auto clock = std::chrono::steady_clock::now();
  long k = 0;
  for (; k < opt.steps; ++k) {
    const double loss = model.loss_grad(data, theta.data(), g.data(), s);
    if (!std::isfinite(loss) || !g.allFinite()) {
      res.status = FlowStatus::NonFinite;
      res.message = "gradient descent diverged (non-finite loss) at step " + std::to_string(k);
      break;
    }
    if (k % opt.save_every == 0) record(k, loss);
    g *= opt.loss_scale;
    if (opt.weight_decay != 0.0) g.noalias() += opt.weight_decay * theta;
    if (opt.momentum != 0.0) {
      if (k == 0) buf = g;
      else buf = opt.momentum * buf + (1.0 - opt.dampening) * g;
      if (opt.nesterov) g.noalias() += opt.momentum * buf;
      else g = buf;
    }
    theta.noalias() -= opt.lr * g;
    if (opt.progress) {
      auto now = std::chrono::steady_clock::now();
      if (std::chrono::duration<double>(now - clock).count() >= opt.progress_seconds) {
        clock = now;
        if (!opt.progress(double(k), k)) {
          res.status = FlowStatus::Interrupted;
          res.message = "interrupted at step " + std::to_string(k);
          ++k;
          break;
        }
      }
    }
  }
  if (res.status == FlowStatus::Success) {
    const double loss = model.loss_grad(data, theta.data(), nullptr, s);
    if (!std::isfinite(loss) || !theta.allFinite()) {
      res.status = FlowStatus::NonFinite;
      res.message = "gradient descent diverged (non-finite loss) at step " + std::to_string(k);
    } else if (res.step.empty() || res.step.back() != k) {
      record(k, loss);
    }
  }
  res.steps_done = k;
  res.y_final = theta;
  return res;
}

}  // namespace agf
