#include "rl/td3bc.h"

#include <torch/torch.h>

#include "core/checkpoint.h"
#include "core/config.h"
#include "core/seed.h"
#include "nn/mlp.h"
#include "nn/optim.h"
#include "rl/loops.h"
#include "rl/networks.h"

namespace dojo::rl {

void TD3BC::check_env(const TD3BCOptions& options, const envs::Env& env) {
  OfflineData::check("td3bc", options.dataset(), env);
}

TD3BC::TD3BC(envs::EnvFactory env, TD3BCOptions options, std::uint64_t seed)
    : OfflineAgent(checked_env<TD3BC>(env, options), options.dataset(), options.device(),
                   options.batch_size(), seed),
      opts_(std::move(options)) {
  const auto s = data_.obs_dim(), a = data_.action_dim();
  normalize_ = data_.observation_normalizer(opts_.normalize_observations(), device_);
  auto build_actor = [&] {
    auto net = nn::mlp(s, opts_.net_arch(), a);
    net->push_back(torch::nn::Tanh());
    return net;
  };
  core::with_seed(core::derive_seed(seed, "network"), [&] {
    actor_ = build_actor();
    actor_target_ = build_actor();
    critic_ = TwinQ(s, a, opts_.net_arch(), "relu");
    critic_target_ = TwinQ(s, a, opts_.net_arch(), "relu");
  });
  for (torch::nn::Module* m :
       {static_cast<torch::nn::Module*>(actor_.get()), static_cast<torch::nn::Module*>(actor_target_.get()),
        static_cast<torch::nn::Module*>(critic_.get()),
        static_cast<torch::nn::Module*>(critic_target_.get())})
    m->to(device_);
  init_target(*actor_target_, *actor_);
  init_target(*critic_target_, *critic_);
  actor_optimizer_ = adam(actor_->parameters(), opts_.learning_rate());
  critic_optimizer_ = adam(critic_->parameters(), opts_.learning_rate());
}

torch::Tensor TD3BC::act_batch(const torch::Tensor& obs, bool) {
  torch::NoGradGuard no_grad;
  return data_.scaler().to_env(actor_->forward(normalize_(obs)).cpu());
}

std::pair<torch::Tensor, double> TD3BC::actor_loss(const torch::Tensor& q, const torch::Tensor& pi_action,
                                                   const torch::Tensor& data_action, double alpha) {
  const double lambda = alpha / q.abs().mean().detach().item<double>();
  return {-lambda * q.mean() + (pi_action - data_action).pow(2).mean(), lambda};
}

std::map<std::string, double> TD3BC::update(const Batch& batch) {
  auto b = batch.to(device_);
  b.obs = normalize_(b.obs), b.next_obs = normalize_(b.next_obs);
  ++n_updates_;
  // Critics: TD3's clipped double Q with target policy smoothing.
  torch::Tensor y;
  {
    torch::NoGradGuard no_grad;
    const auto eps = opts_.target_policy_noise() * standard_normal(b.action.sizes().vec(), rng_).to(device_);
    const auto next = smoothed_target_action(actor_target_, b.next_obs, eps, opts_.target_noise_clip());
    const auto [q1, q2] = critic_target_->forward(b.next_obs, next);
    y = clipped_double_q_target(b.reward, b.terminated, opts_.gamma(), q1, q2);
  }
  const auto [q1, q2] = critic_->forward(b.obs, b.action);
  std::map<std::string, double> out{
      {"critic_loss",
       gradient_step(*critic_optimizer_, torch::mse_loss(q1, y) + torch::mse_loss(q2, y), 0.0)},
      {"q_mean", q1.detach().mean().item<double>()}};

  // Every policy_delay steps: the actor, −λ Q + behaviour cloning; then the targets.
  if (n_updates_ % opts_.policy_delay() == 0) {
    {
      FrozenParameters frozen(*critic_);
      const auto pi = actor_->forward(b.obs);
      const auto [loss, lambda] = actor_loss(critic_->q1(b.obs, pi), pi, b.action, opts_.alpha());
      out["actor_loss"] = gradient_step(*actor_optimizer_, loss, 0.0);
      out["lambda"] = lambda;
    }
    soft_update(*critic_target_, *critic_, opts_.tau());
    soft_update(*actor_target_, *actor_, opts_.tau());
  }
  return out;
}

std::string TD3BC::options_yaml() const { return core::options_yaml(opts_); }

void TD3BC::checkpoint_parts(core::CheckpointParts& parts) {
  parts.add("actor", *actor_).add("actor_target", *actor_target_);
  parts.add("critic", *critic_).add("critic_target", *critic_target_);
  parts.add("actor_optimizer", *actor_optimizer_).add("critic_optimizer", *critic_optimizer_);
  parts.add("n_updates", n_updates_);
}

}  // namespace dojo::rl
