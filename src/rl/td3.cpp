#include "rl/td3.h"

#include <torch/torch.h>

#include "core/checkpoint.h"
#include "core/config.h"
#include "core/device.h"
#include "core/seed.h"
#include "nn/mlp.h"
#include "nn/optim.h"
#include "rl/loops.h"
#include "rl/networks.h"

namespace dojo::rl {

void TD3Options::validate() const { core::check_options(*this); }

void TD3::check_env(const TD3Options&, const envs::Env& env) { check_continuous_env("td3", env); }

TD3::TD3(envs::EnvFactory env, TD3Options options, std::uint64_t seed)
    : Agent(core::derive_seed(seed, "agent")),
      env_(env()),
      opts_((options.validate(), check_env(options, *env_), std::move(options))),
      seed_(seed),
      scaler_(std::get<envs::Box>(env_->action_space())),
      replay_(opts_.buffer_size(), std::get<envs::Box>(env_->observation_space()).shape, torch::kFloat32,
              {scaler_.dim()}, torch::kFloat32),
      noise_(opts_.noise_type(), opts_.noise_std(), scaler_.dim()) {
  device_ = core::device(opts_.device());
  const auto obs_dim = std::get<envs::Box>(env_->observation_space()).numel();
  const auto a_dim = scaler_.dim();
  auto build_actor = [&] {
    auto net = nn::mlp(obs_dim, opts_.net_arch(), a_dim, opts_.activation());
    net->push_back(torch::nn::Tanh());
    return net;
  };
  core::with_seed(core::derive_seed(seed, "network"), [&] {
    actor_ = build_actor();
    actor_target_ = build_actor();
    critic_ = TwinQ(obs_dim, a_dim, opts_.net_arch(), opts_.activation());
    critic_target_ = TwinQ(obs_dim, a_dim, opts_.net_arch(), opts_.activation());
  });
  for (torch::nn::Module* m :
       {static_cast<torch::nn::Module*>(actor_.get()), static_cast<torch::nn::Module*>(actor_target_.get()),
        static_cast<torch::nn::Module*>(critic_.get()),
        static_cast<torch::nn::Module*>(critic_target_.get())}) {
    m->to(device_);
  }
  soft_update(*actor_target_, *actor_, 1.0);
  soft_update(*critic_target_, *critic_, 1.0);
  for (auto& p : actor_target_->parameters()) p.requires_grad_(false);
  for (auto& p : critic_target_->parameters()) p.requires_grad_(false);
  nn::OptimizerOptions o;
  o.learning_rate = opts_.learning_rate();
  actor_optimizer_ = nn::make_optimizer(actor_->parameters(), o);
  critic_optimizer_ = nn::make_optimizer(critic_->parameters(), o);
}

torch::Tensor TD3::act_batch(const torch::Tensor& obs, bool deterministic) {
  torch::NoGradGuard no_grad;
  auto unit = actor_->forward(obs.to(device_, torch::kFloat32)).cpu();
  if (!deterministic && noise_.active()) {
    for (std::int64_t i = 0; i < unit.size(0); ++i) unit[i] += noise_.sample(rng_);
    unit = torch::clamp(unit, -1.0f, 1.0f);
  }
  return scaler_.to_env(unit);
}

void TD3::learn(std::int64_t total_timesteps, Callback& callback) {
  ContinuousRollout rollout{scaler_, noise_, replay_, rng_, num_timesteps_};
  rollout.learning_starts = opts_.learning_starts();
  rollout.policy = [&](const torch::Tensor& obs) {
    torch::NoGradGuard no_grad;
    return actor_->forward(obs.unsqueeze(0).to(device_, torch::kFloat32))[0];
  };
  rollout.update = [&] { return update(replay_.sample(opts_.batch_size(), rng_)); };
  OffPolicySchedule schedule{
      opts_.learning_starts(), opts_.train_freq(), opts_.gradient_steps(), 1,
      std::max<std::int64_t>(1, std::min(opts_.learning_starts(), opts_.buffer_size()))};
  std::optional<std::uint64_t> reset_seed;
  if (!env_started_) reset_seed = core::derive_seed(seed_, "env", static_cast<std::uint64_t>(num_timesteps_));
  env_started_ = true;
  off_policy_loop({*this, num_timesteps_, logger_}, *env_, reset_seed, schedule, rollout.hooks(),
                  total_timesteps, horizon(total_timesteps), callback);
}

torch::Tensor TD3::target_action(const torch::Tensor& next_obs, const torch::Tensor& eps) {
  return smoothed_target_action(actor_target_, next_obs, eps, opts_.target_noise_clip());
}

std::map<std::string, double> TD3::update(const Batch& batch) {
  const auto b = batch.to(device_);
  ++n_updates_;
  // Critics: y = r + γ (1 − terminated) min_i Q̄_i(s', ã'), ã' the smoothed target action.
  torch::Tensor y;
  {
    torch::NoGradGuard no_grad;
    const auto eps = opts_.target_policy_noise() * standard_normal(b.action.sizes().vec(), rng_).to(device_);
    const auto [q1, q2] = critic_target_->forward(b.next_obs, target_action(b.next_obs, eps));
    y = clipped_double_q_target(b.reward, b.terminated, opts_.gamma(), q1, q2);
  }
  const auto [q1, q2] = critic_->forward(b.obs, b.action);
  const double critic_value = gradient_step(
      *critic_optimizer_, torch::mse_loss(q1, y) + torch::mse_loss(q2, y), opts_.max_grad_norm());
  std::map<std::string, double> out{{"critic_loss", critic_value},
                                    {"q_mean", q1.detach().mean().item<double>()}};

  // Every policy_delay updates: the actor ascends Q_1(s, μ(s)), then the targets follow.
  if (n_updates_ % opts_.policy_delay() == 0) {
    {
      FrozenParameters frozen(*critic_);
      const auto actor_loss = -critic_->q1(b.obs, actor_->forward(b.obs)).mean();
      out["actor_loss"] = gradient_step(*actor_optimizer_, actor_loss, opts_.max_grad_norm());
    }
    soft_update(*critic_target_, *critic_, opts_.tau());
    soft_update(*actor_target_, *actor_, opts_.tau());
  }
  return out;
}

void TD3::save_state(core::CheckpointWriter& w) const {
  w.put("options", core::options_yaml(opts_));
  w.put("actor", *actor_);
  w.put("actor_target", *actor_target_);
  w.put("critic", *critic_);
  w.put("critic_target", *critic_target_);
  w.put("actor_optimizer", *actor_optimizer_);
  w.put("critic_optimizer", *critic_optimizer_);
  w.put("n_updates", n_updates_);
}

void TD3::load_state(core::CheckpointReader& r) {
  r.get("actor", *actor_);
  r.get("actor_target", *actor_target_);
  r.get("critic", *critic_);
  r.get("critic_target", *critic_target_);
  r.get("actor_optimizer", *actor_optimizer_);
  r.get("critic_optimizer", *critic_optimizer_);
  n_updates_ = r.get_int("n_updates");
}

}  // namespace dojo::rl
