// Planning on a finite MDP's table (Sutton & Barto ch. 4): value iteration and policy iteration on
// P[s][a] (envs::TabularEnv::P(), Gymnasium's env.unwrapped.P). A terminated outcome's next state is
// not bootstrapped, so γ = 1 is allowed where every policy worth having ends its episodes (FrozenLake's
// "probability of reaching the goal").
#pragma once
#include <cstdint>
#include <vector>

#include "core/export.h"
#include "envs/toy_text/toy_text.h"

DOJO_PUBLIC_BEGIN
namespace dojo::rl {

struct Plan {
  std::vector<double> V;             // state values
  std::vector<std::int64_t> policy;  // a greedy action per state (the lowest index among ties)
  std::int64_t sweeps = 0;           // value iteration: Bellman sweeps; policy iteration: improvements
};

// Q(s, a) = Σ_outcomes p · (r + γ · V(s') · [not terminated]).
std::vector<std::vector<double>> action_values(const envs::TransitionTable& P, const std::vector<double>& V,
                                               double gamma);

// Sweeps V ← max_a Q(s, a) until no value moves by more than `tolerance`; throws dojo::Error for γ
// outside (0, 1] or no convergence within max_sweeps.
Plan value_iteration(const envs::TransitionTable& P, double gamma, double tolerance = 1e-10,
                     std::int64_t max_sweeps = 100'000);

// Evaluates the policy (sweeps to `tolerance`), makes it greedy, and repeats until it is stable (an
// action changes only for a strictly better one, so ties cannot cycle).
Plan policy_iteration(const envs::TransitionTable& P, double gamma, double tolerance = 1e-10,
                      std::int64_t max_improvements = 1'000);

// V^π of a deterministic policy, by sweeps to `tolerance`.
std::vector<double> evaluate_policy(const envs::TransitionTable& P, const std::vector<std::int64_t>& policy,
                                    double gamma, double tolerance = 1e-10,
                                    std::int64_t max_sweeps = 100'000);

}  // namespace dojo::rl

DOJO_PUBLIC_END
