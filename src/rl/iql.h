// Implicit Q-Learning (Kostrikov, Nair & Levine 2021, "Offline Reinforcement Learning with Implicit
// Q-Learning"): never queries Q at actions outside the dataset. V is an upper expectile of Q over the
// data's actions, Q backs up V, and the policy is extracted by advantage-weighted regression.
//
//   for each gradient step on a minibatch (s, a, r, s'):
//     V:  minimise E[L_τ(Q̄(s, a) − V(s))],  L_τ(u) = |τ − 1(u < 0)| u²,  Q̄ = min of the target twins
//     Q:  minimise Σ_i (Q_i(s, a) − (r + γ (1 − terminated) V(s')))²
//     π:  maximise E[exp(β (Q̄(s, a) − V(s))) · log π(a|s)], the weight clipped at max_weight
//     Q̄ <- τ Q + (1 − τ) Q̄
//
// As CORL's locomotion runs: observations normalised by the dataset's mean and std, rewards scaled by
// 1000 / (max − min episode return).
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

struct IQLOptions {
  TORCH_ARG(std::string, dataset) = "";
  TORCH_ARG(double, expectile) = 0.7;  // τ
  TORCH_ARG(double, beta) = 3.0;       // β, the inverse temperature of the advantage weights
  TORCH_ARG(double, max_weight) = 100.0;
  TORCH_ARG(bool, normalize_observations) = true;
  TORCH_ARG(bool, normalize_rewards) = true;
  TORCH_ARG(double, learning_rate) = 3e-4;
  TORCH_ARG(std::int64_t, batch_size) = 256;
  TORCH_ARG(double, gamma) = 0.99;
  TORCH_ARG(double, tau) = 0.005;
  TORCH_ARG(std::vector<std::int64_t>, net_arch) = std::vector<std::int64_t>{256, 256};
  TORCH_ARG(std::string, device) = "auto";

 public:
  void validate() const { core::check_options(*this); }
  template <class F>
  void visit(F&& f) {
    f("dataset", dataset_);
    f("expectile", expectile_, core::in_open_closed(0, 1));
    f("beta", beta_, core::non_negative());
    f("max_weight", max_weight_, core::positive());
    f("normalize_observations", normalize_observations_);
    f("normalize_rewards", normalize_rewards_);
    f("learning_rate", learning_rate_, core::positive());
    f("batch_size", batch_size_, core::positive());
    f("gamma", gamma_, core::in(0, 1));
    f("tau", tau_, core::in_open_closed(0, 1));
    f("net_arch", net_arch_, core::layer_sizes());
    f("device", device_, core::device_name());
  }
};

class IQL final : public OfflineAgent {
 public:
  IQL(envs::EnvFactory env, IQLOptions options, std::uint64_t seed);
  static void check_env(const IQLOptions& options, const envs::Env& env);

  std::string algo() const override { return "iql"; }
  torch::Tensor act_batch(const torch::Tensor& obs, bool deterministic = true) override;
  std::map<std::string, double> update(const Batch& batch) override;
  // L_τ averaged: mean |τ − 1(u < 0)| u² for u = Q − V.
  static torch::Tensor expectile_loss(const torch::Tensor& u, double expectile);
  // The advantage weights exp(β A) clipped at max_weight.
  static torch::Tensor awr_weights(const torch::Tensor& advantage, double beta, double max_weight);
  double reward_scale() const { return reward_scale_; }

 private:
  std::string options_yaml() const override;
  void checkpoint_parts(core::CheckpointParts& parts) override;

  IQLOptions opts_;
  double reward_scale_ = 1.0;
  TwinQ q_{nullptr}, q_target_{nullptr};
  torch::nn::Sequential v_{nullptr};
  TanhGaussianPolicy policy_{nullptr};
  std::unique_ptr<torch::optim::Optimizer> q_optimizer_, v_optimizer_, policy_optimizer_;
};

}  // namespace dojo::rl

DOJO_PUBLIC_END
