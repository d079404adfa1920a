// Bootstrapping Error Accumulation Reduction (Kumar, Fu, Tucker & Levine 2019, "Stabilizing Off-Policy
// Q-Learning via Bootstrapping Error Reduction"): constrain the policy's support, not its density, to
// the behaviour's — the MMD between π(·|s) and b(·|s) held below ε by a Lagrange multiplier — and back
// up a conservative mix over an ensemble of Q-functions at the best of n sampled actions.
//
//   b:      fitted to the dataset by maximum likelihood first (behavior_steps; BEAR fits a VAE, we fit
//           the tanh-Gaussian BC and BRAC use)
//   for each gradient step on a minibatch (s, a, r, s'):
//     Q_k:  minimise Σ_k (Q_k(s, a) − y)²,
//           y = r + γ (1 − terminated) max_j [λ min_k Q̄_k(s', a'_j) + (1 − λ) max_k Q̄_k(s', a'_j)],
//           a'_j ~ π(·|s'), j = 1..n_target_samples
//     π:    minimise −min_k Q_k(s, ã) + α (MMD(π(·|s), b(·|s)) − ε)   (α MMD alone for warm_start steps)
//     α:    maximise α (MMD − ε): log α by gradient ascent, clipped to [−5, 10]
//     Q̄ <- τ Q + (1 − τ) Q̄
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

struct BEAROptions {
  TORCH_ARG(std::string, dataset) = "";
  TORCH_ARG(double, epsilon) = 0.05;  // ε, the MMD threshold
  TORCH_ARG(std::string, mmd_kernel) = "laplacian";
  TORCH_ARG(double, mmd_sigma) = 20.0;
  TORCH_ARG(std::int64_t, n_mmd_samples) = 5;
  TORCH_ARG(std::int64_t, n_target_samples) = 10;
  TORCH_ARG(double, ensemble_lambda) = 0.75;
  TORCH_ARG(std::int64_t, n_q) = 2;
  TORCH_ARG(std::int64_t, warm_start) = 20'000;
  TORCH_ARG(std::int64_t, behavior_steps) = 300'000;
  TORCH_ARG(double, behavior_learning_rate) = 5e-4;
  TORCH_ARG(double, q_learning_rate) = 3e-4;
  TORCH_ARG(double, policy_learning_rate) = 1e-4;
  TORCH_ARG(double, alpha_learning_rate) = 1e-3;
  TORCH_ARG(std::int64_t, batch_size) = 256;
  TORCH_ARG(double, gamma) = 0.99;
  TORCH_ARG(double, tau) = 0.005;
  TORCH_ARG(std::vector<std::int64_t>, net_arch) = std::vector<std::int64_t>{400, 300};
  TORCH_ARG(std::vector<std::int64_t>, behavior_arch) = std::vector<std::int64_t>{200, 200};
  TORCH_ARG(std::string, device) = "auto";

 public:
  void validate() const { core::check_options(*this); }
  template <class F>
  void visit(F&& f) {
    f("dataset", dataset_);
    f("epsilon", epsilon_, core::non_negative());
    f("mmd_kernel", mmd_kernel_, core::one_of({"laplacian", "gaussian"}));
    f("mmd_sigma", mmd_sigma_, core::positive());
    f("n_mmd_samples", n_mmd_samples_, core::positive());
    f("n_target_samples", n_target_samples_, core::positive());
    f("ensemble_lambda", ensemble_lambda_, core::in(0, 1));
    f("n_q", n_q_, core::positive());
    f("warm_start", warm_start_, core::non_negative());
    f("behavior_steps", behavior_steps_, core::non_negative());
    f("behavior_learning_rate", behavior_learning_rate_, core::positive());
    f("q_learning_rate", q_learning_rate_, core::positive());
    f("policy_learning_rate", policy_learning_rate_, core::positive());
    f("alpha_learning_rate", alpha_learning_rate_, core::positive());
    f("batch_size", batch_size_, core::positive());
    f("gamma", gamma_, core::in(0, 1));
    f("tau", tau_, core::in_open_closed(0, 1));
    f("net_arch", net_arch_, core::layer_sizes());
    f("behavior_arch", behavior_arch_, core::layer_sizes());
    f("device", device_, core::device_name());
  }
};

class BEAR final : public OfflineAgent {
 public:
  BEAR(envs::EnvFactory env, BEAROptions options, std::uint64_t seed);
  static void check_env(const BEAROptions& options, const envs::Env& env);

  std::string algo() const override { return "bear"; }
  torch::Tensor act_batch(const torch::Tensor& obs, bool deterministic = true) override;
  std::map<std::string, double> update(const Batch& batch) override;
  double alpha() const;

 private:
  void prepare() override;  // fits b (once per run, behavior_steps)
  std::string options_yaml() const override;
  void checkpoint_parts(core::CheckpointParts& parts) override;

  BEAROptions opts_;
  TanhGaussianPolicy policy_{nullptr};
  BehaviorModel behavior_;
  QEnsemble q_{nullptr}, q_target_{nullptr};
  std::unique_ptr<torch::optim::Optimizer> policy_optimizer_, q_optimizer_, alpha_optimizer_;
  torch::Tensor log_alpha_;
};

}  // namespace dojo::rl

DOJO_PUBLIC_END
