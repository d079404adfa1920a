#include "rl/networks.h"

#include <torch/torch.h>

#include "core/error.h"
#include "core/options.h"
#include "nn/mlp.h"

namespace dojo::rl {

namespace {

// The layers' output size along one dimension: (n − k) / s + 1.
std::int64_t conv_out(std::int64_t n, std::int64_t k, std::int64_t s) { return (n - k) / s + 1; }

const envs::Box* box_of_rank(const envs::Space& space, std::size_t rank) {
  const auto* b = std::get_if<envs::Box>(&space);
  return b && b->shape.size() == rank ? b : nullptr;
}

Trunk minatar_trunk(const std::vector<std::int64_t>& shape) {
  const auto h = shape[0], w = shape[1], c = shape[2];
  return {torch::nn::Sequential(torch::nn::Functional([](const torch::Tensor& x) {
                                  return x.permute({0, 3, 1, 2}).to(torch::kFloat32);
                                }),
                                torch::nn::Conv2d(torch::nn::Conv2dOptions(c, 16, 3)), torch::nn::ReLU(),
                                torch::nn::Flatten()),
          16 * (h - 2) * (w - 2), 128};
}

Trunk nature_trunk(const std::vector<std::int64_t>& shape) {
  const auto h = conv_out(conv_out(conv_out(shape[0], 8, 4), 4, 2), 3, 1);
  const auto w = conv_out(conv_out(conv_out(shape[1], 8, 4), 4, 2), 3, 1);
  return {torch::nn::Sequential(
              torch::nn::Functional([](const torch::Tensor& x) {
                return x.permute({0, 3, 1, 2}).to(torch::kFloat32) / 255.0;
              }),
              torch::nn::Conv2d(torch::nn::Conv2dOptions(shape[2], 32, 8).stride(4)), torch::nn::ReLU(),
              torch::nn::Conv2d(torch::nn::Conv2dOptions(32, 64, 4).stride(2)), torch::nn::ReLU(),
              torch::nn::Conv2d(torch::nn::Conv2dOptions(64, 64, 3).stride(1)), torch::nn::ReLU(),
              torch::nn::Flatten()),
          64 * h * w, 512};
}

}  // namespace

void check_trunk(const std::string& algo, const std::string& network, const envs::Space& obs) {
  const auto has = envs::to_string(obs);
  if (network == "mlp") {
    if (!std::get_if<envs::Box>(&obs))
      throw Error(algo + "'s mlp network needs a Box observation space; the env has " + has);
    return;
  }
  if (network != "minatar" && network != "nature")
    throw Error("network = '" + network + "': expected mlp, minatar or nature");
  const auto* b = box_of_rank(obs, 3);
  if (!b)
    throw Error(algo + "'s " + network + " network needs an [H, W, C] Box observation space; the env has " +
                has);
  if (network == "minatar" && (b->shape[0] < 3 || b->shape[1] < 3))
    throw Error(algo + "'s minatar network needs grids of at least 3×3; the env has " + has);
  if (network == "nature") {
    if (b->dtype != torch::kUInt8)
      throw Error(algo + "'s nature network needs uint8 frame stacks; the env has " + has);
    if (conv_out(conv_out(conv_out(b->shape[0], 8, 4), 4, 2), 3, 1) < 1 ||
        conv_out(conv_out(conv_out(b->shape[1], 8, 4), 4, 2), 3, 1) < 1) {
      throw Error(algo + "'s nature network needs frames of at least 36×36; the env has " + has);
    }
  }
}

Trunk make_trunk(const std::string& algo, const std::string& network, const envs::Space& obs,
                 const std::vector<std::int64_t>& net_arch, const std::string& activation) {
  check_trunk(algo, network, obs);
  const auto& box = std::get<envs::Box>(obs);
  if (network == "minatar") return minatar_trunk(box.shape);
  if (network == "nature") return nature_trunk(box.shape);
  core::layer_sizes().check("net_arch", net_arch);
  auto body = nn::mlp_body(box.numel(), net_arch, activation);
  if (box.shape.size() == 1 && box.dtype == torch::kFloat32) return {body, net_arch.back(), 0};
  // Flat float32 input whatever the space's shape and dtype (MinAtar's bool grids, for instance).
  torch::nn::Sequential layers(
      torch::nn::Functional([](const torch::Tensor& x) { return x.to(torch::kFloat32).flatten(1); }));
  layers->extend(*body);
  return {layers, net_arch.back(), 0};
}

torch::nn::Sequential linear_head(std::int64_t features, std::int64_t hidden, std::int64_t out) {
  if (hidden == 0) return torch::nn::Sequential(torch::nn::Linear(features, out));
  return torch::nn::Sequential(torch::nn::Linear(features, hidden), torch::nn::ReLU(),
                               torch::nn::Linear(hidden, out));
}

DuelingImpl::DuelingImpl(std::int64_t features, std::int64_t hidden, std::int64_t actions)
    : value(register_module("value", linear_head(features, hidden, 1))),
      advantage(register_module("advantage", linear_head(features, hidden, actions))) {}

torch::Tensor DuelingImpl::forward(const torch::Tensor& x) {
  const auto a = advantage->forward(x);
  return value->forward(x) + a - a.mean(1, /*keepdim=*/true);
}

torch::nn::Sequential q_network(Trunk trunk, std::int64_t actions, bool dueling) {
  if (dueling) {
    trunk.layers->push_back(Dueling(trunk.features, trunk.hidden, actions));
  } else {
    trunk.layers->extend(*linear_head(trunk.features, trunk.hidden, actions));
  }
  return trunk.layers;
}

void orthogonal_init(torch::nn::Module& net, double gain, double last_gain) {
  torch::NoGradGuard no_grad;
  std::vector<torch::nn::LinearImpl*> layers;
  for (auto& m : net.modules(/*include_self=*/false)) {
    if (auto* l = m->as<torch::nn::Linear>()) layers.push_back(l);
  }
  for (std::size_t i = 0; i < layers.size(); ++i) {
    torch::nn::init::orthogonal_(layers[i]->weight, i + 1 == layers.size() ? last_gain : gain);
    torch::nn::init::zeros_(layers[i]->bias);
  }
}

void soft_update(torch::nn::Module& target, const torch::nn::Module& online, double tau) {
  torch::NoGradGuard no_grad;
  const auto from = online.parameters();
  auto to = target.parameters();
  for (std::size_t i = 0; i < from.size(); ++i) {
    if (tau >= 1.0)
      to[i].copy_(from[i]);
    else
      to[i].mul_(1.0 - tau).add_(from[i], tau);
  }
  const auto from_buffers = online.buffers();
  auto to_buffers = target.buffers();
  for (std::size_t i = 0; i < from_buffers.size(); ++i) to_buffers[i].copy_(from_buffers[i]);
}

void init_target(torch::nn::Module& target, const torch::nn::Module& online) {
  soft_update(target, online, 1.0);
  for (auto& p : target.parameters()) p.requires_grad_(false);
}

}  // namespace dojo::rl
