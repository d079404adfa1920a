// Conversions between LibTorch and NumPy/Python for the bindings. Tensors cross as NumPy arrays that
// share the tensor's memory (the array keeps the tensor alive), so an observation is never copied on
// its way out; arrays coming in are copied once into a tensor of the dtype the C++ side expects.
#pragma once
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <torch/types.h>
#include <yaml-cpp/yaml.h>

#include <string>

#include "core/config.h"
#include "envs/env.h"

namespace dojo::python {

namespace py = pybind11;

// The NumPy dtype of a tensor's scalar type; dojo::Error for one NumPy has no match for.
py::dtype numpy_dtype(torch::ScalarType type);
// The tensor's scalar type for a NumPy dtype; dojo::Error naming the dtype when there is none.
torch::ScalarType torch_dtype(const py::dtype& dtype);

// A NumPy array over the tensor's memory (moved to the CPU first if needed); the array holds a
// reference to the tensor, so the memory lives as long as either does.
py::array to_numpy(torch::Tensor tensor);

// A tensor with the array's values (anything np.asarray takes), copied; `type` converts it when given.
torch::Tensor to_tensor(const py::handle& value, std::optional<torch::ScalarType> type = std::nullopt);

// A YAML value as Python: mappings to dicts, sequences to lists, scalars to bool, int, float or str.
py::object to_python(const YAML::Node& node);
// A whole config as a dict.
py::dict to_python(const core::Config& config);

// Gymnasium's info dict: numbers as float, strings as str, tensors as arrays.
py::dict to_python(const envs::Info& info);

}  // namespace dojo::python
