#include "nn/layer.h"

#include <torch/torch.h>

#include <cctype>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/strings.h"

namespace dojo::nn {

void register_builtin_layers();  // layers/registry.cpp

std::string shape_str(const Shape& shape) {
  std::string s = "(None";
  for (auto d : shape) s += ", " + (d < 0 ? std::string("None") : std::to_string(d));
  return s + ")";
}

bool shape_fits(const Shape& declared, const Shape& actual) {
  if (declared.size() != actual.size()) return false;
  for (std::size_t i = 0; i < declared.size(); ++i) {
    if (declared[i] >= 0 && actual[i] >= 0 && declared[i] != actual[i]) return false;
  }
  return true;
}

SymbolicTensor::SymbolicTensor(std::shared_ptr<Node> node, int index)
    : node_(std::move(node)), index_(index) {}

const Shape& SymbolicTensor::shape() const { return node_->output_shapes.at(index_); }

LayerImpl::LayerImpl(std::string type, std::string name)
    : type_(std::move(type)), name_(name.empty() ? unique_name(snake_case(type_)) : std::move(name)) {}

LayerImpl::~LayerImpl() = default;

void LayerImpl::fail(const std::string& what) const {
  throw Error("layer '" + name_ + "' (" + type_ + "): " + what);
}

void LayerImpl::expect_inputs(const std::vector<Shape>& shapes, std::size_t n) const {
  if (shapes.size() != n) {
    fail("expects " + std::to_string(n) + " input" + (n == 1 ? "" : "s") + ", got " +
         std::to_string(shapes.size()));
  }
}

void LayerImpl::expect_rank(const Shape& shape, std::size_t rank, const std::string& what) const {
  if (shape.size() != rank) {
    fail("expects input of rank " + std::to_string(rank + 1) + " (" + what + "), got shape " +
         shape_str(shape));
  }
}

std::vector<Shape> LayerImpl::build(const std::vector<Shape>& input_shapes) {
  if (built_) {
    if (input_shapes.size() != input_shapes_.size()) expect_inputs(input_shapes, input_shapes_.size());
    for (std::size_t i = 0; i < input_shapes.size(); ++i) {
      if (!shape_fits(input_shapes_[i], input_shapes[i])) {
        fail("expects input shape " + shape_str(input_shapes_[i]) + ", got " + shape_str(input_shapes[i]));
      }
    }
    return output_shapes_;
  }
  if (!declared_input_shape_.empty() && input_shapes.size() == 1 &&
      !shape_fits(declared_input_shape_, input_shapes[0])) {
    fail("expects input shape " + shape_str(declared_input_shape_) + ", got " + shape_str(input_shapes[0]));
  }
  output_shapes_ = do_build(input_shapes);
  input_shapes_ = input_shapes;
  built_ = true;
  if (!trainable_) set_trainable(false);
  return output_shapes_;
}

std::vector<torch::Tensor> LayerImpl::call(const std::vector<torch::Tensor>& inputs) {
  return call_masked(inputs, {}).values;
}

LayerImpl::Output LayerImpl::call_masked(const std::vector<torch::Tensor>& inputs,
                                         const std::vector<torch::Tensor>& masks) {
  if (!built_) {
    std::vector<Shape> shapes;
    for (const auto& x : inputs) {
      if (x.dim() < 1) fail("expects a batch of inputs, got a scalar");
      shapes.emplace_back(x.sizes().begin() + 1, x.sizes().end());
    }
    build(shapes);
  }
  current_masks_ = &masks;
  Output out;
  try {
    out.values = do_call(inputs);
  } catch (...) {
    current_masks_ = nullptr;
    throw;
  }
  current_masks_ = nullptr;
  bool any_mask = false;
  for (const auto& m : masks) any_mask = any_mask || m.defined();
  if (any_mask || produces_masks()) out.masks = compute_masks(inputs, masks, out.values.size());
  return out;
}

torch::Tensor LayerImpl::input_mask(std::size_t i) const {
  if (current_masks_ == nullptr || i >= current_masks_->size()) return {};
  return (*current_masks_)[i];
}

std::vector<torch::Tensor> LayerImpl::compute_masks(const std::vector<torch::Tensor>& /*inputs*/,
                                                    const std::vector<torch::Tensor>& masks,
                                                    std::size_t n_outputs) {
  if (propagates_mask_ && masks.size() == 1) return std::vector<torch::Tensor>(n_outputs, masks[0]);
  return std::vector<torch::Tensor>(n_outputs);
}

torch::Tensor LayerImpl::forward(const torch::Tensor& x) {
  auto out = call({x});
  if (out.size() != 1) fail("has " + std::to_string(out.size()) + " outputs; call it with call_multi");
  return out[0];
}

torch::Tensor LayerImpl::add_weight(const std::string& name, torch::Tensor value, bool trainable) {
  if (trainable) return register_parameter(name, std::move(value), trainable_);
  frozen_by_design_.push_back(name);
  return register_buffer(name, std::move(value));
}

void LayerImpl::set_trainable(bool trainable) {
  trainable_ = trainable;
  for (auto& p : parameters()) p.set_requires_grad(trainable);
  for (auto& child : children()) {
    if (auto* layer = dynamic_cast<LayerImpl*>(child.get())) layer->set_trainable(trainable);
  }
}

std::int64_t LayerImpl::count_params() const {
  std::int64_t n = 0;
  for (const auto& p : parameters()) n += p.numel();
  for (const auto& b : buffers()) n += b.numel();
  return n;
}

std::int64_t LayerImpl::count_trainable_params() const {
  std::int64_t n = 0;
  for (const auto& p : parameters()) n += p.requires_grad() ? p.numel() : 0;
  return n;
}

int LayerImpl::add_node(const std::shared_ptr<Node>& node) {
  nodes_.push_back(node);
  return static_cast<int>(nodes_.size()) - 1;
}

std::vector<Shape> UnaryLayer::do_build(const std::vector<Shape>& input_shapes) {
  expect_inputs(input_shapes, 1);
  return {build_one(input_shapes[0])};
}

std::vector<torch::Tensor> UnaryLayer::do_call(const std::vector<torch::Tensor>& inputs) {
  if (inputs.size() != 1) fail("expects 1 input, got " + std::to_string(inputs.size()));
  return {call_one(inputs[0])};
}

std::vector<SymbolicTensor> Layer::call_multi(const std::vector<SymbolicTensor>& xs) const {
  std::vector<Shape> shapes;
  for (const auto& x : xs) {
    if (!x.defined()) throw Error("layer '" + impl_->name() + "': called on an undefined tensor");
    shapes.push_back(x.shape());
  }
  auto node = std::make_shared<Node>();
  node->layer = impl_;
  node->inputs = xs;
  node->output_shapes = impl_->build(shapes);
  node->index_in_layer = impl_->add_node(node);
  std::vector<SymbolicTensor> out;
  for (int i = 0; i < static_cast<int>(node->output_shapes.size()); ++i) out.emplace_back(node, i);
  return out;
}

SymbolicTensor Layer::operator()(const std::vector<SymbolicTensor>& xs) const {
  auto out = call_multi(xs);
  if (out.size() != 1) {
    throw Error("layer '" + impl_->name() + "' has " + std::to_string(out.size()) +
                " outputs; use call_multi");
  }
  return out[0];
}

SymbolicTensor Layer::operator()(const SymbolicTensor& x) const {
  return (*this)(std::vector<SymbolicTensor>{x});
}

namespace {
std::mutex& names_mutex() {
  static std::mutex m;
  return m;
}
std::map<std::string, int>& name_counts() {
  static std::map<std::string, int> counts;
  return counts;
}
std::map<std::string, LayerFactory>& factories() {
  static std::map<std::string, LayerFactory> table;
  return table;
}
}  // namespace

std::string unique_name(const std::string& base) {
  std::lock_guard lock(names_mutex());
  int n = name_counts()[base]++;
  return n == 0 ? base : base + "_" + std::to_string(n);
}

std::string numbered_name(const std::string& base) {
  std::lock_guard lock(names_mutex());
  return base + "_" + std::to_string(++name_counts()["#" + base]);
}

void reset_names() {
  std::lock_guard lock(names_mutex());
  name_counts().clear();
}

FreshNames::FreshNames() {
  std::lock_guard lock(names_mutex());
  saved_.swap(name_counts());
}

FreshNames::~FreshNames() {
  std::lock_guard lock(names_mutex());
  name_counts().swap(saved_);
}

std::string snake_case(const std::string& type) {
  std::string out;
  for (std::size_t i = 0; i < type.size(); ++i) {
    const char c = type[i];
    const bool upper = std::isupper(static_cast<unsigned char>(c)) != 0;
    // A new word starts at an upper-case letter after a lower-case one ("BatchNorm" -> "batch_norm"),
    // or at one that starts a word ("Conv2DTranspose" -> "conv2d_transpose"), but "Conv2D" stays
    // "conv2d" and "GRU" stays "gru".
    const bool after_lower = i > 0 && std::islower(static_cast<unsigned char>(type[i - 1]));
    const bool starts_word =
        i > 0 && i + 1 < type.size() && std::islower(static_cast<unsigned char>(type[i + 1]));
    if (upper && (after_lower || starts_word)) out += '_';
    out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

void register_layer_type(const std::string& type, LayerFactory factory) {
  std::lock_guard lock(names_mutex());
  factories()[type] = std::move(factory);
}

Layer layer_from_config(const std::string& type, const nlohmann::json& config) {
  static std::once_flag once;
  std::call_once(once, register_builtin_layers);
  LayerFactory factory;
  {
    std::lock_guard lock(names_mutex());
    auto it = factories().find(type);
    if (it == factories().end()) {
      std::vector<std::string> known;
      for (const auto& [k, v] : factories()) known.push_back(k);
      throw Error("unknown layer type '" + type + "'" + core::did_you_mean(type, known));
    }
    factory = it->second;
  }
  try {
    return factory(config);
  } catch (const nlohmann::json::exception& e) {
    throw Error("layer of type '" + type + "': bad config (" + e.what() + ")");
  }
}

}  // namespace dojo::nn
