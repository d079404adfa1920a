// PPO and A2C end to end: learning CartPole with RL Zoo's settings on small budgets, Box actions
// (Gaussian log-probs, clipping to bounds, log-std in checkpoints), determinism and bad input.
#include "rl/ppo.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "core/error.h"
#include "envs/registry.h"
#include "rl/evaluation.h"
#include "rl/policy.h"
#include "test_util.h"

namespace dojo::rl {
namespace {

PPOOptions zoo_cartpole() {
  return PPOOptions()
      .n_envs(8)
      .n_steps(32)
      .batch_size(256)
      .gae_lambda(0.8)
      .gamma(0.98)
      .n_epochs(20)
      .learning_rate(1e-3)
      .lr_schedule("linear")
      .clip_range_schedule("linear");
}

double greedy_mean(Agent& agent, const std::string& id, std::int64_t episodes = 10) {
  auto env = envs::make(id);
  env->reset(123);
  return evaluate(agent, *env, episodes).mean;
}

TEST(PPO, LearnsCartPoleWithRlZooSettings) {
  torch::manual_seed(0);
  PPO agent("CartPole-v1", zoo_cartpole(), 0);
  Callback none;
  agent.learn(50'000, none);
  EXPECT_GE(agent.num_timesteps(), 50'000);
  EXPECT_GE(greedy_mean(agent, "CartPole-v1"), 400.0);
}

TEST(A2C, LearnsCartPoleAsOneEpochFullBatchRmsprop) {
  const auto o = A2COptions().n_envs(8).to_ppo();
  EXPECT_EQ(o.n_epochs(), 1);
  EXPECT_EQ(o.batch_size(), 40);  // the whole rollout: 5 steps × 8 envs
  EXPECT_EQ(o.optimizer(), "rmsprop");
  EXPECT_FALSE(o.normalize_advantage());
  torch::manual_seed(0);
  PPO agent("CartPole-v1", o, 0, "a2c");
  EXPECT_EQ(agent.algo(), "a2c");
  Callback none;
  agent.learn(150'000, none);
  EXPECT_GE(greedy_mean(agent, "CartPole-v1"), 300.0);
}

TEST(PPO, GaussianPolicyOnBoxActionsAndCheckpoints) {
  PPO agent("Pendulum-v1", PPOOptions().n_steps(64).batch_size(32).n_epochs(2).log_std_init(-0.5), 0);
  const auto obs = torch::randn({5, 3});
  const auto actions = torch::randn({5, 1});
  const auto [lp, h] = agent.log_prob_entropy(obs, actions);
  EXPECT_EQ(lp.sizes(), torch::IntArrayRef({5}));
  EXPECT_EQ(h.sizes(), torch::IntArrayRef({5}));
  EXPECT_NEAR(h[0].item<double>(), 0.5 * std::log(2 * M_PI * M_E) - 0.5, 1e-5);
  // Sampled actions are clipped to Pendulum's torque bounds when sent to the env.
  for (int i = 0; i < 200; ++i) {
    const auto a = agent.act(torch::randn({3}) * 5, /*deterministic=*/false);
    EXPECT_LE(a.abs().max().item<double>(), 2.0);
  }
  Callback none;
  agent.learn(256, none);
  const auto path = test::fresh_path("ppo") += ".ckpt";
  agent.save(path);
  PPO loaded("Pendulum-v1", PPOOptions().n_steps(64).batch_size(32), 9);
  loaded.load(path);
  const auto x = torch::randn({4, 3});
  EXPECT_TRUE(torch::allclose(loaded.log_prob_entropy(x, actions.slice(0, 0, 4)).first,
                              agent.log_prob_entropy(x, actions.slice(0, 0, 4)).first));
  EXPECT_TRUE(torch::allclose(loaded.value(x), agent.value(x)));
  std::filesystem::remove(path);
}

TEST(Normalization, RunningStatisticsMatchTheWholeStream) {
  torch::manual_seed(0);
  const auto data =
      torch::randn({1000, 3}, torch::kDouble) * torch::tensor({1.0, 5.0, 0.1}, torch::kDouble) + 2.0;
  RunningMeanStd rms({3}, /*epsilon=*/0.0);
  for (int k = 0; k < 10; ++k) rms.update(data.slice(0, k * 100, (k + 1) * 100));
  EXPECT_TRUE(torch::allclose(rms.mean(), data.mean(0)));
  EXPECT_TRUE(torch::allclose(rms.var(), data.var(0, false)));
  EXPECT_DOUBLE_EQ(rms.count(), 1000.0);
}

TEST(Normalization, RewardsScaledByTheDiscountedReturnsDeviation) {
  Normalizer norm({1}, 2, /*observations=*/false, /*rewards=*/true, /*gamma=*/0.5);
  // Step 1: G = [1, 3]. Step 2 (env 0 done at step 1 resets its G): G = [0.5·1 + 1, 0.5·3 + 1].
  norm.rewards(torch::tensor({1.0, 3.0}), torch::tensor({true, false}));
  const auto r = norm.rewards(torch::tensor({1.0, 1.0}), torch::tensor({false, false}));
  // Returns seen: 1, 3 (first update), then 1 (reset) and 2.5 → running variance over 1e-4 + 4 samples.
  RunningMeanStd ref;
  ref.update(torch::tensor({1.0, 3.0}));
  ref.update(torch::tensor({1.0, 2.5}));
  const double sd = std::sqrt(ref.var().item<double>() + 1e-8);
  EXPECT_NEAR(r[0].item<double>(), 1.0 / sd, 1e-5);
  EXPECT_NEAR(norm.return_stats().var().item<double>(), ref.var().item<double>(), 1e-12);
}

TEST(PPO, NormalisationStatisticsAreSavedAndRestored) {
  const auto opts =
      PPOOptions().n_steps(64).batch_size(64).n_epochs(1).normalize_observations(true).normalize_reward(true);
  PPO agent("Pendulum-v1", opts, 0);
  Callback none;
  agent.learn(256, none);
  EXPECT_GT(agent.normalizer().obs_stats().count(), 256.0);  // reset and step batches
  EXPECT_FALSE(torch::allclose(agent.normalizer().obs_stats().mean(), torch::zeros({3}, torch::kDouble)));
  const auto path = test::fresh_path("ppo_norm") += ".ckpt";
  agent.save(path);
  PPO loaded("Pendulum-v1", opts, 5);
  loaded.load(path);
  EXPECT_TRUE(torch::equal(loaded.normalizer().obs_stats().mean(), agent.normalizer().obs_stats().mean()));
  EXPECT_TRUE(
      torch::equal(loaded.normalizer().return_stats().var(), agent.normalizer().return_stats().var()));
  // The loaded agent acts as the saved one: the same normalised inputs.
  const auto obs = torch::tensor({0.5f, -0.5f, 1.0f});
  EXPECT_TRUE(torch::allclose(loaded.act(obs), agent.act(obs)));
  std::filesystem::remove(path);
}

TEST(PPO, SameSeedSameRun) {
  auto run = [] {
    torch::manual_seed(4);
    PPO agent("CartPole-v1", zoo_cartpole(), 4);
    Callback none;
    agent.learn(2048, none);
    return agent.value(torch::ones({1, 4})).item<double>();
  };
  EXPECT_EQ(run(), run());
}

TEST(PPO, BadOptionsAndSpaces) {
  EXPECT_THROW(PPO("CartPole-v1", PPOOptions().clip_range(0), 0), Error);
  EXPECT_THROW(PPO("CartPole-v1", PPOOptions().lr_schedule("cosine"), 0), Error);
  EXPECT_THROW(PPO("CartPole-v1", PPOOptions().optimizer("sgd"), 0), Error);
  EXPECT_THROW(A2COptions().n_steps(0).validate(), Error);
}

}  // namespace
}  // namespace dojo::rl
