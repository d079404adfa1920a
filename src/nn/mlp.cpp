#include "nn/mlp.h"

#include <torch/torch.h>

#include "core/error.h"

namespace dojo::nn {

torch::nn::Sequential mlp_body(std::int64_t in, const std::vector<std::int64_t>& hidden,
                               const std::string& activation) {
  torch::nn::Sequential net;
  std::int64_t width = in;
  for (auto h : hidden) {
    if (h <= 0) throw Error("hidden layer size " + std::to_string(h) + ": expected a positive integer");
    net->push_back(torch::nn::Linear(width, h));
    if (activation == "relu")
      net->push_back(torch::nn::ReLU());
    else if (activation == "tanh")
      net->push_back(torch::nn::Tanh());
    else if (activation == "elu")
      net->push_back(torch::nn::ELU());
    else
      throw Error("activation '" + activation + "': expected relu, tanh or elu");
    width = h;
  }
  return net;
}

torch::nn::Sequential mlp(std::int64_t in, const std::vector<std::int64_t>& hidden, std::int64_t out,
                          const std::string& activation) {
  auto net = mlp_body(in, hidden, activation);
  net->push_back(torch::nn::Linear(hidden.empty() ? in : hidden.back(), out));
  return net;
}

}  // namespace dojo::nn
