#include "rl/bear.h"

#include <torch/torch.h>

#include <cmath>

#include "core/checkpoint.h"
#include "core/config.h"
#include "core/error.h"
#include "core/seed.h"
#include "nn/optim.h"
#include "rl/loops.h"
#include "rl/networks.h"

namespace dojo::rl {

namespace {
// BEAR's bounds on log α.
constexpr double kLogAlphaMin = -5.0, kLogAlphaMax = 10.0;
}  // namespace

void BEAR::check_env(const BEAROptions& options, const envs::Env& env) {
  OfflineData::check("bear", options.dataset(), env);
}

BEAR::BEAR(envs::EnvFactory env, BEAROptions options, std::uint64_t seed)
    : OfflineAgent(checked_env<BEAR>(env, options), options.dataset(), options.device(), options.batch_size(),
                   seed),
      opts_(std::move(options)) {
  const auto s = data_.obs_dim(), a = data_.action_dim();
  core::with_seed(core::derive_seed(seed, "network"), [&] {
    behavior_.policy = TanhGaussianPolicy(s, a, opts_.behavior_arch());
    policy_ = TanhGaussianPolicy(s, a, opts_.net_arch());
    q_ = QEnsemble(s, a, opts_.net_arch(), opts_.n_q());
    q_target_ = QEnsemble(s, a, opts_.net_arch(), opts_.n_q());
  });
  behavior_.policy->to(device_);
  policy_->to(device_);
  q_->to(device_);
  q_target_->to(device_);
  init_target(*q_target_, *q_);
  behavior_.optimizer = adam(behavior_.policy->parameters(), opts_.behavior_learning_rate());
  policy_optimizer_ = adam(policy_->parameters(), opts_.policy_learning_rate());
  q_optimizer_ = adam(q_->parameters(), opts_.q_learning_rate());
  log_alpha_ = torch::zeros({1}, torch::TensorOptions().device(device_).requires_grad(true));
  alpha_optimizer_ = adam({log_alpha_}, opts_.alpha_learning_rate());
}

double BEAR::alpha() const { return std::exp(log_alpha_.detach().cpu().item<double>()); }

void BEAR::prepare() { fit_behavior(behavior_, opts_.behavior_steps(), "bear"); }

torch::Tensor BEAR::act_batch(const torch::Tensor& obs, bool deterministic) {
  return act_tanh_gaussian(policy_, obs, deterministic);
}

std::map<std::string, double> BEAR::update(const Batch& batch) {
  const auto b = batch.to(device_);
  std::map<std::string, double> out;

  // Q: the best of n sampled next actions under the conservative ensemble mix.
  torch::Tensor y;
  {
    torch::NoGradGuard no_grad;
    const auto n = opts_.n_target_samples();
    const auto next = policy_->sample(b.next_obs, rng_, n).action;        // [n, B, A]
    const auto qs = q_target_->forward(repeat_obs(b.next_obs, n), next);  // [K, n, B]
    const auto mixed = ensemble_mix(qs, opts_.ensemble_lambda());         // [n, B]
    y = b.reward + opts_.gamma() * (1.0 - b.terminated) * std::get<0>(mixed.max(0));
  }
  const auto qs = q_->forward(b.obs, b.action);
  out["q_loss"] = gradient_step(*q_optimizer_, (qs - y.unsqueeze(0)).pow(2).mean(1).sum(), 0.0);

  // π: −min_k Q_k + α (MMD − ε), MMD between n draws of π and of b at each state.
  const auto m = opts_.n_mmd_samples();
  const auto draws = policy_->sample(b.obs, rng_, m);
  torch::Tensor from_b;
  {
    torch::NoGradGuard no_grad;
    from_b = behavior_.policy->sample(b.obs, rng_, m).action;
  }
  const auto mmd = mmd_estimate(draws.action, from_b, opts_.mmd_kernel(), opts_.mmd_sigma());  // [B]
  const double a = alpha();
  auto policy_loss = a * (mmd - opts_.epsilon());
  if (num_timesteps_ >= opts_.warm_start()) {
    FrozenParameters frozen(*q_);
    policy_loss = policy_loss - std::get<0>(q_->forward(b.obs, draws.action[0]).min(0));
    out["policy_loss"] = gradient_step(*policy_optimizer_, policy_loss.mean(), 0.0);
  } else {
    out["policy_loss"] = gradient_step(*policy_optimizer_, policy_loss.mean(), 0.0);
  }

  // α: gradient ascent on α (MMD − ε).
  out["alpha_loss"] = gradient_step(*alpha_optimizer_,
                                    -(log_alpha_.exp() * (mmd.detach().mean() - opts_.epsilon())).sum(), 0.0);
  {
    torch::NoGradGuard no_grad;
    log_alpha_.clamp_(kLogAlphaMin, kLogAlphaMax);
  }

  soft_update(*q_target_, *q_, opts_.tau());
  out["mmd"] = mmd.detach().mean().item<double>();
  out["alpha"] = a;
  out["q_mean"] = qs.detach().mean().item<double>();
  return out;
}

std::string BEAR::options_yaml() const { return core::options_yaml(opts_); }

void BEAR::checkpoint_parts(core::CheckpointParts& parts) {
  parts.add("policy", *policy_).add("q", *q_).add("q_target", *q_target_);
  parts.add("policy_optimizer", *policy_optimizer_).add("q_optimizer", *q_optimizer_);
  parts.add("log_alpha", log_alpha_).add("alpha_optimizer", *alpha_optimizer_);
  behavior_.add_to(parts);
}

}  // namespace dojo::rl
