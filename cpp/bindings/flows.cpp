// Bindings of gradient flow and gradient descent. Each call runs one initial condition with the
// GIL released; agf.gradient_flow runs batches of initial conditions in parallel Python threads.
#include <pybind11/functional.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>
#include "agf/gradient_descent.hpp"
#include "agf/gradient_flow.hpp"
#include "convert.hpp"
#include "registry.hpp"

namespace agf_py {

namespace {

// Wraps a Python progress callable(t, steps) -> bool so the GIL-free core can call it.
agf::ProgressFn wrap_progress(const py::object& cb, bool& interrupted) {
  if (cb.is_none()) return {};
  return [cb, &interrupted](double t, long steps) -> bool {
    py::gil_scoped_acquire acquire;
    if (PyErr_CheckSignals() != 0) {  // Ctrl-C in the main thread
      PyErr_Clear();
      interrupted = true;
      return false;
    }
    try {
      return cb(t, steps).cast<bool>();
    } catch (py::error_already_set& e) {
      interrupted = true;
      return false;
    }
  };
}

py::dict event_dict(const std::vector<agf::EventRecord>& ev) {
  std::vector<double> t, loss, idx, dir;
  for (const auto& e : ev) {
    t.push_back(e.t);
    loss.push_back(e.loss);
    idx.push_back(e.index);
    dir.push_back(e.direction);
  }
  py::dict d;
  d["t"] = vec_array(t.data(), t.size());
  d["loss"] = vec_array(loss.data(), loss.size());
  d["index"] = vec_array(idx.data(), idx.size());
  d["direction"] = vec_array(dir.data(), dir.size());
  return d;
}

}  // namespace

void register_flows(py::module_& m) {
  m.def(
      "gradient_flow",
      [](const agf::Model& model, const Array& X, const Array& Y, const Array& theta0, double t_max,
         const Array& save_at, bool save_steps, bool save_params, const std::string& method, double rtol,
         double atol, double h0, double h_max, double h_min, long max_steps, const std::vector<py::tuple>& events,
         int n_threads, const py::object& progress, double progress_seconds, const std::string& linear_solver) {
        agf::Data data = make_data(X, Y);
        agf::Vec y0 = to_vec(theta0, model.n_params(), "initial parameters");
        agf::FlowOptions opt;
        opt.stepper.linear_solver = linear_solver;
        opt.t_max = t_max;
        opt.save_at.assign(save_at.data(), save_at.data() + save_at.size());
        opt.save_steps = save_steps;
        opt.save_params = save_params;
        opt.method = method;
        opt.stepper.rtol = rtol;
        opt.stepper.atol = atol;
        opt.stepper.h0 = h0;
        opt.stepper.h_max = h_max;
        opt.stepper.h_min = h_min;
        opt.max_steps = max_steps;
        opt.kernel_threads = n_threads;
        opt.progress_seconds = progress_seconds;
        for (const auto& e : events) {
          agf::EventSpec s;
          s.kind = static_cast<agf::EventKind>(e[0].cast<int>());
          s.neuron = e[1].cast<agf::Index>();
          s.value = e[2].cast<double>();
          s.direction = e[3].cast<int>();
          s.terminal = e[4].cast<bool>();
          opt.events.push_back(s);
        }
        bool interrupted = false;
        opt.progress = wrap_progress(progress, interrupted);
        agf::FlowResult r;
        {
          py::gil_scoped_release release;
          r = agf::gradient_flow(model, data, y0, opt);
        }
        py::dict out;
        out["t"] = vec_array(r.t.data(), r.t.size());
        out["loss"] = vec_array(r.loss.data(), r.loss.size());
        out["norms"] = mat_array(r.norms, r.n_neurons);
        out["params"] = mat_array(r.params, r.n_params);
        out["events"] = event_dict(r.events);
        out["n_steps"] = r.n_steps;
        out["n_rejected"] = r.n_rejected;
        out["n_rhs"] = r.n_rhs;
        out["n_forced"] = r.n_forced;
        for (const auto& kv : r.stiff) out[py::str(kv.first)] = kv.second;
        out["status"] = static_cast<int>(r.status);
        out["message"] = r.message;
        out["interrupted"] = interrupted;
        out["y_final"] = vec_array(r.y_final.data(), r.y_final.size());
        out["t_final"] = r.t_final;
        return out;
      },
      py::arg("model"), py::arg("X").noconvert(), py::arg("Y").noconvert(), py::arg("theta0").noconvert(),
      py::arg("t_max"), py::arg("save_at").noconvert(), py::arg("save_steps"), py::arg("save_params"),
      py::arg("method"), py::arg("rtol"), py::arg("atol"), py::arg("h0"), py::arg("h_max"), py::arg("h_min"), py::arg("max_steps"),
      py::arg("events"), py::arg("n_threads"), py::arg("progress"), py::arg("progress_seconds") = 0.25,
      py::arg("linear_solver") = "auto");

  m.def(
      "gradient_descent",
      [](const agf::Model& model, const Array& X, const Array& Y, const Array& theta0, double lr, long steps,
         double momentum, double dampening, double weight_decay, bool nesterov, double loss_scale,
         long save_every, bool save_params, int n_threads, const py::object& progress, double progress_seconds) {
        agf::Data data = make_data(X, Y);
        agf::Vec y0 = to_vec(theta0, model.n_params(), "initial parameters");
        agf::DescentOptions opt;
        opt.lr = lr;
        opt.steps = steps;
        opt.momentum = momentum;
        opt.dampening = dampening;
        opt.weight_decay = weight_decay;
        opt.nesterov = nesterov;
        opt.loss_scale = loss_scale;
        opt.save_every = save_every;
        opt.save_params = save_params;
        opt.kernel_threads = n_threads;
        opt.progress_seconds = progress_seconds;
        bool interrupted = false;
        opt.progress = wrap_progress(progress, interrupted);
        agf::DescentResult r;
        {
          py::gil_scoped_release release;
          r = agf::gradient_descent(model, data, y0, opt);
        }
        std::vector<double> steps_d(r.step.begin(), r.step.end());
        py::dict out;
        out["step"] = vec_array(steps_d.data(), steps_d.size());
        out["loss"] = vec_array(r.loss.data(), r.loss.size());
        out["norms"] = mat_array(r.norms, r.n_neurons);
        out["params"] = mat_array(r.params, r.n_params);
        out["status"] = static_cast<int>(r.status);
        out["message"] = r.message;
        out["interrupted"] = interrupted;
        out["y_final"] = vec_array(r.y_final.data(), r.y_final.size());
        out["steps_done"] = r.steps_done;
        return out;
      },
      py::arg("model"), py::arg("X").noconvert(), py::arg("Y").noconvert(), py::arg("theta0").noconvert(),
      py::arg("lr"), py::arg("steps"), py::arg("momentum"), py::arg("dampening"), py::arg("weight_decay"),
      py::arg("nesterov"), py::arg("loss_scale"), py::arg("save_every"), py::arg("save_params"),
      py::arg("n_threads"), py::arg("progress"), py::arg("progress_seconds") = 0.25);
}
}  // namespace agf_py
