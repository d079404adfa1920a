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
    : Agent(core::derive_seed(seed, "agent")),
      env_(env()),
      opts_((options.validate(), check_env(options, *env_), std::move(options))),
      data_(opts_.dataset(), *env_) {
  device_ = core::device(opts_.device());
  const auto s = data_.obs_dim(), a = data_.action_dim();
  normalize_ = data_.observation_normalizer(opts_.normalize_observations(), device_);
  auto build_actor = [&] {
    auto net = nn::mlp(s, opts_.net_arch(), a);
    net->push_back(torch::nn::Tanh());
    return net;
  };
  with_init_seed(core::derive_seed(seed, "network"), [&] {
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
  soft_update(*actor_target_, *actor_, 1.0);
  soft_update(*critic_target_, *critic_, 1.0);
  for (auto& p : actor_target_->parameters()) p.requires_grad_(false);
  for (auto& p : critic_target_->parameters()) p.requires_grad_(false);
  nn::OptimizerOptions o;
  o.learning_rate = opts_.learning_rate();
  actor_optimizer_ = nn::make_optimizer(actor_->parameters(), o);
  critic_optimizer_ = nn::make_optimizer(critic_->parameters(), o);
}

void TD3BC::learn(std::int64_t total_timesteps, Callback& callback) {
  offline_loop(
      {*this, num_timesteps_, logger_}, [&] { return update(data_.sample(opts_.batch_size(), rng_)); },
      total_timesteps, callback);
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
    const auto smoothing = torch::clamp(eps, -opts_.target_noise_clip(), opts_.target_noise_clip());
    const auto next = torch::clamp(actor_target_->forward(b.next_obs) + smoothing, -1.0, 1.0);
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

void TD3BC::save_state(core::CheckpointWriter& w) const {
  w.put("options", core::options_yaml(opts_));
  w.put("actor", *actor_);
  w.put("actor_target", *actor_target_);
  w.put("critic", *critic_);
  w.put("critic_target", *critic_target_);
  w.put("actor_optimizer", *actor_optimizer_);
  w.put("critic_optimizer", *critic_optimizer_);
  w.put("n_updates", n_updates_);
}

void TD3BC::load_state(core::CheckpointReader& r) {
  r.get("actor", *actor_);
  r.get("actor_target", *actor_target_);
  r.get("critic", *critic_);
  r.get("critic_target", *critic_target_);
  r.get("actor_optimizer", *actor_optimizer_);
  r.get("critic_optimizer", *critic_optimizer_);
  n_updates_ = r.get_int("n_updates");
}

}  // namespace dojo::rl
