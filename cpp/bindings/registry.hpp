// Each binding file registers its part of the _core module.
#pragma once
#include <pybind11/pybind11.h>

namespace agf_py {
void register_errors(pybind11::module_& m);
void register_models(pybind11::module_& m);
void register_flows(pybind11::module_& m);
void register_hessian(pybind11::module_& m);
void register_agf_engine(pybind11::module_& m);
void register_attention(pybind11::module_& m);
}  // namespace agf_py
