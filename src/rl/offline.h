// What the offline (batch) agents share — BC, BRAC, BEAR, BCQ, CQL, IQL, TD3+BC: their base class
// (the dataset they learn from, loaded once and checked against the env's spaces; the loop; the
// checkpoint), the tanh-Gaussian policy (BC's, BRAC's behaviour model b and its π), an ensemble of
// Q-functions, and the divergence estimates of BRAC and BEAR. Losses live in the agents' own files; the
// pieces here are pinned by tests/rl/offline_test.cpp.
#pragma once
#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/linear.h>
#include <torch/types.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "core/checkpoint.h"
#include "core/export.h"
#include "envs/env.h"
#include "envs/factory.h"
#include "rl/agent.h"
#include "rl/continuous.h"
#include "rl/dataset.h"

DOJO_PUBLIC_BEGIN
namespace dojo::rl {

// Observations normalised by a dataset's mean and std, s ← (s − mean) / (std + 1e−3) (TD3+BC's, IQL's
// and CQL's locomotion setting), or passed through when disabled; on the agent's device.
struct ObservationNormalizer {
  torch::Tensor mean, std;  // [obs]
  torch::Tensor operator()(const torch::Tensor& obs) const {
    return (obs.to(mean.device(), torch::kFloat32) - mean) / std;
  }
};

// The dataset of an offline run: its path (the `dataset` key) loaded and checked against `env`, with
// actions rescaled to the policies' [-1, 1].
class OfflineData {
 public:
  OfflineData(const std::string& path, const envs::Env& env);
  // The checks a run does before its directory exists: the path is given, the file readable, its
  // shapes fit the env (without loading the arrays). Throws dojo::Error naming the key or file.
  static void check(const std::string& algo, const std::string& path, const envs::Env& env);
  Batch sample(std::int64_t batch_size, std::mt19937_64& rng) const {
    return sampler_.sample(batch_size, rng);
  }
  const ActionScaler& scaler() const { return scaler_; }
  std::int64_t obs_dim() const { return obs_dim_; }
  std::int64_t action_dim() const { return scaler_.dim(); }
  const OfflineDataset& data() const { return data_; }
  ObservationNormalizer observation_normalizer(bool enabled, c10::Device device) const;

 private:
  OfflineDataset data_;
  ActionScaler scaler_;
  TransitionSampler sampler_;
  std::int64_t obs_dim_;
};

// π(a|s) = tanh(N(μ(s), σ(s)²)): an MLP trunk, a mean head and a log σ head (clamped to [−5, 2]).
struct TanhGaussianPolicyImpl : torch::nn::Module {
  TanhGaussianPolicyImpl(std::int64_t obs_dim, std::int64_t action_dim,
                         const std::vector<std::int64_t>& net_arch, const std::string& activation = "relu");
  struct Params {
    torch::Tensor mean, log_std;  // [B, A]
  };
  Params forward(const torch::Tensor& obs);
  struct Draw {
    torch::Tensor action, log_prob;  // [n, B, A] in (−1, 1), [n, B]
  };
  // n reparameterised draws per observation (noise from `rng`).
  Draw sample(const torch::Tensor& obs, std::mt19937_64& rng, std::int64_t n = 1);
  // log π(a|s) for actions in [−1, 1] ([B, A] -> [B], or [n, B, A] -> [n, B]); actions are pulled
  // inside ±(1 − 1e−3) first, where atanh is finite (data often holds ±1 exactly).
  torch::Tensor log_prob(const torch::Tensor& obs, const torch::Tensor& action);
  torch::Tensor mode(const torch::Tensor& obs);  // tanh(μ(s))
  torch::nn::Sequential trunk;
  torch::nn::Linear mu{nullptr}, log_std{nullptr};
};
TORCH_MODULE(TanhGaussianPolicy);

// K independent Q(s, a) MLPs (BRAC's and BEAR's ensembles; K = 2 is the clipped double Q).
struct QEnsembleImpl : torch::nn::Module {
  QEnsembleImpl(std::int64_t obs_dim, std::int64_t action_dim, const std::vector<std::int64_t>& net_arch,
                std::int64_t k, const std::string& activation = "relu");
  torch::Tensor forward(const torch::Tensor& obs, const torch::Tensor& action);  // [K, B]
  torch::nn::ModuleList nets;
};
TORCH_MODULE(QEnsemble);

// A scalar critic f(s, a) for the dual divergence estimates (an MLP on [s, a], one output): [B] or [n, B].
struct DualCriticImpl : torch::nn::Module {
  DualCriticImpl(std::int64_t obs_dim, std::int64_t action_dim, const std::vector<std::int64_t>& net_arch);
  torch::Tensor forward(const torch::Tensor& obs, const torch::Tensor& action);
  torch::nn::Sequential net;
};
TORCH_MODULE(DualCritic);

// BRAC's mix over an ensemble [K, B]: λ·min_k Q_k + (1 − λ)·max_k Q_k (λ = 1: the minimum).
torch::Tensor ensemble_mix(const torch::Tensor& qs, double lambda);

// Observations [B, d] repeated n times as [n, B, d] (for n action samples per state).
torch::Tensor repeat_obs(const torch::Tensor& obs, std::int64_t n);

// Divergence estimates per state, [B], from n samples per state:
//   KL(π‖b) ≈ mean_i (log π(a_i|s) − log b(a_i|s)), a_i ~ π          (log-probs [n, B])
torch::Tensor kl_estimate(const torch::Tensor& log_pi, const torch::Tensor& log_b);
//   MMD(π, b) = sqrt(mean k(x, x') + mean k(y, y') − 2 mean k(x, y) + 1e−6), x ~ π, y ~ b ([n, B, A]
//   and [m, B, A]); kernel "laplacian" exp(−‖x − y‖₁ / σ) or "gaussian" exp(−‖x − y‖² / (2σ²)).
torch::Tensor mmd_estimate(const torch::Tensor& x, const torch::Tensor& y, const std::string& kernel,
                           double sigma);
//   KL's dual (the f-divergence form of Nguyen et al. 2010): E_π[f] − E_b[exp(f − 1)]   (f: [n, B])
torch::Tensor kl_dual_estimate(const torch::Tensor& f_pi, const torch::Tensor& f_b);
//   Wasserstein-1's dual (Kantorovich–Rubinstein, f 1-Lipschitz): E_π[f] − E_b[f]
torch::Tensor wasserstein_estimate(const torch::Tensor& f_pi, const torch::Tensor& f_b);
// The dual critic's gradient penalty (Gulrajani et al. 2017): mean (‖∇_a f(s, â)‖₂ − 1)² at
// â = ε a_π + (1 − ε) a_b, ε ~ U(0, 1) per sample (given, [n, B, 1]); a_π, a_b: [n, B, A].
torch::Tensor gradient_penalty(DualCritic& critic, const torch::Tensor& obs_n, const torch::Tensor& a_pi,
                               const torch::Tensor& a_b, const torch::Tensor& eps);

// Uniform draws in [0, 1) from `rng` as a float32 tensor of `sizes` (on the CPU).
torch::Tensor uniform_unit(const std::vector<std::int64_t>& sizes, std::mt19937_64& rng);

// BRAC's and BEAR's behaviour model b: a tanh-Gaussian fitted to the data by maximum likelihood
// before the agent's first gradient step (OfflineAgent::fit_behavior), then frozen.
struct BehaviorModel {
  TanhGaussianPolicy policy{nullptr};
  std::unique_ptr<torch::optim::Optimizer> optimizer;
  bool fitted = false;
  // "behavior", "behavior_optimizer", "behavior_fitted".
  void add_to(core::CheckpointParts& parts);
};

// Adam (nn::make_optimizer's default) on `params` at learning rate `lr`.
std::unique_ptr<torch::optim::Optimizer> adam(const std::vector<torch::Tensor>& params, double lr);

// An offline agent's common part: the env it acts in (spaces and evaluation), its dataset, the
// observation normaliser and the loop — learn() runs prepare() once, then update() on a fresh minibatch
// for each gradient step — and the checkpoint: the options and the parts the agent lists.
class OfflineAgent : public Agent {
 public:
  void learn(std::int64_t total_timesteps, Callback& callback) final;
  // One gradient step on a minibatch (raw observations, actions in [-1, 1]): losses and statistics.
  virtual std::map<std::string, double> update(const Batch& batch) = 0;

 protected:
  // `env` made by checked_env (the options already checked); the dataset at `dataset` is loaded and
  // checked against it.
  OfflineAgent(std::unique_ptr<envs::Env> env, const std::string& dataset, const std::string& device,
               std::int64_t batch_size, std::uint64_t seed);
  // What runs before the first gradient step of every learn() (BRAC's and BEAR's behaviour fit).
  virtual void prepare() {}
  virtual std::string options_yaml() const = 0;
  // Everything the agent's checkpoint holds besides its options.
  virtual void checkpoint_parts(core::CheckpointParts& parts) = 0;
  // Fits b for `steps` minibatches unless it was (a resumed run), logs "behavior_loss", freezes it.
  void fit_behavior(BehaviorModel& b, std::int64_t steps, const std::string& who);
  // A tanh-Gaussian policy's actions for env observations: tanh(μ(s)) or a draw, in env units.
  torch::Tensor act_tanh_gaussian(TanhGaussianPolicy& policy, const torch::Tensor& obs, bool deterministic);

  std::unique_ptr<envs::Env> env_;
  OfflineData data_;
  ObservationNormalizer normalize_;  // the identity unless the agent normalises (CQL, IQL, TD3+BC)

 private:
  void save_state(core::CheckpointWriter& w) const final;
  void load_state(core::CheckpointReader& r) final;
  std::int64_t batch_size_;
};

// The env an offline agent A is built on, made once its options pass validate() and A::check_env: a
// bad key or dataset fails before anything is loaded.
template <class A, class O>
std::unique_ptr<envs::Env> checked_env(const envs::EnvFactory& make, const O& options) {
  options.validate();
  auto env = make();
  A::check_env(options, *env);
  return env;
}

}  // namespace dojo::rl

DOJO_PUBLIC_END
