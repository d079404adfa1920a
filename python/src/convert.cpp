#include "convert.h"

#include <torch/torch.h>

#include <cstring>
#include <vector>

#include "core/error.h"

namespace dojo::python {

py::dtype numpy_dtype(torch::ScalarType type) {
  switch (type) {
    case torch::kFloat32:
      return py::dtype::of<float>();
    case torch::kFloat64:
      return py::dtype::of<double>();
    case torch::kInt64:
      return py::dtype::of<std::int64_t>();
    case torch::kInt32:
      return py::dtype::of<std::int32_t>();
    case torch::kInt16:
      return py::dtype::of<std::int16_t>();
    case torch::kInt8:
      return py::dtype::of<std::int8_t>();
    case torch::kUInt8:
      return py::dtype::of<std::uint8_t>();
    case torch::kBool:
      return py::dtype::of<bool>();
    default:
      throw Error(std::string("a tensor of ") + c10::toString(type) + " has no NumPy dtype");
  }
}

torch::ScalarType torch_dtype(const py::dtype& dtype) {
  const auto is = [&](const py::dtype& other) { return dtype.is(other) || dtype.equal(other); };
  if (is(py::dtype::of<float>())) return torch::kFloat32;
  if (is(py::dtype::of<double>())) return torch::kFloat64;
  if (is(py::dtype::of<std::int64_t>())) return torch::kInt64;
  if (is(py::dtype::of<std::int32_t>())) return torch::kInt32;
  if (is(py::dtype::of<std::int16_t>())) return torch::kInt16;
  if (is(py::dtype::of<std::int8_t>())) return torch::kInt8;
  if (is(py::dtype::of<std::uint8_t>())) return torch::kUInt8;
  if (is(py::dtype::of<bool>())) return torch::kBool;
  throw Error("an array of dtype " + dtype.attr("name").cast<std::string>() +
              ": expected a bool, integer or float32/float64 array");
}

py::array to_numpy(torch::Tensor tensor) {
  if (!tensor.device().is_cpu()) tensor = tensor.cpu();
  const auto item = static_cast<py::ssize_t>(tensor.element_size());
  std::vector<py::ssize_t> shape, strides;
  for (auto s : tensor.sizes()) shape.push_back(static_cast<py::ssize_t>(s));
  for (auto s : tensor.strides()) strides.push_back(static_cast<py::ssize_t>(s) * item);
  // The capsule owns a reference to the tensor's storage; NumPy drops it with the array.
  auto* owner = new torch::Tensor(tensor);
  py::capsule base(owner, [](void* p) { delete static_cast<torch::Tensor*>(p); });
  return py::array(numpy_dtype(tensor.scalar_type()), shape, strides, tensor.data_ptr(), base);
}

torch::Tensor to_tensor(const py::handle& value, std::optional<torch::ScalarType> type) {
  // np.asarray, then a C-contiguous copy: Python keeps its array, the tensor owns its copy.
  auto array = py::module_::import("numpy").attr("ascontiguousarray")(value).cast<py::array>();
  const auto from = torch_dtype(array.dtype());
  std::vector<std::int64_t> shape(array.shape(), array.shape() + array.ndim());
  auto t = torch::empty(shape, torch::TensorOptions().dtype(from));
  if (t.numel() > 0) std::memcpy(t.data_ptr(), array.data(), static_cast<std::size_t>(t.nbytes()));
  return type && *type != from ? t.to(*type) : t;
}

py::object to_python(const YAML::Node& node) {
  if (!node || node.IsNull()) return py::none();
  if (node.IsMap()) {
    py::dict d;
    for (const auto& kv : node) d[py::str(kv.first.as<std::string>())] = to_python(kv.second);
    return d;
  }
  if (node.IsSequence()) {
    py::list l;
    for (const auto& v : node) l.append(to_python(v));
    return l;
  }
  // A scalar: the narrowest reading YAML allows (true -> bool, 3 -> int, 0.5 -> float, else str).
  bool b = false;
  std::int64_t i = 0;
  double x = 0;
  if (node.Tag() != "!" && YAML::convert<bool>::decode(node, b)) return py::bool_(b);
  if (node.Tag() != "!" && YAML::convert<std::int64_t>::decode(node, i)) return py::int_(i);
  if (node.Tag() != "!" && YAML::convert<double>::decode(node, x)) return py::float_(x);
  return py::str(node.as<std::string>());
}

py::dict to_python(const core::Config& config) {
  return to_python(YAML::Load(config.dump())).cast<py::dict>();
}

py::dict to_python(const envs::Info& info) {
  py::dict d;
  for (const auto& [key, value] : info) {
    if (value.is_number())
      d[py::str(key)] = value.number();
    else if (value.is_string())
      d[py::str(key)] = value.str();
    else
      d[py::str(key)] = to_numpy(value.tensor());
  }
  return d;
}

}  // namespace dojo::python
