#include "rl/bc.h"

#include <torch/torch.h>

#include "core/checkpoint.h"
#include "core/config.h"
#include "core/seed.h"
#include "nn/optim.h"
#include "rl/loops.h"
#include "rl/networks.h"

namespace dojo::rl {

void BC::check_env(const BCOptions& options, const envs::Env& env) {
  OfflineData::check("bc", options.dataset(), env);
}

BC::BC(envs::EnvFactory env, BCOptions options, std::uint64_t seed)
    : Agent(core::derive_seed(seed, "agent")),
      env_(env()),
      opts_((options.validate(), check_env(options, *env_), std::move(options))),
      data_(opts_.dataset(), *env_) {
  device_ = core::device(opts_.device());
  with_init_seed(core::derive_seed(seed, "network"), [&] {
    policy_ = TanhGaussianPolicy(data_.obs_dim(), data_.action_dim(), opts_.net_arch());
  });
  policy_->to(device_);
  nn::OptimizerOptions o;
  o.learning_rate = opts_.learning_rate();
  optimizer_ = nn::make_optimizer(policy_->parameters(), o);
}

void BC::learn(std::int64_t total_timesteps, Callback& callback) {
  offline_loop(
      {*this, num_timesteps_, logger_}, [&] { return update(data_.sample(opts_.batch_size(), rng_)); },
      total_timesteps, callback);
}

std::map<std::string, double> BC::update(const Batch& batch) {
  const auto b = batch.to(device_);
  const auto loss = -policy_->log_prob(b.obs, b.action).mean();
  return {{"bc_loss", gradient_step(*optimizer_, loss, 0.0)}};
}

torch::Tensor BC::act_batch(const torch::Tensor& obs, bool deterministic) {
  torch::NoGradGuard no_grad;
  const auto o = obs.to(device_, torch::kFloat32);
  const auto unit = deterministic ? policy_->mode(o) : policy_->sample(o, rng_).action[0];
  return data_.scaler().to_env(unit.cpu());
}

void BC::save_state(core::CheckpointWriter& w) const {
  w.put("options", core::options_yaml(opts_));
  w.put("policy", *policy_);
  w.put("optimizer", *optimizer_);
}

void BC::load_state(core::CheckpointReader& r) {
  r.get("policy", *policy_);
  r.get("optimizer", *optimizer_);
}

}  // namespace dojo::rl
