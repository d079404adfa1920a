// Tabular control (Sutton & Barto 2018, ch. 5–7): an action-value table Q[s][a] learned from
// experience with an ε-greedy behaviour policy. One agent, TabularAgent, registered under six names,
// one per update rule; each rule is a function written as the book's boxed algorithm, in its own file:
//
//   qlearning         Q-learning (Watkins 1989; S&B §6.5)            qlearning.cpp
//   sarsa             SARSA (Rummery & Niranjan 1994; §6.4)           sarsa.cpp
//   expected_sarsa    Expected SARSA (van Seijen et al. 2009; §6.6)   expected_sarsa.cpp
//   double_qlearning  Double Q-learning (van Hasselt 2010; §6.7)     double_qlearning.cpp
//   monte_carlo       on-policy first-visit MC control (§5.4)        monte_carlo.cpp
//   nstep_sarsa       n-step SARSA (§7.2)                            nstep_sarsa.cpp
//
// What the rules share lives once, in TabularLearner (composed into the agent): the table, the state
// index of an observation (Discrete, or MultiDiscrete flattened as numpy's ravel_multi_index:
// Blackjack), ε-greedy with DQN's linear ε schedule, the step size α (constant, linear to 0, or
// 1/N(s,a) sample averages) and the env loop with its callback; the agent adds acting and checkpoints.
// A time limit's truncation bootstraps like any non-terminal step; only `terminated` ends the return.
#pragma once
#include <torch/arg.h>
#include <torch/types.h>

#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "core/export.h"
#include "core/options.h"
#include "envs/env.h"
#include "envs/factory.h"
#include "rl/agent.h"
#include "rl/schedule.h"

DOJO_PUBLIC_BEGIN
namespace dojo::rl {

struct TabularOptions {
  TORCH_ARG(double, learning_rate) = 0.1;  // α
  // constant | linear (α to 0 at the end of the run) | average (α = 1/N(s,a): sample averages, the
  // book's Monte Carlo and a step size that meets Robbins–Monro's conditions)
  TORCH_ARG(std::string, lr_schedule) = "constant";
  TORCH_ARG(double, gamma) = 0.99;
  // ε goes linearly from initial to final over the first exploration_fraction of the run (DQN's keys).
  TORCH_ARG(double, exploration_initial_eps) = 1.0;
  TORCH_ARG(double, exploration_final_eps) = 0.05;
  TORCH_ARG(double, exploration_fraction) = 0.5;
  TORCH_ARG(std::int64_t, n_steps) = 1;    // n-step SARSA's n; 1 for every other rule
  TORCH_ARG(double, initial_value) = 0.0;  // Q's initial entries (> 0: optimistic, exploring)

 public:
  void validate() const;
  template <class F>
  void visit(F&& f) {
    f("learning_rate", learning_rate_, core::in_open_closed(0, 1));
    f("lr_schedule", lr_schedule_, core::one_of({"constant", "linear", "average"}));
    f("gamma", gamma_, core::in(0, 1));
    f("exploration_initial_eps", exploration_initial_eps_, core::in(0, 1));
    f("exploration_final_eps", exploration_final_eps_, core::in(0, 1));
    f("exploration_fraction", exploration_fraction_, core::in(0, 1));
    f("n_steps", n_steps_, core::positive());
    f("initial_value", initial_value_);
  }
};

// The table and the loop every rule drives, composed into TabularAgent: a rule sees only this.
class TabularLearner {
 public:
  TabularLearner(const std::string& algo, const envs::EnvFactory& env, TabularOptions options,
                 std::uint64_t seed, int n_tables);

  // What one env step returned, by state index.
  struct Outcome {
    std::int64_t next = 0;
    double reward = 0.0;
    bool terminated = false, truncated = false;
    bool done() const { return terminated || truncated; }
  };
  // A new episode's first state (the run's seed on the first one).
  std::int64_t start_episode();
  // Takes action a: counts the step, moves ε along its schedule, reports to the callback.
  Outcome step(std::int64_t a);
  // False once the run's steps are spent or the callback asked to stop.
  bool running() const { return go_on_ && *steps_ < total_; }

  std::int64_t epsilon_greedy(std::int64_t s);  // ties between greedy actions broken at random
  std::int64_t greedy(std::int64_t s) const;    // the lowest index among ties
  // Q(s, a); with two tables (Double Q-learning) their sum, which acting uses.
  double q(std::int64_t s, std::int64_t a) const;
  double max_q(std::int64_t s, int table = 0) const;
  std::int64_t argmax(std::int64_t s, int table) const;
  // Σ_a π(a|s) Q(s, a) under the ε-greedy policy at the current ε.
  double expected_q(std::int64_t s) const;
  // Q_t(s, a) ← Q_t(s, a) + α (target − Q_t(s, a)); returns the TD error.
  double update(std::int64_t s, std::int64_t a, double target, int table = 0);
  double entry(int table, std::int64_t s, std::int64_t a) const {
    return q_[static_cast<std::size_t>(table)][static_cast<std::size_t>(s * n_actions_ + a)];
  }
  double uniform() { return std::uniform_real_distribution<double>(0.0, 1.0)(*rng_); }

  const TabularOptions& options() const { return opts_; }
  double gamma() const { return opts_.gamma(); }
  std::int64_t n_states() const { return n_states_; }
  std::int64_t n_actions() const { return n_actions_; }

 private:
  friend class TabularAgent;
  double alpha(std::int64_t s, std::int64_t a);  // counts the visit for "average"
  std::int64_t choose_epsilon_greedy(std::int64_t s, double epsilon);
  std::int64_t state_index(const torch::Tensor& obs) const;
  torch::Tensor tables() const;

  std::string algo_;
  TabularOptions opts_;
  std::unique_ptr<envs::Env> env_;
  std::uint64_t seed_;
  std::int64_t action_start_ = 0;
  envs::Space observation_space_;
  std::int64_t n_states_ = 0, n_actions_ = 0;
  std::vector<std::vector<double>> q_;  // [table][s * n_actions + a]
  std::vector<std::int64_t> visits_;    // N(s, a), for lr_schedule average (empty otherwise)
  bool linear_lr_ = false;              // lr_schedule linear: read once, not a string compare a step
  LinearSchedule exploration_;
  double epsilon_ = 1.0;
  std::int64_t episodes_ = 0;
  bool env_started_ = false;
  double episode_return_ = 0.0;
  // The agent's pieces the loop moves (set once by TabularAgent) and the current learn() call's.
  Agent* agent_ = nullptr;
  std::int64_t* steps_ = nullptr;
  std::mt19937_64* rng_ = nullptr;
  Logger* logger_ = nullptr;
  Callback* callback_ = nullptr;
  std::int64_t total_ = 0, horizon_ = 1;
  bool go_on_ = false;
};

// The rules, one file each: episodes while learner.running(), every env step through learner.step().
void qlearning(TabularLearner& learner);
void sarsa(TabularLearner& learner);
void expected_sarsa(TabularLearner& learner);
void double_qlearning(TabularLearner& learner);
void monte_carlo(TabularLearner& learner);
void nstep_sarsa(TabularLearner& learner);

struct TabularRule {
  std::string name;  // the algorithm's registered name
  void (*train)(TabularLearner&) = nullptr;
  int tables = 1;  // Double Q-learning's two
};
// The six, in the order above.
const std::vector<TabularRule>& tabular_rules();

class TabularAgent final : public Agent {
 public:
  // rule: one of tabular_rules()'s names; env: Discrete actions, Discrete or MultiDiscrete observations.
  TabularAgent(const std::string& rule, const envs::EnvFactory& env, TabularOptions options,
               std::uint64_t seed);
  // The learner points at this agent's counters, generator and logger: the agent stays where it was built.
  TabularAgent(const TabularAgent&) = delete;
  TabularAgent& operator=(const TabularAgent&) = delete;
  static void check_env(const std::string& rule, const TabularOptions& options, const envs::Env& env);

  std::string algo() const override { return rule_.name; }
  void learn(std::int64_t total_timesteps, Callback& callback) override;
  // deterministic: the greedy action (the lowest index among ties); otherwise ε-greedy at the
  // current ε.
  torch::Tensor act_batch(const torch::Tensor& obs, bool deterministic = true) override;

  std::int64_t n_states() const { return learner_.n_states(); }
  std::int64_t n_actions() const { return learner_.n_actions(); }
  // The row of an observation: Discrete n -> obs − start; MultiDiscrete nvec -> its flat index.
  std::int64_t state_index(const torch::Tensor& obs) const { return learner_.state_index(obs); }
  // Q(s, a); with two tables (Double Q-learning) their sum, which acting uses.
  double q(std::int64_t s, std::int64_t a) const { return learner_.q(s, a); }
  // The table(s) as [tables, n_states, n_actions] doubles.
  torch::Tensor tables() const { return learner_.tables(); }
  double exploration_rate() const { return learner_.epsilon_; }
  std::int64_t episodes() const { return learner_.episodes_; }

 private:
  void save_state(core::CheckpointWriter& w) const override;
  void load_state(core::CheckpointReader& r) override;

  TabularRule rule_;
  TabularLearner learner_;
};

}  // namespace dojo::rl

DOJO_PUBLIC_END
