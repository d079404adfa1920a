// REINFORCE: returns, log-probabilities and the loss against hand-computed values, and Géron's recipe
// learning CartPole.
#include "rl/reinforce.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "core/error.h"
#include "envs/registry.h"
#include "rl/evaluation.h"
#include "test_util.h"

namespace dojo::rl {
namespace {

TEST(Reinforce, DiscountedReturnsByHand) {
  const auto g = discounted_returns({1.0, 1.0, 1.0}, 0.95);
  ASSERT_EQ(g.size(), 3u);
  EXPECT_DOUBLE_EQ(g[2], 1.0);
  EXPECT_DOUBLE_EQ(g[1], 1.95);
  EXPECT_DOUBLE_EQ(g[0], 1.0 + 0.95 * 1.95);
  EXPECT_TRUE(discounted_returns({}, 0.9).empty());
  EXPECT_EQ(discounted_returns({0.0, 0.0, 5.0}, 0.5), (std::vector<double>{1.25, 2.5, 5.0}));
}

// Zero weights and the given output bias: the policy is the same in every state.
void constant_policy(REINFORCE& agent, const std::vector<float>& bias) {
  torch::NoGradGuard no_grad;
  for (auto& p : agent.policy()->parameters()) p.zero_();
  agent.policy()->parameters().back().copy_(torch::tensor(bias));
}

TEST(Reinforce, LogProbOfTheSigmoidAndSoftmaxPolicies) {
  REINFORCE two("CartPole-v1", REINFORCEOptions(), 0);
  constant_policy(two, {0.7f});  // P(action 0, "left") = σ(0.7)
  const auto lp = two.log_prob(torch::zeros({2, 4}), torch::tensor({0, 1}));
  const double p0 = 1.0 / (1.0 + std::exp(-0.7));
  EXPECT_NEAR(lp[0].item<double>(), std::log(p0), 1e-6);
  EXPECT_NEAR(lp[1].item<double>(), std::log(1.0 - p0), 1e-6);
  EXPECT_EQ(two.policy()->parameters().back().numel(), 1);  // Géron's single output unit

  REINFORCE three("Acrobot-v1", REINFORCEOptions(), 0);
  constant_policy(three, {0.0f, 1.0f, 2.0f});
  const auto lp3 = three.log_prob(torch::zeros({1, 6}), torch::tensor({2}));
  EXPECT_NEAR(lp3[0].item<double>(), 2.0 - std::log(1.0 + std::exp(1.0) + std::exp(2.0)), 1e-6);
  EXPECT_EQ(three.act(torch::zeros({6})).item<std::int64_t>(), 2);  // greedy: the most probable
}

TEST(Reinforce, LossIsMinusReturnWeightedLogProb) {
  REINFORCE agent("CartPole-v1", REINFORCEOptions().normalize_returns(false).gamma(0.5).learning_rate(1e-12),
                  0);
  constant_policy(agent, {0.0f});  // π = 0.5 for both actions
  REINFORCE::Episode e;
  e.obs = {torch::zeros({4}), torch::zeros({4})};
  e.actions = {0, 1};
  e.rewards = {1.0, 1.0};
  // G = [1.5, 1]; loss = −mean(G · log 0.5) = 1.25 log 2.
  const auto m = agent.update({e});
  EXPECT_NEAR(m.at("loss"), 1.25 * std::log(2.0), 1e-6);
  EXPECT_DOUBLE_EQ(m.at("mean_return"), 2.0);

  // Normalised over the iteration's steps, the returns of a constant policy cancel: loss 0.
  REINFORCE norm("CartPole-v1", REINFORCEOptions().learning_rate(1e-12), 0);
  constant_policy(norm, {0.0f});
  REINFORCE::Episode longer = e;
  longer.obs.push_back(torch::zeros({4}));
  longer.actions.push_back(0);
  longer.rewards.push_back(1.0);
  EXPECT_NEAR(norm.update({e, longer}).at("loss"), 0.0, 1e-6);
}

TEST(Reinforce, AStepMakesTheBetterActionMoreLikely) {
  REINFORCE agent("CartPole-v1", REINFORCEOptions().learning_rate(0.1), 0);
  constant_policy(agent, {0.0f});
  // Action 1 led to the longer episode: after one update it is more probable.
  REINFORCE::Episode good, bad;
  for (int t = 0; t < 5; ++t) {
    good.obs.push_back(torch::zeros({4}));
    good.actions.push_back(1);
    good.rewards.push_back(1.0);
  }
  bad.obs = {torch::zeros({4})};
  bad.actions = {0};
  bad.rewards = {1.0};
  agent.update({good, bad});
  const double p1 = std::exp(agent.log_prob(torch::zeros({1, 4}), torch::tensor({1}))[0].item<double>());
  // Adam's first step moves the output bias (the only parameter with a gradient here) by lr against
  // the logit of action 0: p1 = σ(0.1).
  EXPECT_NEAR(p1, 1.0 / (1.0 + std::exp(-0.1)), 1e-4);
}

TEST(Reinforce, BadOptionsAndSpaces) {
  EXPECT_THROW(REINFORCE("CartPole-v1", REINFORCEOptions().gamma(1.5), 0), Error);
  EXPECT_THROW(REINFORCE("CartPole-v1", REINFORCEOptions().n_episodes_per_update(0), 0), Error);
  EXPECT_THROW(REINFORCE("Pendulum-v1", REINFORCEOptions(), 0), Error);
  EXPECT_THROW(REINFORCE("MinAtar/Breakout-v1", REINFORCEOptions(), 0), Error);
}

TEST(Reinforce, GeronRecipeLearnsCartPoleAndCheckpointsRoundTrip) {
  auto run = [](bool baseline) {
    torch::manual_seed(0);
    auto agent = std::make_unique<REINFORCE>("CartPole-v1", REINFORCEOptions().baseline(baseline), 0);
    Callback none;
    agent->learn(1'000'000, none);
    return agent;
  };
  auto agent = run(false);
  EXPECT_EQ(agent->iterations(), 150);
  auto env = envs::make("CartPole-v1");
  env->reset(7);
  const auto eval = evaluate(*agent, *env, 20);
  EXPECT_GE(eval.mean, 150.0);
  // The same seed gives the same run.
  EXPECT_EQ(run(false)->num_timesteps(), agent->num_timesteps());

  const auto path = test::fresh_path("reinforce") += ".ckpt";
  agent->save(path);
  REINFORCE loaded("CartPole-v1", REINFORCEOptions(), 1);
  loaded.load(path);
  EXPECT_EQ(loaded.num_timesteps(), agent->num_timesteps());
  EXPECT_EQ(loaded.iterations(), 150);
  auto env2 = envs::make("CartPole-v1");
  env2->reset(7);
  EXPECT_EQ(evaluate(loaded, *env2, 20).returns, eval.returns);
  std::filesystem::remove(path);

  // With a learned baseline it learns too.
  auto with_baseline = run(true);
  auto env3 = envs::make("CartPole-v1");
  env3->reset(7);
  EXPECT_GE(evaluate(*with_baseline, *env3, 20).mean, 150.0);
}

}  // namespace
}  // namespace dojo::rl
