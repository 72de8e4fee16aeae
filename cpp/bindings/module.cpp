// The private extension module agf._core; agf/__init__.py re-exports the public names.
#include <pybind11/pybind11.h>
#include "agf/parallel.hpp"
#include "registry.hpp"

#define AGF_STRINGIFY(x) #x
#define AGF_MACRO_STRINGIFY(x) AGF_STRINGIFY(x)

#ifndef AGF_MODULE_NAME
#define AGF_MODULE_NAME _core_generic
#endif

PYBIND11_MODULE(AGF_MODULE_NAME, m) {
  m.doc() = "agf C++ core: kernels, gradient flow and gradient descent";
#ifdef AGF_VERSION_INFO
  m.attr("__version__") = AGF_MACRO_STRINGIFY(AGF_VERSION_INFO);
#else
  m.attr("__version__") = "dev";
#endif
  m.attr("has_openmp") = agf::has_openmp();
#ifdef AGF_ISA_AVX2
  m.attr("isa") = "avx2";
#else
  m.attr("isa") = "generic";
#endif
  m.def("cpu_supports_avx2_fma", []() {
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
    __builtin_cpu_init();
    return bool(__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"));
#else
    return false;
#endif
  }, "Whether this CPU can run the AVX2/FMA variant of the core.");
  m.def("max_threads", &agf::max_threads, "Processors visible to OpenMP (1 without OpenMP).");
  agf_py::register_errors(m);
  agf_py::register_models(m);
  agf_py::register_attention(m);
  agf_py::register_hessian(m);
  agf_py::register_flows(m);
  agf_py::register_agf_engine(m);
}
