#include "rl/iql.h"

#include <torch/torch.h>

#include "core/checkpoint.h"
#include "core/config.h"
#include "core/seed.h"
#include "nn/mlp.h"
#include "nn/optim.h"
#include "rl/loops.h"
#include "rl/networks.h"

namespace dojo::rl {

void IQL::check_env(const IQLOptions& options, const envs::Env& env) {
  OfflineData::check("iql", options.dataset(), env);
}

IQL::IQL(envs::EnvFactory env, IQLOptions options, std::uint64_t seed)
    : Agent(core::derive_seed(seed, "agent")),
      env_(env()),
      opts_((options.validate(), check_env(options, *env_), std::move(options))),
      data_(opts_.dataset(), *env_) {
  device_ = core::device(opts_.device());
  const auto s = data_.obs_dim(), a = data_.action_dim();
  normalize_ = data_.observation_normalizer(opts_.normalize_observations(), device_);
  if (opts_.normalize_rewards()) {
    // CORL's locomotion scaling: the spread of the dataset's episode returns maps to 1000.
    const auto stats = dataset_stats(data_.data());
    if (stats.finished > 1 && stats.max_return > stats.min_return)
      reward_scale_ = 1000.0 / (stats.max_return - stats.min_return);
  }
  with_init_seed(core::derive_seed(seed, "network"), [&] {
    q_ = TwinQ(s, a, opts_.net_arch(), "relu");
    q_target_ = TwinQ(s, a, opts_.net_arch(), "relu");
    v_ = nn::mlp(s, opts_.net_arch(), 1);
    policy_ = TanhGaussianPolicy(s, a, opts_.net_arch());
  });
  for (torch::nn::Module* m :
       {static_cast<torch::nn::Module*>(q_.get()), static_cast<torch::nn::Module*>(q_target_.get()),
        static_cast<torch::nn::Module*>(v_.get()), static_cast<torch::nn::Module*>(policy_.get())})
    m->to(device_);
  soft_update(*q_target_, *q_, 1.0);
  for (auto& p : q_target_->parameters()) p.requires_grad_(false);
  nn::OptimizerOptions o;
  o.learning_rate = opts_.learning_rate();
  q_optimizer_ = nn::make_optimizer(q_->parameters(), o);
  v_optimizer_ = nn::make_optimizer(v_->parameters(), o);
  policy_optimizer_ = nn::make_optimizer(policy_->parameters(), o);
}

torch::Tensor IQL::expectile_loss(const torch::Tensor& u, double expectile) {
  const auto weight = torch::abs(expectile - (u < 0).to(u.scalar_type()));
  return (weight * u.pow(2)).mean();
}

torch::Tensor IQL::awr_weights(const torch::Tensor& advantage, double beta, double max_weight) {
  return torch::exp(beta * advantage).clamp_max(max_weight);
}

void IQL::learn(std::int64_t total_timesteps, Callback& callback) {
  offline_loop(
      {*this, num_timesteps_, logger_}, [&] { return update(data_.sample(opts_.batch_size(), rng_)); },
      total_timesteps, callback);
}

torch::Tensor IQL::act_batch(const torch::Tensor& obs, bool deterministic) {
  torch::NoGradGuard no_grad;
  const auto o = normalize_(obs);
  const auto unit = deterministic ? policy_->mode(o) : policy_->sample(o, rng_).action[0];
  return data_.scaler().to_env(unit.cpu());
}

std::map<std::string, double> IQL::update(const Batch& batch) {
  auto b = batch.to(device_);
  b.obs = normalize_(b.obs), b.next_obs = normalize_(b.next_obs);
  const auto reward = b.reward * reward_scale_;

  // V: the τ-expectile of the target Q over the data's actions.
  torch::Tensor q_data;
  {
    torch::NoGradGuard no_grad;
    const auto [q1, q2] = q_target_->forward(b.obs, b.action);
    q_data = torch::min(q1, q2);
  }
  const auto v = v_->forward(b.obs).squeeze(-1);
  const auto advantage = q_data - v;
  std::map<std::string, double> out{
      {"v_loss", gradient_step(*v_optimizer_, expectile_loss(advantage, opts_.expectile()), 0.0)}};

  // Q: one-step backups of V(s').
  torch::Tensor y;
  {
    torch::NoGradGuard no_grad;
    y = reward + opts_.gamma() * (1.0 - b.terminated) * v_->forward(b.next_obs).squeeze(-1);
  }
  const auto [q1, q2] = q_->forward(b.obs, b.action);
  out["q_loss"] = gradient_step(*q_optimizer_, torch::mse_loss(q1, y) + torch::mse_loss(q2, y), 0.0);

  // π: advantage-weighted regression on the data's actions.
  const auto weights = awr_weights(advantage.detach(), opts_.beta(), opts_.max_weight());
  out["policy_loss"] =
      gradient_step(*policy_optimizer_, -(weights * policy_->log_prob(b.obs, b.action)).mean(), 0.0);

  soft_update(*q_target_, *q_, opts_.tau());
  out["v_mean"] = v.detach().mean().item<double>();
  out["q_mean"] = q1.detach().mean().item<double>();
  return out;
}

void IQL::save_state(core::CheckpointWriter& w) const {
  w.put("options", core::options_yaml(opts_));
  w.put("q", *q_);
  w.put("q_target", *q_target_);
  w.put("v", *v_);
  w.put("policy", *policy_);
  w.put("q_optimizer", *q_optimizer_);
  w.put("v_optimizer", *v_optimizer_);
  w.put("policy_optimizer", *policy_optimizer_);
}

void IQL::load_state(core::CheckpointReader& r) {
  r.get("q", *q_);
  r.get("q_target", *q_target_);
  r.get("v", *v_);
  r.get("policy", *policy_);
  r.get("q_optimizer", *q_optimizer_);
  r.get("v_optimizer", *v_optimizer_);
  r.get("policy_optimizer", *policy_optimizer_);
}

}  // namespace dojo::rl
