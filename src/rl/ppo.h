// Proximal Policy Optimization (Schulman et al. 2017) with the details that make it work (Huang et
// al. 2022, "The 37 implementation details of PPO"; SB3's and CleanRL's defaults):
//
//   repeat until n_timesteps:
//     run the policy for n_steps in each of n_envs vector envs (next-step autoreset)
//     A, R = GAE(γ, λ) over the rollout; learning rate and clip range annealed (optional)
//     for n_epochs: for minibatches of batch_size transitions (shuffled):
//       loss = −mean(min(ρA, clip(ρ, 1±ε)A)) + vf_coef · (V − R)² − ent_coef · H[π]
//       with A normalised per minibatch, V optionally clipped around its old value,
//       gradients clipped to max_grad_norm, and the epochs stopped early once the KL passes
//       1.5 × target_kl
//
// Discrete actions: a categorical over the actor's logits. Box actions: a diagonal Gaussian with a
// state-independent log standard deviation, sampled unbounded and clipped to the space's bounds
// only when sent to the env.
#pragma once
#include <torch/arg.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/optim/optimizer.h>

#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "envs/vector.h"
#include "rl/advantage.h"
#include "rl/agent.h"
#include "rl/normalization.h"

namespace dojo::rl {

struct PPOOptions {
  TORCH_ARG(std::int64_t, n_envs) = 1;
  TORCH_ARG(double, learning_rate) = 3e-4;
  TORCH_ARG(std::string, lr_schedule) = "constant";  // constant | linear (to 0 at the end: RL Zoo's lin_)
  TORCH_ARG(std::int64_t, n_steps) = 2048;           // per env per rollout
  TORCH_ARG(std::int64_t, batch_size) = 64;
  TORCH_ARG(std::int64_t, n_epochs) = 10;
  TORCH_ARG(double, gamma) = 0.99;
  TORCH_ARG(double, gae_lambda) = 0.95;
  TORCH_ARG(double, clip_range) = 0.2;
  TORCH_ARG(std::string, clip_range_schedule) = "constant";  // constant | linear
  TORCH_ARG(double, clip_range_vf) = 0.0;                    // 0: the value is not clipped
  TORCH_ARG(bool, normalize_advantage) = true;
  TORCH_ARG(double, ent_coef) = 0.0;
  TORCH_ARG(double, vf_coef) = 0.5;
  TORCH_ARG(double, max_grad_norm) = 0.5;
  TORCH_ARG(double, target_kl) = 0.0;  // 0: no early stop
  TORCH_ARG(std::vector<std::int64_t>, net_arch) = std::vector<std::int64_t>{64,
                                                                             64};  // actor and critic each
  TORCH_ARG(std::string, activation) = "tanh";
  TORCH_ARG(double, log_std_init) = 0.0;
  TORCH_ARG(bool, ortho_init) = true;          // orthogonal weights: √2 hidden, 0.01 policy output, 1 value
  TORCH_ARG(std::string, optimizer) = "adam";  // adam | rmsprop
  // Running normalisation (SB3's VecNormalize, RL Zoo's `normalize: true`); statistics are saved in
  // checkpoints and frozen outside training.
  TORCH_ARG(bool, normalize_observations) = false;
  TORCH_ARG(bool, normalize_reward) = false;
  TORCH_ARG(double, optimizer_eps) = 1e-5;
  TORCH_ARG(double, rmsprop_alpha) = 0.99;

 public:
  void validate() const;
  template <class F>
  void visit(F&& f) {
    f("n_envs", n_envs_);
    f("learning_rate", learning_rate_);
    f("lr_schedule", lr_schedule_);
    f("n_steps", n_steps_);
    f("batch_size", batch_size_);
    f("n_epochs", n_epochs_);
    f("gamma", gamma_);
    f("gae_lambda", gae_lambda_);
    f("clip_range", clip_range_);
    f("clip_range_schedule", clip_range_schedule_);
    f("clip_range_vf", clip_range_vf_);
    f("normalize_advantage", normalize_advantage_);
    f("ent_coef", ent_coef_);
    f("vf_coef", vf_coef_);
    f("max_grad_norm", max_grad_norm_);
    f("target_kl", target_kl_);
    f("net_arch", net_arch_);
    f("activation", activation_);
    f("log_std_init", log_std_init_);
    f("ortho_init", ortho_init_);
    f("optimizer", optimizer_);
    f("optimizer_eps", optimizer_eps_);
    f("rmsprop_alpha", rmsprop_alpha_);
    f("normalize_observations", normalize_observations_);
    f("normalize_reward", normalize_reward_);
  }
};

// A2C (Mnih et al. 2016, synchronous) with SB3's keys and defaults. It is PPO with one epoch on
// the whole rollout as a single batch (the ratio is then 1, so clipping never binds and the loss is
// the plain policy gradient), n-step returns (gae_lambda 1), no advantage normalisation and RMSprop
// (α 0.99, ε 1e-5): `to_ppo()` makes that PPO.
struct A2COptions {
  TORCH_ARG(std::int64_t, n_envs) = 1;
  TORCH_ARG(double, learning_rate) = 7e-4;
  TORCH_ARG(std::string, lr_schedule) = "constant";
  TORCH_ARG(std::int64_t, n_steps) = 5;
  TORCH_ARG(double, gamma) = 0.99;
  TORCH_ARG(double, gae_lambda) = 1.0;
  TORCH_ARG(double, ent_coef) = 0.0;
  TORCH_ARG(double, vf_coef) = 0.5;
  TORCH_ARG(double, max_grad_norm) = 0.5;
  TORCH_ARG(bool, use_rms_prop) = true;  // else Adam
  TORCH_ARG(double, rms_prop_eps) = 1e-5;
  TORCH_ARG(bool, normalize_advantage) = false;
  TORCH_ARG(std::vector<std::int64_t>, net_arch) = std::vector<std::int64_t>{64, 64};
  TORCH_ARG(std::string, activation) = "tanh";
  TORCH_ARG(double, log_std_init) = 0.0;
  TORCH_ARG(bool, ortho_init) = true;

 public:
  PPOOptions to_ppo() const;
  void validate() const { to_ppo().validate(); }
  template <class F>
  void visit(F&& f) {
    f("n_envs", n_envs_);
    f("learning_rate", learning_rate_);
    f("lr_schedule", lr_schedule_);
    f("n_steps", n_steps_);
    f("gamma", gamma_);
    f("gae_lambda", gae_lambda_);
    f("ent_coef", ent_coef_);
    f("vf_coef", vf_coef_);
    f("max_grad_norm", max_grad_norm_);
    f("use_rms_prop", use_rms_prop_);
    f("rms_prop_eps", rms_prop_eps_);
    f("normalize_advantage", normalize_advantage_);
    f("net_arch", net_arch_);
    f("activation", activation_);
    f("log_std_init", log_std_init_);
    f("ortho_init", ortho_init_);
  }
};

class PPO final : public Agent {
 public:
  // env gives the id and spaces: the agent steps n_envs copies made with envs::make(env->id()).
  // Observations: a Box, flattened for the MLPs (MinAtar's grids too); actions: Discrete or a flat Box.
  // algo: "ppo", or "a2c" for an A2C made by A2COptions::to_ppo().
  PPO(std::unique_ptr<envs::Env> env, PPOOptions options, std::uint64_t seed, std::string algo = "ppo");

  std::string algo() const override { return algo_; }
  void learn(std::int64_t total_timesteps, Callback& callback) override;
  torch::Tensor act(const torch::Tensor& obs, bool deterministic = true) override;
  std::int64_t num_timesteps() const override { return num_timesteps_; }
  void save(const std::filesystem::path& path,
            const std::map<std::string, double>& extra = {}) const override;
  std::map<std::string, double> load(const std::filesystem::path& path) override;

  // log π(a|s) and H[π(·|s)] for a batch: obs [B, d], actions [B] or [B, k].
  std::pair<torch::Tensor, torch::Tensor> log_prob_entropy(const torch::Tensor& obs,
                                                           const torch::Tensor& actions);
  // Both take observations as the networks see them (normalised when normalisation is on).
  torch::Tensor value(const torch::Tensor& obs);  // [B]
  const PPOOptions& options() const { return opts_; }
  const Normalizer& normalizer() const { return *norm_; }

 private:
  torch::Tensor sample_actions(const torch::Tensor& obs);    // [N] or [N, k], unclipped
  torch::Tensor to_env(const torch::Tensor& actions) const;  // clipped to a Box's bounds
  std::map<std::string, double> train(const torch::Tensor& obs, const torch::Tensor& actions,
                                      const torch::Tensor& old_log_prob, const torch::Tensor& old_values,
                                      const Advantages& adv, const torch::Tensor& valid, double progress);

  std::string id_, algo_;
  PPOOptions opts_;
  std::uint64_t seed_;
  std::unique_ptr<envs::VectorEnv> envs_;
  bool discrete_;
  std::int64_t n_actions_ = 0;  // Discrete: n; Box: dimensions
  std::vector<double> low_, high_;
  torch::nn::Sequential actor_, critic_;
  torch::Tensor log_std_;
  std::unique_ptr<torch::optim::Optimizer> optimizer_;
  std::unique_ptr<Normalizer> norm_;
  std::mt19937_64 rng_;
  std::int64_t num_timesteps_ = 0;
  bool started_ = false;
  torch::Tensor obs_, last_done_;  // the current observations and which envs autoreset next step
  std::map<std::string, double> last_metrics_;
};

}  // namespace dojo::rl
