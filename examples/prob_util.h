// Shared by the prob examples (vae, vae-pixyz, cvae, m2, gan): MLP stacks and one-hot labels.
#pragma once
#include <torch/torch.h>

#include <vector>

#include "nn/layers.h"

namespace dojo::examples {

// An MLP from x through the hidden layers (ReLU unless told); returns the last hidden tensor.
inline nn::SymbolicTensor hidden_stack(nn::SymbolicTensor x, const std::vector<std::int64_t>& hidden,
                                       const std::string& activation = "relu") {
  for (auto units : hidden) x = nn::Dense(units, {.activation = activation})(x);
  return x;
}

inline torch::Tensor one_hot_labels(const torch::Tensor& labels, std::int64_t classes = 10) {
  return torch::one_hot(labels, classes).to(torch::kFloat32);
}

}  // namespace dojo::examples
