#include "rl/ppo.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/checkpoint.h"
#include "core/config.h"
#include "core/error.h"
#include "envs/registry.h"
#include "nn/mlp.h"
#include "nn/optim.h"
#include "rl/policy.h"

namespace dojo::rl {

namespace {

void require(bool ok, const std::string& field, double value, const std::string& expected) {
  if (!ok) throw Error(fmt::format("{} = {:g}: expected {}", field, value, expected));
}

void require_schedule(const std::string& key, const std::string& value) {
  if (value != "constant" && value != "linear")
    throw Error(key + " = '" + value + "': expected constant or linear");
}

// Orthogonal weights with the given gain and zero biases on every linear layer, the last one with
// `last_gain` (SB3's and CleanRL's initialisation for PPO).
void orthogonal_init(torch::nn::Sequential& net, double gain, double last_gain) {
  torch::NoGradGuard no_grad;
  std::vector<torch::nn::LinearImpl*> layers;
  for (auto& m : net->modules(/*include_self=*/false)) {
    if (auto* l = m->as<torch::nn::Linear>()) layers.push_back(l);
  }
  for (std::size_t i = 0; i < layers.size(); ++i) {
    torch::nn::init::orthogonal_(layers[i]->weight, i + 1 == layers.size() ? last_gain : gain);
    torch::nn::init::zeros_(layers[i]->bias);
  }
}

}  // namespace

void PPOOptions::validate() const {
  require(n_envs_ > 0, "n_envs", static_cast<double>(n_envs_), "> 0");
  require(learning_rate_ > 0, "learning_rate", learning_rate_, "> 0");
  require(n_steps_ > 0, "n_steps", static_cast<double>(n_steps_), "> 0");
  require(batch_size_ > 0, "batch_size", static_cast<double>(batch_size_), "> 0");
  require(n_epochs_ > 0, "n_epochs", static_cast<double>(n_epochs_), "> 0");
  require(gamma_ >= 0 && gamma_ <= 1, "gamma", gamma_, "in [0, 1]");
  require(gae_lambda_ >= 0 && gae_lambda_ <= 1, "gae_lambda", gae_lambda_, "in [0, 1]");
  require(clip_range_ > 0, "clip_range", clip_range_, "> 0");
  require(clip_range_vf_ >= 0, "clip_range_vf", clip_range_vf_, ">= 0 (0: no value clipping)");
  require(ent_coef_ >= 0, "ent_coef", ent_coef_, ">= 0");
  require(vf_coef_ >= 0, "vf_coef", vf_coef_, ">= 0");
  require(max_grad_norm_ >= 0, "max_grad_norm", max_grad_norm_, ">= 0 (0: no clipping)");
  require(target_kl_ >= 0, "target_kl", target_kl_, ">= 0 (0: no early stop)");
  require_schedule("lr_schedule", lr_schedule_);
  require_schedule("clip_range_schedule", clip_range_schedule_);
  require(optimizer_eps_ > 0, "optimizer_eps", optimizer_eps_, "> 0");
  if (optimizer_ != "adam" && optimizer_ != "rmsprop")
    throw Error("optimizer = '" + optimizer_ + "': expected adam or rmsprop");
  if (net_arch_.empty()) throw Error("net_arch = []: expected at least one hidden layer, e.g. [64, 64]");
}

PPOOptions A2COptions::to_ppo() const {
  return PPOOptions()
      .n_envs(n_envs_)
      .learning_rate(learning_rate_)
      .lr_schedule(lr_schedule_)
      .n_steps(n_steps_)
      .batch_size(n_steps_ * n_envs_)
      .n_epochs(1)
      .gamma(gamma_)
      .gae_lambda(gae_lambda_)
      .normalize_advantage(normalize_advantage_)
      .ent_coef(ent_coef_)
      .vf_coef(vf_coef_)
      .max_grad_norm(max_grad_norm_)
      .net_arch(net_arch_)
      .activation(activation_)
      .log_std_init(log_std_init_)
      .ortho_init(ortho_init_)
      .optimizer(use_rms_prop_ ? "rmsprop" : "adam")
      .optimizer_eps(rms_prop_eps_);
}

PPO::PPO(std::unique_ptr<envs::Env> env, PPOOptions options, std::uint64_t seed, std::string algo)
    : id_(env->id()),
      algo_(std::move(algo)),
      opts_((options.validate(), std::move(options))),
      seed_(seed),
      rng_(seed) {
  const auto* obs = std::get_if<envs::Box>(&env->observation_space());
  if (!obs) {
    throw Error("ppo needs a Box observation space; " + id_ + " has " + envs::to_string(env->observation_space()));
  }
  if (const auto* d = std::get_if<envs::Discrete>(&env->action_space())) {
    discrete_ = true;
    n_actions_ = d->n;
  } else {
    const auto* box = std::get_if<envs::Box>(&env->action_space());
    if (!box || box->shape.size() != 1) {
      throw Error("ppo needs a Discrete or flat Box action space; " + id_ + " has " +
                  envs::to_string(env->action_space()));
    }
    discrete_ = false;
    n_actions_ = box->numel();
    low_ = box->low;
    high_ = box->high;
  }
  envs_ = envs::make_vec(id_, opts_.n_envs(), {.async = false, .n_threads = 0, .make = {}});
  norm_ = std::make_unique<Normalizer>(obs->shape, opts_.n_envs(), opts_.normalize_observations(),
                                       opts_.normalize_reward(), opts_.gamma());
  actor_ = nn::mlp(obs->numel(), opts_.net_arch(), n_actions_, opts_.activation());
  critic_ = nn::mlp(obs->numel(), opts_.net_arch(), 1, opts_.activation());
  if (opts_.ortho_init()) {
    orthogonal_init(actor_, std::sqrt(2.0), 0.01);
    orthogonal_init(critic_, std::sqrt(2.0), 1.0);
  }
  auto params = actor_->parameters();
  for (auto& p : critic_->parameters()) params.push_back(p);
  if (!discrete_) {
    log_std_ = torch::full({n_actions_}, opts_.log_std_init(), torch::requires_grad());
    params.push_back(log_std_);
  }
  nn::OptimizerOptions o;
  o.learning_rate = opts_.learning_rate();
  o.name = opts_.optimizer();
  o.eps = opts_.optimizer_eps();  // 1e-5: SB3's and CleanRL's epsilon for PPO and A2C
  o.alpha = opts_.rmsprop_alpha();
  optimizer_ = nn::make_optimizer(params, o);
}

std::pair<torch::Tensor, torch::Tensor> PPO::log_prob_entropy(const torch::Tensor& obs,
                                                              const torch::Tensor& actions) {
  const auto out = actor_->forward(obs.to(torch::kFloat32).flatten(1));
  if (discrete_) return {categorical_log_prob(out, actions), categorical_entropy(out)};
  return {gaussian_log_prob(out, log_std_, actions), gaussian_entropy(log_std_, out.size(0))};
}

torch::Tensor PPO::value(const torch::Tensor& obs) {
  return critic_->forward(obs.to(torch::kFloat32).flatten(1)).squeeze(-1);
}

torch::Tensor PPO::sample_actions(const torch::Tensor& obs) {
  torch::NoGradGuard no_grad;
  const auto out = actor_->forward(obs.to(torch::kFloat32).flatten(1)).to(torch::kDouble).contiguous();
  const auto n = out.size(0);
  if (discrete_) {
    const auto probs = torch::softmax(out, 1).contiguous();
    auto a = torch::empty({n}, torch::kLong);
    for (std::int64_t i = 0; i < n; ++i) {
      const auto* p = probs.data_ptr<double>() + i * n_actions_;
      double u = std::uniform_real_distribution<double>()(rng_);
      std::int64_t k = 0;
      while (k + 1 < n_actions_ && u >= p[k]) u -= p[k++];
      a.data_ptr<std::int64_t>()[i] = k;
    }
    return a;
  }
  const auto std_dev = log_std_.detach().exp().to(torch::kDouble).contiguous();
  auto a = torch::empty({n, n_actions_}, torch::kDouble);
  std::normal_distribution<double> normal;
  for (std::int64_t i = 0; i < n * n_actions_; ++i) {
    a.data_ptr<double>()[i] =
        out.data_ptr<double>()[i] + std_dev.data_ptr<double>()[i % n_actions_] * normal(rng_);
  }
  return a.to(torch::kFloat32);
}

torch::Tensor PPO::to_env(const torch::Tensor& actions) const {
  if (discrete_) return actions;
  const auto lo = torch::tensor(low_, torch::kFloat32), hi = torch::tensor(high_, torch::kFloat32);
  return torch::max(torch::min(actions, hi), lo);
}

torch::Tensor PPO::act(const torch::Tensor& obs, bool deterministic) {
  torch::InferenceMode guard;
  const auto x = norm_->observations(obs.unsqueeze(0), /*update=*/false);
  if (!deterministic) return to_env(sample_actions(x))[0];
  const auto out = actor_->forward(x.flatten(1))[0];
  if (discrete_) return out.argmax();
  return to_env(out.unsqueeze(0))[0];
}

void PPO::learn(std::int64_t total_timesteps, Callback& callback) {
  callback.on_start(*this, total_timesteps);
  const auto n = opts_.n_envs(), t_max = opts_.n_steps();
  if (!started_) {
    obs_ =
        norm_->observations(envs_->reset(seed_ + static_cast<std::uint64_t>(num_timesteps_)), true).clone();
    last_done_ = torch::zeros({n}, torch::kBool);
    started_ = true;
  }
  const auto& obs_space = std::get<envs::Box>(envs_->single_observation_space());
  std::vector<std::int64_t> obs_shape{t_max, n};
  obs_shape.insert(obs_shape.end(), obs_space.shape.begin(), obs_space.shape.end());
  bool go_on = true;
  while (go_on && num_timesteps_ < total_timesteps) {
    // Collect n_steps × n_envs steps with the current policy.
    auto obs = torch::empty(obs_shape, torch::kFloat32);
    auto actions = discrete_ ? torch::empty({t_max, n}, torch::kLong) : torch::empty({t_max, n, n_actions_});
    auto log_prob = torch::empty({t_max, n}), values = torch::empty({t_max, n});
    Rollout r{torch::zeros({t_max, n}), values, torch::zeros({t_max, n}, torch::kBool),
              torch::zeros({t_max, n}, torch::kBool), torch::empty({t_max, n}, torch::kBool)};
    std::int64_t t = 0;
    for (; t < t_max && go_on; ++t) {
      const auto a = sample_actions(obs_);
      {
        torch::NoGradGuard no_grad;
        obs[t] = obs_.to(torch::kFloat32);
        actions[t] = a;
        log_prob[t] = log_prob_entropy(obs_, a).first;
        values[t] = value(obs_);
      }
      r.valid[t] = ~last_done_;  // an autoreset step is not a transition
      const auto& s = envs_->step(to_env(a));
      last_done_ = s.terminated | s.truncated;
      r.rewards[t] = norm_->rewards(s.reward, last_done_);
      r.terminated[t] = s.terminated;
      r.truncated[t] = s.truncated;
      obs_ = norm_->observations(s.obs, true).clone();
      // One callback step per env step, with the episode's statistics where it ended.
      for (std::int64_t i = 0; i < n && go_on; ++i) {
        envs::StepResult step;
        step.reward = s.reward[i].item<double>();
        step.terminated = s.terminated[i].item<bool>();
        step.truncated = s.truncated[i].item<bool>();
        if (step.done()) {
          step.info["episode_return"] = s.episode_return[i].item<double>();
          step.info["episode_length"] = static_cast<double>(s.episode_length[i].item<std::int64_t>());
        }
        ++num_timesteps_;
        go_on = callback.on_step(*this, {num_timesteps_, total_timesteps, &step, std::nan(""), &last_metrics_});
      }
    }
    if (t < t_max) break;  // stopped mid-rollout: no update on a partial one
    torch::Tensor last_values;
    {
      torch::NoGradGuard no_grad;
      last_values = value(obs_);
    }
    const auto adv = compute_gae(r, last_values, opts_.gamma(), opts_.gae_lambda());
    const double progress = static_cast<double>(num_timesteps_) / static_cast<double>(total_timesteps);
    last_metrics_ = train(obs, actions, log_prob, values, adv, r.valid, progress);
  }
  callback.on_end(*this);
}

std::map<std::string, double> PPO::train(const torch::Tensor& obs, const torch::Tensor& actions,
                                         const torch::Tensor& old_log_prob, const torch::Tensor& old_values,
                                         const Advantages& adv, const torch::Tensor& valid, double progress) {
  // Annealed schedules (RL Zoo's lin_<x>: x at the start, 0 at the end).
  const double frac = 1.0 - progress;
  const double lr = opts_.lr_schedule() == "linear" ? opts_.learning_rate() * frac : opts_.learning_rate();
  const double clip =
      opts_.clip_range_schedule() == "linear" ? opts_.clip_range() * frac : opts_.clip_range();
  for (auto& g : optimizer_->param_groups()) g.options().set_lr(lr);

  // Flatten [T, N] to the valid transitions.
  const auto keep = valid.reshape({-1}).nonzero().squeeze(1);
  const auto b_obs = obs.flatten(0, 1).index_select(0, keep),
             b_act = actions.flatten(0, 1).index_select(0, keep);
  const auto b_logp = old_log_prob.flatten(0, 1).index_select(0, keep),
             b_val = old_values.flatten(0, 1).index_select(0, keep);
  const auto b_adv = adv.advantages.flatten(0, 1).index_select(0, keep),
             b_ret = adv.returns.flatten(0, 1).index_select(0, keep);
  const auto size = keep.numel();

  std::map<std::string, double> m{{"lr", lr}, {"clip_range", clip}};
  double pg_sum = 0, vf_sum = 0, ent_sum = 0, kl = 0, clip_frac = 0;
  std::int64_t updates = 0;
  bool stop = false;
  for (std::int64_t epoch = 0; epoch < opts_.n_epochs() && !stop; ++epoch) {
    // A permutation from the agent's own generator keeps runs reproducible.
    std::vector<std::int64_t> order(static_cast<std::size_t>(size));
    std::iota(order.begin(), order.end(), 0);
    std::shuffle(order.begin(), order.end(), rng_);
    const auto perm = torch::tensor(order, torch::kLong);
    for (std::int64_t start = 0; start < size && !stop; start += opts_.batch_size()) {
      const auto mb = perm.slice(0, start, std::min(start + opts_.batch_size(), size));
      auto a = b_adv.index_select(0, mb);
      if (opts_.normalize_advantage() && a.numel() > 1) a = (a - a.mean()) / (a.std() + 1e-8);
      const auto [logp, entropy] = log_prob_entropy(b_obs.index_select(0, mb), b_act.index_select(0, mb));
      const auto objective = ppo_clip_loss(logp, b_logp.index_select(0, mb), a, clip);
      auto v = value(b_obs.index_select(0, mb));
      const auto ret = b_ret.index_select(0, mb);
      if (opts_.clip_range_vf() > 0) {
        const auto old_v = b_val.index_select(0, mb);
        v = old_v + torch::clamp(v - old_v, -opts_.clip_range_vf(), opts_.clip_range_vf());
      }
      const auto value_loss = torch::mse_loss(v, ret);
      const auto entropy_loss = -entropy.mean();
      // SB3 stops before the step that would go past 1.5 × target_kl.
      if (opts_.target_kl() > 0 && objective.approx_kl > 1.5 * opts_.target_kl()) {
        stop = true;
        break;
      }
      const auto loss = objective.loss + opts_.ent_coef() * entropy_loss + opts_.vf_coef() * value_loss;
      nn::gradient_step(*optimizer_, loss, opts_.max_grad_norm());
      pg_sum += objective.loss.item<double>();
      vf_sum += value_loss.item<double>();
      ent_sum += -entropy_loss.item<double>();
      kl = objective.approx_kl;
      clip_frac += objective.clip_fraction;
      ++updates;
    }
  }
  const double u = std::max<std::int64_t>(updates, 1);
  m["loss"] = pg_sum / u + opts_.vf_coef() * vf_sum / u;
  m["policy_loss"] = pg_sum / u;
  m["value_loss"] = vf_sum / u;
  m["entropy"] = ent_sum / u;
  m["approx_kl"] = kl;
  m["clip_fraction"] = clip_frac / u;
  m["updates"] = static_cast<double>(updates);
  return m;
}

void PPO::save(const std::filesystem::path& path, const std::map<std::string, double>& extra) const {
  core::CheckpointWriter w;
  w.put("algo", algo());
  core::Config cfg;
  core::write_options(opts_, cfg);
  w.put("options", cfg.dump());
  w.put("actor", *actor_);
  w.put("critic", *critic_);
  if (log_std_.defined()) w.put("log_std", log_std_.detach());
  w.put("optimizer", *optimizer_);
  w.put("num_timesteps", num_timesteps_);
  norm_->save(w);
  put_agent_state(w, rng_, extra);
  w.save(path);
}

std::map<std::string, double> PPO::load(const std::filesystem::path& path) {
  core::CheckpointReader r(path);
  require_algo(r, path, algo());
  r.get("actor", *actor_);
  r.get("critic", *critic_);
  if (log_std_.defined()) {
    torch::NoGradGuard no_grad;
    log_std_.copy_(r.get_tensor("log_std"));
  }
  r.get("optimizer", *optimizer_);
  num_timesteps_ = r.get_int("num_timesteps");
  norm_->load(r);
  return get_agent_state(r, rng_);
}

}  // namespace dojo::rl
