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

#include "core/device.h"
#include "core/export.h"
#include "core/options.h"
#include "envs/factory.h"
#include "envs/vector.h"
#include "rl/advantage.h"
#include "rl/agent.h"
#include "rl/loops.h"
#include "rl/networks.h"
#include "rl/normalization.h"
#include "rl/srl.h"

DOJO_PUBLIC_BEGIN
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
  TORCH_ARG(bool, ortho_init) = true;  // orthogonal weights: √2 hidden, 0.01 policy output, 1 value
  // mlp: net_arch on flattened observations; minatar / nature: rl/networks' CNNs on [H, W, C] grids
  // and uint8 frame stacks (actor and critic each have one).
  TORCH_ARG(std::string, network) = "mlp";
  TORCH_ARG(std::string, optimizer) = "adam";  // adam | rmsprop
  // Running normalisation (SB3's VecNormalize, RL Zoo's `normalize: true`); statistics are saved in
  // checkpoints and frozen outside training.
  TORCH_ARG(bool, normalize_observations) = false;
  TORCH_ARG(bool, normalize_reward) = false;
  TORCH_ARG(double, optimizer_eps) = 1e-5;
  TORCH_ARG(double, rmsprop_alpha) = 0.99;
  TORCH_ARG(std::string, device) = "auto";  // cpu | cuda | cuda:N | auto (core/device.h)
  // Curiosity (Pathak et al. 2017, ICM): `icm` adds r_i = icm_eta/2 · ||f(φ(s), a) − φ(s')||², the
  // forward model's error in the features an inverse model learns, to every reward; the update
  // minimises icm_lambda · L_PPO + (1 − icm_beta) · L_inverse + icm_beta · L_forward (one
  // rl::SrlModel with the inverse and forward losses: features of icm_features, layers of icm_hidden).
  TORCH_ARG(std::string, intrinsic) = "none";  // none | icm
  TORCH_ARG(double, icm_eta) = 0.01;
  TORCH_ARG(double, icm_beta) = 0.2;
  TORCH_ARG(double, icm_lambda) = 0.1;
  TORCH_ARG(std::int64_t, icm_features) = 32;
  TORCH_ARG(std::int64_t, icm_hidden) = 128;
  // Divide r_i by the running standard deviation of its discounted return (Burda et al. 2018): raw,
  // it shrinks by orders of magnitude as the forward model learns (1e-8 a step on MountainCar) and
  // drowns in the advantages' noise. On by default: SparseMountainCar reached the flag on 3/3 seeds
  // with it, 2/3 raw (docs/rl.md).
  TORCH_ARG(bool, icm_normalize) = true;

 public:
  void validate() const;
  template <class F>
  void visit(F&& f) {
    f("n_envs", n_envs_, core::positive());
    f("learning_rate", learning_rate_, core::positive());
    f("lr_schedule", lr_schedule_, core::one_of({"constant", "linear"}));
    f("n_steps", n_steps_, core::positive());
    f("batch_size", batch_size_, core::positive());
    f("n_epochs", n_epochs_, core::positive());
    f("gamma", gamma_, core::in(0, 1));
    f("gae_lambda", gae_lambda_, core::in(0, 1));
    f("clip_range", clip_range_, core::positive());
    f("clip_range_schedule", clip_range_schedule_, core::one_of({"constant", "linear"}));
    f("clip_range_vf", clip_range_vf_, core::non_negative("0: no value clipping"));
    f("normalize_advantage", normalize_advantage_);
    f("ent_coef", ent_coef_, core::non_negative());
    f("vf_coef", vf_coef_, core::non_negative());
    f("max_grad_norm", max_grad_norm_, core::non_negative("0: no clipping"));
    f("target_kl", target_kl_, core::non_negative("0: no early stop"));
    f("net_arch", net_arch_, core::layer_sizes());
    f("activation", activation_, core::one_of({"relu", "tanh", "elu"}));
    f("log_std_init", log_std_init_);
    f("ortho_init", ortho_init_);
    f("network", network_, core::one_of(trunk_names()));
    f("optimizer", optimizer_, core::one_of({"adam", "rmsprop"}));
    f("optimizer_eps", optimizer_eps_, core::positive());
    f("rmsprop_alpha", rmsprop_alpha_, core::in_open_closed(0, 1));
    f("normalize_observations", normalize_observations_);
    f("normalize_reward", normalize_reward_);
    f("device", device_, core::device_name());
    f("intrinsic", intrinsic_, core::one_of({"none", "icm"}));
    f("icm_eta", icm_eta_, core::non_negative());
    f("icm_beta", icm_beta_, core::in(0, 1));
    f("icm_lambda", icm_lambda_, core::positive());
    f("icm_features", icm_features_, core::positive());
    f("icm_hidden", icm_hidden_, core::positive());
    f("icm_normalize", icm_normalize_);
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
  TORCH_ARG(std::string, network) = "mlp";  // as PPO's
  TORCH_ARG(std::string, device) = "auto";

 public:
  PPOOptions to_ppo() const;
  void validate() const;
  template <class F>
  void visit(F&& f) {
    f("n_envs", n_envs_, core::positive());
    f("learning_rate", learning_rate_, core::positive());
    f("lr_schedule", lr_schedule_, core::one_of({"constant", "linear"}));
    f("n_steps", n_steps_, core::positive());
    f("gamma", gamma_, core::in(0, 1));
    f("gae_lambda", gae_lambda_, core::in(0, 1));
    f("ent_coef", ent_coef_, core::non_negative());
    f("vf_coef", vf_coef_, core::non_negative());
    f("max_grad_norm", max_grad_norm_, core::non_negative("0: no clipping"));
    f("use_rms_prop", use_rms_prop_);
    f("rms_prop_eps", rms_prop_eps_, core::positive());
    f("normalize_advantage", normalize_advantage_);
    f("net_arch", net_arch_, core::layer_sizes());
    f("activation", activation_, core::one_of({"relu", "tanh", "elu"}));
    f("log_std_init", log_std_init_);
    f("ortho_init", ortho_init_);
    f("network", network_, core::one_of(trunk_names()));
    f("device", device_, core::device_name());
  }
};

class PPO final : public Agent {
 public:
  // The agent steps n_envs envs made from the factory (each with its whole wrapper stack).
  // Observations: a Box (flattened for the MLPs, MinAtar's grids too; [H, W, C] for the CNNs);
  // actions: Discrete or a flat Box. algo: "ppo", or "a2c" for an A2C made by A2COptions::to_ppo().
  PPO(envs::EnvFactory env, PPOOptions options, std::uint64_t seed, std::string algo = "ppo");
  static void check_env(const PPOOptions& options, const envs::Env& env, const std::string& algo = "ppo");

  std::string algo() const override { return algo_; }
  void learn(std::int64_t total_timesteps, Callback& callback) override;
  Progress progress(std::int64_t total_timesteps) const override;
  torch::Tensor act_batch(const torch::Tensor& obs, bool deterministic = true) override;

  // log π(a|s) and H[π(·|s)] for a batch: obs [B, ...], actions [B] or [B, k].
  std::pair<torch::Tensor, torch::Tensor> log_prob_entropy(const torch::Tensor& obs,
                                                           const torch::Tensor& actions);
  // Both take observations as the networks see them (normalised when normalisation is on).
  torch::Tensor value(const torch::Tensor& obs);  // [B]
  // The PPO update on one rollout: GAE, then n_epochs of clipped-objective minibatch steps.
  std::map<std::string, double> update(const RolloutBatch& batch, double progress);
  // ICM's model (undefined without `intrinsic: icm`).
  SrlModel icm() const { return icm_; }
  const PPOOptions& options() const { return opts_; }
  const Normalizer& normalizer() const { return *norm_; }

 private:
  void save_state(core::CheckpointWriter& w) const override;
  void load_state(core::CheckpointReader& r) override;
  torch::Tensor network_input(const torch::Tensor& obs) const;
  torch::Tensor sample_actions(const torch::Tensor& obs);    // [N] or [N, k], unclipped
  torch::Tensor to_env(const torch::Tensor& actions) const;  // clipped to a Box's bounds

  std::string id_, algo_;
  PPOOptions opts_;
  std::uint64_t seed_;
  std::unique_ptr<envs::VectorEnv> envs_;
  bool discrete_ = true;
  std::int64_t n_actions_ = 0;  // Discrete: n; Box: dimensions
  std::vector<double> low_, high_;
  torch::nn::Sequential actor_, critic_;
  torch::Tensor log_std_;
  std::unique_ptr<torch::optim::Optimizer> optimizer_;
  std::unique_ptr<Normalizer> norm_;
  SrlModel icm_{nullptr};                  // intrinsic: icm
  std::unique_ptr<Normalizer> icm_scale_;  // the intrinsic reward's running scale
  OnPolicyState vec_;                      // the vector env's current observations, between learn() calls
};

}  // namespace dojo::rl

DOJO_PUBLIC_END
