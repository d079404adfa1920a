#include "rl/brac.h"

#include <spdlog/spdlog.h>
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

void BRAC::check_env(const BRACOptions& options, const envs::Env& env, const std::string& name) {
  OfflineData::check(name, options.dataset(), env);
}

BRAC::BRAC(envs::EnvFactory env, BRACOptions options, std::uint64_t seed, std::string name)
    : OfflineAgent(
          [&] {
            options.validate();
            auto e = env();
            check_env(options, *e, name);
            return e;
          }(),
          options.dataset(), options.device(), options.batch_size(), seed),
      name_(std::move(name)),
      opts_(std::move(options)) {
  const auto s = data_.obs_dim(), a = data_.action_dim();
  core::with_seed(core::derive_seed(seed, "network"), [&] {
    behavior_.policy = TanhGaussianPolicy(s, a, opts_.behavior_arch());
    policy_ = TanhGaussianPolicy(s, a, opts_.policy_arch());
    q_ = QEnsemble(s, a, opts_.q_arch(), opts_.n_q());
    q_target_ = QEnsemble(s, a, opts_.q_arch(), opts_.n_q());
    if (dual()) critic_ = DualCritic(s, a, opts_.critic_arch());
  });
  for (torch::nn::Module* m :
       {static_cast<torch::nn::Module*>(behavior_.policy.get()),
        static_cast<torch::nn::Module*>(policy_.get()), static_cast<torch::nn::Module*>(q_.get()),
        static_cast<torch::nn::Module*>(q_target_.get())})
    m->to(device_);
  if (critic_) critic_->to(device_);
  init_target(*q_target_, *q_);

  behavior_.optimizer = adam(behavior_.policy->parameters(), opts_.behavior_learning_rate());
  policy_optimizer_ = adam(policy_->parameters(), opts_.policy_learning_rate());
  q_optimizer_ = adam(q_->parameters(), opts_.q_learning_rate());
  if (critic_) critic_optimizer_ = adam(critic_->parameters(), opts_.critic_learning_rate());
  log_alpha_ =
      torch::full({1}, std::log(opts_.alpha()), torch::TensorOptions().device(device_).requires_grad(true));
  alpha_optimizer_ = adam({log_alpha_}, opts_.alpha_learning_rate());
}

double BRAC::alpha() const { return std::exp(log_alpha_.detach().cpu().item<double>()); }

void BRAC::prepare() { fit_behavior(behavior_, opts_.behavior_steps(), name_); }

torch::Tensor BRAC::divergence(const torch::Tensor& obs, const torch::Tensor& a_pi,
                               const torch::Tensor& log_pi) {
  const auto n = a_pi.size(0);
  const auto obs_n = repeat_obs(obs, n);
  if (opts_.divergence() == "kl") return kl_estimate(log_pi, behavior_.policy->log_prob(obs_n, a_pi));
  torch::Tensor a_b;
  {
    torch::NoGradGuard no_grad;
    a_b = behavior_.policy->sample(obs, rng_, n).action;
  }
  if (opts_.divergence() == "mmd") return mmd_estimate(a_pi, a_b, opts_.mmd_kernel(), opts_.mmd_sigma());
  const auto f_pi = critic_->forward(obs_n, a_pi), f_b = critic_->forward(obs_n, a_b);
  return opts_.divergence() == "kl_dual" ? kl_dual_estimate(f_pi, f_b) : wasserstein_estimate(f_pi, f_b);
}

torch::Tensor BRAC::td_target(const Batch& b) {
  torch::NoGradGuard no_grad;
  const auto next = policy_->sample(b.next_obs, rng_, 1);
  auto v = ensemble_mix(q_target_->forward(b.next_obs, next.action[0]), opts_.ensemble_lambda());
  if (opts_.value_penalty()) {
    const auto draws = policy_->sample(b.next_obs, rng_, opts_.n_div_samples());
    v = v - alpha() * divergence(b.next_obs, draws.action, draws.log_prob);
  }
  return b.reward + opts_.gamma() * (1.0 - b.terminated) * v;
}

std::map<std::string, double> BRAC::update(const Batch& batch) {
  const auto b = batch.to(device_);
  const auto n = opts_.n_div_samples();
  const double a = alpha();
  std::map<std::string, double> out;

  // The dual critic f: maximise its divergence estimate between (detached) draws of π and b, with a
  // gradient penalty that keeps f smooth (1-Lipschitz for Wasserstein).
  if (dual()) {
    torch::Tensor a_pi, a_b;
    {
      torch::NoGradGuard no_grad;
      a_pi = policy_->sample(b.obs, rng_, n).action;
      a_b = behavior_.policy->sample(b.obs, rng_, n).action;
    }
    const auto obs_n = repeat_obs(b.obs, n);
    const auto f_pi = critic_->forward(obs_n, a_pi), f_b = critic_->forward(obs_n, a_b);
    const auto estimate =
        opts_.divergence() == "kl_dual" ? kl_dual_estimate(f_pi, f_b) : wasserstein_estimate(f_pi, f_b);
    const auto gp =
        gradient_penalty(critic_, obs_n, a_pi, a_b, uniform_unit({n, b.obs.size(0), 1}, rng_).to(device_));
    out["critic_loss"] =
        gradient_step(*critic_optimizer_, -estimate.mean() + opts_.gradient_penalty() * gp, 0.0);
  }

  // Q ensemble: y = r + γ (1 − terminated) (Q̄_ens(s', a') − [value penalty] α D̂(s')).
  const auto y = td_target(b);
  const auto qs = q_->forward(b.obs, b.action);
  const auto q_loss = (qs - y.unsqueeze(0)).pow(2).mean(1).sum();
  out["q_loss"] = gradient_step(*q_optimizer_, q_loss, 0.0);

  // π: α D̂(s) + ent_coef log π(ã|s) − Q_ens(s, ã); the first warm_start steps leave Q out.
  const auto draws = policy_->sample(b.obs, rng_, n);
  const auto div = [&] {
    if (!critic_) return divergence(b.obs, draws.action, draws.log_prob);
    FrozenParameters frozen(*critic_);
    return divergence(b.obs, draws.action, draws.log_prob);
  }();
  auto policy_loss = a * div + opts_.ent_coef() * draws.log_prob[0];
  {
    FrozenParameters frozen(*q_);
    if (num_timesteps_ >= opts_.warm_start())
      policy_loss = policy_loss - ensemble_mix(q_->forward(b.obs, draws.action[0]), opts_.ensemble_lambda());
    out["policy_loss"] = gradient_step(*policy_optimizer_, policy_loss.mean(), 0.0);
  }

  // α: the Lagrangian for E[D̂] ≤ target_divergence, α ≤ alpha_max.
  if (opts_.train_alpha()) {
    const auto alpha_loss = -(log_alpha_.exp() * (div.detach().mean() - opts_.target_divergence())).sum();
    out["alpha_loss"] = gradient_step(*alpha_optimizer_, alpha_loss, 0.0);
    torch::NoGradGuard no_grad;
    log_alpha_.clamp_max_(std::log(opts_.alpha_max()));
  }

  soft_update(*q_target_, *q_, opts_.tau());
  ++n_updates_;
  out["divergence"] = div.detach().mean().item<double>();
  out["alpha"] = a;
  out["q_mean"] = qs.detach().mean().item<double>();
  return out;
}

torch::Tensor BRAC::act_batch(const torch::Tensor& obs, bool deterministic) {
  return act_tanh_gaussian(policy_, obs, deterministic);
}

std::string BRAC::options_yaml() const { return core::options_yaml(opts_); }

void BRAC::checkpoint_parts(core::CheckpointParts& parts) {
  parts.add("policy", *policy_).add("q", *q_).add("q_target", *q_target_);
  if (critic_) parts.add("critic", *critic_).add("critic_optimizer", *critic_optimizer_);
  parts.add("policy_optimizer", *policy_optimizer_).add("q_optimizer", *q_optimizer_);
  parts.add("log_alpha", log_alpha_).add("alpha_optimizer", *alpha_optimizer_);
  parts.add("n_updates", n_updates_);
  behavior_.add_to(parts);
}

}  // namespace dojo::rl
