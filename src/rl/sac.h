// Soft Actor-Critic (Haarnoja et al. 2018, "Soft Actor-Critic Algorithms and Applications"): an
// off-policy actor-critic that maximises return plus the policy's entropy, with twin Q critics and
// the entropy coefficient α tuned to a target entropy.
//
//   for each env step:  a ~ π(·|s) (uniform before learning_starts)  ->  store (s, a, r, s', terminated)
//   every train_freq steps:  gradient_steps × on a minibatch
//     α:       minimise −log α · (log π(ã|s) + H̄)                       (ent_coef: auto; H̄ = −|A|)
//     critics: minimise ½ Σ_i (Q_i(s, a) − y)²,
//              y = r + γ (1 − terminated) (min_i Q̄_i(s', ã') − α log π(ã'|s')),  ã' ~ π(·|s')
//     actor:   minimise α log π(ã|s) − min_i Q_i(s, ã),  ã ~ π(·|s) reparameterised
//     every target_update_interval updates:  Q̄ <- τ Q + (1 − τ) Q̄
//
// π is a tanh-squashed Gaussian (mean and log σ ∈ [−20, 2] from the network), or with use_sde the
// generalised state-dependent exploration of Raffin et al. (2022): the noise is latent(s) · Ε with a
// matrix Ε ~ N(0, σ²) resampled every sde_sample_freq steps, so exploration is smooth in time.
// Keys and defaults are Stable-Baselines3's; presets in configs/sac/.
#pragma once
#include <torch/arg.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/linear.h>
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

struct SACOptions {
  TORCH_ARG(double, learning_rate) = 3e-4;
  TORCH_ARG(std::int64_t, buffer_size) = 1'000'000;
  TORCH_ARG(std::int64_t, learning_starts) = 100;  // env steps of uniform random actions first
  TORCH_ARG(std::int64_t, batch_size) = 256;
  TORCH_ARG(double, tau) = 0.005;
  TORCH_ARG(double, gamma) = 0.99;
  TORCH_ARG(std::int64_t, train_freq) = 1;
  TORCH_ARG(std::int64_t, gradient_steps) = 1;
  // "auto" (α learned from 1), "auto_0.1" (learned from 0.1) or a fixed number.
  TORCH_ARG(std::string, ent_coef) = "auto";
  TORCH_ARG(std::int64_t, target_update_interval) = 1;  // gradient steps between target updates
  TORCH_ARG(std::string, target_entropy) = "auto";      // "auto" = −|A|, or a number
  TORCH_ARG(bool, use_sde) = false;
  TORCH_ARG(std::int64_t, sde_sample_freq) = -1;  // env steps between noise draws; -1: each rollout
  TORCH_ARG(bool, use_sde_at_warmup) = false;     // gSDE instead of uniform actions before learning_starts
  TORCH_ARG(double, log_std_init) = -3.0;         // gSDE's initial log σ
  TORCH_ARG(std::string, noise_type) = "none";    // extra action noise: none | normal | ornstein-uhlenbeck
  TORCH_ARG(double, noise_std) = 0.1;
  TORCH_ARG(std::vector<std::int64_t>, net_arch) = std::vector<std::int64_t>{256, 256};
  TORCH_ARG(std::string, activation) = "relu";
  TORCH_ARG(double, max_grad_norm) = 0.0;  // SB3's SAC does not clip
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
    f("ent_coef", ent_coef_);
    f("target_update_interval", target_update_interval_, core::positive());
    f("target_entropy", target_entropy_);
    f("use_sde", use_sde_);
    f("sde_sample_freq", sde_sample_freq_, core::at_least(-1, "-1: once per rollout"));
    f("use_sde_at_warmup", use_sde_at_warmup_);
    f("log_std_init", log_std_init_);
    f("noise_type", noise_type_, core::one_of({"none", "normal", "ornstein-uhlenbeck"}));
    f("noise_std", noise_std_, core::non_negative());
    f("net_arch", net_arch_, core::layer_sizes());
    f("activation", activation_, core::one_of({"relu", "tanh", "elu"}));
    f("max_grad_norm", max_grad_norm_, core::non_negative("0: no clipping"));
    f("device", device_, core::device_name());
  }
};

// The squashed Gaussian policy: an MLP trunk, a mean head and a log σ head (or gSDE's σ matrix).
struct SquashedGaussianActorImpl : torch::nn::Module {
  SquashedGaussianActorImpl(std::int64_t obs_dim, std::int64_t action_dim,
                            const std::vector<std::int64_t>& net_arch, const std::string& activation,
                            bool use_sde, double log_std_init);
  torch::nn::Sequential trunk;
  torch::nn::Linear mu{nullptr}, log_std{nullptr};  // log_std: without gSDE
  torch::Tensor sde_log_std;                        // [latent, A]: with gSDE
  bool use_sde;
};
TORCH_MODULE(SquashedGaussianActor);

class SAC final : public Agent {
 public:
  SAC(envs::EnvFactory env, SACOptions options, std::uint64_t seed);
  static void check_env(const SACOptions& options, const envs::Env& env);

  std::string algo() const override { return "sac"; }
  void learn(std::int64_t total_timesteps, Callback& callback) override;
  // Deterministic: tanh(mean); else a draw (with gSDE, from the current noise matrix). Env units.
  torch::Tensor act_batch(const torch::Tensor& obs, bool deterministic = true) override;

  // One gradient step of α, the critics and the actor on a minibatch (actions in [-1, 1]); returns
  // {"actor_loss", "critic_loss", "ent_coef", "ent_coef_loss"}.
  std::map<std::string, double> update(const Batch& batch);
  // A reparameterised draw ã ~ π(·|s) in (−1, 1) and log π(ã|s) for observations [B, obs].
  struct Draw {
    torch::Tensor action, log_prob;
  };
  Draw sample(const torch::Tensor& obs);
  // gSDE: a new noise matrix Ε ~ N(0, σ²) (kept as its standard-normal draw, so σ still learns).
  void reset_noise();
  double ent_coef() const;
  double target_entropy() const { return target_entropy_; }

  const SACOptions& options() const { return opts_; }
  SquashedGaussianActor actor() const { return actor_; }
  TwinQ critic() const { return critic_; }
  TwinQ critic_target() const { return critic_target_; }
  const ReplayBuffer& replay() const { return replay_; }
  const ActionScaler& scaler() const { return scaler_; }

 private:
  void save_state(core::CheckpointWriter& w) const override;
  void load_state(core::CheckpointReader& r) override;
  // Mean, log σ [B, A] (per sample with gSDE) and the gSDE latent, for observations [B, obs] on device_.
  struct Params {
    torch::Tensor mean, log_std, latent;
  };
  Params params(const torch::Tensor& obs);
  torch::Tensor explore(const torch::Tensor& obs);  // one [-1, 1] action for rollouts

  std::unique_ptr<envs::Env> env_;
  SACOptions opts_;
  std::uint64_t seed_;
  ActionScaler scaler_;
  SquashedGaussianActor actor_{nullptr};
  TwinQ critic_{nullptr}, critic_target_{nullptr};
  std::unique_ptr<torch::optim::Optimizer> actor_optimizer_, critic_optimizer_, ent_optimizer_;
  torch::Tensor log_ent_coef_;  // [1], learned when ent_coef is auto
  double fixed_ent_coef_ = 0.0;
  double target_entropy_ = 0.0;
  torch::Tensor sde_noise_;  // [latent, A] standard normal: Ε = σ ⊙ sde_noise_
  ReplayBuffer replay_;
  ActionNoise noise_;
  std::int64_t n_updates_ = 0;
  bool env_started_ = false;
};

}  // namespace dojo::rl

DOJO_PUBLIC_END
