#include "rl/sac.h"

#include <torch/torch.h>

#include <cmath>

#include "core/checkpoint.h"
#include "core/config.h"
#include "core/device.h"
#include "core/error.h"
#include "core/seed.h"
#include "nn/mlp.h"
#include "nn/optim.h"
#include "rl/loops.h"
#include "rl/networks.h"
#include "rl/policy.h"

namespace dojo::rl {

namespace {

// SB3's bounds on the network's log σ: exp(−20) to exp(2).
constexpr double kLogStdMin = -20.0, kLogStdMax = 2.0;
// gSDE's mean is clipped to ±2 before the tanh (SB3's clip_mean): beyond it tanh saturates and the
// gradient vanishes.
constexpr double kSdeClipMean = 2.0;

// "auto", "auto_0.1" or a number: (learned, initial value).
std::pair<bool, double> parse_ent_coef(const std::string& s) {
  if (s == "auto") return {true, 1.0};
  const bool learned = s.rfind("auto_", 0) == 0;
  const std::string number = learned ? s.substr(5) : s;
  try {
    std::size_t used = 0;
    const double v = std::stod(number, &used);
    if (used == number.size() && v > 0) return {learned, v};
  } catch (const std::exception&) {
  }
  throw Error("ent_coef '" + s + "': expected auto, auto_<initial value> or a positive number");
}

double parse_target_entropy(const std::string& s, std::int64_t action_dim) {
  if (s == "auto") return -static_cast<double>(action_dim);
  try {
    std::size_t used = 0;
    const double v = std::stod(s, &used);
    if (used == s.size()) return v;
  } catch (const std::exception&) {
  }
  throw Error("target_entropy '" + s + "': expected auto (−|A|) or a number");
}

}  // namespace

void SACOptions::validate() const {
  core::check_options(*this);
  parse_ent_coef(ent_coef());
  parse_target_entropy(target_entropy(), 1);
}

SquashedGaussianActorImpl::SquashedGaussianActorImpl(std::int64_t obs_dim, std::int64_t action_dim,
                                                     const std::vector<std::int64_t>& net_arch,
                                                     const std::string& activation, bool sde,
                                                     double log_std_init)
    : trunk(register_module("trunk", nn::mlp_body(obs_dim, net_arch, activation))),
      mu(register_module("mu", torch::nn::Linear(net_arch.back(), action_dim))),
      use_sde(sde) {
  if (use_sde) {
    sde_log_std = register_parameter("sde_log_std", torch::full({net_arch.back(), action_dim}, log_std_init));
  } else {
    log_std = register_module("log_std", torch::nn::Linear(net_arch.back(), action_dim));
  }
}

void SAC::check_env(const SACOptions&, const envs::Env& env) { check_continuous_env("sac", env); }

SAC::SAC(envs::EnvFactory env, SACOptions options, std::uint64_t seed)
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
  core::with_seed(core::derive_seed(seed, "network"), [&] {
    actor_ = SquashedGaussianActor(obs_dim, a_dim, opts_.net_arch(), opts_.activation(), opts_.use_sde(),
                                   opts_.log_std_init());
    critic_ = TwinQ(obs_dim, a_dim, opts_.net_arch(), opts_.activation());
    critic_target_ = TwinQ(obs_dim, a_dim, opts_.net_arch(), opts_.activation());
  });
  actor_->to(device_);
  critic_->to(device_);
  critic_target_->to(device_);
  soft_update(*critic_target_, *critic_, 1.0);
  for (auto& p : critic_target_->parameters()) p.requires_grad_(false);

  nn::OptimizerOptions o;
  o.learning_rate = opts_.learning_rate();
  actor_optimizer_ = nn::make_optimizer(actor_->parameters(), o);
  critic_optimizer_ = nn::make_optimizer(critic_->parameters(), o);
  const auto [learned, initial] = parse_ent_coef(opts_.ent_coef());
  target_entropy_ = parse_target_entropy(opts_.target_entropy(), a_dim);
  if (learned) {
    log_ent_coef_ =
        torch::full({1}, std::log(initial), torch::TensorOptions().device(device_).requires_grad(true));
    ent_optimizer_ = nn::make_optimizer({log_ent_coef_}, o);
  } else {
    fixed_ent_coef_ = initial;
  }
  if (opts_.use_sde()) reset_noise();
}

double SAC::ent_coef() const {
  return log_ent_coef_.defined() ? std::exp(log_ent_coef_.detach().cpu().item<double>()) : fixed_ent_coef_;
}

void SAC::reset_noise() {
  const auto latent = opts_.net_arch().back();
  sde_noise_ = standard_normal({latent, scaler_.dim()}, rng_).to(device_);
}

SAC::Params SAC::params(const torch::Tensor& obs) {
  const auto latent = actor_->trunk->forward(obs.to(device_, torch::kFloat32));
  Params p;
  p.mean = actor_->mu->forward(latent);
  if (!actor_->use_sde) {
    p.log_std = torch::clamp(actor_->log_std->forward(latent), kLogStdMin, kLogStdMax);
    return p;
  }
  // gSDE: the noise latent · Ε has variance latent² · σ² per action dimension. The latent is held
  // fixed (SB3's learn_features=False): σ and the mean learn, the features do not learn to explore.
  p.mean = torch::clamp(p.mean, -kSdeClipMean, kSdeClipMean);
  p.latent = latent.detach();
  const auto variance = torch::mm(p.latent.pow(2), (2.0 * actor_->sde_log_std).exp());
  p.log_std = 0.5 * torch::log(variance + 1e-6);
  return p;
}

SAC::Draw SAC::sample(const torch::Tensor& obs) {
  const auto p = params(obs);
  torch::Tensor u;
  if (actor_->use_sde) {
    u = p.mean + torch::mm(p.latent, actor_->sde_log_std.exp() * sde_noise_);
  } else {
    u = p.mean + p.log_std.exp() * standard_normal(p.mean.sizes().vec(), rng_).to(device_);
  }
  return {torch::tanh(u), tanh_gaussian_log_prob(p.mean, p.log_std, u)};
}

torch::Tensor SAC::explore(const torch::Tensor& obs) {
  torch::NoGradGuard no_grad;
  return sample(obs.unsqueeze(0)).action[0];
}

torch::Tensor SAC::act_batch(const torch::Tensor& obs, bool deterministic) {
  torch::NoGradGuard no_grad;
  const auto unit = deterministic ? torch::tanh(params(obs).mean) : sample(obs).action;
  return scaler_.to_env(unit);
}

void SAC::learn(std::int64_t total_timesteps, Callback& callback) {
  ContinuousRollout rollout{scaler_, noise_, replay_, rng_, num_timesteps_};
  rollout.learning_starts = opts_.learning_starts();
  rollout.random_warmup = !(opts_.use_sde() && opts_.use_sde_at_warmup());
  rollout.policy = [&](const torch::Tensor& obs) { return explore(obs); };
  if (opts_.use_sde()) {
    // A new noise matrix every sde_sample_freq steps, or (−1) at each round of updates, SB3's rollout.
    const auto freq = opts_.sde_sample_freq() > 0 ? opts_.sde_sample_freq() : opts_.train_freq();
    rollout.before_step = [&, freq](std::int64_t step) {
      if (step % freq == 0) reset_noise();
    };
  }
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

std::map<std::string, double> SAC::update(const Batch& batch) {
  const auto b = batch.to(device_);
  // gSDE draws a new noise matrix for every update: σ changed since the last one.
  if (opts_.use_sde()) reset_noise();
  const auto pi = sample(b.obs);  // ã ~ π(·|s), kept for the actor's loss below

  // α: minimise −log α · (log π(ã|s) + H̄), with α itself (before this step) weighting the losses.
  double alpha = fixed_ent_coef_, alpha_loss = 0.0;
  if (log_ent_coef_.defined()) {
    alpha = ent_coef();
    alpha_loss =
        gradient_step(*ent_optimizer_, entropy_coef_loss(log_ent_coef_, pi.log_prob, target_entropy_), 0.0);
  }

  // Critics: y = r + γ (1 − terminated) (min_i Q̄_i(s', ã') − α log π(ã'|s')).
  torch::Tensor y;
  {
    torch::NoGradGuard no_grad;
    const auto next = sample(b.next_obs);
    const auto [q1, q2] = critic_target_->forward(b.next_obs, next.action);
    y = clipped_double_q_target(b.reward, b.terminated, opts_.gamma(), q1, q2, next.log_prob, alpha);
  }
  const auto [q1, q2] = critic_->forward(b.obs, b.action);
  const auto critic_loss = 0.5 * (torch::mse_loss(q1, y) + torch::mse_loss(q2, y));
  const double critic_value = gradient_step(*critic_optimizer_, critic_loss, opts_.max_grad_norm());

  // Actor: minimise α log π(ã|s) − min_i Q_i(s, ã), through the (now updated) critics held fixed.
  double actor_value = 0.0;
  {
    FrozenParameters frozen(*critic_);
    const auto [p1, p2] = critic_->forward(b.obs, pi.action);
    const auto actor_loss = (alpha * pi.log_prob - torch::min(p1, p2)).mean();
    actor_value = gradient_step(*actor_optimizer_, actor_loss, opts_.max_grad_norm());
  }

  if (++n_updates_ % opts_.target_update_interval() == 0) soft_update(*critic_target_, *critic_, opts_.tau());
  return {{"actor_loss", actor_value},
          {"critic_loss", critic_value},
          {"ent_coef", alpha},
          {"ent_coef_loss", alpha_loss},
          {"q_mean", q1.detach().mean().item<double>()}};
}

void SAC::save_state(core::CheckpointWriter& w) const {
  w.put("options", core::options_yaml(opts_));
  w.put("actor", *actor_);
  w.put("critic", *critic_);
  w.put("critic_target", *critic_target_);
  w.put("actor_optimizer", *actor_optimizer_);
  w.put("critic_optimizer", *critic_optimizer_);
  if (log_ent_coef_.defined()) {
    w.put("log_ent_coef", log_ent_coef_.detach().cpu());
    w.put("ent_optimizer", *ent_optimizer_);
  }
  if (sde_noise_.defined()) w.put("sde_noise", sde_noise_.cpu());
  w.put("n_updates", n_updates_);
}

void SAC::load_state(core::CheckpointReader& r) {
  r.get("actor", *actor_);
  r.get("critic", *critic_);
  r.get("critic_target", *critic_target_);
  r.get("actor_optimizer", *actor_optimizer_);
  r.get("critic_optimizer", *critic_optimizer_);
  if (log_ent_coef_.defined()) {
    const auto v = r.get_tensor("log_ent_coef");
    if (v.sizes() != log_ent_coef_.sizes()) throw Error("checkpoint's log_ent_coef has the wrong shape");
    torch::NoGradGuard no_grad;
    log_ent_coef_.copy_(v);
    r.get("ent_optimizer", *ent_optimizer_);
  }
  if (sde_noise_.defined()) sde_noise_ = r.get_tensor("sde_noise").to(device_);
  n_updates_ = r.get_int("n_updates");
}

}  // namespace dojo::rl
