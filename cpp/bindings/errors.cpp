// Translates core exceptions into agf's Python exception hierarchy (agf.errors).
#include <pybind11/pybind11.h>
#include "agf/types.hpp"
#include "registry.hpp"

namespace agf_py {
namespace py = pybind11;

void register_errors(py::module_& m) {
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const agf::ConfigError& e) {
      py::object cls = py::module_::import("agf.errors").attr("ConfigError");
      PyErr_SetString(cls.ptr(), e.what());
    }
  });
}
}  // namespace agf_py
