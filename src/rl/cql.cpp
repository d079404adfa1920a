#include "rl/cql.h"

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

void CQL::check_env(const CQLOptions& options, const envs::Env& env) {
  OfflineData::check("cql", options.dataset(), env);
}

CQL::CQL(envs::EnvFactory env, CQLOptions options, std::uint64_t seed)
    : OfflineAgent(checked_env<CQL>(env, options), options.dataset(), options.device(), options.batch_size(),
                   seed),
      opts_(std::move(options)) {
  const auto s = data_.obs_dim(), a = data_.action_dim();
  normalize_ = data_.observation_normalizer(opts_.normalize_observations(), device_);
  core::with_seed(core::derive_seed(seed, "network"), [&] {
    policy_ = TanhGaussianPolicy(s, a, opts_.net_arch());
    q_ = QEnsemble(s, a, opts_.net_arch(), 2);
    q_target_ = QEnsemble(s, a, opts_.net_arch(), 2);
  });
  policy_->to(device_);
  q_->to(device_);
  q_target_->to(device_);
  init_target(*q_target_, *q_);
  policy_optimizer_ = adam(policy_->parameters(), opts_.policy_learning_rate());
  log_ent_coef_ = torch::zeros({1}, torch::TensorOptions().device(device_).requires_grad(true));
  ent_optimizer_ = adam({log_ent_coef_}, opts_.policy_learning_rate());
  target_entropy_ = -static_cast<double>(a);
  q_optimizer_ = adam(q_->parameters(), opts_.q_learning_rate());
}

double CQL::ent_coef() const { return std::exp(log_ent_coef_.detach().cpu().item<double>()); }

torch::Tensor CQL::conservative_gap(const torch::Tensor& q_rand, const torch::Tensor& q_pi,
                                    const torch::Tensor& log_pi, const torch::Tensor& q_next,
                                    const torch::Tensor& log_next, const torch::Tensor& q_data,
                                    std::int64_t action_dim, double temperature) {
  const double log_uniform = static_cast<double>(action_dim) * std::log(0.5);
  const auto proposals = torch::cat({q_rand - log_uniform, q_next - log_next, q_pi - log_pi}, 0);  // [3n, B]
  const auto soft_max = temperature * torch::logsumexp(proposals / temperature, 0);
  return (soft_max - q_data).mean();
}

torch::Tensor CQL::act_batch(const torch::Tensor& obs, bool deterministic) {
  return act_tanh_gaussian(policy_, obs, deterministic);
}

std::map<std::string, double> CQL::update(const Batch& batch) {
  auto b = batch.to(device_);
  b.obs = normalize_(b.obs), b.next_obs = normalize_(b.next_obs);
  const auto n = opts_.n_actions(), batch_n = b.obs.size(0), a_dim = data_.action_dim();
  std::map<std::string, double> out;

  // α_ent and π, as SAC.
  const auto pi = policy_->sample(b.obs, rng_, 1);
  const double alpha_ent = ent_coef();
  out["ent_coef_loss"] =
      gradient_step(*ent_optimizer_, entropy_coef_loss(log_ent_coef_, pi.log_prob[0], target_entropy_), 0.0);
  {
    FrozenParameters frozen(*q_);
    const auto q_pi = std::get<0>(q_->forward(b.obs, pi.action[0]).min(0));
    out["policy_loss"] = gradient_step(*policy_optimizer_, (alpha_ent * pi.log_prob[0] - q_pi).mean(), 0.0);
  }

  // Critics: the TD error plus α times the conservative gap, for each Q.
  torch::Tensor y, a_rand, cur, next;
  TanhGaussianPolicyImpl::Draw cur_draw, next_draw;
  {
    torch::NoGradGuard no_grad;
    const auto next1 = policy_->sample(b.next_obs, rng_, 1);
    auto v = std::get<0>(q_target_->forward(b.next_obs, next1.action[0]).min(0));
    if (opts_.backup_entropy()) v = v - alpha_ent * next1.log_prob[0];
    y = b.reward + opts_.gamma() * (1.0 - b.terminated) * v;
    a_rand = (uniform_unit({n, batch_n, a_dim}, rng_) * 2.0 - 1.0).to(device_);
    cur_draw = policy_->sample(b.obs, rng_, n);
    next_draw = policy_->sample(b.next_obs, rng_, n);
  }
  const auto obs_n = repeat_obs(b.obs, n);
  const auto q_data = q_->forward(b.obs, b.action);  // [2, B]
  const auto q_rand = q_->forward(obs_n, a_rand);    // [2, n, B]
  const auto q_cur = q_->forward(obs_n, cur_draw.action);
  const auto q_next = q_->forward(obs_n, next_draw.action);
  torch::Tensor td = torch::zeros({}, q_data.options()), gap = torch::zeros({}, q_data.options());
  for (std::int64_t i = 0; i < 2; ++i) {
    td = td + torch::mse_loss(q_data[i], y);
    gap = gap + conservative_gap(q_rand[i], q_cur[i], cur_draw.log_prob, q_next[i], next_draw.log_prob,
                                 q_data[i], a_dim, opts_.temperature());
  }
  out["q_loss"] = gradient_step(*q_optimizer_, td + opts_.cql_alpha() * gap, 0.0);
  out["td_loss"] = td.item<double>();
  out["cql_gap"] = gap.item<double>() / 2.0;

  soft_update(*q_target_, *q_, opts_.tau());
  out["ent_coef"] = alpha_ent;
  out["q_mean"] = q_data.detach().mean().item<double>();
  return out;
}

std::string CQL::options_yaml() const { return core::options_yaml(opts_); }

void CQL::checkpoint_parts(core::CheckpointParts& parts) {
  parts.add("policy", *policy_).add("q", *q_).add("q_target", *q_target_);
  parts.add("policy_optimizer", *policy_optimizer_).add("q_optimizer", *q_optimizer_);
  parts.add("log_ent_coef", log_ent_coef_).add("ent_optimizer", *ent_optimizer_);
}

}  // namespace dojo::rl
