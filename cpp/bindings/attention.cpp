// Binding of the linear-attention family (method section 5c): _core.AttentionCore(D, heads).
#include <pybind11/pybind11.h>
#include "agf/attention.hpp"
#include "convert.hpp"
#include "registry.hpp"

namespace agf_py {

void register_attention(py::module_& m) {
  py::class_<agf::Attention, agf::Model, std::shared_ptr<agf::Attention>>(m, "AttentionCore")
      .def(py::init<agf::Index, agf::Index>(), py::arg("D"), py::arg("heads"))
      .def_property_readonly("D", &agf::Attention::D);
}
}  // namespace agf_py
