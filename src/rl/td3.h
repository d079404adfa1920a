// Twin Delayed DDPG (Fujimoto, van Hoof & Meger 2018, "Addressing Function Approximation Error in
// Actor-Critic Methods"): a deterministic policy μ with three fixes to DDPG's overestimation.
//
//   for each env step:  a = clip(μ(s) + ε, −1, 1), ε ~ N(0, noise_std²) (uniform before learning_starts)
//   every train_freq steps:  gradient_steps × on a minibatch
//     critics: minimise Σ_i (Q_i(s, a) − y)²,
//              y = r + γ (1 − terminated) min_i Q̄_i(s', ã'),   clipped double Q
//              ã' = clip(μ̄(s') + clip(ε', −c, c), −1, 1), ε' ~ N(0, σ̃²)   target policy smoothing
//     every policy_delay updates:                                             delayed policy updates
//       actor:   maximise Q_1(s, μ(s))
//       targets: Q̄ <- τ Q + (1 − τ) Q̄,  μ̄ <- τ μ + (1 − τ) μ̄
//
// Keys and defaults are Stable-Baselines3's (σ̃ = target_policy_noise 0.2, c = target_noise_clip 0.5,
// policy_delay 2, networks [400, 300]); the exploration noise is RL Zoo's noise_type and noise_std.
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
#include "rl/continuous.h"
#include "rl/replay.h"

DOJO_PUBLIC_BEGIN
namespace dojo::rl {

struct TD3Options {
  TORCH_ARG(double, learning_rate) = 1e-3;
  TORCH_ARG(std::int64_t, buffer_size) = 1'000'000;
  TORCH_ARG(std::int64_t, learning_starts) = 100;
  TORCH_ARG(std::int64_t, batch_size) = 256;
  TORCH_ARG(double, tau) = 0.005;
  TORCH_ARG(double, gamma) = 0.99;
  TORCH_ARG(std::int64_t, train_freq) = 1;
  TORCH_ARG(std::int64_t, gradient_steps) = 1;
  TORCH_ARG(std::int64_t, policy_delay) = 2;
  TORCH_ARG(double, target_policy_noise) = 0.2;
  TORCH_ARG(double, target_noise_clip) = 0.5;
  // SB3's action_noise is None by default; RL Zoo's presets set normal 0.1, as Fujimoto et al. do.
  TORCH_ARG(std::string, noise_type) = "none";
  TORCH_ARG(double, noise_std) = 0.1;
  TORCH_ARG(std::vector<std::int64_t>, net_arch) = std::vector<std::int64_t>{400, 300};
  TORCH_ARG(std::string, activation) = "relu";
  TORCH_ARG(double, max_grad_norm) = 0.0;
  TORCH_ARG(std::string, device) = "auto";

 public:
  void validate() const;
  template <class F>
  void visit(F&& f) {
    f("learning_rate", learning_rate_, core::positive());
    f("buffer_size", buffer_size_, core::positive());
    f("learning_starts", learning_starts_, core::non_negative());
    f("batch_size", batch_size_, core::positive());
    f("tau", tau_, core::in_open_closed(0, 1));
    f("gamma", gamma_, core::in(0, 1));
    f("train_freq", train_freq_, core::positive());
    f("gradient_steps", gradient_steps_, core::positive());
    f("policy_delay", policy_delay_, core::positive());
    f("target_policy_noise", target_policy_noise_, core::non_negative());
    f("target_noise_clip", target_noise_clip_, core::non_negative());
    f("noise_type", noise_type_, core::one_of({"none", "normal", "ornstein-uhlenbeck"}));
    f("noise_std", noise_std_, core::non_negative());
    f("net_arch", net_arch_, core::layer_sizes());
    f("activation", activation_, core::one_of({"relu", "tanh", "elu"}));
    f("max_grad_norm", max_grad_norm_, core::non_negative("0: no clipping"));
    f("device", device_, core::device_name());
  }
};

class TD3 final : public Agent {
 public:
  TD3(envs::EnvFactory env, TD3Options options, std::uint64_t seed);
  static void check_env(const TD3Options& options, const envs::Env& env);

  std::string algo() const override { return "td3"; }
  void learn(std::int64_t total_timesteps, Callback& callback) override;
  // μ(s) in env units (with the exploration noise when not deterministic).
  torch::Tensor act_batch(const torch::Tensor& obs, bool deterministic = true) override;

  // One critic step, and every policy_delay-th call an actor step and the target updates; returns
  // {"critic_loss", "q_mean"} and, on actor steps, "actor_loss".
  std::map<std::string, double> update(const Batch& batch);
  // The smoothed target action ã' = clip(μ̄(s') + clip(ε', −c, c), −1, 1) for a given ε'.
  torch::Tensor target_action(const torch::Tensor& next_obs, const torch::Tensor& eps);

  const TD3Options& options() const { return opts_; }
  const ReplayBuffer& replay() const { return replay_; }
  torch::nn::Sequential actor() const { return actor_; }
  torch::nn::Sequential actor_target() const { return actor_target_; }
  TwinQ critic() const { return critic_; }
  TwinQ critic_target() const { return critic_target_; }
  std::int64_t n_updates() const { return n_updates_; }

 private:
  void save_state(core::CheckpointWriter& w) const override;
  void load_state(core::CheckpointReader& r) override;

  std::unique_ptr<envs::Env> env_;
  TD3Options opts_;
  std::uint64_t seed_;
  ActionScaler scaler_;
  torch::nn::Sequential actor_, actor_target_;  // obs -> net_arch -> |A| -> tanh
  TwinQ critic_{nullptr}, critic_target_{nullptr};
  std::unique_ptr<torch::optim::Optimizer> actor_optimizer_, critic_optimizer_;
  ReplayBuffer replay_;
  ActionNoise noise_;
  std::int64_t n_updates_ = 0;
  bool env_started_ = false;
};

}  // namespace dojo::rl

DOJO_PUBLIC_END
