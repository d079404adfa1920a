// The DQN family's pieces against hand-computed values: n-step returns (ReplayBuffer and FrameReplay),
// the sum tree and prioritized replay's probabilities, weights and priorities, the Dueling head, and
// the Double-DQN, n-step and importance-weighted targets inside DQN::update.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "core/error.h"
#include "envs/registry.h"
#include "rl/dqn.h"
#include "rl/evaluation.h"
#include "rl/frame_replay.h"
#include "rl/prioritized.h"
#include "rl/replay.h"

namespace dojo::rl {
namespace {

torch::Tensor scalar_obs(float v) { return torch::full({1}, v); }
torch::Tensor act(std::int64_t a) { return torch::scalar_tensor(a, torch::kLong); }

// Rewards 1, 2, 3, 4 in an episode that terminates, then 5, 6 in one cut by a time limit, then 7, 8
// still running. Observation t is t; next observation t + 0.5.
ReplayBuffer three_episodes() {
  ReplayBuffer rb(16, {1}, torch::kFloat32, {}, torch::kLong);
  for (int t = 0; t < 8; ++t) {
    rb.add(scalar_obs(static_cast<float>(t)), act(t), t + 1.0, scalar_obs(t + 0.5f), /*terminated=*/t == 3,
           /*truncated=*/t == 5);
  }
  return rb;
}

TEST(NStep, ReplayBufferSumsDiscountedRewardsAndStopsAtEpisodeEnds) {
  const auto rb = three_episodes();
  const auto b = rb.gather({0, 2, 3, 4, 6, 7}, NStep{3, 0.5});
  // slot 0: 1 + 0.5·2 + 0.25·3 = 2.75, bootstrapping from s_3 (next obs of slot 2) with γ³.
  EXPECT_FLOAT_EQ(b.reward[0].item<float>(), 2.75f);
  EXPECT_FLOAT_EQ(b.next_obs[0][0].item<float>(), 2.5f);
  EXPECT_FLOAT_EQ(b.steps[0].item<float>(), 3.0f);
  EXPECT_FLOAT_EQ(b.terminated[0].item<float>(), 0.0f);
  // slot 2: 3 + 0.5·4 = 5, and slot 3 was terminal: no bootstrap.
  EXPECT_FLOAT_EQ(b.reward[1].item<float>(), 5.0f);
  EXPECT_FLOAT_EQ(b.steps[1].item<float>(), 2.0f);
  EXPECT_FLOAT_EQ(b.terminated[1].item<float>(), 1.0f);
  // slot 3: the terminal step alone.
  EXPECT_FLOAT_EQ(b.reward[2].item<float>(), 4.0f);
  EXPECT_FLOAT_EQ(b.steps[2].item<float>(), 1.0f);
  // slot 4: 5 + 0.5·6 = 8; the episode was truncated after slot 5, so it bootstraps from s_6 with γ².
  EXPECT_FLOAT_EQ(b.reward[3].item<float>(), 8.0f);
  EXPECT_FLOAT_EQ(b.steps[3].item<float>(), 2.0f);
  EXPECT_FLOAT_EQ(b.terminated[3].item<float>(), 0.0f);
  EXPECT_FLOAT_EQ(b.next_obs[3][0].item<float>(), 5.5f);
  // slot 6: 7 + 0.5·8 = 11, stopping at the newest transition.
  EXPECT_FLOAT_EQ(b.reward[4].item<float>(), 11.0f);
  EXPECT_FLOAT_EQ(b.steps[4].item<float>(), 2.0f);
  EXPECT_FLOAT_EQ(b.next_obs[4][0].item<float>(), 7.5f);
  EXPECT_FLOAT_EQ(b.steps[5].item<float>(), 1.0f);
  // Observations and actions are those of the first step.
  EXPECT_FLOAT_EQ(b.obs[3][0].item<float>(), 4.0f);
  EXPECT_EQ(b.action[3].item<std::int64_t>(), 4);
  // n = 1 is the plain transition.
  const auto one = rb.gather({0}, NStep{1, 0.5});
  EXPECT_FLOAT_EQ(one.reward[0].item<float>(), 1.0f);
  EXPECT_FLOAT_EQ(one.next_obs[0][0].item<float>(), 0.5f);
}

TEST(NStep, FrameReplayBootstrapsFromTheStackMStepsLater) {
  // 2×2 frames, stacks of 2; frame t is filled with t. Episode A: frames 0..3 (3 steps, rewards 1, 2, 3,
  // terminal); episode B: frames 10..12 (rewards 4, 5, truncated by the reset that follows).
  FrameReplay replay(32, 2, 2, 2);
  auto stack = [](int older, int newer) {
    return torch::stack(
        {torch::full({2, 2}, older, torch::kUInt8), torch::full({2, 2}, newer, torch::kUInt8)}, 2);
  };
  replay.start(stack(0, 0));
  const auto a0 = replay.add(0, 1.0, stack(0, 1), false);
  replay.add(1, 2.0, stack(1, 2), false);
  replay.add(2, 3.0, stack(2, 3), true);
  replay.start(stack(10, 10));
  const auto b0 = replay.add(3, 4.0, stack(10, 11), false);
  replay.add(4, 5.0, stack(11, 12), false);
  replay.start(stack(20, 20));
  const auto b = replay.gather({a0, b0}, NStep{3, 0.5});
  EXPECT_FLOAT_EQ(b.reward[0].item<float>(), 1.0f + 0.5f * 2.0f + 0.25f * 3.0f);
  EXPECT_FLOAT_EQ(b.terminated[0].item<float>(), 1.0f);
  EXPECT_FLOAT_EQ(b.steps[0].item<float>(), 3.0f);
  EXPECT_EQ(b.next_obs[0][0][0][1].item<int>(), 3);  // newest frame of s_3
  EXPECT_EQ(b.next_obs[0][0][0][0].item<int>(), 2);
  EXPECT_FLOAT_EQ(b.reward[1].item<float>(), 4.0f + 0.5f * 5.0f);
  EXPECT_FLOAT_EQ(b.terminated[1].item<float>(), 0.0f);
  EXPECT_FLOAT_EQ(b.steps[1].item<float>(), 2.0f);
  EXPECT_EQ(b.next_obs[1][0][0][1].item<int>(), 12);
  EXPECT_EQ(b.obs[1][0][0][0].item<int>(), 10);  // the episode's first frame, repeated
  EXPECT_EQ(b.action[1].item<std::int64_t>(), 3);
}

TEST(SumTree, SumsMinimaAndPrefixSearch) {
  SumTree t(5);  // not a power of two
  const std::vector<double> p{1.0, 0.0, 3.0, 0.5, 2.5};
  for (std::size_t i = 0; i < p.size(); ++i) t.set(static_cast<std::int64_t>(i), p[i]);
  EXPECT_DOUBLE_EQ(t.total(), 7.0);
  EXPECT_DOUBLE_EQ(t.min(), 0.5);  // zero leaves are out
  EXPECT_EQ(t.find(0.0), 0);
  EXPECT_EQ(t.find(0.999), 0);
  EXPECT_EQ(t.find(1.0), 2);  // leaf 1 has no mass
  EXPECT_EQ(t.find(3.999), 2);
  EXPECT_EQ(t.find(4.2), 3);
  EXPECT_EQ(t.find(4.5), 4);
  EXPECT_EQ(t.find(7.0), 4);  // at the total: the last positive leaf
  t.set(4, 0.0);
  EXPECT_DOUBLE_EQ(t.total(), 4.5);
  EXPECT_EQ(t.find(4.49), 3);
  EXPECT_EQ(t.find(4.5), 3);
  EXPECT_THROW(t.set(5, 1.0), std::invalid_argument);
  EXPECT_THROW(t.set(0, -1.0), std::invalid_argument);
}

TEST(Prioritized, DrawsInProportionToPriorityWithHandComputedWeights) {
  ReplayBuffer rb(4, {1}, torch::kFloat32, {}, torch::kLong);
  PrioritizedSampler per(4, {.alpha = 0.5, .eps = 1e-6, .batch_weights = false});
  for (int t = 0; t < 4; ++t) per.added(rb.add(scalar_obs(t), act(t), 0.0, scalar_obs(t), false));
  EXPECT_DOUBLE_EQ(per.tree().total(), 4.0);  // new transitions get the max priority, 1 at first
  // TD errors 1, 4, 9, 16 → p = (|δ| + ε)^0.5 ≈ 1, 2, 3, 4.
  per.update({0, 1, 2, 3}, torch::tensor({-1.0, 4.0, -9.0, 16.0}));
  EXPECT_NEAR(per.tree().get(2), std::sqrt(9.0 + 1e-6), 1e-12);
  EXPECT_NEAR(per.max_priority(), 4.0, 1e-6);
  std::mt19937_64 rng(0);
  std::vector<double> counts(4, 0.0);
  const int draws = 20000;
  for (int k = 0; k < draws / 10; ++k) {
    const auto b = per.sample(rb, 10, /*beta=*/0.5, rng);
    for (std::int64_t i = 0; i < 10; ++i) {
      const auto slot = b.slots[static_cast<std::size_t>(i)];
      counts[static_cast<std::size_t>(slot)] += 1;
      EXPECT_EQ(b.action[i].item<std::int64_t>(), slot);
      // w = (p_i / p_min)^−β with p_min = 1.
      EXPECT_NEAR(b.weight[i].item<float>(), std::pow(static_cast<double>(slot + 1), -0.5), 1e-5);
    }
  }
  for (int i = 0; i < 4; ++i) {
    const double expected = (i + 1) / 10.0, se = std::sqrt(expected * (1 - expected) / draws);
    EXPECT_NEAR(counts[static_cast<std::size_t>(i)] / draws, expected, 4 * se) << "slot " << i;
  }
  // A new transition gets the max priority.
  per.added(rb.add(scalar_obs(9), act(9), 0.0, scalar_obs(9), false));  // overwrites slot 0
  EXPECT_NEAR(per.tree().get(0), 4.0, 1e-6);
}

TEST(Prioritized, BatchWeightsAreDividedByTheBatchsLargest) {
  ReplayBuffer rb(4, {1}, torch::kFloat32, {}, torch::kLong);
  PrioritizedSampler global(4, {.alpha = 0.5, .eps = 1e-6, .batch_weights = false}),
      batch(4, {.alpha = 0.5, .eps = 1e-6});  // batch weights are the default
  for (int t = 0; t < 4; ++t) {
    const auto slot = rb.add(scalar_obs(t), act(t), 0.0, scalar_obs(t), false);
    global.added(slot);
    batch.added(slot);
  }
  // p ≈ 0.01, 2, 3, 4: one near-zero error makes every global weight small.
  const auto errors = torch::tensor({1e-4, 4.0, 9.0, 16.0});
  global.update({0, 1, 2, 3}, errors);
  batch.update({0, 1, 2, 3}, errors);
  const double p0 = std::sqrt(1e-4 + 1e-6);
  std::mt19937_64 rng_g(3), rng_b(3);
  for (int k = 0; k < 200; ++k) {
    const auto g = global.sample(rb, 2, /*beta=*/1.0, rng_g), b = batch.sample(rb, 2, 1.0, rng_b);
    ASSERT_EQ(g.slots, b.slots);  // the same draws: only the weights differ
    auto p = [&](std::int64_t slot) { return global.tree().get(slot); };
    const double batch_min = std::min(p(b.slots[0]), p(b.slots[1]));
    for (std::size_t i = 0; i < 2; ++i) {
      const auto slot = b.slots[i];
      EXPECT_NEAR(g.weight[static_cast<std::int64_t>(i)].item<float>(), p0 / p(slot), 1e-5);
      EXPECT_NEAR(b.weight[static_cast<std::int64_t>(i)].item<float>(), batch_min / p(slot), 1e-5);
    }
    EXPECT_FLOAT_EQ(b.weight.max().item<float>(), 1.0f);
  }
  EXPECT_NO_THROW(DQNOptions().prioritized_replay_weights("batch").validate());
  try {
    DQNOptions().prioritized_replay_weights("max").validate();
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "prioritized_replay_weights = 'max': expected global or batch");
  }
}

TEST(Prioritized, DropsSlotsTheMemoryCanNoLongerUse) {
  FrameReplay replay(8, 1, 1, 2);
  PrioritizedSampler per(8, {});
  auto frame = [](int v) { return torch::full({1, 1, 2}, v, torch::kUInt8); };
  replay.start(frame(0));
  for (int t = 0; t < 20; ++t) per.added(replay.add(t % 3, 1.0, frame(t + 1), false));
  std::mt19937_64 rng(1);
  for (int k = 0; k < 50; ++k) {
    const auto b = per.sample(replay, 8, 1.0, rng);
    for (auto s : b.slots) EXPECT_TRUE(replay.sampleable(s)) << "slot " << s;
  }
  // The head and the slot after it (whose stack was overwritten) left the tree when drawn.
  std::int64_t zero = 0;
  for (std::int64_t i = 0; i < 8; ++i) zero += per.tree().get(i) == 0.0;
  EXPECT_GE(zero, 1);
}

DQNOptions bias_only() { return DQNOptions().net_arch({4}).learning_rate(1e-12).loss("mse").gamma(0.5); }

// Zero weights everywhere and the given biases on the output: Q(s) = bias for every s.
void set_constant_q(torch::nn::Sequential& net, const std::vector<double>& q) {
  torch::NoGradGuard no_grad;
  for (auto& p : net->parameters()) p.zero_();
  net->parameters().back().copy_(torch::tensor(q, torch::kFloat32));
}

TEST(DoubleDQN, TargetsPickTheActionWithTheOnlineNetwork) {
  for (const bool double_q : {false, true}) {
    DQN agent("CartPole-v1", bias_only().double_q(double_q), 0);
    auto net = agent.q_net();
    set_constant_q(net, {3.0, 2.0});
    agent.update_target();            // Q_target(s') = [3, 2]
    set_constant_q(net, {1.0, 5.0});  // Q(s) = Q(s') = [1, 5]
    ReplayBuffer rb(1, {4}, torch::kFloat32, {}, torch::kLong);
    rb.add(torch::zeros({4}), act(0), 1.0, torch::ones({4}), false);
    // DQN: y = 1 + 0.5·max(3, 2) = 2.5; Double: a' = argmax [1, 5] = 1, y = 1 + 0.5·2 = 2. Q(s, 0) = 1.
    const double loss = agent.update(rb.gather(torch::tensor({0}))).at("loss");
    EXPECT_NEAR(loss, double_q ? 1.0 : 2.25, 1e-5) << "double_q " << double_q;
  }
}

TEST(DQNUpdate, NStepDiscountAndImportanceWeightsAndPriorities) {
  DQN agent("CartPole-v1", bias_only().prioritized_replay(true).prioritized_replay_alpha(1.0), 0);
  auto net = agent.q_net();
  set_constant_q(net, {1.0, 5.0});
  agent.update_target();
  Batch b;
  b.obs = torch::zeros({2, 4});
  b.next_obs = torch::ones({2, 4});
  b.action = torch::tensor({0, 1});
  b.reward = torch::tensor({1.0f, 0.0f});
  b.terminated = torch::tensor({0.0f, 0.0f});
  b.steps = torch::tensor({2.0f, 1.0f});
  b.weight = torch::tensor({0.5f, 1.0f});
  b.slots = {0, 1};
  // y = R + γ^m max Q_target = 1 + 0.25·5 = 2.25 and 0 + 0.5·5 = 2.5; δ = Q(s, a) − y = −1.25, 2.5.
  const double loss = agent.update(b).at("loss");
  EXPECT_NEAR(loss, (0.5 * 1.25 * 1.25 + 1.0 * 2.5 * 2.5) / 2.0, 1e-5);
  EXPECT_NEAR(agent.prioritized()->tree().get(0), 1.25 + 1e-6, 1e-6);  // α = 1: p = |δ| + ε
  EXPECT_NEAR(agent.prioritized()->tree().get(1), 2.5 + 1e-6, 1e-6);
}

TEST(Dueling, CombinesValueAndCentredAdvantage) {
  for (const std::string network : {"mlp", "minatar"}) {
    const bool grid = network == "minatar";
    DQN agent(envs::EnvFactory(grid ? "MinAtar/Breakout-v1" : "CartPole-v1"),
              DQNOptions().network(network).net_arch({8}).dueling(true), 0);
    auto net = agent.q_net();
    auto head = net->children().back();
    auto value = std::dynamic_pointer_cast<torch::nn::SequentialImpl>(head->named_children()["value"]);
    auto advantage =
        std::dynamic_pointer_cast<torch::nn::SequentialImpl>(head->named_children()["advantage"]);
    ASSERT_TRUE(value && advantage);
    const auto obs = grid ? torch::zeros({1, 10, 10, 4}, torch::kUInt8) : torch::zeros({1, 4});
    {
      torch::NoGradGuard no_grad;
      for (auto& p : head->parameters()) p.zero_();
      value->parameters().back().fill_(3.0);
      advantage->parameters().back().copy_(grid ? torch::tensor({1.0f, 3.0f, 5.0f})
                                                : torch::tensor({1.0f, 3.0f}));
    }
    // Q = V + A − mean A: 3 + [1, 3] − 2 = [2, 4] (CartPole), 3 + [1, 3, 5] − 3 = [1, 3, 5] (Breakout-v1).
    const auto q = net->forward(obs);
    const auto expected = grid ? torch::tensor({{1.0f, 3.0f, 5.0f}}) : torch::tensor({{2.0f, 4.0f}});
    EXPECT_TRUE(torch::allclose(q, expected)) << q;

    // With random weights, mean_a Q(s, a) is the value stream's output on the trunk's features.
    torch::manual_seed(1);
    {
      torch::NoGradGuard no_grad;
      for (auto& p : net->parameters()) p.normal_(0.0, 0.1);
    }
    auto x = grid ? torch::randint(0, 2, {5, 10, 10, 4}).to(torch::kUInt8) : torch::randn({5, 4});
    auto features = x;
    auto layer = net->begin();
    for (std::size_t i = 0; i + 1 < net->size(); ++i, ++layer) features = layer->forward(features);
    EXPECT_TRUE(torch::allclose(net->forward(x).mean(1, true), value->forward(features), 1e-5, 1e-6));
  }
}

TEST(DQNFamily, AllFourTogetherLearnOnCartPole) {
  torch::manual_seed(0);
  DQN agent("CartPole-v1",
            DQNOptions()
                .net_arch({64, 64})
                .buffer_size(10000)
                .learning_starts(500)
                .train_freq(1)
                .target_update_interval(250)
                .learning_rate(1e-3)
                .exploration_fraction(0.2)
                .double_q(true)
                .dueling(true)
                .prioritized_replay(true)
                .n_step(3),
            0);
  Callback none;
  agent.learn(15000, none);
  EXPECT_GT(agent.prioritized()->max_priority(), 1.0);
  EXPECT_NEAR(agent.importance_beta(), 1.0, 1e-3);
  auto env = envs::make("CartPole-v1");
  env->reset(123);
  EXPECT_GE(evaluate(agent, *env, 10).mean, 150.0);
}

}  // namespace
}  // namespace dojo::rl
