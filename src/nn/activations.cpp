#include "nn/activations.h"

#include <torch/torch.h>

#include <cmath>

#include "core/error.h"
#include "core/strings.h"

namespace dojo::nn {

const std::vector<std::string>& activation_names() {
  static const std::vector<std::string> names = {
      "linear",   "relu",    "relu6",        "elu",        "selu",        "gelu",
      "tanh",     "sigmoid", "hard_sigmoid", "softmax",    "log_softmax", "softplus",
      "softsign", "swish",   "silu",         "leaky_relu", "exponential"};
  return names;
}

void check_activation(const std::string& name, const std::string& where) {
  const auto& names = activation_names();
  if (std::find(names.begin(), names.end(), name) == names.end()) {
    throw Error(where + ": unknown activation '" + name + "'" + core::did_you_mean(name, names));
  }
}

torch::Tensor activate(const std::string& name, const torch::Tensor& x) {
  if (name == "linear" || name.empty()) return x;
  if (name == "relu") return torch::relu(x);
  if (name == "relu6") return torch::clamp(x, 0.0, 6.0);
  if (name == "elu") return torch::elu(x);
  if (name == "selu") return torch::selu(x);
  if (name == "gelu") return torch::gelu(x);
  if (name == "tanh") return torch::tanh(x);
  if (name == "sigmoid") return torch::sigmoid(x);
  if (name == "hard_sigmoid") return torch::clamp(0.2 * x + 0.5, 0.0, 1.0);  // Keras' definition
  if (name == "softmax") return torch::softmax(x, -1);
  if (name == "log_softmax") return torch::log_softmax(x, -1);
  if (name == "softplus") return torch::softplus(x);
  if (name == "softsign") return x / (1 + torch::abs(x));
  if (name == "swish" || name == "silu") return torch::silu(x);
  if (name == "leaky_relu") return torch::leaky_relu(x, 0.2);  // Keras' default slope
  if (name == "exponential") return torch::exp(x);
  check_activation(name, "activate");
  return x;
}

namespace {

const std::vector<std::string>& initializer_names() {
  static const std::vector<std::string> names = {
      "glorot_uniform", "glorot_normal", "he_uniform",     "he_normal", "lecun_uniform", "lecun_normal",
      "orthogonal",     "random_normal", "random_uniform", "zeros",     "ones"};
  return names;
}

// Keras' truncated normal: values beyond two standard deviations are drawn again. Its variance
// scaling divides the standard deviation by 0.8796, the std of a unit normal truncated at ±2.
torch::Tensor truncated_normal(torch::IntArrayRef shape, double stddev) {
  auto t = torch::randn(shape);
  for (auto out = t.abs() > 2; out.any().item<bool>(); out = t.abs() > 2) {
    t = torch::where(out, torch::randn(shape), t);
  }
  return t * (stddev / 0.87962566103423978);
}

torch::Tensor variance_scaling(double scale, std::int64_t fan, bool uniform, torch::IntArrayRef shape) {
  const double variance = scale / static_cast<double>(std::max<std::int64_t>(fan, 1));
  if (uniform) {
    const double limit = std::sqrt(3.0 * variance);
    return torch::empty(shape).uniform_(-limit, limit);
  }
  return truncated_normal(shape, std::sqrt(variance));
}

}  // namespace

void check_initializer(const std::string& name, const std::string& where) {
  const auto& names = initializer_names();
  if (std::find(names.begin(), names.end(), name) == names.end()) {
    throw Error(where + ": unknown initializer '" + name + "'" + core::did_you_mean(name, names));
  }
}

torch::Tensor initialize(const std::string& name, torch::IntArrayRef shape, std::int64_t fan_in,
                         std::int64_t fan_out) {
  torch::NoGradGuard no_grad;
  if (name == "zeros") return torch::zeros(shape);
  if (name == "ones") return torch::ones(shape);
  if (name == "random_normal") return torch::randn(shape) * 0.05;
  if (name == "random_uniform") return torch::empty(shape).uniform_(-0.05, 0.05);
  if (name == "glorot_uniform") return variance_scaling(2.0, fan_in + fan_out, true, shape);
  if (name == "glorot_normal") return variance_scaling(2.0, fan_in + fan_out, false, shape);
  if (name == "he_uniform") return variance_scaling(2.0, fan_in, true, shape);
  if (name == "he_normal") return variance_scaling(2.0, fan_in, false, shape);
  if (name == "lecun_uniform") return variance_scaling(1.0, fan_in, true, shape);
  if (name == "lecun_normal") return variance_scaling(1.0, fan_in, false, shape);
  if (name == "orthogonal") {
    // Orthonormal rows or columns from the QR decomposition of a Gaussian matrix, signs fixed so the
    // result is uniformly distributed (Saxe et al. 2014, as Keras does it).
    const std::int64_t rows = shape[0];
    const std::int64_t cols = c10::multiply_integers(shape) / rows;
    auto a = torch::randn({std::max(rows, cols), std::min(rows, cols)});
    auto [q, r] = torch::linalg::qr(a);
    q = q * torch::sign(torch::diagonal(r));
    if (rows < cols) q = q.t();
    return q.contiguous().reshape(shape).clone();
  }
  check_initializer(name, "initialize");
  return {};
}

}  // namespace dojo::nn
