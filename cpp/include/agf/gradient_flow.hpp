// Gradient flow of the canonical loss in canonical time: the driver that runs a stepper, saves
// the state at requested times (dense output), locates events and reports statistics.
#pragma once
#include <algorithm>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>
#include "agf/dopri5.hpp"
#include "agf/rosenbrock.hpp"
#include "agf/events.hpp"

namespace agf {

enum class FlowStatus { Success = 0, EventStop = 1, MaxSteps = 2, StepUnderflow = 3, NonFinite = 4, Interrupted = 5 };

// Called from the calling thread only, about every `progress_seconds`; returning false stops the run.
using ProgressFn = std::function<bool(double t, long steps)>;

struct FlowOptions {
  double t_max = 1.0;
  std::vector<double> save_at;  // sorted, in [0, t_max]
  bool save_steps = false;      // also save at every accepted step
  bool save_params = false;
  std::string method = "explicit";
  StepperOptions stepper;
  long max_steps = 10000000;
  std::vector<EventSpec> events;
  int kernel_threads = 1;
  ProgressFn progress;
  double progress_seconds = 0.25;
};

struct FlowResult {
  std::vector<double> t, loss, norms, params;  // norms (n_saved, H), params (n_saved, P) row-major
  std::vector<EventRecord> events;
  long n_steps = 0, n_rejected = 0, n_rhs = 0, n_forced = 0;
  FlowStatus status = FlowStatus::Success;
  std::string message;
  Vec y_final;
  double t_final = 0.0;
  Index n_neurons = 0, n_params = 0;
  std::vector<std::pair<std::string, double>> stiff;  // stiff_stats(): Hessians, factorizations, steps per method
};

inline std::unique_ptr<Stepper> make_stepper(const std::string& method, GradientSystem& sys,
                                             const StepperOptions& opt) {
  if (method == "explicit" || method == "dopri5") return std::make_unique<Dopri5>(sys, opt);
  if (method == "implicit" || method == "rodas4") return std::make_unique<Rodas4>(sys, opt);
  if (method == "rosw" || method == "ros34pw2") return std::make_unique<RosW>(sys, opt);
  if (method == "auto") return std::make_unique<AutoStepper>(sys, opt);
  throw ConfigError("unknown integration method '" + method + "' (available: 'explicit', 'implicit', 'auto', 'rosw')");
}

class FlowRecorder {
 public:
  FlowRecorder(GradientSystem& sys, const FlowOptions& opt, FlowResult& res) : sys_(sys), opt_(opt), res_(res) {
    res_.n_neurons = sys.model().n_neurons();
    res_.n_params = sys.model().n_params();
    norms_.resize(res_.n_neurons);
  }
  void record(double t, const Vec& y, double loss) {
    if (!res_.t.empty() && t <= res_.t.back()) return;  // each time once, increasing
    if (std::isnan(loss)) loss = sys_.loss(y);
    res_.t.push_back(t);
    res_.loss.push_back(loss);
    sys_.model().neuron_norms(y.data(), norms_.data());
    res_.norms.insert(res_.norms.end(), norms_.begin(), norms_.end());
    if (opt_.save_params) res_.params.insert(res_.params.end(), y.data(), y.data() + y.size());
  }

 private:
  GradientSystem& sys_;
  const FlowOptions& opt_;
  FlowResult& res_;
  std::vector<double> norms_;
};

inline FlowResult gradient_flow(const Model& model, const Data& data, const Vec& y0, const FlowOptions& opt) {
  model.check_data(data);
  if (y0.size() != model.n_params()) throw ConfigError("initial parameters have the wrong length");
  if (!(opt.t_max > 0)) throw ConfigError("t_max must be positive");
  GradientSystem sys(model, data, opt.kernel_threads);
  auto stepper = make_stepper(opt.method, sys, opt.stepper);
  FlowResult res;
  FlowRecorder rec(sys, opt, res);
  const double nan = std::numeric_limits<double>::quiet_NaN();

  stepper->init(0.0, y0);
  size_t si = 0;
  while (si < opt.save_at.size() && opt.save_at[si] <= 0.0) { rec.record(0.0, y0, stepper->loss()); ++si; }
  if (opt.save_steps) rec.record(0.0, y0, stepper->loss());

  const size_t n_ev = opt.events.size();
  std::vector<double> g_prev(n_ev), g_new(n_ev);
  for (size_t k = 0; k < n_ev; ++k) g_prev[k] = event_value(opt.events[k], sys, y0, stepper->loss());

  auto clock = std::chrono::steady_clock::now();
  Vec ytmp(y0.size());
  struct Hit { double t; size_t k; int dir; };
  std::vector<Hit> hits;

  while (stepper->t() < opt.t_max) {
    if (res.n_steps >= opt.max_steps) {
      res.status = FlowStatus::MaxSteps;
      res.message = "reached max_steps=" + std::to_string(opt.max_steps) + " at t=" + std::to_string(stepper->t());
      break;
    }
    const StepStatus st = stepper->step(opt.t_max);
    if (st != StepStatus::Ok) {
      res.status = st == StepStatus::NonFinite ? FlowStatus::NonFinite : FlowStatus::StepUnderflow;
      res.message = (st == StepStatus::NonFinite ? "the flow diverged (non-finite loss or parameters) near t="
                                                 : "step size underflow near t=") + std::to_string(stepper->t());
      break;
    }
    ++res.n_steps;
    const double t0 = stepper->t_prev(), t1 = stepper->t();

    // Events in this step, earliest first; a terminal one ends the run at its time.
    hits.clear();
    for (size_t k = 0; k < n_ev; ++k) {
      g_new[k] = event_value(opt.events[k], sys, stepper->y(), stepper->loss());
      const int dir = crossing(opt.events[k], g_prev[k], g_new[k]);
      if (dir == 0) continue;
      const EventSpec& e = opt.events[k];
      auto g = [&](double t) { stepper->dense(t, ytmp); return event_value(e, sys, ytmp, nan); };
      hits.push_back({locate_root(g, t0, t1, g_prev[k], g_new[k]), k, dir});
    }
    std::sort(hits.begin(), hits.end(), [](const Hit& a, const Hit& b) { return a.t < b.t || (a.t == b.t && a.k < b.k); });
    double t_stop = HUGE_VAL;
    for (const Hit& h : hits) {
      if (h.t > t_stop) break;
      stepper->dense(h.t, ytmp);
      res.events.push_back({int(h.k), h.t, sys.loss(ytmp), h.dir});
      if (opt.events[h.k].terminal) t_stop = std::min(t_stop, h.t);
    }
    const double t_end = std::min(t1, t_stop);

    // Saves in (t0, t_end].
    while (si < opt.save_at.size() && opt.save_at[si] <= t_end) {
      const double ts = opt.save_at[si++];
      if (ts <= t0) continue;
      if (ts == t1) rec.record(t1, stepper->y(), stepper->loss());
      else { stepper->dense(ts, ytmp); rec.record(ts, ytmp, nan); }
    }
    if (t_stop < HUGE_VAL) {
      stepper->dense(t_stop, ytmp);
      rec.record(t_stop, ytmp, nan);
      res.status = FlowStatus::EventStop;
      res.y_final = ytmp;
      res.t_final = t_stop;
      break;
    }
    if (opt.save_steps) rec.record(t1, stepper->y(), stepper->loss());
    g_prev.swap(g_new);

    if (opt.progress) {
      auto now = std::chrono::steady_clock::now();
      if (std::chrono::duration<double>(now - clock).count() >= opt.progress_seconds) {
        clock = now;
        if (!opt.progress(t1, res.n_steps)) {
          res.status = FlowStatus::Interrupted;
          res.message = "interrupted at t=" + std::to_string(t1);
          break;
        }
      }
    }
  }
  if (res.status != FlowStatus::EventStop) {
    res.y_final = stepper->y();
    res.t_final = stepper->t();
  }
  res.n_rejected = stepper->n_rejected;
  res.n_forced = stepper->n_forced;
  res.n_rhs = sys.n_rhs;
  res.stiff = stiff_stats(*stepper);
  return res;
}

}  // namespace agf
