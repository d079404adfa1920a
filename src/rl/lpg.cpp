#include "rl/lpg.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <optional>
#include <random>
#include <utility>

#include "core/checkpoint.h"
#include "core/csv.h"
#include "core/error.h"
#include "core/files.h"
#include "envs/registry.h"
#include "rl/evaluation.h"
#include "rl/tabular.h"

namespace dojo::rl {

namespace fs = std::filesystem;
using torch::Tensor;

void LpgOptions::validate() const {
  core::check_options(*this);
  if (families_.empty()) throw Error("lpg: families is empty: expected some of tabular, random");
  for (const auto& f : families_)
    if (f != "tabular" && f != "random")
      throw Error(fmt::format("lpg: family '{}': expected tabular or random", f));
}

// ---- the rule ----

LpgNetImpl::LpgNetImpl(std::int64_t prediction_size, std::int64_t hidden) : hidden_(hidden) {
  phi1_ = register_module("phi1", torch::nn::Linear(prediction_size, 16));
  phi2_ = register_module("phi2", torch::nn::Linear(16, 1));
  lstm_ = register_module("lstm", torch::nn::LSTMCell(6, hidden));
  pi_head_ = register_module("pi_head", torch::nn::Linear(hidden, 1));
  y_head_ = register_module("y_head", torch::nn::Linear(hidden, prediction_size));
}

std::pair<Tensor, Tensor> LpgNetImpl::forward(const Tensor& reward, const Tensor& done, double gamma,
                                              const Tensor& pi_a, const Tensor& y, const Tensor& y_next) {
  const auto phi = [&](const Tensor& p) { return phi2_(torch::relu(phi1_(p))).squeeze(-1); };
  const auto x = torch::stack({reward, done, torch::full_like(reward, gamma), pi_a, phi(y), phi(y_next)}, -1);
  const auto T = x.size(0), B = x.size(1);
  auto h = torch::zeros({B, hidden_}, x.options()), c = torch::zeros({B, hidden_}, x.options());
  std::vector<Tensor> out(static_cast<std::size_t>(T));
  // Backwards in time, as a return is computed: step t sees everything after it.
  for (auto t = T - 1; t >= 0; --t) {
    std::tie(h, c) = lstm_(x[t], std::make_tuple(h, c));
    out[static_cast<std::size_t>(t)] = h;
  }
  const auto hs = torch::stack(out);
  return {pi_head_(hs).squeeze(-1), torch::log_softmax(y_head_(hs), -1)};
}

// ---- tasks ----

namespace {

const envs::TabularEnv& unwrapped_tabular(const envs::Env& env, const std::string& id) {
  const auto* t = envs::tabular(env);
  if (t == nullptr)
    throw Error(
        fmt::format("lpg: env '{}' is not a finite MDP with a table P: expected a "
                    "toy-text env (FrozenLake-v1, Taxi-v3, CliffWalking-v0, GridWorld-v0)",
                    id));
  return *t;
}

}  // namespace

TabularTask tabular_task(const std::string& env_id, const core::Config& kwargs) {
  envs::MakeOptions make;
  make.kwargs = kwargs;
  const auto env = envs::make(env_id, make);
  const auto& t = unwrapped_tabular(*env, env_id);
  TabularTask task;
  task.name = env_id;
  task.P = std::make_shared<const envs::TransitionTable>(t.P());
  task.initial_distribution = t.initial_distribution();
  task.max_episode_steps = envs::spec(env_id).max_episode_steps.value_or(100);
  return task;
}

TabularTask grid_task(const std::string& family, std::uint64_t seed) {
  const envs::GridWorld grid(envs::grid_family(family, seed));
  TabularTask task;
  task.name = fmt::format("GridWorld {} {}", family, seed);
  task.P = std::make_shared<const envs::TransitionTable>(grid.P());
  task.initial_distribution = grid.initial_distribution();
  task.max_episode_steps = envs::spec("GridWorld-v0").max_episode_steps.value_or(50);
  return task;
}

namespace {

// Gymnasium's categorical_sample: the first of n outcomes whose cumulative probability exceeds u
// (the last when rounding leaves the total a hair under u).
template <class Prob>
std::int64_t categorical(std::int64_t n, double u, Prob prob) {
  double cumulative = 0.0;
  for (std::int64_t i = 0; i < n; ++i) {
    cumulative += prob(i);
    if (cumulative > u) return i;
  }
  return n - 1;
}

// Lifetimes × envs tabular agents stepping their tasks. Agent tables are stacked: lifetime b owns rows
// [b·block, b·block + its task's states).
class TabularAgents {
 public:
  TabularAgents(std::int64_t lifetimes, std::int64_t envs_per_lifetime, std::int64_t block,
                std::uint64_t seed)
      : n_(envs_per_lifetime),
        block_(block),
        tasks_(static_cast<std::size_t>(lifetimes)),
        state_(static_cast<std::size_t>(lifetimes * envs_per_lifetime), 0),
        steps_(state_.size(), 0),
        returns_(state_.size(), 0.0),
        rng_(seed) {}

  std::int64_t lifetimes() const { return static_cast<std::int64_t>(tasks_.size()); }
  std::int64_t rows() const { return lifetimes() * block_; }
  const TabularTask& task(std::int64_t b) const { return tasks_[static_cast<std::size_t>(b)]; }

  // A new task for lifetime b; its envs start new episodes (the caller resets the agent's rows).
  void set_task(std::int64_t b, TabularTask task) {
    if (task.n_states() > block_)
      throw Error(fmt::format("lpg: {} has {} states: more than the {} rows an agent has", task.name,
                              task.n_states(), block_));
    tasks_[static_cast<std::size_t>(b)] = std::move(task);
    for (std::int64_t i = 0; i < n_; ++i) restart(b * n_ + i);
  }

  // T steps of every env under the policy softmax(logits) (one draw per step from this object's
  // generator: the same seed gives the same rollouts).
  TabularRollout collect(const Tensor& logits, std::int64_t T) {
    const auto probs = torch::softmax(logits.detach().to(torch::kDouble), 1).contiguous();
    const auto p = probs.accessor<double, 2>();
    const auto A = probs.size(1);
    const auto E = static_cast<std::int64_t>(state_.size());
    std::vector<std::int64_t> rows(static_cast<std::size_t>(T * E)), next(rows.size()), actions(rows.size());
    std::vector<float> rewards(rows.size()), terminated(rows.size()), truncated(rows.size());
    std::uniform_real_distribution<double> uniform(0.0, 1.0);
    for (std::int64_t t = 0; t < T; ++t) {
      for (std::int64_t e = 0; e < E; ++e) {
        const auto i = static_cast<std::size_t>(t * E + e);
        const auto b = e / n_;
        const auto& task = tasks_[static_cast<std::size_t>(b)];
        const auto s = state_[static_cast<std::size_t>(e)];
        const auto row = b * block_ + s;
        const auto a = categorical(A, uniform(rng_), [&](std::int64_t k) { return p[row][k]; });
        const auto& outcomes = (*task.P)[static_cast<std::size_t>(s)][static_cast<std::size_t>(a)];
        const auto& out = outcomes[static_cast<std::size_t>(
            categorical(static_cast<std::int64_t>(outcomes.size()), uniform(rng_),
                        [&](std::int64_t k) { return outcomes[static_cast<std::size_t>(k)].prob; }))];
        auto& steps = steps_[static_cast<std::size_t>(e)];
        auto& ret = returns_[static_cast<std::size_t>(e)];
        ++steps;
        ret += out.reward;
        rows[i] = row;
        next[i] = b * block_ + out.next;
        actions[i] = a;
        rewards[i] = static_cast<float>(out.reward);
        terminated[i] = out.terminated ? 1.0f : 0.0f;
        truncated[i] = !out.terminated && steps >= task.max_episode_steps ? 1.0f : 0.0f;
        if (out.terminated || steps >= task.max_episode_steps) {
          finished_.push_back(ret);
          restart(e);
        } else {
          state_[static_cast<std::size_t>(e)] = out.next;
        }
      }
    }
    const auto as_tensor = [&](auto& v, torch::Dtype dtype) {
      return torch::from_blob(v.data(), {T, E}, dtype).clone();
    };
    return {as_tensor(rows, torch::kLong),        as_tensor(next, torch::kLong),
            as_tensor(actions, torch::kLong),     as_tensor(rewards, torch::kFloat),
            as_tensor(terminated, torch::kFloat), as_tensor(truncated, torch::kFloat)};
  }

  // Returns of the episodes that ended since the last call.
  std::vector<double> take_finished() { return std::exchange(finished_, {}); }

 private:
  void restart(std::int64_t e) {
    const auto& task = tasks_[static_cast<std::size_t>(e / n_)];
    const auto& isd = task.initial_distribution;
    state_[static_cast<std::size_t>(e)] = categorical(
        static_cast<std::int64_t>(isd.size()), std::uniform_real_distribution<double>(0.0, 1.0)(rng_),
        [&](std::int64_t k) { return isd[static_cast<std::size_t>(k)]; });
    steps_[static_cast<std::size_t>(e)] = 0;
    returns_[static_cast<std::size_t>(e)] = 0.0;
  }

  std::int64_t n_, block_;
  std::vector<TabularTask> tasks_;
  std::vector<std::int64_t> state_, steps_;
  std::vector<double> returns_, finished_;
  std::mt19937_64 rng_;
};

// n-step returns over the rollout, bootstrapped from V where it is cut: at its end and at a step limit.
Tensor nstep_returns(const TabularRollout& ro, const Tensor& V, double gamma) {
  const auto T = ro.rows.size(0);
  const auto v_next = V.index_select(0, ro.next_rows.reshape(-1)).view(ro.rows.sizes());
  std::vector<Tensor> G(static_cast<std::size_t>(T));
  Tensor later = v_next[T - 1];
  for (auto t = T - 1; t >= 0; --t) {
    const auto boot = torch::where(ro.truncated[t] > 0, v_next[t], later);
    later = ro.rewards[t] + gamma * (1 - ro.terminated[t]) * boot;
    G[static_cast<std::size_t>(t)] = later;
  }
  return torch::stack(G);
}

// V(s) moves value_lr of the way to the mean of its returns in the rollout.
void update_values(const TabularRollout& ro, Tensor& V, const Tensor& returns, double lr) {
  const auto rows = ro.rows.reshape(-1);
  const auto error = returns.reshape(-1) - V.index_select(0, rows);
  const auto visits = torch::zeros_like(V).index_add(0, rows, torch::ones_like(error));
  V += lr * torch::zeros_like(V).index_add(0, rows, error) / visits.clamp_min(1);
}

Tensor entropy(const Tensor& log_p) { return -(log_p.exp() * log_p).sum(-1); }

// One tabular A2C update: the logits along A·∇log π + c·∇H, V toward the n-step returns.
void a2c_step(const TabularRollout& ro, Tensor& logits, Tensor& V, const TabularA2C& a2c,
              const LpgOptions& o) {
  const auto rows = ro.rows.reshape(-1);
  const auto returns = nstep_returns(ro, V, o.gamma());
  const auto advantage = (returns.reshape(-1) - V.index_select(0, rows)).unsqueeze(1);
  const auto log_pi = torch::log_softmax(logits.index_select(0, rows), 1);
  const auto pi = log_pi.exp();
  const auto dH = -pi * (log_pi + entropy(log_pi).unsqueeze(1));
  const auto ascent =
      advantage * (torch::one_hot(ro.actions.reshape(-1), pi.size(1)) - pi) + a2c.entropy * dH;
  logits += a2c.policy_lr / static_cast<double>(o.envs_per_lifetime()) *
            torch::zeros_like(logits).index_add(0, rows, ascent);
  update_values(ro, V, returns, a2c.value_lr);
}

// The mean return of `episodes` episodes of the policy softmax(logits) (rows = the task's states).
double policy_return(const TabularTask& task, const Tensor& logits, std::int64_t episodes,
                     std::uint64_t seed) {
  TabularAgents runner(1, 1, task.n_states(), seed);
  runner.set_task(0, task);
  std::vector<double> done;
  while (static_cast<std::int64_t>(done.size()) < episodes) {
    runner.collect(logits, task.max_episode_steps);
    for (const double r : runner.take_finished()) done.push_back(r);
  }
  done.resize(static_cast<std::size_t>(episodes));
  return mean_std(done).first;
}

}  // namespace

LpgUpdate lpg_update(LpgNet& rule, const TabularRollout& ro, const Tensor& logits, const Tensor& y_logits,
                     const LpgOptions& o) {
  const auto T = ro.rows.size(0), E = ro.rows.size(1);
  const auto rows = ro.rows.reshape(-1), next = ro.next_rows.reshape(-1);
  const auto log_pi = torch::log_softmax(logits.index_select(0, rows), 1);
  const auto pi = log_pi.exp();
  const auto pi_a = pi.gather(1, ro.actions.reshape({-1, 1})).view({T, E});
  const auto log_y = torch::log_softmax(y_logits.index_select(0, rows), 1);
  const auto y = log_y.exp();
  const auto y_next = torch::softmax(y_logits.index_select(0, next), 1);
  const auto m = y.size(1);
  auto [pi_hat, log_y_hat] =
      rule->forward(ro.rewards, ro.terminated, o.gamma(), pi_a, y.view({T, E, m}), y_next.view({T, E, m}));
  // −∇ of −π̂·log π(a|s) with respect to the logits: π̂ (onehot(a) − π).
  const auto ascent = pi_hat.reshape({-1, 1}) * (torch::one_hot(ro.actions.reshape(-1), pi.size(1)) - pi);
  // ∇ of KL(y ‖ ŷ) with respect to y's logits: y ⊙ (log y − log ŷ − KL).
  const auto f = log_y - log_y_hat.reshape({-1, m});
  const auto kl_grad = y * (f - (y * f).sum(1, true));
  const double per_env = 1.0 / static_cast<double>(o.envs_per_lifetime());
  return {logits + o.policy_lr() * per_env * torch::zeros_like(logits).index_add(0, rows, ascent),
          y_logits - o.prediction_lr() * per_env * torch::zeros_like(y_logits).index_add(0, rows, kl_grad),
          pi_hat, log_y_hat};
}

double train_tabular_agents(const TabularTask& task, const LpgAgentRule& rule, const LpgOptions& o,
                            std::int64_t updates, std::int64_t agents, std::int64_t episodes,
                            std::uint64_t seed) {
  torch::NoGradGuard no_grad;
  const auto S = task.n_states(), A = task.n_actions();
  TabularAgents envs(agents, o.envs_per_lifetime(), S, seed);
  for (std::int64_t b = 0; b < agents; ++b) envs.set_task(b, task);
  auto logits = torch::zeros({agents * S, A});
  auto y_logits = torch::zeros({agents * S, o.prediction_size()});
  auto V = torch::zeros({agents * S});
  for (std::int64_t u = 0; u < updates; ++u) {
    const auto ro = envs.collect(logits, o.rollout());
    if (rule.is_lpg()) {
      auto net = rule.lpg;
      auto step = lpg_update(net, ro, logits, y_logits, o);
      logits = step.logits, y_logits = step.y_logits;
    } else {
      a2c_step(ro, logits, V, rule.a2c, o);
    }
  }
  std::vector<double> scores;
  for (std::int64_t b = 0; b < agents; ++b)
    scores.push_back(
        policy_return(task, logits.slice(0, b * S, (b + 1) * S), episodes, seed + 7919 * (b + 1)));
  return mean_std(scores).first;
}

double random_policy_return(const TabularTask& task, std::int64_t episodes, std::uint64_t seed) {
  return policy_return(task, torch::zeros({task.n_states(), task.n_actions()}), episodes, seed);
}

double optimal_policy_return(const TabularTask& task, double gamma, std::int64_t episodes,
                             std::uint64_t seed) {
  const auto plan = value_iteration(*task.P, gamma, 1e-8);
  auto logits = torch::full({task.n_states(), task.n_actions()}, -1e4);
  for (std::int64_t s = 0; s < task.n_states(); ++s)
    logits[s][plan.policy[static_cast<std::size_t>(s)]] = 0.0;
  return policy_return(task, logits, episodes, seed);
}

TabularA2C tune_tabular_a2c(const std::vector<TabularTask>& tasks, const LpgOptions& o, std::int64_t updates,
                            std::int64_t agents, std::uint64_t seed) {
  TabularA2C best;
  double best_score = -1e300;
  for (const double lr : {0.1, 0.3, 1.0, 3.0}) {
    for (const double ent : {0.0, 0.01, 0.1}) {
      LpgAgentRule rule;
      rule.a2c = {lr, o.value_lr(), ent};
      std::vector<double> scores;
      for (const auto& task : tasks)
        scores.push_back(train_tabular_agents(task, rule, o, updates, agents, 20, seed));
      const double score = mean_std(scores).first;
      spdlog::info("lpg: A2C policy_lr {} entropy {}: mean return {:.3f} on {} training grids", lr, ent,
                   score, tasks.size());
      if (score > best_score) best_score = score, best = rule.a2c;
    }
  }
  return best;
}

// ---- meta-training ----

LpgOptions lpg_options(const core::Config& config) {
  core::check_keys(config, core::option_keys<LpgOptions>());
  LpgOptions o;
  core::read_options(config, o);
  o.validate();
  return o;
}

namespace {

constexpr std::int64_t kGridBlock = 6 * 6 * 8;  // the most states a grid of the families has
constexpr const char* kRuleKind = "dojo-lpg";   // what a rule checkpoint says it is

// Refuses a checkpoint that is not a rule's.
void check_rule_checkpoint(core::CheckpointReader& r) {
  if (!r.has("kind") || r.get_string("kind") != kRuleKind)
    throw Error(fmt::format("'{}' is not an LPG rule checkpoint", r.name()));
}

std::vector<TabularTask> validation_grids(const LpgOptions& o) {
  std::vector<TabularTask> tasks;
  for (std::uint64_t i = 0; i < 8; ++i)
    tasks.push_back(grid_task(o.families()[i % o.families().size()], kValidationGridSeed + i));
  return tasks;
}

}  // namespace

std::pair<LpgNet, LpgOptions> load_lpg_rule(const fs::path& dir) {
  const auto path = dir / "rule.ckpt";
  if (!fs::exists(path) || !fs::exists(dir / "config.yaml"))
    throw Error(fmt::format("'{}' is not an LPG run: expected a directory with config.yaml and rule.ckpt",
                            dir.string()));
  const auto o = lpg_options(core::Config::load(dir / "config.yaml"));
  LpgNet net(o.prediction_size(), o.hidden());
  core::CheckpointReader r(path);
  check_rule_checkpoint(r);
  r.get("rule", *net);
  net->eval();
  return {net, o};
}

void export_lpg_rule(const fs::path& run, const fs::path& out) {
  const auto [net, o] = load_lpg_rule(run);
  core::CheckpointReader r(run / "rule.ckpt");
  fs::create_directories(out);
  core::Config config;
  core::write_options(o, config);
  core::atomic_write_text(out / "config.yaml", config.dump());
  core::CheckpointWriter w;
  w.put("kind", std::string(kRuleKind));
  w.put("rule", *net);
  w.put("iteration", r.get_int("iteration"));
  w.put("seconds", r.get_double("seconds"));
  w.save(out / "rule.ckpt");
  if (fs::exists(run / "curve.csv"))
    core::atomic_write_text(out / "curve.csv", core::read_text(run / "curve.csv"));
}

fs::path shipped_lpg_rule() {
  if (const char* env = std::getenv("DOJO_LPG_RULE")) return env;
  const auto dir = core::find_data_dir(reinterpret_cast<const void*>(&shipped_lpg_rule), "models");
  std::error_code ec;
  if (!dir.empty() && fs::is_regular_file(dir / "lpg-grids" / "rule.ckpt", ec)) return dir / "lpg-grids";
  throw Error("no LPG rule: expected --rule DIR (a dojo lpg meta-train run) or $DOJO_LPG_RULE");
}

LpgNet meta_train_lpg(const core::Config& config, const fs::path& dir,
                      const std::function<void(const LpgCurvePoint&)>& on_point) {
  const auto o = lpg_options(config);
  fs::create_directories(dir);
  core::Config resolved;
  core::write_options(o, resolved);
  torch::manual_seed(static_cast<std::uint64_t>(o.seed()));
  LpgNet rule(o.prediction_size(), o.hidden());
  torch::optim::Adam meta_opt(rule->parameters(), torch::optim::AdamOptions(o.meta_lr()));
  std::int64_t start = 0;
  double seconds = 0;
  const auto ckpt = dir / "rule.ckpt";
  if (fs::exists(ckpt)) {
    core::CheckpointReader r(ckpt);
    check_rule_checkpoint(r);
    const auto before = lpg_options(core::Config::load(dir / "config.yaml"));
    if (before.prediction_size() != o.prediction_size() || before.hidden() != o.hidden())
      throw Error(fmt::format(
          "lpg: '{}' holds a rule with prediction_size {} and hidden {}: the config asks for "
          "{} and {}",
          dir.string(), before.prediction_size(), before.hidden(), o.prediction_size(), o.hidden()));
    r.get("rule", *rule);
    r.get("meta_optimizer", meta_opt);
    start = r.get_int("iteration");
    seconds = r.get_double("seconds");
    spdlog::info("lpg: resuming {} at meta-update {}", dir.string(), start);
  }
  core::atomic_write_text(dir / "config.yaml", resolved.dump());
  core::CsvWriter curve(dir / "curve.csv",
                        {"iteration", "meta_loss", "episode_return", "pi_hat", "validation", "seconds"},
                        start > 0);

  // Lifetimes: a grid each, staggered ages so that the rule always sees young and old agents. The
  // generator is seeded by the meta-update the run starts at: a resumed run draws new grids.
  const auto B = o.lifetimes(), L = o.lifetime_updates(), K = o.unroll();
  std::mt19937_64 grids(static_cast<std::uint64_t>(o.seed()) * 1'000'003 + static_cast<std::uint64_t>(start));
  const auto draw_grid = [&] {
    const auto& family =
        o.families()[std::uniform_int_distribution<std::size_t>(0, o.families().size() - 1)(grids)];
    return grid_task(family, std::uniform_int_distribution<std::uint64_t>(0, kValidationGridSeed - 1)(grids));
  };
  TabularAgents agents(B, o.envs_per_lifetime(), kGridBlock, grids());
  auto logits = torch::zeros({B * kGridBlock, 4}),
       y_logits = torch::zeros({B * kGridBlock, o.prediction_size()});
  auto V = torch::zeros({B * kGridBlock});
  std::vector<std::int64_t> age(static_cast<std::size_t>(B));
  for (std::int64_t b = 0; b < B; ++b) {
    agents.set_task(b, draw_grid());
    age[static_cast<std::size_t>(b)] = b * L / B;
  }
  const auto validation = validation_grids(o);
  std::vector<double> returns;
  double loss_sum = 0, pi_hat_sum = 0;
  std::int64_t since = 0;
  auto clock = std::chrono::steady_clock::now();
  std::optional<TabularRollout> pending;
  for (auto it = start; it < o.iterations(); ++it) {
    // K agent updates by the rule, kept in the graph, then the updated agents' policy gradient.
    auto ro = pending ? *pending : agents.collect(logits, o.rollout());
    Tensor th = logits, ty = y_logits, pi_hat_sq = torch::zeros({}), y_hat_negent = torch::zeros({});
    for (std::int64_t k = 0; k < K; ++k) {
      auto step = lpg_update(rule, ro, th, ty, o);
      th = step.logits, ty = step.y_logits;
      pi_hat_sq = pi_hat_sq + step.pi_hat.square().mean() / static_cast<double>(K);
      y_hat_negent = y_hat_negent - entropy(step.log_y_hat).mean() / static_cast<double>(K);
      {
        torch::NoGradGuard no_grad;
        update_values(ro, V, nstep_returns(ro, V, o.gamma()), o.value_lr());
      }
      ro = agents.collect(th, o.rollout());
    }
    const auto rows = ro.rows.reshape(-1);
    Tensor advantage;
    {
      torch::NoGradGuard no_grad;
      advantage = nstep_returns(ro, V, o.gamma()).reshape(-1) - V.index_select(0, rows);
    }
    const auto log_pi = torch::log_softmax(th.index_select(0, rows), 1);
    const auto log_pi_a = log_pi.gather(1, ro.actions.reshape({-1, 1})).squeeze(1);
    const auto log_y = torch::log_softmax(ty.index_select(0, rows), 1);
    const auto objective = (log_pi_a * advantage).mean() + o.policy_entropy() * entropy(log_pi).mean() +
                           o.prediction_entropy() * entropy(log_y).mean();
    const auto loss = -objective + o.pi_hat_l2() * pi_hat_sq + o.y_hat_l2() * y_hat_negent;
    meta_opt.zero_grad();
    loss.backward();
    torch::nn::utils::clip_grad_norm_(rule->parameters(), o.meta_grad_clip());
    meta_opt.step();
    loss_sum += loss.item<double>();
    pi_hat_sum += pi_hat_sq.sqrt().item<double>();
    ++since;

    // The lifetimes go on from the updated tables; those that reached their end start afresh.
    logits = th.detach(), y_logits = ty.detach();
    pending = ro;
    for (std::int64_t b = 0; b < B; ++b) {
      auto& a = age[static_cast<std::size_t>(b)];
      a += K;
      if (a < L) continue;
      a = 0;
      agents.set_task(b, draw_grid());
      logits.slice(0, b * kGridBlock, (b + 1) * kGridBlock).zero_();
      y_logits.slice(0, b * kGridBlock, (b + 1) * kGridBlock).zero_();
      V.slice(0, b * kGridBlock, (b + 1) * kGridBlock).zero_();
      pending.reset();
    }
    for (const double r : agents.take_finished()) returns.push_back(r);

    const bool last = it + 1 == o.iterations();
    if ((it + 1) % o.eval_every() != 0 && !last) continue;
    LpgCurvePoint p;
    p.iteration = it + 1;
    p.meta_loss = loss_sum / static_cast<double>(since);
    p.pi_hat = pi_hat_sum / static_cast<double>(since);
    p.episode_return = mean_std(returns).first;
    {
      LpgAgentRule frozen;
      frozen.lpg = rule;
      std::vector<double> scores;
      for (std::size_t i = 0; i < validation.size(); ++i)
        scores.push_back(train_tabular_agents(validation[i], frozen, o, L, 2, 20, 17 + i));
      p.validation = mean_std(scores).first;
    }
    const auto now = std::chrono::steady_clock::now();
    seconds += std::chrono::duration<double>(now - clock).count();
    clock = now;
    p.seconds = seconds;
    core::CheckpointWriter w;
    w.put("kind", std::string(kRuleKind));
    w.put("rule", *rule);
    w.put("meta_optimizer", meta_opt);
    w.put("iteration", p.iteration);
    w.put("seconds", seconds);
    w.save(ckpt);
    curve.row(
        {static_cast<double>(p.iteration), p.meta_loss, p.episode_return, p.pi_hat, p.validation, p.seconds});
    if (on_point) on_point(p);
    returns.clear();
    loss_sum = pi_hat_sum = 0;
    since = 0;
  }
  rule->eval();
  return rule;
}

LpgEvaluation evaluate_lpg_rule(const fs::path& dir, const LpgEvaluationOptions& e,
                                const std::function<void(const LpgScore&)>& on_score) {
  auto [net, o] = load_lpg_rule(dir);
  const auto updates = e.updates > 0 ? e.updates : o.lifetime_updates();
  // The envs first: a wrong id fails before any training.
  std::vector<TabularTask> env_tasks;
  for (const auto& id : e.envs) env_tasks.push_back(tabular_task(id));
  LpgEvaluation out;
  out.env_steps_per_agent = updates * o.envs_per_lifetime() * o.rollout();
  LpgAgentRule lpg;
  lpg.lpg = net;
  const auto score = [&](const TabularTask& task, const TabularA2C& a2c, std::int64_t n_updates) {
    LpgScore s;
    s.task = task.name;
    auto t0 = std::chrono::steady_clock::now();
    s.lpg = train_tabular_agents(task, lpg, o, n_updates, e.agents, e.episodes, e.seed);
    auto t1 = std::chrono::steady_clock::now();
    LpgAgentRule baseline;
    baseline.a2c = a2c;
    s.a2c = train_tabular_agents(task, baseline, o, n_updates, e.agents, e.episodes, e.seed);
    s.seconds_lpg = std::chrono::duration<double>(t1 - t0).count();
    s.seconds_a2c = std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count();
    s.random = random_policy_return(task, e.episodes * e.agents, e.seed);
    s.optimal = optimal_policy_return(task, o.gamma(), e.episodes * e.agents, e.seed);
    if (on_score) on_score(s);
    return s;
  };
  // A2C's settings from the training grids (seeds below kValidationGridSeed), as a user would tune them.
  std::vector<TabularTask> training;
  for (std::int64_t i = 0; i < e.grids; ++i)
    training.push_back(grid_task(o.families()[static_cast<std::size_t>(i) % o.families().size()],
                                 static_cast<std::uint64_t>(i)));
  out.a2c = tune_tabular_a2c(training, o, updates, e.agents, e.seed);
  std::vector<double> l, a, r, opt;
  for (std::int64_t i = 0; i < e.grids; ++i) {
    const auto task = grid_task(o.families()[static_cast<std::size_t>(i) % o.families().size()],
                                kTestGridSeed + static_cast<std::uint64_t>(i));
    out.grids.push_back(score(task, out.a2c, updates));
    l.push_back(out.grids.back().lpg), a.push_back(out.grids.back().a2c);
    r.push_back(out.grids.back().random), opt.push_back(out.grids.back().optimal);
  }
  out.grid_lpg = mean_std(l).first, out.grid_a2c = mean_std(a).first;
  out.grid_random = mean_std(r).first, out.grid_optimal = mean_std(opt).first;
  for (const auto& task : env_tasks) {
    out.envs.push_back(
        score(task, tune_tabular_a2c({task}, o, e.env_updates, e.agents, e.seed + 1), e.env_updates));
  }
  return out;
}

}  // namespace dojo::rl
