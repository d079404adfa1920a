#include "rl/tabular.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "core/error.h"

namespace dojo::rl {

namespace {

void check_gamma(double gamma) {
  if (!(gamma > 0.0 && gamma <= 1.0)) throw Error(fmt::format("gamma {}: expected in (0, 1]", gamma));
}

double q_value(const std::vector<envs::Transition>& outcomes, const std::vector<double>& V, double gamma) {
  double q = 0.0;
  for (const auto& t : outcomes)
    q += t.prob * (t.reward + (t.terminated ? 0.0 : gamma * V[static_cast<std::size_t>(t.next)]));
  return q;
}

std::vector<std::int64_t> greedy(const std::vector<std::vector<double>>& Q) {
  std::vector<std::int64_t> policy;
  for (const auto& q : Q) policy.push_back(std::max_element(q.begin(), q.end()) - q.begin());
  return policy;
}

}  // namespace

std::vector<std::vector<double>> action_values(const envs::TransitionTable& P, const std::vector<double>& V,
                                               double gamma) {
  std::vector<std::vector<double>> Q(P.size());
  for (std::size_t s = 0; s < P.size(); ++s)
    for (const auto& outcomes : P[s]) Q[s].push_back(q_value(outcomes, V, gamma));
  return Q;
}

Plan value_iteration(const envs::TransitionTable& P, double gamma, double tolerance,
                     std::int64_t max_sweeps) {
  check_gamma(gamma);
  Plan plan;
  plan.V.assign(P.size(), 0.0);
  for (plan.sweeps = 1; plan.sweeps <= max_sweeps; ++plan.sweeps) {
    double delta = 0.0;
    for (std::size_t s = 0; s < P.size(); ++s) {
      double best = -INFINITY;
      for (const auto& outcomes : P[s]) best = std::max(best, q_value(outcomes, plan.V, gamma));
      delta = std::max(delta, std::abs(best - plan.V[s]));
      plan.V[s] = best;  // in place (Gauss-Seidel): converges in fewer sweeps than two arrays
    }
    if (delta <= tolerance) {
      plan.policy = greedy(action_values(P, plan.V, gamma));
      return plan;
    }
  }
  throw Error(fmt::format("value iteration did not converge to {} in {} sweeps (gamma {})", tolerance,
                          max_sweeps, gamma));
}

std::vector<double> evaluate_policy(const envs::TransitionTable& P, const std::vector<std::int64_t>& policy,
                                    double gamma, double tolerance, std::int64_t max_sweeps) {
  check_gamma(gamma);
  if (policy.size() != P.size())
    throw Error(fmt::format("a policy of {} states for an MDP of {}", policy.size(), P.size()));
  std::vector<double> V(P.size(), 0.0);
  for (std::int64_t sweep = 0; sweep < max_sweeps; ++sweep) {
    double delta = 0.0;
    for (std::size_t s = 0; s < P.size(); ++s) {
      const double v = q_value(P[s][static_cast<std::size_t>(policy[s])], V, gamma);
      delta = std::max(delta, std::abs(v - V[s]));
      V[s] = v;
    }
    if (delta <= tolerance) return V;
  }
  throw Error(fmt::format("policy evaluation did not converge to {} in {} sweeps (gamma {})", tolerance,
                          max_sweeps, gamma));
}

Plan policy_iteration(const envs::TransitionTable& P, double gamma, double tolerance,
                      std::int64_t max_improvements) {
  Plan plan;
  plan.policy.assign(P.size(), 0);
  for (plan.sweeps = 1; plan.sweeps <= max_improvements; ++plan.sweeps) {
    plan.V = evaluate_policy(P, plan.policy, gamma, tolerance);
    const auto Q = action_values(P, plan.V, gamma);
    bool stable = true;
    for (std::size_t s = 0; s < P.size(); ++s) {
      const auto best = std::max_element(Q[s].begin(), Q[s].end()) - Q[s].begin();
      // Only a clearly better action replaces the current one: equal values must not cycle.
      if (Q[s][static_cast<std::size_t>(best)] > Q[s][static_cast<std::size_t>(plan.policy[s])] + 1e-9) {
        plan.policy[s] = best;
        stable = false;
      }
    }
    if (stable) return plan;
  }
  throw Error(fmt::format("policy iteration did not settle in {} improvements", max_improvements));
}

}  // namespace dojo::rl
