// The private extension module agf._core; agf/__init__.py re-exports the public names.
#include <pybind11/pybind11.h>
#include "agf/parallel.hpp"
#include "registry.hpp"

#define AGF_STRINGIFY(x) #x
#define AGF_MACRO_STRINGIFY(x) AGF_STRINGIFY(x)

PYBIND11_MODULE(_core, m) {
  m.doc() = "agf C++ core: kernels, gradient flow and gradient descent";
#ifdef AGF_VERSION_INFO
  m.attr("__version__") = AGF_MACRO_STRINGIFY(AGF_VERSION_INFO);
#else
  m.attr("__version__") = "dev";
#endif
  m.attr("has_openmp") = agf::has_openmp();
  m.def("max_threads", &agf::max_threads, "Processors visible to OpenMP (1 without OpenMP).");
  agf_py::register_errors(m);
  agf_py::register_models(m);
  agf_py::register_hessian(m);
  agf_py::register_flows(m);
  agf_py::register_agf_engine(m);
}
