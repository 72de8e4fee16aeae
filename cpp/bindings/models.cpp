// Bindings of the neuron families and their kernels. Arguments are float64 C-contiguous numpy
// arrays (noconvert: the Python layer validates and converts, so a wrong dtype is an error here).
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>
#include "agf/diagonal.hpp"
#include "agf/two_layer.hpp"
#include "convert.hpp"
#include "registry.hpp"

namespace agf_py {

void register_models(py::module_& m) {
  using agf::Model;
  m.def(
      "input_structure",
      [](const Array& X) {
        if (X.ndim() != 2) throw agf::ConfigError("X must be a 2-D array");
        agf::Data data(X.data(), X.shape(0), X.shape(1), nullptr, 1);
        py::dict out;
        if (data.Xt) {
          out["kind"] = "tables";
          py::list rows;
          for (const auto& T : data.Xt->T) rows.append(T.rows());
          out["blocks"] = data.Xt->B;
          out["distinct_rows"] = rows;
        } else if (data.Xs) {
          out["kind"] = "sparse";
          out["nnz"] = data.Xs->col.size();
        } else {
          out["kind"] = "dense";
        }
        return out;
      },
      py::arg("X").noconvert(),
      "How the two-layer kernels see X: 'tables' (column blocks with few distinct rows), 'sparse' "
      "(at most 1/8 nonzeros) or 'dense'.");
  py::class_<Model, std::shared_ptr<Model>>(m, "Model")
      .def_property_readonly("name", &Model::name)
      .def_property_readonly("n_params", &Model::n_params)
      .def_property_readonly("n_neurons", &Model::n_neurons)
      .def_property_readonly("d_in", &Model::d_in)
      .def_property_readonly("d_out", &Model::d_out)
      .def_property_readonly("kappa", &Model::kappa)
      .def_property_readonly("homogeneous", &Model::homogeneous)
      .def(
          "forward",
          [](const Model& self, const Array& X, const Array& theta) {
            if (X.ndim() != 2 || X.shape(1) != self.d_in()) throw agf::ConfigError("X has the wrong shape");
            agf::Vec th = to_vec(theta, self.n_params(), "theta");
            agf::Data data(X.data(), X.shape(0), X.shape(1), nullptr, self.d_out());
            agf::RowMat F;
            agf::Scratch s;
            {
              py::gil_scoped_release release;
              self.forward(data, th.data(), F, s);
            }
            return rowmat_array(F);
          },
          py::arg("X").noconvert(), py::arg("theta").noconvert(), "Network output f(X) of shape (n, c).")
      .def(
          "loss_grad",
          [](const Model& self, const Array& X, const Array& Y, const Array& theta, int n_threads) {
            agf::Data data = make_data(X, Y);
            self.check_data(data);
            agf::Vec th = to_vec(theta, self.n_params(), "theta");
            agf::Vec g(self.n_params());
            agf::Scratch s;
            s.threads = std::max(1, n_threads);
            double loss;
            {
              py::gil_scoped_release release;
              loss = self.loss_grad(data, th.data(), g.data(), s);
            }
            return py::make_tuple(loss, vec_array(g.data(), g.size()));
          },
          py::arg("X").noconvert(), py::arg("Y").noconvert(), py::arg("theta").noconvert(),
          py::arg("n_threads") = 1, "Canonical loss and its gradient (flat, like theta).")
      .def(
          "utilities",
          [](const Model& self, const Array& X, const Array& R, const Array& theta, int n_threads) {
            agf::Data data = make_data(X, R);
            self.check_data(data);
            agf::Vec th = to_vec(theta, self.n_params(), "theta");
            agf::RowMat Rm = agf::ConstRowMap(R.data(), R.shape(0), R.shape(1));
            agf::Vec U(self.n_neurons()), gU(self.n_params());
            agf::Scratch s;
            s.threads = std::max(1, n_threads);
            {
              py::gil_scoped_release release;
              self.utilities(data, th.data(), Rm, U.data(), gU.data(), s);
            }
            return py::make_tuple(vec_array(U.data(), U.size()), vec_array(gU.data(), gU.size()));
          },
          py::arg("X").noconvert(), py::arg("R").noconvert(), py::arg("theta").noconvert(),
          py::arg("n_threads") = 1,
          "Utilities U_i of every neuron against the residual R (n, c), and their gradients (flat).")
      .def(
          "neuron_norms",
          [](const Model& self, const Array& theta) {
            agf::Vec th = to_vec(theta, self.n_params(), "theta");
            agf::Vec out(self.n_neurons());
            self.neuron_norms(th.data(), out.data());
            return vec_array(out.data(), out.size());
          },
          py::arg("theta").noconvert());

  py::class_<agf::TwoLayer, Model, std::shared_ptr<agf::TwoLayer>>(m, "TwoLayerCore")
      .def(py::init([](agf::Index d, agf::Index c, agf::Index H, const std::string& act, int degree) {
             return std::make_shared<agf::TwoLayer>(d, c, H, agf::Activation::from_name(act, degree));
           }),
           py::arg("d_in"), py::arg("d_out"), py::arg("width"), py::arg("activation"), py::arg("degree") = 1);

  py::class_<agf::Diagonal, Model, std::shared_ptr<agf::Diagonal>>(m, "DiagonalCore")
      .def(py::init<agf::Index>(), py::arg("d"));
}
}  // namespace agf_py
