// A multilayer perceptron: the network of the classic-control agents until the Keras-style API lands.
#pragma once
#include <torch/nn/modules/container/sequential.h>

#include <cstdint>
#include <string>
#include <vector>

#include "core/export.h"

DOJO_PUBLIC_BEGIN
namespace dojo::nn {

// in -> hidden[0] -> ... -> out, `activation` ("relu", "tanh", "elu") after each hidden layer, none
// after the output.
torch::nn::Sequential mlp(std::int64_t in, const std::vector<std::int64_t>& hidden, std::int64_t out,
                          const std::string& activation = "relu");
// The hidden layers alone, each followed by `activation`: a feature trunk for separate heads.
torch::nn::Sequential mlp_body(std::int64_t in, const std::vector<std::int64_t>& hidden,
                               const std::string& activation = "relu");

}  // namespace dojo::nn

DOJO_PUBLIC_END
