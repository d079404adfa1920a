#include "nn/layers/attention.h"

#include <torch/torch.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "nn/activations.h"

namespace dojo::nn {

NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(MultiHeadAttentionOptions, value_dim, dropout, use_bias,
                                                use_causal_mask, output_dim, kernel_initializer, name)

namespace {

class MultiHeadAttentionImpl : public LayerImpl {
 public:
  MultiHeadAttentionImpl(std::int64_t heads, std::int64_t key_dim, MultiHeadAttentionOptions o)
      : LayerImpl("MultiHeadAttention", o.name), heads_(heads), key_dim_(key_dim), o_(std::move(o)) {
    if (heads_ <= 0 || key_dim_ <= 0) {
      fail("num_heads and key_dim must be positive, got " + std::to_string(heads_) + " and " +
           std::to_string(key_dim_));
    }
    if (!(o_.dropout >= 0 && o_.dropout < 1))
      fail("dropout must be in [0, 1), got " + std::to_string(o_.dropout));
    check_initializer(o_.kernel_initializer, "layer '" + name() + "'");
    value_dim_ = o_.value_dim > 0 ? o_.value_dim : key_dim_;
  }
  nlohmann::json config() const override {
    auto o = o_;
    o.name = name();
    nlohmann::json j = o;
    j["num_heads"] = heads_;
    j["key_dim"] = key_dim_;
    return j;
  }

 protected:
  std::vector<Shape> do_build(const std::vector<Shape>& shapes) override {
    if (shapes.size() != 2 && shapes.size() != 3) {
      fail("expects inputs {query, value} or {query, value, key}, got " + std::to_string(shapes.size()));
    }
    for (const auto& s : shapes) expect_rank(s, 2, "batch, time, features");
    const auto& q = shapes[0];
    const auto& v = shapes[1];
    const auto& k = shapes.size() == 3 ? shapes[2] : shapes[1];
    if (k[0] >= 0 && v[0] >= 0 && k[0] != v[0]) {
      fail("key and value need the same length, got " + shape_str(k) + " and " + shape_str(v));
    }
    const auto out_dim = o_.output_dim > 0 ? o_.output_dim : q[1];
    // Projections as Keras' EinsumDense kernels [features, heads, dim], stored flat [features, heads × dim].
    auto proj = [&](const std::string& name, std::int64_t in, std::int64_t dim) {
      w_[name + "_kernel"] = add_weight(
          name + "_kernel", initialize(o_.kernel_initializer, {in, heads_ * dim}, in, heads_ * dim));
      if (o_.use_bias) w_[name + "_bias"] = add_weight(name + "_bias", torch::zeros({heads_ * dim}));
    };
    proj("query", q[1], key_dim_);
    proj("key", k[1], key_dim_);
    proj("value", v[1], value_dim_);
    w_["output_kernel"] = add_weight(
        "output_kernel",
        initialize(o_.kernel_initializer, {heads_ * value_dim_, out_dim}, heads_ * value_dim_, out_dim));
    if (o_.use_bias) w_["output_bias"] = add_weight("output_bias", torch::zeros({out_dim}));
    return {{q[0], out_dim}};
  }
  std::vector<torch::Tensor> do_call(const std::vector<torch::Tensor>& xs) override {
    const auto& query = xs[0];
    const auto& value = xs[1];
    const auto& key = xs.size() == 3 ? xs[2] : xs[1];
    const auto n = query.size(0), tq = query.size(1), tv = value.size(1);
    auto project = [&](const torch::Tensor& x, const std::string& name, std::int64_t dim) {
      auto y = torch::matmul(x, w_[name + "_kernel"]);
      if (o_.use_bias) y = y + w_[name + "_bias"];
      return y.view({n, x.size(1), heads_, dim}).transpose(1, 2);  // [N, heads, T, dim]
    };
    auto q = project(query, "query", key_dim_) / std::sqrt(static_cast<double>(key_dim_));
    auto k = project(key, "key", key_dim_);
    auto v = project(value, "value", value_dim_);
    auto scores = torch::matmul(q, k.transpose(-2, -1));  // [N, heads, Tq, Tv]
    torch::Tensor allowed;
    if (auto m = input_mask(1); m.defined()) allowed = m.view({n, 1, 1, tv});
    if (o_.use_causal_mask) {
      auto causal = torch::ones({tq, tv}, torch::kBool).tril();
      allowed = allowed.defined() ? (allowed & causal) : causal;
    }
    if (allowed.defined()) scores = scores.masked_fill(allowed.logical_not(), -1e9);
    auto weights = torch::softmax(scores, -1);
    if (training() && o_.dropout > 0) weights = torch::dropout(weights, o_.dropout, true);
    auto context = torch::matmul(weights, v).transpose(1, 2).reshape({n, tq, heads_ * value_dim_});
    auto out = torch::matmul(context, w_["output_kernel"]);
    if (o_.use_bias) out = out + w_["output_bias"];
    return {out};
  }

 private:
  std::int64_t heads_, key_dim_, value_dim_ = 0;
  MultiHeadAttentionOptions o_;
  std::map<std::string, torch::Tensor> w_;
};

}  // namespace

Layer MultiHeadAttention(std::int64_t heads, std::int64_t key_dim, MultiHeadAttentionOptions o) {
  return Layer(std::make_shared<MultiHeadAttentionImpl>(heads, key_dim, std::move(o)));
}

void register_attention_layers() {
  register_layer_type("MultiHeadAttention", [](const nlohmann::json& c) {
    return MultiHeadAttention(c.at("num_heads"), c.at("key_dim"), c.get<MultiHeadAttentionOptions>());
  });
}

}  // namespace dojo::nn
