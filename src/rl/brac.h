// Behavior Regularized Actor Critic (Wu, Tucker & Nachum 2019, "Behavior Regularized Offline
// Reinforcement Learning"): an actor-critic that learns from a fixed dataset and keeps its policy π
// close to the behaviour b that collected it, by a divergence D(π(·|s), b(·|s)) as a penalty.
//
//   b:        fitted to the dataset by maximum likelihood first (behavior_steps; BC's loss)
//   for each gradient step on a minibatch (s, a, r, s'):
//     dual critic (kl_dual, wasserstein):  maximise D̂_f(s) − gradient_penalty · GP(f)
//     Q_k:      minimise Σ_k (Q_k(s, a) − y)²,
//               y = r + γ (1 − terminated) (Q̄_ens(s', a') − [value_penalty] α D̂(s')),  a' ~ π(·|s')
//     π:        minimise α D̂(s) + ent_coef log π(ã|s) − Q_ens(s, ã),  ã ~ π(·|s)   (only α D̂ + entropy
//               for the first warm_start steps: BRAC's warm start)
//     α:        fixed, or (train_alpha) minimise −α (D̂ − target_divergence), α ≤ alpha_max
//     Q̄ <- τ Q + (1 − τ) Q̄
//   Q_ens = λ min_k Q_k + (1 − λ) max_k Q_k over K = n_q networks.
//
// The divergence: "kl" (n samples of log π − log b), "mmd" (Laplacian or Gaussian kernel between n
// samples of π and of b), and the dual estimates "kl_dual" (f-divergence dual, E_π[f] − E_b[e^{f−1}])
// and "wasserstein" (E_π[f] − E_b[f]) with a critic f trained alongside. value_penalty true is BRAC-v,
// false BRAC-p. KL-control (Jaques et al. 2019) is BRAC-v with KL: `dojo train kl_control`.
// Defaults are the paper's (FACTS.md); presets in configs/brac/.
#pragma once
#include <torch/arg.h>
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

struct BRACOptions {
  TORCH_ARG(std::string, dataset) = "";       // a D4RL .hdf5 file or a Minari folder (--dataset)
  TORCH_ARG(bool, value_penalty) = true;      // BRAC-v (true) or BRAC-p (false)
  TORCH_ARG(std::string, divergence) = "kl";  // kl | mmd | kl_dual | wasserstein
  TORCH_ARG(double, alpha) = 0.1;             // the divergence's weight (the initial one when trained)
  TORCH_ARG(bool, train_alpha) = false;       // Lagrangian α toward target_divergence
  TORCH_ARG(double, target_divergence) = 0.0;
  TORCH_ARG(double, alpha_max) = 500.0;
  TORCH_ARG(double, alpha_learning_rate) = 1e-3;
  TORCH_ARG(std::int64_t, n_div_samples) = 4;  // action samples per state for D̂
  TORCH_ARG(std::string, mmd_kernel) = "laplacian";
  TORCH_ARG(double, mmd_sigma) = 20.0;
  TORCH_ARG(double, gradient_penalty) = 5.0;  // the dual critics'
  TORCH_ARG(std::int64_t, n_q) = 2;           // K
  TORCH_ARG(double, ensemble_lambda) = 1.0;   // λ
  TORCH_ARG(double, ent_coef) = 0.0;          // entropy bonus weight in π's loss
  TORCH_ARG(std::int64_t, warm_start) = 20'000;
  TORCH_ARG(std::int64_t, behavior_steps) = 300'000;
  TORCH_ARG(double, behavior_learning_rate) = 5e-4;
  TORCH_ARG(double, q_learning_rate) = 1e-3;
  TORCH_ARG(double, policy_learning_rate) = 3e-4;
  TORCH_ARG(double, critic_learning_rate) = 1e-3;  // the dual critic's
  TORCH_ARG(std::int64_t, batch_size) = 256;
  TORCH_ARG(double, gamma) = 0.99;
  TORCH_ARG(double, tau) = 0.005;
  TORCH_ARG(std::vector<std::int64_t>, q_arch) = std::vector<std::int64_t>{300, 300};
  TORCH_ARG(std::vector<std::int64_t>, policy_arch) = std::vector<std::int64_t>{200, 200};
  TORCH_ARG(std::vector<std::int64_t>, behavior_arch) = std::vector<std::int64_t>{200, 200};
  TORCH_ARG(std::vector<std::int64_t>, critic_arch) = std::vector<std::int64_t>{300, 300};
  TORCH_ARG(std::string, device) = "auto";

 public:
  void validate() const { core::check_options(*this); }
  template <class F>
  void visit(F&& f) {
    f("dataset", dataset_);
    f("value_penalty", value_penalty_);
    f("divergence", divergence_, core::one_of({"kl", "mmd", "kl_dual", "wasserstein"}));
    f("alpha", alpha_, core::positive());
    f("train_alpha", train_alpha_);
    f("target_divergence", target_divergence_);
    f("alpha_max", alpha_max_, core::positive());
    f("alpha_learning_rate", alpha_learning_rate_, core::positive());
    f("n_div_samples", n_div_samples_, core::positive());
    f("mmd_kernel", mmd_kernel_, core::one_of({"laplacian", "gaussian"}));
    f("mmd_sigma", mmd_sigma_, core::positive());
    f("gradient_penalty", gradient_penalty_, core::non_negative());
    f("n_q", n_q_, core::positive());
    f("ensemble_lambda", ensemble_lambda_, core::in(0, 1));
    f("ent_coef", ent_coef_, core::non_negative());
    f("warm_start", warm_start_, core::non_negative());
    f("behavior_steps", behavior_steps_, core::non_negative());
    f("behavior_learning_rate", behavior_learning_rate_, core::positive());
    f("q_learning_rate", q_learning_rate_, core::positive());
    f("policy_learning_rate", policy_learning_rate_, core::positive());
    f("critic_learning_rate", critic_learning_rate_, core::positive());
    f("batch_size", batch_size_, core::positive());
    f("gamma", gamma_, core::in(0, 1));
    f("tau", tau_, core::in_open_closed(0, 1));
    f("q_arch", q_arch_, core::layer_sizes());
    f("policy_arch", policy_arch_, core::layer_sizes());
    f("behavior_arch", behavior_arch_, core::layer_sizes());
    f("critic_arch", critic_arch_, core::layer_sizes());
    f("device", device_, core::device_name());
  }
};

class BRAC final : public OfflineAgent {
 public:
  // `name`: "brac", or "kl_control" for the same agent under Jaques et al.'s name.
  BRAC(envs::EnvFactory env, BRACOptions options, std::uint64_t seed, std::string name = "brac");
  static void check_env(const BRACOptions& options, const envs::Env& env, const std::string& name = "brac");

  std::string algo() const override { return name_; }
  // Deterministic: tanh(μ(s)); else a draw. Env units.
  torch::Tensor act_batch(const torch::Tensor& obs, bool deterministic = true) override;

  // One step of the dual critic, the Q ensemble, π and α on a minibatch (actions in [-1, 1]).
  std::map<std::string, double> update(const Batch& batch) override;
  // The critics' target for a minibatch on the agent's device: r + γ (1 − terminated) (Q̄_ens(s', a')
  // − α D̂(s') with the value penalty).
  torch::Tensor td_target(const Batch& batch);
  // D̂(π(·|s), b(·|s)) per state [B] from π's draws a_π [n, B, A] with their log-probs [n, B].
  torch::Tensor divergence(const torch::Tensor& obs, const torch::Tensor& a_pi, const torch::Tensor& log_pi);
  double alpha() const;

  const BRACOptions& options() const { return opts_; }
  TanhGaussianPolicy policy() const { return policy_; }
  TanhGaussianPolicy behavior() const { return behavior_.policy; }
  QEnsemble q() const { return q_; }
  DualCritic critic() const { return critic_; }
  bool behavior_fitted() const { return behavior_.fitted; }

 private:
  void prepare() override;  // fits b (once per run, behavior_steps)
  std::string options_yaml() const override;
  void checkpoint_parts(core::CheckpointParts& parts) override;
  bool dual() const { return opts_.divergence() == "kl_dual" || opts_.divergence() == "wasserstein"; }

  std::string name_;
  BRACOptions opts_;
  TanhGaussianPolicy policy_{nullptr};
  BehaviorModel behavior_;
  QEnsemble q_{nullptr}, q_target_{nullptr};
  DualCritic critic_{nullptr};
  std::unique_ptr<torch::optim::Optimizer> policy_optimizer_, q_optimizer_, critic_optimizer_,
      alpha_optimizer_;
  torch::Tensor log_alpha_;  // [1]
  std::int64_t n_updates_ = 0;
};

}  // namespace dojo::rl

DOJO_PUBLIC_END
