// The networks agents are made of, written once: feature trunks (an MLP on flat observations,
// Young & Tian's MinAtar CNN, Mnih et al.'s Nature CNN), heads (linear, Dueling), initialisers and
// the target-network update. A new agent composes these rather than writing its own.
#pragma once
#include <torch/nn/module.h>
#include <torch/nn/modules/container/sequential.h>

#include <cstdint>
#include <string>
#include <vector>

#include "core/export.h"
#include "envs/space.h"

DOJO_PUBLIC_BEGIN
namespace dojo::rl {

// A feature trunk: observations [B, *obs_shape] -> features [B, features]. `hidden` is the width of
// the layer a head puts before its outputs (0: none), so Q-heads read like the papers' networks.
struct Trunk {
  torch::nn::Sequential layers;
  std::int64_t features = 0;
  std::int64_t hidden = 0;
};

// The trunk named `network` for an observation space:
//   mlp      net_arch's hidden layers with `activation` on a flattened Box (float32);
//   minatar  Young & Tian (2019): [H, W, C] grid -> 16 3×3 filters, stride 1, ReLU; head hidden 128;
//   nature   Mnih et al. (2015): [84, 84, k] uint8 frames / 255 -> 32 8×8/4, 64 4×4/2, 64 3×3/1,
//            ReLU after each; head hidden 512.
// Throws dojo::Error naming the algorithm, the network and the space when they do not fit.
Trunk make_trunk(const std::string& algo, const std::string& network, const envs::Space& observations,
                 const std::vector<std::int64_t>& net_arch, const std::string& activation);
// Whether make_trunk accepts `network` for these observations, and if not, why (for config checks
// that must run before anything is built or written).
void check_trunk(const std::string& algo, const std::string& network, const envs::Space& observations);
// The names make_trunk knows.
inline const std::vector<std::string>& trunk_names() {
  static const std::vector<std::string> names{"mlp", "minatar", "nature"};
  return names;
}

// features -> hidden ReLU -> out, or one linear layer when hidden is 0.
torch::nn::Sequential linear_head(std::int64_t features, std::int64_t hidden, std::int64_t out);

// The Dueling head (Wang et al. 2016): separate value and advantage streams on the shared features,
// recombined as Q(s, a) = V(s) + A(s, a) − mean_a' A(s, a'), the mean making V and A identifiable.
struct DuelingImpl : torch::nn::Module {
  DuelingImpl(std::int64_t features, std::int64_t hidden, std::int64_t actions);
  torch::Tensor forward(const torch::Tensor& x);
  torch::nn::Sequential value, advantage;
};
TORCH_MODULE(Dueling);

// A Q-network: the trunk, then one value per action through a linear or Dueling head.
torch::nn::Sequential q_network(Trunk trunk, std::int64_t actions, bool dueling);

// Orthogonal weights with `gain` and zero biases on every linear layer, the last one with
// `last_gain` (SB3's and CleanRL's initialisation for PPO and A2C).
void orthogonal_init(torch::nn::Module& net, double gain, double last_gain);

// target <- τ·online + (1 − τ)·target for parameters; buffers (running statistics) are copied, as
// an average of them has no meaning. τ = 1 is the hard copy of DQN's target network.
void soft_update(torch::nn::Module& target, const torch::nn::Module& online, double tau);
// A target network's start: a copy of `online`, frozen (only soft_update moves it).
void init_target(torch::nn::Module& target, const torch::nn::Module& online);

}  // namespace dojo::rl

DOJO_PUBLIC_END
