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
    : OfflineAgent(checked_env<BC>(env, options), options.dataset(), options.device(), options.batch_size(),
                   seed),
      opts_(std::move(options)) {
  core::with_seed(core::derive_seed(seed, "network"), [&] {
    policy_ = TanhGaussianPolicy(data_.obs_dim(), data_.action_dim(), opts_.net_arch());
  });
  policy_->to(device_);
  optimizer_ = adam(policy_->parameters(), opts_.learning_rate());
}

std::map<std::string, double> BC::update(const Batch& batch) {
  const auto b = batch.to(device_);
  const auto loss = opts_.loss() == "mse" ? (policy_->mode(b.obs) - b.action).pow(2).sum(1).mean()
                                          : -policy_->log_prob(b.obs, b.action).mean();
  return {{"bc_loss", gradient_step(*optimizer_, loss, 0.0)}};
}

torch::Tensor BC::act_batch(const torch::Tensor& obs, bool deterministic) {
  return act_tanh_gaussian(policy_, obs, deterministic);
}

std::string BC::options_yaml() const { return core::options_yaml(opts_); }

void BC::checkpoint_parts(core::CheckpointParts& parts) {
  parts.add("policy", *policy_).add("optimizer", *optimizer_);
}

}  // namespace dojo::rl
