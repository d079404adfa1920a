// Value and policy iteration on the toy-text tables, against the figures every course quotes for
// FrozenLake 4x4 (slippery): V*(start) 0.542 with γ 0.99, 0.824 undiscounted, and a greedy policy that
// reaches the goal about 74% of the time within the 100-step limit.
#include "rl/tabular.h"

#include <gtest/gtest.h>

#include "core/error.h"
#include "envs/registry.h"

namespace dojo::rl {
namespace {

TEST(Planning, FrozenLakeOptimalValues) {
  const envs::FrozenLake lake;
  const auto vi = value_iteration(lake.P(), 0.99);
  EXPECT_NEAR(vi.V[0], 0.542, 5e-4);
  const auto undiscounted = value_iteration(lake.P(), 1.0);
  EXPECT_NEAR(undiscounted.V[0], 0.824, 5e-4);
  // Policy iteration finds the same values, and its policy's own values are optimal.
  const auto pi = policy_iteration(lake.P(), 0.99);
  for (std::size_t s = 0; s < vi.V.size(); ++s) EXPECT_NEAR(pi.V[s], vi.V[s], 1e-8) << s;
  const auto v_of_vi_policy = evaluate_policy(lake.P(), vi.policy, 0.99);
  EXPECT_NEAR(v_of_vi_policy[0], vi.V[0], 1e-8);
  // The classic optimal moves: LEFT at the start (slipping down or staying is safe), holes irrelevant.
  EXPECT_EQ(vi.policy[0], 0);
  EXPECT_THROW(value_iteration(lake.P(), 0.0), Error);
  EXPECT_THROW(evaluate_policy(lake.P(), {0, 1}, 0.9), Error);
}

TEST(Planning, FrozenLakeGreedyPolicySucceedsAboutSeventyFourPercent) {
  const envs::FrozenLake lake;
  const auto plan = value_iteration(lake.P(), 0.99);
  auto env = envs::make("FrozenLake-v1");  // TimeLimit 100
  env->reset(0);
  int successes = 0;
  const int episodes = 4000;
  for (int e = 0; e < episodes; ++e) {
    auto s = env->reset().obs.item<std::int64_t>();
    for (bool done = false; !done;) {
      const auto r = env->step(plan.policy[static_cast<std::size_t>(s)]);
      s = r.obs.item<std::int64_t>();
      done = r.done();
      successes += r.reward > 0;
    }
  }
  EXPECT_NEAR(successes / static_cast<double>(episodes), 0.74, 0.025);
}

TEST(Planning, TaxiAndCliffOptimalPolicies) {
  // Taxi at R with the passenger there, bound for G: pick up, eight moves round the walls, drop off:
  // 10 steps, 20 − 9 = 11.
  const envs::Taxi taxi;
  const auto plan = value_iteration(taxi.P(), 1.0);
  EXPECT_DOUBLE_EQ(plan.V[static_cast<std::size_t>(envs::Taxi::encode(0, 0, 0, 1))], 11.0);
  // Averaged over Gymnasium's 300 start states the optimum is 7.93 — under the registered "solved"
  // threshold of 8, which no policy reaches in expectation (so the issue asks Q-learning for 7.5).
  double total = 0;
  for (std::size_t s = 0; s < plan.V.size(); ++s) total += taxi.initial_distribution()[s] * plan.V[s];
  EXPECT_NEAR(total, 7.93, 0.005);
  // CliffWalking: the shortest path along the edge, 13 steps, −13.
  const envs::CliffWalking cliff;
  const auto c = value_iteration(cliff.P(), 1.0);
  EXPECT_DOUBLE_EQ(c.V[36], -13.0);
}

}  // namespace
}  // namespace dojo::rl
