#include "rl/algos.h"

#include "core/error.h"
#include "core/registry.h"
#include "rl/bc.h"
#include "rl/bcq.h"
#include "rl/bear.h"
#include "rl/brac.h"
#include "rl/cql.h"
#include "rl/dqn.h"
#include "rl/iql.h"
#include "rl/ppo.h"
#include "rl/reinforce.h"
#include "rl/sac.h"
#include "rl/tabular_control.h"
#include "rl/td3.h"
#include "rl/td3bc.h"

namespace dojo::rl {

namespace {

// DD-PPO when the process has a group of several ranks (PPO::learn).
AlgorithmSpec ppo_spec() {
  auto s = algorithm_spec<PPO, PPOOptions>("ppo", "Proximal Policy Optimization (Schulman et al. 2017)");
  s.data_parallel = true;
  return s;
}

// An entry whose agent is not built as A(env, options, seed): `check` and `make` take the options read
// from the config (keys, resolution and reading are O's as in algorithm_spec).
template <class O>
AlgorithmSpec options_spec(
    std::string name, std::string summary, std::function<void(const O&, const envs::Env&)> check,
    std::function<std::unique_ptr<Agent>(const O&, const envs::EnvFactory&, std::uint64_t)> make) {
  AlgorithmSpec s;
  s.name = std::move(name);
  s.summary = std::move(summary);
  s.keys = core::option_keys<O>();
  s.resolve = resolve_options<O>;
  s.check_env = [check](const core::Config& config, const envs::Env& env) {
    O o;
    core::read_options(config, o);
    check(o, env);
  };
  s.make = [make](const core::Config& config, const envs::EnvFactory& env, std::uint64_t seed) {
    O o;
    core::read_options(config, o);
    return make(o, env, seed);
  };
  return s;
}

// A2C is PPO built from A2COptions::to_ppo(): its own keys and checks, PPO's agent.
AlgorithmSpec a2c_spec() {
  auto s = options_spec<A2COptions>(
      "a2c", "Advantage Actor-Critic (Mnih et al. 2016), synchronous",
      [](const A2COptions& o, const envs::Env& env) { PPO::check_env(o.to_ppo(), env, "a2c"); },
      [](const A2COptions& o, const envs::EnvFactory& env, std::uint64_t seed) -> std::unique_ptr<Agent> {
        return std::make_unique<PPO>(env, o.to_ppo(), seed, "a2c");
      });
  s.data_parallel = true;
  return s;
}

// BRAC under its own name and as KL-control (Jaques et al. 2019: BRAC-v with the KL divergence, the
// behaviour policy as the prior): the same agent and keys, the checkpoint and run named as chosen.
AlgorithmSpec brac_spec(const std::string& name, const std::string& summary) {
  return options_spec<BRACOptions>(
      name, summary,
      [name](const BRACOptions& o, const envs::Env& env) {
        if (name == "kl_control" && (!o.value_penalty() || o.divergence() != "kl"))
          throw Error(
              "kl_control is BRAC-v with the KL divergence: expected value_penalty true and divergence kl "
              "(use `dojo train brac` for the other variants)");
        BRAC::check_env(o, env, name);
      },
      [name](const BRACOptions& o, const envs::EnvFactory& env, std::uint64_t seed)
          -> std::unique_ptr<Agent> { return std::make_unique<BRAC>(env, o, seed, name); });
}

// The tabular rules: one agent, TabularAgent, told which rule to run.
AlgorithmSpec tabular_spec(const std::string& name, const std::string& summary) {
  return options_spec<TabularOptions>(
      name, summary,
      [name](const TabularOptions& o, const envs::Env& env) { TabularAgent::check_env(name, o, env); },
      [name](const TabularOptions& o, const envs::EnvFactory& env, std::uint64_t seed)
          -> std::unique_ptr<Agent> { return std::make_unique<TabularAgent>(name, env, o, seed); });
}

// Built-ins are added on first use rather than by static initialisers.
core::Registry<AlgorithmSpec>& registry() {
  static core::Registry<AlgorithmSpec> specs("algorithm", [](core::Registry<AlgorithmSpec>& r) {
    for (auto spec :
         {algorithm_spec<DQN, DQNOptions>(
              "dqn", "Deep Q-Network (Mnih et al. 2015) with Double, Dueling, PER and n-step"),
          ppo_spec(),
          a2c_spec(),
          algorithm_spec<REINFORCE, REINFORCEOptions>("reinforce", "REINFORCE (Williams 1992)"),
          algorithm_spec<SAC, SACOptions>(
              "sac", "Soft Actor-Critic (Haarnoja et al. 2018) with automatic entropy tuning"),
          algorithm_spec<TD3, TD3Options>("td3", "Twin Delayed DDPG (Fujimoto et al. 2018)"),
          algorithm_spec<BC, BCOptions>("bc", "Behaviour cloning by maximum likelihood (offline)"),
          brac_spec("brac",
                    "Behavior Regularized Actor Critic (Wu et al. 2019), offline: KL, MMD, dual KL, "
                    "Wasserstein; value or policy penalty"),
          algorithm_spec<TD3BC, TD3BCOptions>("td3bc", "TD3+BC (Fujimoto & Gu 2021), offline"),
          algorithm_spec<BCQ, BCQOptions>(
              "bcq", "Batch-Constrained deep Q-learning (Fujimoto et al. 2019), offline"),
          algorithm_spec<BEAR, BEAROptions>("bear",
                                            "BEAR (Kumar et al. 2019): an MMD support constraint, offline"),
          algorithm_spec<CQL, CQLOptions>("cql",
                                          "Conservative Q-Learning (Kumar et al. 2020) on SAC, offline"),
          algorithm_spec<IQL, IQLOptions>("iql", "Implicit Q-Learning (Kostrikov et al. 2021), offline"),
          brac_spec("kl_control", "KL-control (Jaques et al. 2019), offline: BRAC-v with the KL divergence"),
          tabular_spec("qlearning", "Q-learning (Watkins 1989), tabular"),
          tabular_spec("sarsa", "SARSA (Rummery & Niranjan 1994), tabular"),
          tabular_spec("expected_sarsa", "Expected SARSA (van Seijen et al. 2009), tabular"),
          tabular_spec("double_qlearning", "Double Q-learning (van Hasselt 2010), tabular"),
          tabular_spec("monte_carlo",
                       "On-policy first-visit Monte Carlo control (Sutton & Barto 5.4), tabular"),
          tabular_spec("nstep_sarsa", "n-step SARSA (Sutton & Barto 7.2), tabular")}) {
      const auto name = spec.name;  // copied: the entry argument is moved from before add() runs
      r.add(name, std::move(spec));
    }
  });
  return specs;
}

}  // namespace

void register_algorithm(AlgorithmSpec spec) {
  if (spec.name.empty() || !spec.resolve || !spec.check_env || !spec.make)
    throw Error("register_algorithm: expected a name, resolve, check_env and make");
  const auto name = spec.name;
  registry().add(name, std::move(spec));
}

std::vector<std::string> algorithms() { return registry().names(); }

const AlgorithmSpec& algorithm(const std::string& name) { return registry().get(name); }

void require_algorithm(const std::string& name) { algorithm(name); }

std::vector<std::string> algorithm_keys(const std::string& algo) { return algorithm(algo).keys; }

core::Config resolve_algorithm_config(const std::string& algo, const core::Config& config) {
  return algorithm(algo).resolve(config);
}

std::unique_ptr<Agent> make_agent(const std::string& algo, const core::Config& config,
                                  const envs::EnvFactory& env, std::uint64_t seed) {
  return algorithm(algo).make(config, env, seed);
}

}  // namespace dojo::rl
