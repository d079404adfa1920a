#include "rl/reinforce.h"

#include <torch/torch.h>

#include <sstream>

#include "core/checkpoint.h"
#include "core/config.h"
#include "core/error.h"
#include "nn/mlp.h"
#include "nn/optim.h"
#include "rl/policy.h"

namespace dojo::rl {

namespace {

void require(bool ok, const std::string& field, double value, const std::string& expected) {
  if (!ok) throw Error(fmt::format("{} = {:g}: expected {}", field, value, expected));
}

const envs::Discrete& discrete_actions(const envs::Env& env) {
  const auto* d = std::get_if<envs::Discrete>(&env.action_space());
  if (!d) {
    throw Error("reinforce needs a Discrete action space; " + env.id() + " has " +
                envs::to_string(env.action_space()));
  }
  return *d;
}

std::int64_t flat_observations(const envs::Env& env) {
  const auto* b = std::get_if<envs::Box>(&env.observation_space());
  if (!b || b->shape.size() != 1) {
    throw Error("reinforce needs a flat Box observation space; " + env.id() + " has " +
                envs::to_string(env.observation_space()));
  }
  return b->numel();
}

}  // namespace

void REINFORCEOptions::validate() const {
  require(learning_rate_ > 0, "learning_rate", learning_rate_, "> 0");
  require(gamma_ >= 0 && gamma_ <= 1, "gamma", gamma_, "in [0, 1]");
  require(n_episodes_per_update_ > 0, "n_episodes_per_update", static_cast<double>(n_episodes_per_update_),
          "> 0");
  require(n_iterations_ >= 0, "n_iterations", static_cast<double>(n_iterations_), ">= 0");
  require(max_grad_norm_ >= 0, "max_grad_norm", max_grad_norm_, ">= 0 (0: no clipping)");
  if (net_arch_.empty()) throw Error("net_arch = []: expected at least one hidden layer, e.g. [5]");
}

REINFORCE::REINFORCE(std::unique_ptr<envs::Env> env, REINFORCEOptions options, std::uint64_t seed)
    : env_(std::move(env)),
      opts_((options.validate(), std::move(options))),
      seed_(seed),
      action_space_(discrete_actions(*env_)),
      rng_(seed) {
  const auto in = flat_observations(*env_);
  // Two actions: Géron's single output, the logit of action 0. More: one logit per action.
  policy_ = nn::mlp(in, opts_.net_arch(), action_space_.n == 2 ? 1 : action_space_.n, opts_.activation());
  auto params = policy_->parameters();
  if (opts_.baseline()) {
    value_ = nn::mlp(in, opts_.net_arch(), 1, opts_.activation());
    for (auto& p : value_->parameters()) params.push_back(p);
  }
  nn::OptimizerOptions o;
  o.learning_rate = opts_.learning_rate();
  optimizer_ = nn::make_optimizer(params, o);
}

torch::Tensor REINFORCE::probabilities(const torch::Tensor& obs) {
  const auto out = policy_->forward(obs.to(torch::kFloat32));
  if (action_space_.n != 2) return torch::softmax(out, 1);
  const auto p0 = torch::sigmoid(out);  // [B, 1]: P(action 0)
  return torch::cat({p0, 1.0 - p0}, 1);
}

torch::Tensor REINFORCE::log_prob(const torch::Tensor& obs, const torch::Tensor& actions) {
  const auto out = policy_->forward(obs.to(torch::kFloat32));
  const auto idx = (actions - action_space_.start).to(torch::kLong).unsqueeze(1);
  if (action_space_.n != 2) return categorical_log_prob(out, idx.squeeze(1));
  // log σ(z) for action 0, log σ(−z) for action 1: stable where σ saturates.
  const auto z = out.squeeze(1);
  return torch::where(idx.squeeze(1) == 0, torch::log_sigmoid(z), torch::log_sigmoid(-z));
}

torch::Tensor REINFORCE::act(const torch::Tensor& obs, bool deterministic) {
  torch::InferenceMode guard;
  const auto p = probabilities(obs.unsqueeze(0))[0].to(torch::kDouble).contiguous();
  const auto* q = p.data_ptr<double>();
  std::int64_t a = 0;
  if (deterministic) {
    a = p.argmax().item<std::int64_t>();
  } else {
    double u = std::uniform_real_distribution<double>()(rng_);
    while (a + 1 < action_space_.n && u >= q[a]) u -= q[a++];
  }
  return torch::scalar_tensor(a + action_space_.start, torch::kLong);
}

std::map<std::string, double> REINFORCE::update(const std::vector<Episode>& episodes) {
  // Returns within each episode, then normalised over all of the iteration's steps.
  std::vector<double> g;
  std::vector<torch::Tensor> obs;
  std::vector<std::int64_t> actions;
  double total_return = 0.0;
  for (const auto& e : episodes) {
    const auto ge = discounted_returns(e.rewards, opts_.gamma());
    g.insert(g.end(), ge.begin(), ge.end());
    obs.insert(obs.end(), e.obs.begin(), e.obs.end());
    actions.insert(actions.end(), e.actions.begin(), e.actions.end());
    for (double r : e.rewards) total_return += r;
  }
  auto returns = torch::tensor(g, torch::kFloat32);
  if (opts_.normalize_returns() && returns.numel() > 1) {
    returns = (returns - returns.mean()) / (returns.std(/*unbiased=*/false) + 1e-8);
  }
  const auto states = torch::stack(obs).to(torch::kFloat32);
  auto advantages = returns;
  torch::Tensor value_loss;
  if (value_) {
    const auto v = value_->forward(states).squeeze(1);
    value_loss = torch::mse_loss(v, returns);
    advantages = returns - v.detach();
  }
  const auto logp = log_prob(states, torch::tensor(actions, torch::kLong));
  auto loss = -(advantages * logp).mean();
  if (value_) loss = loss + value_loss;
  const double loss_value = nn::gradient_step(*optimizer_, loss, opts_.max_grad_norm());
  std::map<std::string, double> m{{"loss", loss_value},
                                  {"mean_return", total_return / static_cast<double>(episodes.size())}};
  if (value_) m["value_loss"] = value_loss.item<double>();
  return m;
}

void REINFORCE::learn(std::int64_t total_timesteps, Callback& callback) {
  callback.on_start(*this, total_timesteps);
  // The first call seeds the env; a resumed agent restarts it from a seed derived from the step count.
  std::optional<std::uint64_t> seed;
  if (!env_started_) seed = seed_ + static_cast<std::uint64_t>(num_timesteps_);
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
        go_on = callback.on_step(*this, {num_timesteps_, total_timesteps, &step, std::nan(""), &last_metrics_});
      }
      if (!ep.rewards.empty()) episodes.push_back(std::move(ep));
    }
    if (!go_on || episodes.empty()) break;
    last_metrics_ = update(episodes);
    ++iterations_;
  }
  callback.on_end(*this);
}

void REINFORCE::save(const std::filesystem::path& path, const std::map<std::string, double>& extra) const {
  core::CheckpointWriter w;
  w.put("algo", algo());
  core::Config cfg;
  core::write_options(opts_, cfg);
  w.put("options", cfg.dump());
  w.put("policy", *policy_);
  if (value_) w.put("value", *value_);
  w.put("optimizer", *optimizer_);
  w.put("num_timesteps", num_timesteps_);
  w.put("iterations", iterations_);
  put_agent_state(w, rng_, extra);
  w.save(path);
}

std::map<std::string, double> REINFORCE::load(const std::filesystem::path& path) {
  core::CheckpointReader r(path);
  require_algo(r, path, algo());
  r.get("policy", *policy_);
  if (value_) r.get("value", *value_);
  r.get("optimizer", *optimizer_);
  num_timesteps_ = r.get_int("num_timesteps");
  iterations_ = r.get_int("iterations");
  return get_agent_state(r, rng_);
}

}  // namespace dojo::rl
