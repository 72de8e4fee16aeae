// Bindings of the exact Hessian and Hessian-vector products: methods added to _core.Model.
#include <pybind11/pybind11.h>
#include "agf/model.hpp"
#include "convert.hpp"
#include "registry.hpp"

namespace agf_py {

void register_hessian(py::module_& m) {
  using agf::Model;
  auto cls = py::reinterpret_borrow<py::class_<Model, std::shared_ptr<Model>>>(m.attr("Model"));
  cls.def(
      "hessian",
      [](const Model& self, const Array& X, const Array& Y, const Array& theta) {
        agf::Data data = make_data(X, Y);
        self.check_data(data);
        agf::Vec th = to_vec(theta, self.n_params(), "theta");
        agf::RowMat Hm;
        agf::Scratch s;
        {
          py::gil_scoped_release release;
          self.hessian(data, th.data(), Hm, s);
        }
        return rowmat_array(Hm);
      },
      py::arg("X").noconvert(), py::arg("Y").noconvert(), py::arg("theta").noconvert(),
      "Dense Hessian of the canonical loss, shape (P, P).");
  cls.def(
      "hvp",
      [](const Model& self, const Array& X, const Array& Y, const Array& theta, const Array& v) {
        agf::Data data = make_data(X, Y);
        self.check_data(data);
        agf::Vec th = to_vec(theta, self.n_params(), "theta");
        agf::Vec vv = to_vec(v, self.n_params(), "v");
        agf::Vec out(self.n_params());
        agf::Scratch s;
        {
          py::gil_scoped_release release;
          self.hvp(data, th.data(), vv.data(), out.data(), s);
        }
        return vec_array(out.data(), out.size());
      },
      py::arg("X").noconvert(), py::arg("Y").noconvert(), py::arg("theta").noconvert(), py::arg("v").noconvert(),
      "Hessian-vector product of the canonical loss, shape (P,).");
}
}  // namespace agf_py
