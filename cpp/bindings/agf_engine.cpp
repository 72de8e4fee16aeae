// Bindings of the AGF engine phases: the dormant (utility-maximization) phase and cost
// minimization. The orchestration lives in python/agf/run_agf.py.
#include <limits>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>
#include "agf/cost_min.hpp"
#include "agf/utility_max.hpp"
#include "convert.hpp"
#include "registry.hpp"

namespace agf_py {

void register_agf_engine(py::module_& m) {
  m.def(
      "agf_dormant",
      [](const agf::Model& model, const Array& X, const Array& R, double t0, const Array& theta,
         const Array& S, const Array& c, const Array& rho0, std::vector<int> mode, double rtol, double atol,
         double event_rtol, double t_end, long max_steps, double utol, double gtol, int threads, double h_min) {
        agf::Data data = make_data(X, R);
        const agf::Index P = model.n_params(), H = model.n_neurons();
        if (long(mode.size()) != H) throw agf::ConfigError("mode has the wrong length");
        agf::Vec th = to_vec(theta, P, "theta"), s0 = to_vec(S, H, "S"), cc = to_vec(c, H, "c"),
                 r0 = to_vec(rho0, H, "rho0");
        agf::RowMat Rm = agf::ConstRowMap(R.data(), R.shape(0), R.shape(1));
        agf::DormantOptions opt;
        opt.rtol = rtol; opt.atol = atol; opt.event_rtol = event_rtol; opt.t_end = t_end;
        opt.max_steps = max_steps; opt.utol = utol; opt.gtol = gtol; opt.threads = std::max(1, threads);
        opt.h_min = h_min;
        agf::DormantResult r;
        {
          py::gil_scoped_release release;
          r = agf::run_dormant(model, data, Rm, t0, th, s0, cc, r0, mode, opt);
        }
        py::dict out;
        out["status"] = int(r.status);
        out["t"] = r.t;
        out["neurons"] = r.neurons;
        out["theta"] = vec_array(r.theta.data(), r.theta.size());
        out["S"] = vec_array(r.S.data(), r.S.size());
        out["U"] = vec_array(r.U.data(), r.U.size());
        out["mode"] = r.mode;
        out["release_t"] = r.release_t;
        out["release_i"] = r.release_i;
        out["n_steps"] = r.n_steps;
        out["n_rejected"] = r.n_rejected;
        out["n_rhs"] = r.n_rhs;
        return out;
      },
      py::arg("model"), py::arg("X").noconvert(), py::arg("R").noconvert(), py::arg("t0"),
      py::arg("theta").noconvert(), py::arg("S").noconvert(), py::arg("c").noconvert(),
      py::arg("rho0").noconvert(), py::arg("mode"), py::arg("rtol"), py::arg("atol"), py::arg("event_rtol"),
      py::arg("t_end"), py::arg("max_steps"), py::arg("utol"), py::arg("gtol"), py::arg("threads") = 1, py::arg("h_min") = 0.0,
      "AGF dormant phase against a fixed residual R; stops at the first activation (event).");
  m.def(
      "agf_cost_min",
      [](const agf::Model& model, const Array& X, const Array& Y, const Array& theta, std::vector<int> active,
         double rtol, double gtol, double loss_tol, double deact_frac, double t_max, long max_steps, int threads,
         const std::string& method, double ftol, double stag_below, double polish) {
        agf::Data data = make_data(X, Y);
        const agf::Index P = model.n_params(), H = model.n_neurons();
        if (long(active.size()) != H) throw agf::ConfigError("active has the wrong length");
        agf::Vec th = to_vec(theta, P, "theta");
        agf::CostMinOptions opt;
        opt.rtol = rtol; opt.gtol = gtol; opt.loss_tol = loss_tol; opt.deact_frac = deact_frac;
        opt.t_max = t_max; opt.max_steps = max_steps; opt.threads = std::max(1, threads);
        opt.method = method;
        opt.ftol = ftol;
        opt.stag_below = stag_below;
        opt.polish = polish;
        agf::CostMinResult r;
        {
          py::gil_scoped_release release;
          r = agf::run_cost_min(model, data, th, active, opt);
        }
        py::dict out;
        out["status"] = int(r.status);
        out["theta"] = vec_array(r.theta.data(), r.theta.size());
        out["loss"] = r.loss;
        out["grad_norm"] = r.grad_norm;
        out["t_spent"] = r.t_spent;
        out["deactivated"] = r.deactivated;
        out["stagnated"] = r.stagnated;
        out["polished"] = r.polished;
        out["n_steps"] = r.n_steps;
        out["n_rhs"] = r.n_rhs;
        return out;
      },
      py::arg("model"), py::arg("X").noconvert(), py::arg("Y").noconvert(), py::arg("theta").noconvert(),
      py::arg("active"), py::arg("rtol"), py::arg("gtol"), py::arg("loss_tol"), py::arg("deact_frac"),
      py::arg("t_max"), py::arg("max_steps"), py::arg("threads") = 1, py::arg("method") = "auto", py::arg("ftol") = 0.0,
      py::arg("stag_below") = std::numeric_limits<double>::infinity(), py::arg("polish") = 0.0,
      "AGF cost minimization: gradient flow of the active neurons until convergence or deactivation.");
}

}  // namespace agf_py
