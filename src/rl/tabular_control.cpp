#include "rl/tabular_control.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <torch/torch.h>

#include "core/checkpoint.h"
#include "core/config.h"
#include "core/error.h"
#include "core/seed.h"

namespace dojo::rl {

void TabularOptions::validate() const { core::check_options(*this); }

namespace {

// Rows of the table an observation space has.
std::int64_t count_states(const envs::Space& space) {
  if (const auto* d = std::get_if<envs::Discrete>(&space)) return d->n;
  std::int64_t n = 1;
  for (auto k : std::get<envs::MultiDiscrete>(space).nvec) n *= k;
  return n;
}

}  // namespace

const std::vector<TabularRule>& tabular_rules() {
  static const std::vector<TabularRule> rules{
      {"qlearning", qlearning},           {"sarsa", sarsa},
      {"expected_sarsa", expected_sarsa}, {"double_qlearning", double_qlearning, 2},
      {"monte_carlo", monte_carlo},       {"nstep_sarsa", nstep_sarsa}};
  return rules;
}

namespace {

const TabularRule& rule(const std::string& name) {
  for (const auto& r : tabular_rules()) {
    if (r.name == name) return r;
  }
  throw Error("no tabular rule '" + name +
              "': expected qlearning, sarsa, expected_sarsa, double_qlearning, "
              "monte_carlo or nstep_sarsa");
}

}  // namespace

void TabularAgent::check_env(const std::string& algo, const TabularOptions& o, const envs::Env& env) {
  if (!std::get_if<envs::Discrete>(&env.action_space())) {
    throw Error(algo + " needs a Discrete action space; " + env.id() + " has " +
                envs::to_string(env.action_space()));
  }
  const auto& obs = env.observation_space();
  if (!std::get_if<envs::Discrete>(&obs) && !std::get_if<envs::MultiDiscrete>(&obs)) {
    throw Error(algo + " keeps a table of states: expected a Discrete or MultiDiscrete observation space; " +
                env.id() + " has " + envs::to_string(obs) + " (dqn or ppo learn from Box observations)");
  }
  constexpr std::int64_t kMaxEntries = 100'000'000;  // 800 MB of doubles
  const auto entries = count_states(obs) * std::get<envs::Discrete>(env.action_space()).n;
  if (entries > kMaxEntries) {
    throw Error(fmt::format("{}: {} has {} state-action pairs: expected at most {} for a table", algo,
                            env.id(), entries, kMaxEntries));
  }
  if (o.n_steps() != 1 && algo != "nstep_sarsa") {
    throw Error(fmt::format("n_steps {}: {} looks one step ahead (expected 1; nstep_sarsa takes n)",
                            o.n_steps(), algo));
  }
}

TabularLearner::TabularLearner(const std::string& algo, const envs::EnvFactory& env, TabularOptions options,
                               std::uint64_t seed, int n_tables)
    : algo_(algo),
      opts_((options.validate(), std::move(options))),
      env_(env()),
      seed_(seed),
      exploration_{opts_.exploration_initial_eps(), opts_.exploration_final_eps(),
                   opts_.exploration_fraction()},
      epsilon_(opts_.exploration_initial_eps()) {
  TabularAgent::check_env(algo_, opts_, *env_);
  const auto& actions = std::get<envs::Discrete>(env_->action_space());
  action_start_ = actions.start;
  n_actions_ = actions.n;
  observation_space_ = env_->observation_space();
  n_states_ = count_states(observation_space_);
  const auto entries = static_cast<std::size_t>(n_states_ * n_actions_);
  q_.assign(static_cast<std::size_t>(n_tables), std::vector<double>(entries, opts_.initial_value()));
  if (opts_.lr_schedule() == "average") visits_.assign(entries, 0);
  linear_lr_ = opts_.lr_schedule() == "linear";
}

TabularAgent::TabularAgent(const std::string& name, const envs::EnvFactory& env, TabularOptions options,
                           std::uint64_t seed)
    : Agent(core::derive_seed(seed, "agent")),
      rule_(rule(name)),
      learner_(name, env, std::move(options), seed, rule_.tables) {
  learner_.agent_ = this;
  learner_.steps_ = &num_timesteps_;
  learner_.rng_ = &rng_;
  learner_.logger_ = &logger_;
}

std::int64_t TabularLearner::state_index(const torch::Tensor& obs) const {
  if (const auto* d = std::get_if<envs::Discrete>(&observation_space_)) {
    const auto s = obs.item<std::int64_t>() - d->start;
    if (s < 0 || s >= d->n)
      throw Error(fmt::format("{}: observation {} is outside {}", algo_, s + d->start, d->str()));
    return s;
  }
  const auto& nvec = std::get<envs::MultiDiscrete>(observation_space_).nvec;
  const auto values = obs.to(torch::kLong).contiguous();
  if (values.numel() != static_cast<std::int64_t>(nvec.size()))
    throw Error(
        fmt::format("{}: an observation of {} values: expected {}", algo_, values.numel(), nvec.size()));
  const auto* v = values.data_ptr<std::int64_t>();
  std::int64_t s = 0;  // row-major, as numpy's ravel_multi_index
  for (std::size_t i = 0; i < nvec.size(); ++i) {
    if (v[i] < 0 || v[i] >= nvec[i])
      throw Error(fmt::format("{}: observation value {} at {} is outside [0, {})", algo_, v[i], i, nvec[i]));
    s = s * nvec[i] + v[i];
  }
  return s;
}

double TabularLearner::q(std::int64_t s, std::int64_t a) const {
  double sum = 0.0;
  for (int t = 0; t < static_cast<int>(q_.size()); ++t) sum += entry(t, s, a);
  return sum;
}

torch::Tensor TabularLearner::tables() const {
  auto out = torch::empty({static_cast<std::int64_t>(q_.size()), n_states_, n_actions_}, torch::kDouble);
  for (std::size_t t = 0; t < q_.size(); ++t)
    std::copy(q_[t].begin(), q_[t].end(), out[static_cast<std::int64_t>(t)].data_ptr<double>());
  return out;
}

std::int64_t TabularLearner::argmax(std::int64_t s, int table) const {
  std::int64_t best = 0;
  for (std::int64_t a = 1; a < n_actions_; ++a) {
    if (entry(table, s, a) > entry(table, s, best)) best = a;
  }
  return best;
}

double TabularLearner::max_q(std::int64_t s, int table) const { return entry(table, s, argmax(s, table)); }

std::int64_t TabularLearner::greedy(std::int64_t s) const {
  std::int64_t best = 0;
  for (std::int64_t a = 1; a < n_actions_; ++a) {
    if (q(s, a) > q(s, best)) best = a;
  }
  return best;
}

std::int64_t TabularLearner::choose_epsilon_greedy(std::int64_t s, double epsilon) {
  if (uniform() < epsilon) return std::uniform_int_distribution<std::int64_t>(0, n_actions_ - 1)(*rng_);
  // Among equally valued actions, any: a fresh table would otherwise always try action 0 first.
  const double best = q(s, greedy(s));
  std::int64_t ties = 0, pick = 0;
  for (std::int64_t a = 0; a < n_actions_; ++a) {
    if (q(s, a) == best && std::uniform_int_distribution<std::int64_t>(0, ties++)(*rng_) == 0) pick = a;
  }
  return pick;
}

std::int64_t TabularLearner::epsilon_greedy(std::int64_t s) { return choose_epsilon_greedy(s, epsilon_); }

double TabularLearner::expected_q(std::int64_t s) const {
  // ε/|A| on every action, the remaining 1 − ε shared by the greedy ones.
  const double best = q(s, greedy(s));
  double sum = 0.0, greedy_sum = 0.0;
  std::int64_t n_greedy = 0;
  for (std::int64_t a = 0; a < n_actions_; ++a) {
    sum += q(s, a);
    if (q(s, a) == best) {
      greedy_sum += q(s, a);
      ++n_greedy;
    }
  }
  return epsilon_ * sum / static_cast<double>(n_actions_) +
         (1.0 - epsilon_) * greedy_sum / static_cast<double>(n_greedy);
}

double TabularLearner::alpha(std::int64_t s, std::int64_t a) {
  if (!visits_.empty()) {  // lr_schedule average
    auto& n = visits_[static_cast<std::size_t>(s * n_actions_ + a)];
    return 1.0 / static_cast<double>(++n);
  }
  if (linear_lr_) {
    const double progress = static_cast<double>(*steps_) / static_cast<double>(horizon_);
    return opts_.learning_rate() * std::max(0.0, 1.0 - progress);
  }
  return opts_.learning_rate();
}

double TabularLearner::update(std::int64_t s, std::int64_t a, double target, int table) {
  auto& value = q_[static_cast<std::size_t>(table)][static_cast<std::size_t>(s * n_actions_ + a)];
  const double td_error = target - value;
  value += alpha(s, a) * td_error;
  return td_error;
}

std::int64_t TabularLearner::start_episode() {
  // The first episode of the run seeds the env; a resumed agent starts from a seed derived from the
  // step count, so that it does not replay the run's first episodes.
  std::optional<std::uint64_t> seed;
  if (!env_started_) seed = core::derive_seed(seed_, "env", static_cast<std::uint64_t>(*steps_));
  env_started_ = true;
  episode_return_ = 0.0;
  return state_index(env_->reset(seed).obs);
}

TabularLearner::Outcome TabularLearner::step(std::int64_t a) {
  const auto result = env_->step(a + action_start_);
  ++*steps_;
  epsilon_ = exploration_(static_cast<double>(*steps_) / static_cast<double>(horizon_));
  episode_return_ += result.reward;
  if (result.done()) {
    ++episodes_;
    logger_->record({{"epsilon", epsilon_},
                     {"episode_return", episode_return_},
                     {"episodes", static_cast<double>(episodes_)}});
  }
  go_on_ = callback_->on_step(*agent_, {*steps_, total_, &result, logger_});
  return {state_index(result.obs), result.reward, result.terminated, result.truncated};
}

void TabularAgent::learn(std::int64_t total_timesteps, Callback& callback) {
  callback.on_start(*this, total_timesteps);
  auto& l = learner_;
  l.callback_ = &callback;
  l.total_ = total_timesteps;
  l.horizon_ = std::max<std::int64_t>(1, horizon(total_timesteps));
  l.go_on_ = true;
  l.epsilon_ = l.exploration_(static_cast<double>(num_timesteps_) / static_cast<double>(l.horizon_));
  if (l.running()) rule_.train(l);
  l.callback_ = nullptr;
  callback.on_end(*this);
}

torch::Tensor TabularAgent::act_batch(const torch::Tensor& obs, bool deterministic) {
  const auto& l = learner_;
  const bool flat = std::holds_alternative<envs::Discrete>(l.observation_space_);
  const auto batch = obs.size(0);
  auto actions = torch::empty({batch}, torch::kLong);
  auto* out = actions.data_ptr<std::int64_t>();
  for (std::int64_t i = 0; i < batch; ++i) {
    const auto s = l.state_index(flat ? obs[i] : obs[i].reshape({-1}));
    out[i] = (deterministic ? l.greedy(s) : learner_.choose_epsilon_greedy(s, l.epsilon_)) + l.action_start_;
  }
  return actions;
}

void TabularAgent::save_state(core::CheckpointWriter& w) const {
  const auto& l = learner_;
  w.put("options", core::options_yaml(l.opts_));
  w.put("q", l.tables());
  if (!l.visits_.empty()) w.put("visits", torch::tensor(l.visits_, torch::kLong));
  w.put("episodes", l.episodes_);
  w.put("epsilon", l.epsilon_);
}

void TabularAgent::load_state(core::CheckpointReader& r) {
  auto& l = learner_;
  const auto q = r.get_tensor("q").to(torch::kDouble).contiguous();
  const std::vector<std::int64_t> expected{static_cast<std::int64_t>(l.q_.size()), l.n_states_, l.n_actions_};
  if (q.sizes().vec() != expected) {
    throw Error(fmt::format("checkpoint '{}': a Q table of shape [{}]: expected [{}] for {} on this env",
                            r.name(), fmt::join(q.sizes().vec(), ", "), fmt::join(expected, ", "), l.algo_));
  }
  for (std::size_t t = 0; t < l.q_.size(); ++t) {
    const auto* p = q[static_cast<std::int64_t>(t)].data_ptr<double>();
    std::copy(p, p + l.q_[t].size(), l.q_[t].begin());
  }
  if (!l.visits_.empty()) {
    const auto v = r.get_tensor("visits").to(torch::kLong).contiguous();
    if (v.numel() != static_cast<std::int64_t>(l.visits_.size()))
      throw Error(fmt::format("checkpoint '{}': {} visit counts: expected {}", r.name(), v.numel(),
                              l.visits_.size()));
    std::copy(v.data_ptr<std::int64_t>(), v.data_ptr<std::int64_t>() + v.numel(), l.visits_.begin());
  }
  l.episodes_ = r.get_int("episodes");
  l.epsilon_ = r.get_double("epsilon");
}

}  // namespace dojo::rl
