#include "games/network.h"

#include <cmath>
#include <limits>

#include "core/error.h"
#include "nn/layers.h"

namespace dojo::games {

namespace {

// Every layer is named after its place, not numbered by the process's layer counter: a checkpoint
// then loads into a network built in any process, after any other model.
nn::SymbolicTensor conv_bn(const nn::SymbolicTensor& x, int filters, std::int64_t kernel, bool relu,
                           const std::string& name) {
  nn::ConvOptions conv;
  conv.padding = "same";
  conv.use_bias = false;  // batch normalisation's beta is the bias
  conv.name = name + "_conv";
  nn::BatchNormalizationOptions bn;
  bn.name = name + "_bn";
  auto y = nn::BatchNormalization(bn)(nn::Conv2D(filters, {kernel}, conv)(x));
  return relu ? nn::Activation("relu", name + "_relu")(y) : y;
}

}  // namespace

nn::Model policy_value_network(const Game& game, const NetworkOptions& o) {
  if (o.blocks < 0 || o.filters < 1 || o.value_hidden < 1)
    throw Error("policy-value network of " + std::to_string(o.blocks) + " blocks, " +
                std::to_string(o.filters) + " filters: expected blocks >= 0 and filters, value_hidden >= 1");
  const auto shape = game.observation_shape();
  nn::InputOptions in;
  in.name = "observation";
  const auto input = nn::Input({shape[1], shape[2], shape[0]}, in);
  auto x = conv_bn(input, o.filters, 3, true, "stem");
  for (int b = 0; b < o.blocks; ++b) {
    const auto block = "block" + std::to_string(b + 1);
    const auto y = conv_bn(conv_bn(x, o.filters, 3, true, block + "a"), o.filters, 3, false, block + "b");
    x = nn::Activation("relu", block + "_relu")(nn::Add(block + "_add")({x, y}));
  }
  nn::ShapeOptions flat;
  flat.name = "policy_flatten";
  nn::DenseOptions policy_out;
  policy_out.name = "policy";
  const auto policy =
      nn::Dense(game.num_actions(), policy_out)(nn::Flatten(flat)(conv_bn(x, 2, 1, true, "policy_head")));
  nn::DenseOptions hidden;
  hidden.activation = "relu";
  hidden.name = "value_hidden";
  nn::DenseOptions value_out;
  value_out.activation = "tanh";
  value_out.name = "value";
  flat.name = "value_flatten";
  const auto value = nn::Dense(1, value_out)(
      nn::Dense(o.value_hidden, hidden)(nn::Flatten(flat)(conv_bn(x, 1, 1, true, "value_head"))));
  return nn::Model(input, std::vector<nn::SymbolicTensor>{policy, value}, game.name() + "_policy_value");
}

torch::Tensor observation_batch(const std::vector<const State*>& states) {
  if (states.empty()) throw Error("observation_batch: no states");
  const auto shape = states.front()->game().observation_shape();
  auto out = torch::empty({static_cast<std::int64_t>(states.size()), shape[0], shape[1], shape[2]});
  const auto size = static_cast<std::int64_t>(shape[0]) * shape[1] * shape[2];
  for (std::size_t i = 0; i < states.size(); ++i) states[i]->observation(out.data_ptr<float>() + i * size);
  return out.permute({0, 2, 3, 1}).contiguous();
}

std::vector<Evaluation> NetworkEvaluator::evaluate(const std::vector<const State*>& states) {
  torch::NoGradGuard no_grad;
  model_->eval();
  const auto outputs = model_->predict_batch({observation_batch(states).to(model_->device())});
  const auto logits = outputs.at(0).to(torch::kCPU).contiguous();
  const auto values = outputs.at(1).to(torch::kCPU).contiguous();
  const auto actions = logits.size(1);
  std::vector<Evaluation> out(states.size());
  for (std::size_t i = 0; i < states.size(); ++i) {
    // Softmax over the legal moves only: illegal ones get no mass however the network scores them.
    const float* row = logits.data_ptr<float>() + static_cast<std::int64_t>(i) * actions;
    const auto legal = states[i]->legal_actions();
    float top = -std::numeric_limits<float>::infinity();
    for (const Action a : legal) top = std::max(top, row[a]);
    out[i].prior.assign(static_cast<std::size_t>(actions), 0.0f);
    float total = 0.0f;
    for (const Action a : legal)
      total += (out[i].prior[static_cast<std::size_t>(a)] = std::exp(row[a] - top));
    for (const Action a : legal) out[i].prior[static_cast<std::size_t>(a)] /= total;
    out[i].value = values.data_ptr<float>()[i];
  }
  return out;
}

}  // namespace dojo::games
