#include "nn/layers/normalization.h"

#include <torch/torch.h>

#include <nlohmann/json.hpp>

namespace dojo::nn {

NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(BatchNormalizationOptions, momentum, epsilon, center, scale,
                                                name)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(LayerNormalizationOptions, epsilon, name)

namespace {

class BatchNormalizationImpl : public UnaryLayer {
 public:
  explicit BatchNormalizationImpl(BatchNormalizationOptions o)
      : UnaryLayer("BatchNormalization", o.name), o_(o) {
    if (!(o_.momentum >= 0 && o_.momentum <= 1))
      fail("momentum must be in [0, 1], got " + std::to_string(o_.momentum));
    if (!(o_.epsilon > 0)) fail("epsilon must be positive, got " + std::to_string(o_.epsilon));
    set_propagates_mask(true);
  }
  nlohmann::json config() const override {
    auto o = o_;
    o.name = name();
    return o;
  }

 protected:
  Shape build_one(const Shape& input) override {
    if (input.empty() || input.back() < 0) fail("needs a known channel axis, got " + shape_str(input));
    const auto c = input.back();
    if (o_.scale) gamma_ = add_weight("gamma", torch::ones({c}));
    if (o_.center) beta_ = add_weight("beta", torch::zeros({c}));
    moving_mean_ = add_weight("moving_mean", torch::zeros({c}), false);
    moving_variance_ = add_weight("moving_variance", torch::ones({c}), false);
    return input;
  }
  torch::Tensor call_one(const torch::Tensor& x) override {
    // Channels last -> channels at axis 1 (a view), as LibTorch's batch_norm wants.
    auto xc = x.dim() > 2 ? x.movedim(-1, 1) : x;
    auto y = torch::batch_norm(xc, gamma_, beta_, moving_mean_, moving_variance_, training() && trainable(),
                               1.0 - o_.momentum, o_.epsilon, false);
    return x.dim() > 2 ? y.movedim(1, -1) : y;
  }

 private:
  BatchNormalizationOptions o_;
  torch::Tensor gamma_, beta_, moving_mean_, moving_variance_;
};

class LayerNormalizationImpl : public UnaryLayer {
 public:
  explicit LayerNormalizationImpl(LayerNormalizationOptions o)
      : UnaryLayer("LayerNormalization", o.name), o_(o) {
    set_propagates_mask(true);
  }
  nlohmann::json config() const override {
    auto o = o_;
    o.name = name();
    return o;
  }

 protected:
  Shape build_one(const Shape& input) override {
    if (input.empty() || input.back() < 0) fail("needs a known last axis, got " + shape_str(input));
    gamma_ = add_weight("gamma", torch::ones({input.back()}));
    beta_ = add_weight("beta", torch::zeros({input.back()}));
    return input;
  }
  torch::Tensor call_one(const torch::Tensor& x) override {
    return torch::layer_norm(x, {x.size(-1)}, gamma_, beta_, o_.epsilon);
  }

 private:
  LayerNormalizationOptions o_;
  torch::Tensor gamma_, beta_;
};

}  // namespace

Layer BatchNormalization(BatchNormalizationOptions o) {
  return Layer(std::make_shared<BatchNormalizationImpl>(o));
}
Layer LayerNormalization(LayerNormalizationOptions o) {
  return Layer(std::make_shared<LayerNormalizationImpl>(o));
}

void register_normalization_layers() {
  register_layer_type("BatchNormalization", [](const nlohmann::json& c) {
    return BatchNormalization(c.get<BatchNormalizationOptions>());
  });
  register_layer_type("LayerNormalization", [](const nlohmann::json& c) {
    return LayerNormalization(c.get<LayerNormalizationOptions>());
  });
}

}  // namespace dojo::nn
