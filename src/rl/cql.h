// Conservative Q-Learning (Kumar, Zhou, Tucker & Levine 2020), on SAC: each critic's loss adds a term
// that pushes Q down on actions the policy and a uniform proposal would take and up on the dataset's,
// so the learned Q lower-bounds the policy's value where the data says nothing.
//
//   for each gradient step on a minibatch (s, a, r, s'):
//     α_ent:   minimise −log α_ent (log π(ã|s) + H̄)                       (SAC's, H̄ = −|A|)
//     π:       minimise α_ent log π(ã|s) − min_i Q_i(s, ã)
//     Q_i:     minimise (Q_i(s, a) − y)² + α · (log Σ_a' exp Q_i(s, a') − Q_i(s, a)),
//              y = r + γ (1 − terminated) min_i Q̄_i(s', ã'),  ã' ~ π(·|s')
//              log Σ exp estimated by importance sampling (CQL(H)): n_actions draws each from
//              U(−1, 1)^A (density 0.5^A), π(·|s) and π(·|s'), each Q minus its log-density
//     Q̄ <- τ Q + (1 − τ) Q̄
//
// Defaults are CORL's locomotion ones (α 10, 10 actions per proposal, lr 3e-4 for Q and 3e-5 for π,
// 256-256, observations normalised by the dataset's mean and std).
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

struct CQLOptions {
  TORCH_ARG(std::string, dataset) = "";
  TORCH_ARG(double, cql_alpha) = 10.0;      // α: the conservative term's weight
  TORCH_ARG(std::int64_t, n_actions) = 10;  // draws per proposal for the log-sum-exp
  TORCH_ARG(double, temperature) = 1.0;
  TORCH_ARG(bool, backup_entropy) = false;  // −α_ent log π(ã'|s') in the target (SAC's), off in CORL
  TORCH_ARG(bool, normalize_observations) = true;
  TORCH_ARG(double, q_learning_rate) = 3e-4;
  TORCH_ARG(double, policy_learning_rate) = 3e-5;
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
    f("cql_alpha", cql_alpha_, core::non_negative());
    f("n_actions", n_actions_, core::positive());
    f("temperature", temperature_, core::positive());
    f("backup_entropy", backup_entropy_);
    f("normalize_observations", normalize_observations_);
    f("q_learning_rate", q_learning_rate_, core::positive());
    f("policy_learning_rate", policy_learning_rate_, core::positive());
    f("batch_size", batch_size_, core::positive());
    f("gamma", gamma_, core::in(0, 1));
    f("tau", tau_, core::in_open_closed(0, 1));
    f("net_arch", net_arch_, core::layer_sizes());
    f("device", device_, core::device_name());
  }
};

class CQL final : public OfflineAgent {
 public:
  CQL(envs::EnvFactory env, CQLOptions options, std::uint64_t seed);
  static void check_env(const CQLOptions& options, const envs::Env& env);

  std::string algo() const override { return "cql"; }
  torch::Tensor act_batch(const torch::Tensor& obs, bool deterministic = true) override;
  std::map<std::string, double> update(const Batch& batch) override;
  // mean_s [T log Σ exp(q/T) over the importance-weighted proposals − Q(s, a_data)]: q_rand, q_pi,
  // q_next [n, B] with π's log-densities [n, B]; the uniform proposal's density is 0.5^action_dim.
  static torch::Tensor conservative_gap(const torch::Tensor& q_rand, const torch::Tensor& q_pi,
                                        const torch::Tensor& log_pi, const torch::Tensor& q_next,
                                        const torch::Tensor& log_next, const torch::Tensor& q_data,
                                        std::int64_t action_dim, double temperature);
  double ent_coef() const;

 private:
  std::string options_yaml() const override;
  void checkpoint_parts(core::CheckpointParts& parts) override;

  CQLOptions opts_;
  TanhGaussianPolicy policy_{nullptr};
  QEnsemble q_{nullptr}, q_target_{nullptr};
  std::unique_ptr<torch::optim::Optimizer> policy_optimizer_, q_optimizer_, ent_optimizer_;
  torch::Tensor log_ent_coef_;
  double target_entropy_ = 0.0;
};

}  // namespace dojo::rl

DOJO_PUBLIC_END
