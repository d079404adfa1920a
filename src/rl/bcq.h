// Batch-Constrained deep Q-learning (Fujimoto, Meger & Precup 2019, "Off-Policy Deep Reinforcement
// Learning without Exploration"): act only with actions like the dataset's. A conditional VAE G(a|s)
// models the data's actions; a perturbation ξ(s, a) in [−Φ, Φ] nudges its samples toward higher Q; the
// agent acts with the best of n perturbed samples.
//
//   for each gradient step on a minibatch (s, a, r, s'):
//     G:     minimise ‖a − D(s, z)‖² + ½ KL(N(μ, σ²) ‖ N(0, 1)),  (μ, σ) = E(s, a), z ~ N(μ, σ²)
//     Q_i:   minimise (Q_i(s, a) − y)²,
//            y = r + γ (1 − terminated) max_j [λ min_i Q̄_i(s', ã_j) + (1 − λ) max_i Q̄_i(s', ã_j)],
//            ã_j = clip(â_j + ξ̄(s', â_j), −1, 1), â_j ~ G(·|s'), j = 1..n_target_samples
//     ξ:     maximise Q_1(s, clip(â + ξ(s, â), −1, 1)), â ~ G(·|s)
//     Q̄, ξ̄ <- τ (Q, ξ) + (1 − τ) (Q̄, ξ̄)
//   acting: argmax_j Q_1(s, clip(â_j + ξ(s, â_j), −1, 1)) over n_action_samples draws â_j ~ G(·|s)
//
// G's latent is 2|A|-dimensional and, when sampled from the prior, clipped to [−0.5, 0.5] (the paper's).
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
#include "rl/offline.h"

DOJO_PUBLIC_BEGIN
namespace dojo::rl {

struct BCQOptions {
  TORCH_ARG(std::string, dataset) = "";
  TORCH_ARG(double, phi) = 0.05;  // Φ: the perturbation's bound, in [-1, 1] action units
  TORCH_ARG(double, ensemble_lambda) = 0.75;
  TORCH_ARG(std::int64_t, n_target_samples) = 10;
  TORCH_ARG(std::int64_t, n_action_samples) = 100;
  TORCH_ARG(double, learning_rate) = 1e-3;
  TORCH_ARG(std::int64_t, batch_size) = 100;
  TORCH_ARG(double, gamma) = 0.99;
  TORCH_ARG(double, tau) = 0.005;
  TORCH_ARG(std::vector<std::int64_t>, net_arch) = std::vector<std::int64_t>{400, 300};
  TORCH_ARG(std::vector<std::int64_t>, vae_arch) = std::vector<std::int64_t>{750, 750};
  TORCH_ARG(std::string, device) = "auto";

 public:
  void validate() const { core::check_options(*this); }
  template <class F>
  void visit(F&& f) {
    f("dataset", dataset_);
    f("phi", phi_, core::in(0, 1));
    f("ensemble_lambda", ensemble_lambda_, core::in(0, 1));
    f("n_target_samples", n_target_samples_, core::positive());
    f("n_action_samples", n_action_samples_, core::positive());
    f("learning_rate", learning_rate_, core::positive());
    f("batch_size", batch_size_, core::positive());
    f("gamma", gamma_, core::in(0, 1));
    f("tau", tau_, core::in_open_closed(0, 1));
    f("net_arch", net_arch_, core::layer_sizes());
    f("vae_arch", vae_arch_, core::layer_sizes());
    f("device", device_, core::device_name());
  }
};

// G(a|s): encoder E(s, a) -> (μ, log σ) of a 2|A|-dimensional latent, decoder D(s, z) -> tanh.
struct ActionVAEImpl : torch::nn::Module {
  ActionVAEImpl(std::int64_t obs_dim, std::int64_t action_dim, const std::vector<std::int64_t>& arch);
  struct Out {
    torch::Tensor reconstruction, mean, log_std;
  };
  Out forward(const torch::Tensor& obs, const torch::Tensor& action, const torch::Tensor& noise);
  torch::Tensor decode(const torch::Tensor& obs, const torch::Tensor& z);
  torch::nn::Sequential encoder, decoder;
  torch::nn::Linear mean{nullptr}, log_std{nullptr};
  std::int64_t latent_dim;
};
TORCH_MODULE(ActionVAE);

// ξ(s, a): clip(a + Φ tanh(f(s, a)), −1, 1).
struct PerturbationImpl : torch::nn::Module {
  PerturbationImpl(std::int64_t obs_dim, std::int64_t action_dim, const std::vector<std::int64_t>& arch,
                   double phi);
  torch::Tensor forward(const torch::Tensor& obs, const torch::Tensor& action);
  torch::nn::Sequential net;
  double phi;
};
TORCH_MODULE(Perturbation);

class BCQ final : public OfflineAgent {
 public:
  BCQ(envs::EnvFactory env, BCQOptions options, std::uint64_t seed);
  static void check_env(const BCQOptions& options, const envs::Env& env);

  std::string algo() const override { return "bcq"; }
  // The best of n_action_samples perturbed VAE samples by Q_1 (deterministic either way). Env units.
  torch::Tensor act_batch(const torch::Tensor& obs, bool deterministic = true) override;
  std::map<std::string, double> update(const Batch& batch) override;
  Perturbation perturbation() const { return actor_; }
  ActionVAE vae() const { return vae_; }

 private:
  std::string options_yaml() const override;
  void checkpoint_parts(core::CheckpointParts& parts) override;
  // n prior samples â ~ G(·|s) per state: [n, B, A].
  torch::Tensor sample_actions(const torch::Tensor& obs, std::int64_t n);

  BCQOptions opts_;
  ActionVAE vae_{nullptr};
  Perturbation actor_{nullptr}, actor_target_{nullptr};
  QEnsemble q_{nullptr}, q_target_{nullptr};
  std::unique_ptr<torch::optim::Optimizer> vae_optimizer_, actor_optimizer_, q_optimizer_;
};

}  // namespace dojo::rl

DOJO_PUBLIC_END
