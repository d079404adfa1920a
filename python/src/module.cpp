// The compiled part of the `dojo` Python package (dojo/_dojo*.so); dojo/__init__.py re-exports it.
#include <pybind11/pybind11.h>

#include "bindings.h"
#include "core/error.h"
#include "core/runtime.h"

PYBIND11_MODULE(_dojo, m) {
  namespace py = pybind11;
  m.doc() = "dojo: deep RL and deep learning on LibTorch (C++), from Python";
  m.attr("__version__") = DOJO_VERSION;
  dojo::core::init_logging();  // "[HH:MM:SS] message" on stderr, as the dojo command logs
  // Bad input is a ValueError with the C++ side's one-line message, as the command prints it.
  static py::exception<dojo::Error> error(m, "Error", PyExc_ValueError);
  error.attr("__module__") = "dojo";  // shown as dojo.Error, where users catch it
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const dojo::Error& e) {
      error(e.what());
    }
  });
  m.def("blas_kernels", &dojo::core::blas_kernels,
        "The kernels OpenBLAS runs ('SkylakeX', 'Haswell', 'Prescott' = generic), '' for another BLAS");
  m.def(
      "set_num_threads", [](std::int64_t n) { return dojo::core::configure_compute(n); }, py::arg("n"),
      "Threads for LibTorch and OpenBLAS (n <= 0: all cores), as a run's n_threads sets them");
  dojo::python::bind_envs(m);
  dojo::python::bind_rl(m);
  dojo::python::bind_models(m);
}
