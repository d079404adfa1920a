// REINFORCE (Williams 1992) as Géron teaches it on CartPole (Hands-On Machine Learning, ch. 18):
//
//   repeat n_iterations times:
//     play n_episodes_per_update episodes with the current stochastic policy, keeping (s_t, a_t, r_t)
//     G_t = Σ_k γ^k r_{t+k} within each episode
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

#include "envs/env.h"
#include "rl/advantage.h"
#include "rl/agent.h"

namespace dojo::rl {

struct REINFORCEOptions {
  TORCH_ARG(double, learning_rate) = 0.01;  // Adam
  TORCH_ARG(double, gamma) = 0.95;
  TORCH_ARG(std::int64_t, n_episodes_per_update) = 10;
  TORCH_ARG(std::int64_t, n_iterations) = 150;  // 0: until n_timesteps
  TORCH_ARG(std::vector<std::int64_t>, net_arch) = std::vector<std::int64_t>{5};
  TORCH_ARG(std::string, activation) = "elu";
  TORCH_ARG(bool, normalize_returns) = true;  // over all the iteration's episodes
  TORCH_ARG(bool, baseline) = false;          // a learned state value subtracted from the returns
  TORCH_ARG(double, max_grad_norm) = 0.0;     // 0: no clipping

 public:
  void validate() const;
  template <class F>
  void visit(F&& f) {
    f("learning_rate", learning_rate_);
    f("gamma", gamma_);
    f("n_episodes_per_update", n_episodes_per_update_);
    f("n_iterations", n_iterations_);
    f("net_arch", net_arch_);
    f("activation", activation_);
    f("normalize_returns", normalize_returns_);
    f("baseline", baseline_);
    f("max_grad_norm", max_grad_norm_);
  }
};

class REINFORCE final : public Agent {
 public:
  // env: a Discrete action space and a flat Box observation space.
  REINFORCE(std::unique_ptr<envs::Env> env, REINFORCEOptions options, std::uint64_t seed);

  std::string algo() const override { return "reinforce"; }
  void learn(std::int64_t total_timesteps, Callback& callback) override;
  // deterministic: the most probable action; otherwise a draw from π(·|s).
  torch::Tensor act(const torch::Tensor& obs, bool deterministic = true) override;
  std::int64_t num_timesteps() const override { return num_timesteps_; }
  void save(const std::filesystem::path& path,
            const std::map<std::string, double>& extra = {}) const override;
  std::map<std::string, double> load(const std::filesystem::path& path) override;

  // log π(a|s) for a batch: obs [T, d], actions [T] -> [T].
  torch::Tensor log_prob(const torch::Tensor& obs, const torch::Tensor& actions);
  // One policy-gradient step on an iteration's episodes, each given as (obs [T, d], actions [T],
  // rewards); returns {"loss", "mean_return", ...}.
  struct Episode {
    std::vector<torch::Tensor> obs;
    std::vector<std::int64_t> actions;
    std::vector<double> rewards;
  };
  std::map<std::string, double> update(const std::vector<Episode>& episodes);

  torch::nn::Sequential policy() const { return policy_; }
  std::int64_t iterations() const { return iterations_; }

 private:
  torch::Tensor probabilities(const torch::Tensor& obs);  // [B, n]

  std::unique_ptr<envs::Env> env_;
  REINFORCEOptions opts_;
  std::uint64_t seed_;
  envs::Discrete action_space_;
  torch::nn::Sequential policy_, value_{nullptr};  // value_: only with a baseline
  std::unique_ptr<torch::optim::Optimizer> optimizer_;
  std::mt19937_64 rng_;
  std::int64_t num_timesteps_ = 0, iterations_ = 0;
  bool env_started_ = false;
  std::map<std::string, double> last_metrics_;
};

}  // namespace dojo::rl
