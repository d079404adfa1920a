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
    : OfflineAgent(checked_env<IQL>(env, options), options.dataset(), options.device(), options.batch_size(),
                   seed),
      opts_(std::move(options)) {
  const auto s = data_.obs_dim(), a = data_.action_dim();
  normalize_ = data_.observation_normalizer(opts_.normalize_observations(), device_);
  if (opts_.normalize_rewards()) {
    // CORL's locomotion scaling: the spread of the dataset's episode returns maps to 1000.
    const auto stats = dataset_stats(data_.data());
    if (stats.finished > 1 && stats.max_return > stats.min_return)
      reward_scale_ = 1000.0 / (stats.max_return - stats.min_return);
  }
  core::with_seed(core::derive_seed(seed, "network"), [&] {
    q_ = TwinQ(s, a, opts_.net_arch(), "relu");
    q_target_ = TwinQ(s, a, opts_.net_arch(), "relu");
    v_ = nn::mlp(s, opts_.net_arch(), 1);
    policy_ = TanhGaussianPolicy(s, a, opts_.net_arch());
  });
  for (torch::nn::Module* m :
       {static_cast<torch::nn::Module*>(q_.get()), static_cast<torch::nn::Module*>(q_target_.get()),
        static_cast<torch::nn::Module*>(v_.get()), static_cast<torch::nn::Module*>(policy_.get())})
    m->to(device_);
  init_target(*q_target_, *q_);
  q_optimizer_ = adam(q_->parameters(), opts_.learning_rate());
  v_optimizer_ = adam(v_->parameters(), opts_.learning_rate());
  policy_optimizer_ = adam(policy_->parameters(), opts_.learning_rate());
}

torch::Tensor IQL::expectile_loss(const torch::Tensor& u, double expectile) {
  const auto weight = torch::abs(expectile - (u < 0).to(u.scalar_type()));
  return (weight * u.pow(2)).mean();
}

torch::Tensor IQL::awr_weights(const torch::Tensor& advantage, double beta, double max_weight) {
  return torch::exp(beta * advantage).clamp_max(max_weight);
}

torch::Tensor IQL::act_batch(const torch::Tensor& obs, bool deterministic) {
  return act_tanh_gaussian(policy_, obs, deterministic);
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

std::string IQL::options_yaml() const { return core::options_yaml(opts_); }

void IQL::checkpoint_parts(core::CheckpointParts& parts) {
  parts.add("q", *q_).add("q_target", *q_target_).add("v", *v_).add("policy", *policy_);
  parts.add("q_optimizer", *q_optimizer_).add("v_optimizer", *v_optimizer_);
  parts.add("policy_optimizer", *policy_optimizer_);
}

}  // namespace dojo::rl
