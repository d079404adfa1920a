#include "nn/layers/core.h"

#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "nn/activations.h"

namespace dojo::nn {

NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(DenseOptions, activation, use_bias, kernel_initializer,
                                                bias_initializer, input_shape, name)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(EmbeddingOptions, mask_zero, embeddings_initializer,
                                                input_shape, name)

namespace {

std::int64_t known_numel(const Shape& s) {
  std::int64_t n = 1;
  for (auto d : s) n = d < 0 ? kNone : n * d;
  return n;
}

class InputLayerImpl : public UnaryLayer {
 public:
  InputLayerImpl(Shape shape, InputOptions o)
      : UnaryLayer("InputLayer", o.name.empty() ? numbered_name("input") : o.name),
        shape_(std::move(shape)),
        o_(o) {
    if (o_.dtype != "float32" && o_.dtype != "int64") {
      fail("unknown dtype '" + o_.dtype + "', expected float32 or int64");
    }
    for (auto d : shape_) {
      if (d == 0 || d < kNone)
        fail("bad input shape " + shape_str(shape_) + ": dimensions must be positive or -1");
    }
    set_declared_input_shape(shape_);
  }
  nlohmann::json config() const override {
    return {{"shape", shape_}, {"dtype", o_.dtype}, {"name", name()}};
  }
  const std::string& dtype() const { return o_.dtype; }

 protected:
  Shape build_one(const Shape& input) override { return input; }
  torch::Tensor call_one(const torch::Tensor& x) override {
    if (o_.dtype == "int64") return x.scalar_type() == torch::kLong ? x : x.to(torch::kLong);
    return x.is_floating_point() ? x : x.to(torch::kFloat32);
  }

 private:
  Shape shape_;
  InputOptions o_;
};

class DenseImpl : public UnaryLayer {
 public:
  DenseImpl(std::int64_t units, DenseOptions o)
      : UnaryLayer("Dense", o.name), units_(units), o_(std::move(o)) {
    if (units_ <= 0) fail("units must be positive, got " + std::to_string(units_));
    check_activation(o_.activation, "layer '" + name() + "'");
    check_initializer(o_.kernel_initializer, "layer '" + name() + "'");
    check_initializer(o_.bias_initializer, "layer '" + name() + "'");
    set_declared_input_shape(o_.input_shape);
  }
  nlohmann::json config() const override {
    auto o = o_;
    o.name = name();
    nlohmann::json j = o;
    j["units"] = units_;
    return j;
  }

 protected:
  Shape build_one(const Shape& input) override {
    if (input.empty()) fail("expects input of rank 2 or more, got " + shape_str(input));
    const auto in = input.back();
    if (in < 0) fail("needs a known last dimension, got " + shape_str(input));
    kernel_ = add_weight("kernel", initialize(o_.kernel_initializer, {in, units_}, in, units_));
    if (o_.use_bias) bias_ = add_weight("bias", initialize(o_.bias_initializer, {units_}, in, units_));
    Shape out = input;
    out.back() = units_;
    return out;
  }
  torch::Tensor call_one(const torch::Tensor& x) override {
    torch::Tensor y;
    if (x.dim() == 2) {
      y = o_.use_bias ? torch::addmm(bias_, x, kernel_) : torch::mm(x, kernel_);
    } else {
      y = torch::matmul(x, kernel_);
      if (o_.use_bias) y = y + bias_;
    }
    return activate(o_.activation, y);
  }

 private:
  std::int64_t units_;
  DenseOptions o_;
  torch::Tensor kernel_, bias_;
};

class ActivationImpl : public UnaryLayer {
 public:
  ActivationImpl(std::string activation, std::string name)
      : UnaryLayer("Activation", std::move(name)), activation_(std::move(activation)) {
    check_activation(activation_, "layer '" + this->name() + "'");
    set_propagates_mask(true);
  }
  nlohmann::json config() const override { return {{"activation", activation_}, {"name", name()}}; }

 protected:
  Shape build_one(const Shape& input) override { return input; }
  torch::Tensor call_one(const torch::Tensor& x) override { return activate(activation_, x); }

 private:
  std::string activation_;
};

class DropoutImpl : public UnaryLayer {
 public:
  DropoutImpl(double rate, DropoutOptions o) : UnaryLayer("Dropout", o.name), rate_(rate) {
    if (!(rate_ >= 0.0 && rate_ < 1.0)) fail("rate must be in [0, 1), got " + std::to_string(rate_));
    set_declared_input_shape(o.input_shape);
    set_propagates_mask(true);
  }
  nlohmann::json config() const override {
    return {{"rate", rate_}, {"input_shape", declared_input_shape()}, {"name", name()}};
  }

 protected:
  Shape build_one(const Shape& input) override { return input; }
  torch::Tensor call_one(const torch::Tensor& x) override {
    return training() && rate_ > 0 ? torch::dropout(x, rate_, true) : x;
  }

 private:
  double rate_;
};

class FlattenImpl : public UnaryLayer {
 public:
  explicit FlattenImpl(ShapeOptions o) : UnaryLayer("Flatten", o.name) {
    set_declared_input_shape(o.input_shape);
  }
  nlohmann::json config() const override {
    return {{"input_shape", declared_input_shape()}, {"name", name()}};
  }

 protected:
  Shape build_one(const Shape& input) override { return {known_numel(input)}; }
  torch::Tensor call_one(const torch::Tensor& x) override { return x.reshape({x.size(0), -1}); }
};

class ReshapeImpl : public UnaryLayer {
 public:
  ReshapeImpl(Shape target, ShapeOptions o) : UnaryLayer("Reshape", o.name), target_(std::move(target)) {
    set_declared_input_shape(o.input_shape);
    if (std::count(target_.begin(), target_.end(), kNone) > 1) {
      fail("target shape " + shape_str(target_) + " has more than one -1");
    }
  }
  nlohmann::json config() const override {
    return {{"target_shape", target_}, {"input_shape", declared_input_shape()}, {"name", name()}};
  }

 protected:
  Shape build_one(const Shape& input) override {
    const auto n = known_numel(input);
    Shape out = target_;
    std::int64_t known = 1;
    for (auto d : target_) known *= d < 0 ? 1 : d;
    auto free_dim = std::find(out.begin(), out.end(), kNone);
    if (n >= 0) {
      if (free_dim != out.end()) {
        if (n % known != 0) fail("cannot reshape " + shape_str(input) + " to " + shape_str(target_));
        *free_dim = n / known;
      } else if (n != known) {
        fail("cannot reshape " + shape_str(input) + " (" + std::to_string(n) + " values) to " +
             shape_str(target_));
      }
    }
    return out;
  }
  torch::Tensor call_one(const torch::Tensor& x) override {
    std::vector<std::int64_t> shape{x.size(0)};
    shape.insert(shape.end(), target_.begin(), target_.end());
    return x.reshape(shape);
  }

 private:
  Shape target_;
};

class PermuteImpl : public UnaryLayer {
 public:
  PermuteImpl(std::vector<std::int64_t> dims, ShapeOptions o)
      : UnaryLayer("Permute", o.name), dims_(std::move(dims)) {
    set_declared_input_shape(o.input_shape);
    auto sorted = dims_;
    std::sort(sorted.begin(), sorted.end());
    for (std::size_t i = 0; i < sorted.size(); ++i) {
      if (sorted[i] != static_cast<std::int64_t>(i) + 1) {
        fail("dims must be a permutation of 1.." + std::to_string(dims_.size()));
      }
    }
  }
  nlohmann::json config() const override {
    return {{"dims", dims_}, {"input_shape", declared_input_shape()}, {"name", name()}};
  }

 protected:
  Shape build_one(const Shape& input) override {
    if (input.size() != dims_.size()) {
      fail("dims " + shape_str(dims_) + " do not fit input shape " + shape_str(input));
    }
    Shape out;
    for (auto d : dims_) out.push_back(input[d - 1]);
    return out;
  }
  torch::Tensor call_one(const torch::Tensor& x) override {
    std::vector<std::int64_t> order{0};
    order.insert(order.end(), dims_.begin(), dims_.end());
    return x.permute(order);
  }

 private:
  std::vector<std::int64_t> dims_;
};

class RepeatVectorImpl : public UnaryLayer {
 public:
  RepeatVectorImpl(std::int64_t n, std::string name) : UnaryLayer("RepeatVector", std::move(name)), n_(n) {
    if (n_ <= 0) fail("n must be positive, got " + std::to_string(n_));
  }
  nlohmann::json config() const override { return {{"n", n_}, {"name", name()}}; }

 protected:
  Shape build_one(const Shape& input) override {
    expect_rank(input, 1, "batch, features");
    return {n_, input[0]};
  }
  torch::Tensor call_one(const torch::Tensor& x) override {
    return x.unsqueeze(1).expand({x.size(0), n_, x.size(1)});
  }

 private:
  std::int64_t n_;
};

class EmbeddingImpl : public UnaryLayer {
 public:
  EmbeddingImpl(std::int64_t input_dim, std::int64_t output_dim, EmbeddingOptions o)
      : UnaryLayer("Embedding", o.name), input_dim_(input_dim), output_dim_(output_dim), o_(std::move(o)) {
    if (input_dim_ <= 0 || output_dim_ <= 0) {
      fail("input_dim and output_dim must be positive, got " + std::to_string(input_dim_) + " and " +
           std::to_string(output_dim_));
    }
    check_initializer(o_.embeddings_initializer, "layer '" + name() + "'");
    set_declared_input_shape(o_.input_shape);
  }
  nlohmann::json config() const override {
    auto o = o_;
    o.name = name();
    nlohmann::json j = o;
    j["input_dim"] = input_dim_;
    j["output_dim"] = output_dim_;
    return j;
  }
  bool produces_masks() const override { return o_.mask_zero; }

 protected:
  Shape build_one(const Shape& input) override {
    embeddings_ = add_weight("embeddings", initialize(o_.embeddings_initializer, {input_dim_, output_dim_},
                                                      input_dim_, output_dim_));
    Shape out = input;
    out.push_back(output_dim_);
    return out;
  }
  torch::Tensor call_one(const torch::Tensor& x) override {
    auto idx = x.scalar_type() == torch::kLong ? x : x.to(torch::kLong);
    if (idx.numel() > 0) {
      const auto lo = idx.min().item<std::int64_t>(), hi = idx.max().item<std::int64_t>();
      if (lo < 0 || hi >= input_dim_) {
        fail("index " + std::to_string(lo < 0 ? lo : hi) + " out of range [0, " + std::to_string(input_dim_) +
             ")");
      }
    }
    return torch::embedding(embeddings_, idx);
  }
  std::vector<torch::Tensor> compute_masks(const std::vector<torch::Tensor>& inputs,
                                           const std::vector<torch::Tensor>& masks, std::size_t n) override {
    if (!o_.mask_zero) return LayerImpl::compute_masks(inputs, masks, n);
    return {inputs[0] != 0};
  }

 private:
  std::int64_t input_dim_, output_dim_;
  EmbeddingOptions o_;
  torch::Tensor embeddings_;
};

class MaskingImpl : public UnaryLayer {
 public:
  MaskingImpl(double value, std::string name) : UnaryLayer("Masking", std::move(name)), value_(value) {}
  nlohmann::json config() const override { return {{"mask_value", value_}, {"name", name()}}; }
  bool produces_masks() const override { return true; }

 protected:
  Shape build_one(const Shape& input) override {
    if (input.size() < 2) fail("expects input (batch, time, features…), got " + shape_str(input));
    return input;
  }
  torch::Tensor call_one(const torch::Tensor& x) override {
    return x * (step_mask(x).unsqueeze(-1).to(x.dtype()));
  }
  std::vector<torch::Tensor> compute_masks(const std::vector<torch::Tensor>& inputs,
                                           const std::vector<torch::Tensor>& /*masks*/,
                                           std::size_t) override {
    return {step_mask(inputs[0])};
  }

 private:
  torch::Tensor step_mask(const torch::Tensor& x) const { return (x != value_).flatten(2).any(-1); }
  double value_;
};

}  // namespace

SymbolicTensor Input(Shape shape, InputOptions options) {
  auto layer = std::make_shared<InputLayerImpl>(shape, std::move(options));
  layer->build({shape});
  auto node = std::make_shared<Node>();
  node->layer = layer;
  node->output_shapes = {shape};
  node->index_in_layer = layer->add_node(node);
  return {node, 0};
}

Layer Dense(std::int64_t units, DenseOptions o) {
  return Layer(std::make_shared<DenseImpl>(units, std::move(o)));
}
Layer Activation(const std::string& a, std::string name) {
  return Layer(std::make_shared<ActivationImpl>(a, std::move(name)));
}
Layer Dropout(double rate, DropoutOptions o) {
  return Layer(std::make_shared<DropoutImpl>(rate, std::move(o)));
}
Layer Flatten(ShapeOptions o) { return Layer(std::make_shared<FlattenImpl>(std::move(o))); }
Layer Reshape(Shape target, ShapeOptions o) {
  return Layer(std::make_shared<ReshapeImpl>(std::move(target), std::move(o)));
}
Layer Permute(std::vector<std::int64_t> dims, ShapeOptions o) {
  return Layer(std::make_shared<PermuteImpl>(std::move(dims), std::move(o)));
}
Layer RepeatVector(std::int64_t n, std::string name) {
  return Layer(std::make_shared<RepeatVectorImpl>(n, std::move(name)));
}
Layer Embedding(std::int64_t input_dim, std::int64_t output_dim, EmbeddingOptions o) {
  return Layer(std::make_shared<EmbeddingImpl>(input_dim, output_dim, std::move(o)));
}
Layer Masking(double mask_value, std::string name) {
  return Layer(std::make_shared<MaskingImpl>(mask_value, std::move(name)));
}

void register_core_layers() {
  register_layer_type("InputLayer", [](const nlohmann::json& c) {
    return Layer(std::make_shared<InputLayerImpl>(
        c.at("shape").get<Shape>(),
        InputOptions{c.at("name").get<std::string>(), c.at("dtype").get<std::string>()}));
  });
  register_layer_type("Dense",
                      [](const nlohmann::json& c) { return Dense(c.at("units"), c.get<DenseOptions>()); });
  register_layer_type("Activation",
                      [](const nlohmann::json& c) { return Activation(c.at("activation"), c.at("name")); });
  register_layer_type("Dropout", [](const nlohmann::json& c) {
    return Dropout(c.at("rate"), {c.value("input_shape", Shape{}), c.at("name")});
  });
  register_layer_type("Flatten", [](const nlohmann::json& c) {
    return Flatten({c.value("input_shape", Shape{}), c.at("name")});
  });
  register_layer_type("Reshape", [](const nlohmann::json& c) {
    return Reshape(c.at("target_shape"), {c.value("input_shape", Shape{}), c.at("name")});
  });
  register_layer_type("Permute", [](const nlohmann::json& c) {
    return Permute(c.at("dims"), {c.value("input_shape", Shape{}), c.at("name")});
  });
  register_layer_type("RepeatVector",
                      [](const nlohmann::json& c) { return RepeatVector(c.at("n"), c.at("name")); });
  register_layer_type("Embedding", [](const nlohmann::json& c) {
    return Embedding(c.at("input_dim"), c.at("output_dim"), c.get<EmbeddingOptions>());
  });
  register_layer_type("Masking",
                      [](const nlohmann::json& c) { return Masking(c.at("mask_value"), c.at("name")); });
}

}  // namespace dojo::nn
