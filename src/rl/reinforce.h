// REINFORCE (Williams 1992) as Géron teaches it on CartPole (Hands-On Machine Learning, ch. 18):
//
//   repeat n_iterations times:
//     play n_episodes_per_update episodes with the current stochastic policy, keeping (s_t, a_t, r_t)
//     G_t = Σ_k γ^k r_{t+k} within each episode (+ γ^(T−t) V(s_T) where a time limit cut it: with a
//           baseline; Monte Carlo returns without one cannot see past the cut)
//     A_t = (G_t − mean) / std over all of the iteration's steps        [normalize_returns]
//           (minus a learned V(s_t) fitted to those targets)            [baseline]
//     one gradient step on  mean_t( −A_t log π(a_t | s_t) )
//
// With two actions the policy is Géron's: one sigmoid unit, the probability of action 0 ("left");
// with more, a softmax over the actions.
#pragma once
#include <torch/arg.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/optim/optimizer.h>

#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "core/device.h"
#include "core/export.h"
#include "core/options.h"
#include "envs/env.h"
#include "envs/factory.h"
#include "rl/advantage.h"
#include "rl/agent.h"
#include "rl/networks.h"

DOJO_PUBLIC_BEGIN
namespace dojo::rl {

struct REINFORCEOptions {
  TORCH_ARG(double, learning_rate) = 0.01;  // Adam
  TORCH_ARG(double, gamma) = 0.95;
  TORCH_ARG(std::int64_t, n_episodes_per_update) = 10;
  TORCH_ARG(std::int64_t, n_iterations) = 150;  // 0: until n_timesteps
  TORCH_ARG(std::vector<std::int64_t>, net_arch) = std::vector<std::int64_t>{5};
  TORCH_ARG(std::string, activation) = "elu";
  TORCH_ARG(bool, normalize_returns) = true;  // over all the iteration's episodes
  // A learned state value V(s), fitted to the returns, subtracted from them, and bootstrapped from
  // where a time limit cut an episode.
  TORCH_ARG(bool, baseline) = false;
  TORCH_ARG(double, max_grad_norm) = 0.0;   // 0: no clipping
  TORCH_ARG(std::string, device) = "auto";  // cpu | cuda | cuda:N | auto (core/device.h)

 public:
  void validate() const;
  template <class F>
  void visit(F&& f) {
    f("learning_rate", learning_rate_, core::positive());
    f("gamma", gamma_, core::in(0, 1));
    f("n_episodes_per_update", n_episodes_per_update_, core::positive());
    f("n_iterations", n_iterations_, core::non_negative("0: until n_timesteps"));
    f("net_arch", net_arch_, core::layer_sizes());
    f("activation", activation_, core::one_of({"relu", "tanh", "elu"}));
    f("normalize_returns", normalize_returns_);
    f("baseline", baseline_);
    f("max_grad_norm", max_grad_norm_, core::non_negative("0: no clipping"));
    f("device", device_, core::device_name());
  }
};

class REINFORCE final : public Agent {
 public:
  // env: a Discrete action space and a flat Box observation space.
  REINFORCE(envs::EnvFactory env, REINFORCEOptions options, std::uint64_t seed);
  static void check_env(const REINFORCEOptions& options, const envs::Env& env);

  std::string algo() const override { return "reinforce"; }
  void learn(std::int64_t total_timesteps, Callback& callback) override;
  Progress progress(std::int64_t total_timesteps) const override;
  // deterministic: the most probable action; otherwise a draw from π(·|s).
  torch::Tensor act_batch(const torch::Tensor& obs, bool deterministic = true) override;

  // log π(a|s) for a batch: obs [T, d], actions [T] -> [T].
  torch::Tensor log_prob(const torch::Tensor& obs, const torch::Tensor& actions);
  // One episode of an iteration: what was seen, done and got, and how it ended. A truncated
  // episode keeps its final observation, to bootstrap from.
  struct Episode {
    std::vector<torch::Tensor> obs;
    std::vector<std::int64_t> actions;
    std::vector<double> rewards;
    bool truncated = false;
    torch::Tensor final_obs;
  };
  // One policy-gradient step on an iteration's episodes; returns {"loss", "mean_return", ...}.
  std::map<std::string, double> update(const std::vector<Episode>& episodes);
  // Each episode's returns G_t, bootstrapped where truncated (with a baseline), concatenated.
  std::vector<double> returns(const std::vector<Episode>& episodes);

  torch::nn::Sequential policy() const { return policy_; }
  torch::nn::Sequential value() const { return value_; }
  std::int64_t iterations() const { return iterations_; }

 private:
  void save_state(core::CheckpointWriter& w) const override;
  void load_state(core::CheckpointReader& r) override;
  torch::Tensor probabilities(const torch::Tensor& obs);  // [B, n]

  std::unique_ptr<envs::Env> env_;
  REINFORCEOptions opts_;
  std::uint64_t seed_;
  envs::Discrete action_space_;
  torch::nn::Sequential policy_, value_{nullptr};  // value_: only with a baseline
  std::unique_ptr<torch::optim::Optimizer> optimizer_;
  std::int64_t iterations_ = 0;
  bool env_started_ = false;
};

}  // namespace dojo::rl

DOJO_PUBLIC_END
