#include "rl/reinforce.h"

#include <torch/torch.h>

#include <sstream>

#include "core/checkpoint.h"
#include "core/config.h"
#include "core/error.h"
#include "core/seed.h"
#include "nn/mlp.h"
#include "nn/optim.h"
#include "rl/networks.h"
#include "rl/policy.h"

namespace dojo::rl {

void REINFORCEOptions::validate() const { core::check_options(*this); }

void REINFORCE::check_env(const REINFORCEOptions&, const envs::Env& env) {
  if (!std::get_if<envs::Discrete>(&env.action_space())) {
    throw Error("reinforce needs a Discrete action space; " + env.id() + " has " +
                envs::to_string(env.action_space()));
  }
  const auto* b = std::get_if<envs::Box>(&env.observation_space());
  if (!b || b->shape.size() != 1) {
    throw Error("reinforce needs a flat Box observation space; " + env.id() + " has " +
                envs::to_string(env.observation_space()));
  }
}

REINFORCE::REINFORCE(envs::EnvFactory env, REINFORCEOptions options, std::uint64_t seed)
    : Agent(core::derive_seed(seed, "agent")),
      env_(env()),
      opts_((options.validate(), check_env(options, *env_), std::move(options))),
      seed_(seed),
      action_space_(std::get<envs::Discrete>(env_->action_space())) {
  device_ = core::device(opts_.device());
  const auto in = std::get<envs::Box>(env_->observation_space()).numel();
  auto params = std::vector<torch::Tensor>{};
  core::with_seed(core::derive_seed(seed, "network"), [&] {
    // Two actions: Géron's single output, the logit of action 0. More: one logit per action.
    policy_ = nn::mlp(in, opts_.net_arch(), action_space_.n == 2 ? 1 : action_space_.n, opts_.activation());
    if (opts_.baseline()) value_ = nn::mlp(in, opts_.net_arch(), 1, opts_.activation());
  });
  // Initialised on the CPU (the same weights for a seed on any device), then moved.
  policy_->to(device_);
  if (value_) value_->to(device_);
  params = policy_->parameters();
  if (value_) {
    for (auto& p : value_->parameters()) params.push_back(p);
  }
  nn::OptimizerOptions o;
  o.learning_rate = opts_.learning_rate();
  optimizer_ = nn::make_optimizer(params, o);
}

torch::Tensor REINFORCE::probabilities(const torch::Tensor& obs) {
  const auto out = policy_->forward(obs.to(device_, torch::kFloat32));
  if (action_space_.n != 2) return torch::softmax(out, 1);
  const auto p0 = torch::sigmoid(out);  // [B, 1]: P(action 0)
  return torch::cat({p0, 1.0 - p0}, 1);
}

torch::Tensor REINFORCE::log_prob(const torch::Tensor& obs, const torch::Tensor& actions) {
  const auto out = policy_->forward(obs.to(device_, torch::kFloat32));
  const auto idx = (actions - action_space_.start).to(device_, torch::kLong).unsqueeze(1);
  if (action_space_.n != 2) return categorical_log_prob(out, idx.squeeze(1));
  // log σ(z) for action 0, log σ(−z) for action 1: stable where σ saturates.
  const auto z = out.squeeze(1);
  return torch::where(idx.squeeze(1) == 0, torch::log_sigmoid(z), torch::log_sigmoid(-z));
}

torch::Tensor REINFORCE::act_batch(const torch::Tensor& obs, bool deterministic) {
  torch::InferenceMode guard;
  const auto p = probabilities(obs).to(torch::kCPU, torch::kDouble).contiguous();
  if (deterministic) return p.argmax(1) + action_space_.start;
  return sample_categorical(p, rng_) + action_space_.start;
}

std::vector<double> REINFORCE::returns(const std::vector<Episode>& episodes) {
  std::vector<double> g;
  for (const auto& e : episodes) {
    double bootstrap = 0.0;
    if (e.truncated && value_) {
      torch::NoGradGuard no_grad;
      bootstrap = value_->forward(e.final_obs.to(device_, torch::kFloat32).unsqueeze(0)).item<double>();
    }
    const auto ge = discounted_returns(e.rewards, opts_.gamma(), bootstrap);
    g.insert(g.end(), ge.begin(), ge.end());
  }
  return g;
}

std::map<std::string, double> REINFORCE::update(const std::vector<Episode>& episodes) {
  // Returns within each episode (bootstrapped where a time limit cut one, with a baseline).
  std::vector<torch::Tensor> obs;
  std::vector<std::int64_t> actions;
  double total_return = 0.0;
  for (const auto& e : episodes) {
    obs.insert(obs.end(), e.obs.begin(), e.obs.end());
    actions.insert(actions.end(), e.actions.begin(), e.actions.end());
    for (double r : e.rewards) total_return += r;
  }
  const auto g = torch::tensor(returns(episodes), torch::kFloat32).to(device_);
  const auto states = torch::stack(obs).to(device_, torch::kFloat32);
  // A = G − V(s) with a baseline fitted to G, else G; normalised over all of the iteration's steps.
  auto advantages = g;
  torch::Tensor value_loss;
  if (value_) {
    const auto v = value_->forward(states).squeeze(1);
    value_loss = torch::mse_loss(v, g);
    advantages = g - v.detach();
  }
  if (opts_.normalize_returns() && advantages.numel() > 1) {
    advantages = (advantages - advantages.mean()) / (advantages.std(/*unbiased=*/false) + 1e-8);
  }
  const auto logp = log_prob(states, torch::tensor(actions, torch::kLong));
  auto loss = -(advantages * logp).mean();
  if (value_) loss = loss + value_loss;
  const double loss_value = gradient_step(*optimizer_, loss, opts_.max_grad_norm());
  std::map<std::string, double> m{{"loss", loss_value},
                                  {"mean_return", total_return / static_cast<double>(episodes.size())}};
  if (value_) m["value_loss"] = value_loss.item<double>();
  return m;
}

Agent::Progress REINFORCE::progress(std::int64_t total_timesteps) const {
  // n_iterations ends the run first in Géron's setting (n_timesteps only caps it).
  if (opts_.n_iterations() > 0) return {iterations_, opts_.n_iterations(), "iterations"};
  return Agent::progress(total_timesteps);
}

void REINFORCE::learn(std::int64_t total_timesteps, Callback& callback) {
  callback.on_start(*this, total_timesteps);
  // The first call seeds the env; a resumed agent restarts it from a seed derived from the step count.
  std::optional<std::uint64_t> seed;
  if (!env_started_) seed = core::derive_seed(seed_, "env", static_cast<std::uint64_t>(num_timesteps_));
  env_started_ = true;
  bool go_on = true;
  while (go_on && num_timesteps_ < total_timesteps &&
         (opts_.n_iterations() == 0 || iterations_ < opts_.n_iterations())) {
    // Play the iteration's episodes with the current policy.
    std::vector<Episode> episodes;
    for (std::int64_t e = 0; e < opts_.n_episodes_per_update() && go_on; ++e) {
      Episode ep;
      auto obs = env_->reset(seed).obs;
      seed.reset();
      for (bool done = false; !done && go_on;) {
        const auto action = act(obs, /*deterministic=*/false);
        const auto step = env_->step(action);
        ep.obs.push_back(obs);
        ep.actions.push_back(action.item<std::int64_t>());
        ep.rewards.push_back(step.reward);
        ++num_timesteps_;
        done = step.done();
        obs = step.obs;
        if (step.truncated && !step.terminated) {
          ep.truncated = true;
          ep.final_obs = step.obs;
        }
        go_on = callback.on_step(*this, {num_timesteps_, total_timesteps, &step, &logger_});
      }
      if (!ep.rewards.empty()) episodes.push_back(std::move(ep));
    }
    if (!go_on || episodes.empty()) break;
    logger_.record(update(episodes));
    ++iterations_;
  }
  callback.on_end(*this);
}

void REINFORCE::save_state(core::CheckpointWriter& w) const {
  w.put("options", core::options_yaml(opts_));
  w.put("policy", *policy_);
  if (value_) w.put("value", *value_);
  w.put("optimizer", *optimizer_);
  w.put("iterations", iterations_);
}

void REINFORCE::load_state(core::CheckpointReader& r) {
  r.get("policy", *policy_);
  if (value_) r.get("value", *value_);
  r.get("optimizer", *optimizer_);
  iterations_ = r.get_int("iterations");
}

}  // namespace dojo::rl
