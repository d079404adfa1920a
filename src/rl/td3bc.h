// TD3+BC (Fujimoto & Gu 2021, "A Minimalist Approach to Offline Reinforcement Learning"): TD3 on a
// fixed dataset with one change — the actor's loss adds behaviour cloning, weighted against Q by a
// scale-free λ — and the observations normalised by the dataset's mean and std.
//
//   s <- (s − mean) / (std + 1e−3) for every observation, the dataset's and the env's
//   for each gradient step on a minibatch (s, a, r, s'):
//     critics: minimise Σ_i (Q_i(s, a) − y)²,  y = r + γ (1 − terminated) min_i Q̄_i(s', ã'),
//              ã' = clip(μ̄(s') + clip(ε, −c, c), −1, 1), ε ~ N(0, σ̃²)
//     every policy_delay steps:
//       actor:   minimise −λ Q_1(s, μ(s)) + (μ(s) − a)²,  λ = α / mean |Q_1(s, μ(s))|  (α 2.5, λ detached)
//       targets: Q̄ <- τ Q + (1 − τ) Q̄,  μ̄ <- τ μ + (1 − τ) μ̄
#pragma once
#include <torch/arg.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/optim/optimizer.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/device.h"
#include "core/export.h"
#include "core/options.h"
#include "envs/factory.h"
#include "rl/agent.h"
#include "rl/offline.h"

DOJO_PUBLIC_BEGIN
namespace dojo::rl {

struct TD3BCOptions {
  TORCH_ARG(std::string, dataset) = "";
  TORCH_ARG(double, alpha) = 2.5;  // α: the weight of Q against behaviour cloning
  TORCH_ARG(bool, normalize_observations) = true;
  TORCH_ARG(double, learning_rate) = 3e-4;
  TORCH_ARG(std::int64_t, batch_size) = 256;
  TORCH_ARG(double, gamma) = 0.99;
  TORCH_ARG(double, tau) = 0.005;
  TORCH_ARG(std::int64_t, policy_delay) = 2;
  TORCH_ARG(double, target_policy_noise) = 0.2;
  TORCH_ARG(double, target_noise_clip) = 0.5;
  TORCH_ARG(std::vector<std::int64_t>, net_arch) = std::vector<std::int64_t>{256, 256};
  TORCH_ARG(std::string, device) = "auto";

 public:
  void validate() const { core::check_options(*this); }
  template <class F>
  void visit(F&& f) {
    f("dataset", dataset_);
    f("alpha", alpha_, core::non_negative());
    f("normalize_observations", normalize_observations_);
    f("learning_rate", learning_rate_, core::positive());
    f("batch_size", batch_size_, core::positive());
    f("gamma", gamma_, core::in(0, 1));
    f("tau", tau_, core::in_open_closed(0, 1));
    f("policy_delay", policy_delay_, core::positive());
    f("target_policy_noise", target_policy_noise_, core::non_negative());
    f("target_noise_clip", target_noise_clip_, core::non_negative());
    f("net_arch", net_arch_, core::layer_sizes());
    f("device", device_, core::device_name());
  }
};

class TD3BC final : public OfflineAgent {
 public:
  TD3BC(envs::EnvFactory env, TD3BCOptions options, std::uint64_t seed);
  static void check_env(const TD3BCOptions& options, const envs::Env& env);

  std::string algo() const override { return "td3bc"; }
  torch::Tensor act_batch(const torch::Tensor& obs, bool deterministic = true) override;
  // One step on a minibatch (raw observations, actions in [-1, 1]).
  std::map<std::string, double> update(const Batch& batch) override;
  // The actor's loss for normalised observations and data actions, given λ's α: (loss, λ).
  static std::pair<torch::Tensor, double> actor_loss(const torch::Tensor& q, const torch::Tensor& pi_action,
                                                     const torch::Tensor& data_action, double alpha);

 private:
  std::string options_yaml() const override;
  void checkpoint_parts(core::CheckpointParts& parts) override;

  TD3BCOptions opts_;
  torch::nn::Sequential actor_{nullptr}, actor_target_{nullptr};
  TwinQ critic_{nullptr}, critic_target_{nullptr};
  std::unique_ptr<torch::optim::Optimizer> actor_optimizer_, critic_optimizer_;
  std::int64_t n_updates_ = 0;
};

}  // namespace dojo::rl

DOJO_PUBLIC_END
