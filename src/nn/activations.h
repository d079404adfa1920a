// Activations and weight initializers by their Keras names.
#pragma once
#include <torch/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "core/export.h"

DOJO_PUBLIC_BEGIN
namespace dojo::nn {

// linear, relu, relu6, elu, selu, gelu, tanh, sigmoid, hard_sigmoid, softmax, log_softmax, softplus,
// softsign, swish (silu), leaky_relu, exponential. Softmax runs over the last axis, as in Keras.
torch::Tensor activate(const std::string& name, const torch::Tensor& x);
// Throws dojo::Error naming `where` and the closest known name.
void check_activation(const std::string& name, const std::string& where);
const std::vector<std::string>& activation_names();

// glorot_uniform, glorot_normal, he_uniform, he_normal, lecun_uniform, lecun_normal, orthogonal,
// random_normal, random_uniform, zeros, ones. fan_in/fan_out follow Keras: for a kernel of
// receptive field r, fan_in = r × input channels and fan_out = r × output channels.
torch::Tensor initialize(const std::string& name, torch::IntArrayRef shape, std::int64_t fan_in,
                         std::int64_t fan_out);
void check_initializer(const std::string& name, const std::string& where);

}  // namespace dojo::nn

DOJO_PUBLIC_END
