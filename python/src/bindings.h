// The pieces of the `dojo` Python module, one function per area (module.cpp calls them in turn).
#pragma once
#include <pybind11/pybind11.h>

namespace dojo::python {

void bind_envs(pybind11::module_& m);    // make, make_vec, spaces
void bind_rl(pybind11::module_& m);      // train, resume, load, evaluate
void bind_models(pybind11::module_& m);  // dojo.nn, dojo.mol

}  // namespace dojo::python
