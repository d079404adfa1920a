// The Keras-style layer: a LibTorch module that knows the shapes it takes and gives, builds its
// weights from the first input shape it sees, and can be called on symbolic tensors to wire a
// functional model or on real tensors to compute.
//
// Shapes leave out the batch dimension and are channels-last, as Keras shows them: an image is
// (height, width, channels). -1 stands for a dimension not known until data arrives (Keras' None).
#pragma once
#include <torch/nn/module.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

#include "core/export.h"

DOJO_PUBLIC_BEGIN
namespace dojo::nn {

using Shape = std::vector<std::int64_t>;
inline constexpr std::int64_t kNone = -1;

// "(None, 28, 28, 1)": with the batch dimension, as Keras prints it.
std::string shape_str(const Shape& shape);
// Whether a concrete shape fits a declared one (-1 matches anything).
bool shape_fits(const Shape& declared, const Shape& actual);

class LayerImpl;
struct Node;

// The output of a layer call in a functional model (Keras' KerasTensor): which call made it, which of
// its outputs it is, and its shape.
class SymbolicTensor {
 public:
  SymbolicTensor() = default;
  SymbolicTensor(std::shared_ptr<Node> node, int index);
  const Shape& shape() const;
  const std::shared_ptr<Node>& node() const { return node_; }
  int index() const { return index_; }
  bool defined() const { return node_ != nullptr; }

 private:
  std::shared_ptr<Node> node_;
  int index_ = 0;
};

// One call of a layer on symbolic inputs. A layer called twice (a shared layer) has two nodes.
struct Node {
  std::shared_ptr<LayerImpl> layer;
  std::vector<SymbolicTensor> inputs;
  std::vector<Shape> output_shapes;
  int index_in_layer = 0;
};

class LayerImpl : public torch::nn::Module {
 public:
  LayerImpl(std::string type, std::string name);
  ~LayerImpl() override;

  const std::string& name() const { return name_; }
  const std::string& type() const { return type_; }
  bool built() const { return built_; }
  const std::vector<Shape>& input_shapes() const { return input_shapes_; }
  const std::vector<Shape>& output_shapes() const { return output_shapes_; }
  // The shape given as `input_shape` in the options, if any (used by Sequential).
  const Shape& declared_input_shape() const { return declared_input_shape_; }

  // Creates the weights for these input shapes on the first call; later calls must fit the first.
  // Throws dojo::Error naming the layer and both shapes when they do not.
  std::vector<Shape> build(const std::vector<Shape>& input_shapes);

  // Computes on real tensors (batch first). Builds from their shapes when not built yet.
  std::vector<torch::Tensor> call(const std::vector<torch::Tensor>& inputs);
  torch::Tensor forward(const torch::Tensor& x);
  // The same with Keras' masks: a bool [batch, time] tensor per input (undefined for none) marks the
  // time steps that hold data. Embedding(mask_zero) makes one; recurrent layers skip masked steps.
  struct Output {
    std::vector<torch::Tensor> values, masks;
  };
  Output call_masked(const std::vector<torch::Tensor>& inputs, const std::vector<torch::Tensor>& masks);

  // Frozen layers get no gradient, and layers with statistics (BatchNormalization) use their moving
  // statistics even in training, as Keras does.
  bool trainable() const { return trainable_; }
  virtual void set_trainable(bool trainable);

  std::int64_t count_params() const;
  std::int64_t count_trainable_params() const;

  // The options that rebuild this layer (saved with a whole model).
  virtual nlohmann::json config() const = 0;
  // Nodes made by symbolic calls of this layer, in call order.
  const std::vector<std::weak_ptr<Node>>& nodes() const { return nodes_; }
  int add_node(const std::shared_ptr<Node>& node);

 protected:
  virtual std::vector<Shape> do_build(const std::vector<Shape>& input_shapes) = 0;
  virtual std::vector<torch::Tensor> do_call(const std::vector<torch::Tensor>& inputs) = 0;
  // The masks of the outputs. By default a layer that propagates masks (Dropout, Activation…) hands
  // its one input's mask on, and the others end it.
  virtual std::vector<torch::Tensor> compute_masks(const std::vector<torch::Tensor>& inputs,
                                                   const std::vector<torch::Tensor>& masks,
                                                   std::size_t n_outputs);
  void set_propagates_mask(bool on) { propagates_mask_ = on; }
  // Layers that make masks from data (Embedding with mask_zero, Masking) say so.
  virtual bool produces_masks() const { return false; }
  // The mask of input i during do_call (undefined when there is none).
  torch::Tensor input_mask(std::size_t i) const;
  // Whether dropout/batch statistics apply now: the module is in training mode.
  bool training() const { return is_training(); }
  void set_declared_input_shape(Shape shape) { declared_input_shape_ = std::move(shape); }
  // A model whose graph changed (Sequential after add or pop) builds again.
  void mark_unbuilt() { built_ = false; }
  // Registers a weight; frozen layers register it without gradient.
  torch::Tensor add_weight(const std::string& name, torch::Tensor value, bool trainable = true);
  [[noreturn]] void fail(const std::string& what) const;
  void expect_inputs(const std::vector<Shape>& shapes, std::size_t n) const;
  void expect_rank(const Shape& shape, std::size_t rank, const std::string& what) const;

 private:
  std::string type_, name_;
  bool built_ = false;
  bool trainable_ = true;
  bool propagates_mask_ = false;
  const std::vector<torch::Tensor>* current_masks_ = nullptr;
  std::vector<Shape> input_shapes_, output_shapes_;
  Shape declared_input_shape_;
  std::vector<std::string> frozen_by_design_;  // weights that never train (moving statistics)
  std::vector<std::weak_ptr<Node>> nodes_;
};

// Layers of one input and one output.
class UnaryLayer : public LayerImpl {
 public:
  using LayerImpl::LayerImpl;

 protected:
  virtual Shape build_one(const Shape& input) = 0;
  virtual torch::Tensor call_one(const torch::Tensor& x) = 0;

 private:
  std::vector<Shape> do_build(const std::vector<Shape>& input_shapes) final;
  std::vector<torch::Tensor> do_call(const std::vector<torch::Tensor>& inputs) final;
};

// The handle users pass around (like LibTorch's module holders): copies share one layer.
class Layer {
 public:
  Layer() = default;
  Layer(std::shared_ptr<LayerImpl> impl) : impl_(std::move(impl)) {}  // NOLINT: implicit by design

  // Symbolic calls wire a functional model.
  SymbolicTensor operator()(const SymbolicTensor& x) const;
  SymbolicTensor operator()(const std::vector<SymbolicTensor>& xs) const;
  // For layers with several outputs (an LSTM with return_state).
  std::vector<SymbolicTensor> call_multi(const std::vector<SymbolicTensor>& xs) const;
  // Real calls compute.
  torch::Tensor operator()(const torch::Tensor& x) const { return impl_->forward(x); }

  LayerImpl* operator->() const { return impl_.get(); }
  LayerImpl& operator*() const { return *impl_; }
  const std::shared_ptr<LayerImpl>& ptr() const { return impl_; }
  explicit operator bool() const { return impl_ != nullptr; }

 private:
  std::shared_ptr<LayerImpl> impl_;
};

// A fresh name for a layer of this kind: "dense", "dense_1", … (Keras' naming). Names are unique per
// process until reset_names() (Keras' clear_session).
std::string unique_name(const std::string& base);
void reset_names();
// Within its scope names count afresh; the process's count is restored after. A model built inside
// one ("dense", "dense_1", … whatever was built before it) gets the same layer names, and so the same
// parameter names in a checkpoint, in every process: the second model of a long-lived process (a
// Python session, a server) loads a checkpoint the first one wrote. Layers built on other threads
// meanwhile share the fresh count.
class FreshNames {
 public:
  FreshNames();
  ~FreshNames();
  FreshNames(const FreshNames&) = delete;
  FreshNames& operator=(const FreshNames&) = delete;

 private:
  std::map<std::string, int> saved_;
};
// "input_1", "input_2", …: Keras numbers some names from 1.
std::string numbered_name(const std::string& base);
// "Dense" -> "dense", "Conv2D" -> "conv2d", "BatchNormalization" -> "batch_normalization".
std::string snake_case(const std::string& type);

// Rebuilding layers from saved configs: every layer type registers a factory by its type name.
using LayerFactory = std::function<Layer(const nlohmann::json& config)>;
void register_layer_type(const std::string& type, LayerFactory factory);
Layer layer_from_config(const std::string& type, const nlohmann::json& config);

}  // namespace dojo::nn

DOJO_PUBLIC_END
