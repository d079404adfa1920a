#include "rl/dqn.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "core/error.h"
#include "envs/atari_wrappers.h"
#include "envs/registry.h"
#include "nn/optim.h"
#include "rl/evaluation.h"

namespace dojo::rl {
namespace {

namespace fs = std::filesystem;

DQNOptions small() {
  return DQNOptions()
      .net_arch({32, 32})
      .buffer_size(2000)
      .learning_starts(200)
      .batch_size(32)
      .train_freq(4)
      .target_update_interval(100)
      .learning_rate(1e-3);
}

TEST(DQN, UpdateFitsTheTdTargetOnAFixedBatch) {
  torch::manual_seed(0);
  DQN agent("CartPole-v1", small().gamma(0.0), 0);  // γ = 0: the target is the reward
  ReplayBuffer rb(64, {4}, torch::kFloat32, {}, torch::kLong);
  for (int i = 0; i < 64; ++i) {
    rb.add(torch::randn({4}), torch::scalar_tensor(i % 2, torch::kLong), i % 2 ? 1.0 : -1.0,
           torch::randn({4}), false);
  }
  const auto batch = rb.gather(torch::arange(64));
  const double first = agent.update(batch).at("loss");
  double last = first;
  for (int i = 0; i < 300; ++i) last = agent.update(batch).at("loss");
  EXPECT_LT(last, first * 0.05);
}

TEST(DQN, TerminatedZeroesTheBootstrapButTruncationDoesNot) {
  torch::manual_seed(0);
  DQN agent("CartPole-v1", small().gamma(1.0).learning_rate(1e-9), 0);
  ReplayBuffer rb(2, {4}, torch::kFloat32, {}, torch::kLong);
  const auto s = torch::zeros({4}), s2 = torch::ones({4});
  rb.add(s, torch::scalar_tensor(0, torch::kLong), 1.0, s2, /*terminated=*/true);
  rb.add(s, torch::scalar_tensor(0, torch::kLong), 1.0, s2, /*terminated=*/false);
  const double q_s = agent.q_net()->forward(s.unsqueeze(0))[0][0].item<double>();
  const double max_q_s2 = agent.q_net()->forward(s2.unsqueeze(0)).max().item<double>();
  // Huber loss of a single sample with |δ| < 1 is δ²/2.
  const double terminal_loss = agent.update(rb.gather(torch::tensor({0}, torch::kLong))).at("loss");
  const double bootstrap_loss = agent.update(rb.gather(torch::tensor({1}, torch::kLong))).at("loss");
  auto huber = [](double d) { return std::abs(d) < 1 ? 0.5 * d * d : std::abs(d) - 0.5; };
  EXPECT_NEAR(terminal_loss, huber(1.0 - q_s), 1e-5);
  EXPECT_NEAR(bootstrap_loss, huber(1.0 + max_q_s2 - q_s), 1e-5);
}

TEST(DQN, RejectsBadOptionsAndSpaces) {
  EXPECT_THROW(DQN("CartPole-v1", DQNOptions().gamma(1.5), 0), Error);
  EXPECT_THROW(DQN("CartPole-v1", DQNOptions().loss("l3"), 0), Error);
  EXPECT_THROW(DQN("CartPole-v1", DQNOptions().net_arch({}), 0), Error);
  EXPECT_THROW(DQN("Pendulum-v1", DQNOptions(), 0), Error);  // Box actions
  try {
    DQNOptions().rmsprop_momentum(1.0).validate();
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "rmsprop_momentum = 1: expected in [0, 1)");
  }
}

TEST(DQN, MinAtarNetworkOnUint8Grids) {
  torch::manual_seed(0);
  auto o = small().network("minatar").train_freq(1).learning_starts(64);
  DQN agent("MinAtar/Breakout-v1", o, 0);
  // 16 filters of 3×3×4 (+16), 8·8·16 -> 128 (+128), 128 -> 3 (+3).
  std::int64_t params = 0;
  for (const auto& p : agent.q_net()->parameters()) params += p.numel();
  EXPECT_EQ(params, 16 * 36 + 16 + 1024 * 128 + 128 + 128 * 3 + 3);
  Callback none;
  agent.learn(300, none);
  EXPECT_EQ(agent.replay().size(), 300);
  std::mt19937_64 rng(0);
  auto b = agent.replay().sample(8, rng);
  EXPECT_EQ(b.obs.scalar_type(), torch::kUInt8);  // grids are stored as they come
  EXPECT_EQ(b.obs.sizes(), (std::vector<std::int64_t>{8, 10, 10, 4}));
  EXPECT_TRUE(std::isfinite(agent.update(b).at("loss")));
  EXPECT_THROW(DQN("MinAtar/Breakout-v1", small(), 0), Error);             // an MLP on a grid
  EXPECT_THROW(DQN("CartPole-v1", small().network("minatar"), 0), Error);  // a CNN on a vector
  EXPECT_THROW(DQN("CartPole-v1", small().network("resnet"), 0), Error);   // unknown
}

TEST(DQN, NatureNetworkOnAtariFramesWithFrameReplay) {
  torch::manual_seed(0);
  auto o = small().network("nature").train_freq(4).learning_starts(40).buffer_size(500);
  DQN agent(envs::EnvFactory("Pixel/Breakout-v1").wrap(envs::atari_wrapper()), o, 0);
  // conv 4->32 8×8 (+32), 32->64 4×4 (+64), 64->64 3×3 (+64), 7·7·64 -> 512 (+512), 512 -> 3 (+3).
  std::int64_t params = 0;
  for (const auto& p : agent.q_net()->parameters()) params += p.numel();
  EXPECT_EQ(params, 4 * 32 * 64 + 32 + 32 * 64 * 16 + 64 + 64 * 64 * 9 + 64 + 3136 * 512 + 512 + 512 * 3 + 3);
  ASSERT_NE(agent.frame_replay(), nullptr);
  Callback none;
  agent.learn(120, none);
  EXPECT_GT(agent.frame_replay()->size(), 100);
  std::mt19937_64 rng(0);
  auto b = agent.frame_replay()->sample(8, rng);
  EXPECT_EQ(b.obs.sizes(), (std::vector<std::int64_t>{8, 84, 84, 4}));
  EXPECT_TRUE(std::isfinite(agent.update(b).at("loss")));
  EXPECT_EQ(agent.frame_replay()->bytes_per_transition(), 84 * 84 + 15);
  // A 10×10 grid is too small for the Nature CNN's strides; a float vector is no frame stack.
  EXPECT_THROW(DQN("MinAtar/Breakout-v1", small().network("nature"), 0), Error);
  EXPECT_THROW(DQN("CartPole-v1", small().network("nature"), 0), Error);
}

TEST(DQN, CheckpointRoundTripGivesTheSameEvaluation) {
  const auto dir = fs::temp_directory_path() / ("dojo_dqn_ckpt_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  torch::manual_seed(1);
  DQN agent("CartPole-v1", small(), 1);
  Callback none;
  agent.learn(1500, none);
  agent.save(dir / "a.ckpt", {{"wall_time_s", 1.5}});

  auto env_a = envs::make("CartPole-v1");
  env_a->reset(99);
  const auto before = evaluate(agent, *env_a, 3);

  torch::manual_seed(2);  // a differently initialised network, overwritten by the load
  DQN loaded("CartPole-v1", small(), 7);
  const auto extra = loaded.load(dir / "a.ckpt");
  EXPECT_EQ(extra.at("wall_time_s"), 1.5);
  EXPECT_EQ(loaded.num_timesteps(), 1500);
  auto env_b = envs::make("CartPole-v1");
  env_b->reset(99);
  const auto after = evaluate(loaded, *env_b, 3);
  EXPECT_EQ(before.returns, after.returns);

  DQN fewer_layers("CartPole-v1", small().net_arch({64}), 0);
  EXPECT_THROW(fewer_layers.load(dir / "a.ckpt"), Error);
  DQN wider("CartPole-v1", small().net_arch({64, 64}), 0);
  EXPECT_THROW(wider.load(dir / "a.ckpt"), Error);
  fs::remove_all(dir);
}

TEST(DQN, EvaluationExploresWithItsOwnEpsilonAndGenerator) {
  // eval_exploration_eps 1: evaluation actions are uniform over CartPole's two actions.
  DQN uniform("CartPole-v1", small().eval_exploration_eps(1.0), 4);
  const auto obs = torch::zeros({4});
  std::int64_t left = 0;
  for (int i = 0; i < 4000; ++i) left += uniform.act(obs, /*deterministic=*/true).item<std::int64_t>() == 0;
  EXPECT_NEAR(left / 4000.0, 0.5, 3 * std::sqrt(0.25 / 4000));  // 3 standard errors
  // eval_exploration_eps 0 (the default): always the greedy action.
  DQN greedy("CartPole-v1", small(), 4);
  const auto best = greedy.greedy_action(obs);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(greedy.act(obs, true).item<std::int64_t>(), best);
  EXPECT_THROW(DQN("CartPole-v1", small().eval_exploration_eps(1.5), 0), Error);

  // Evaluating between training calls leaves the training run unchanged.
  auto run = [](bool evaluate_between) {
    torch::manual_seed(5);
    DQN agent("CartPole-v1", small().eval_exploration_eps(0.5), 5);
    Callback none;
    agent.learn(600, none);
    if (evaluate_between) {
      auto env = envs::make("CartPole-v1");
      env->reset(1);
      evaluate(agent, *env, 2);
    }
    agent.learn(1200, none);
    return agent.q_net()->parameters()[0].clone();
  };
  EXPECT_TRUE(torch::equal(run(false), run(true)));
}

TEST(DQN, ExplorationAnnealsFromTheFirstStepOrFromLearningStarts) {
  // SB3's schedule: over the first exploration_fraction of the run, from step 0.
  DQN sb3("CartPole-v1", small().exploration_fraction(0.1).exploration_final_eps(0.1), 0);
  EXPECT_DOUBLE_EQ(sb3.exploration_at(0, 1000), 1.0);
  EXPECT_DOUBLE_EQ(sb3.exploration_at(50, 1000), 0.55);
  EXPECT_DOUBLE_EQ(sb3.exploration_at(100, 1000), 0.1);
  EXPECT_DOUBLE_EQ(sb3.exploration_at(100, 2000), 0.55);  // relative: a longer run anneals longer
  // DeepMind's and MinAtar's: ε is 1 until learning_starts, then falls over exploration_steps,
  // whatever the run's length.
  DQN minatar("CartPole-v1",
              small()
                  .learning_starts(100)
                  .exploration_steps(200)
                  .exploration_after_learning_starts(true)
                  .exploration_final_eps(0.1),
              0);
  for (const std::int64_t total : {1000, 1000000}) {
    EXPECT_DOUBLE_EQ(minatar.exploration_at(0, total), 1.0);
    EXPECT_DOUBLE_EQ(minatar.exploration_at(100, total), 1.0);
    EXPECT_DOUBLE_EQ(minatar.exploration_at(200, total), 0.55);
    EXPECT_DOUBLE_EQ(minatar.exploration_at(300, total), 0.1);
    EXPECT_DOUBLE_EQ(minatar.exploration_at(900, total), 0.1);
  }
  // exploration_fraction 0: ε is final from the start.
  DQN none("CartPole-v1", small().exploration_fraction(0).exploration_final_eps(0.2), 0);
  EXPECT_DOUBLE_EQ(none.exploration_at(0, 1000), 0.2);
  EXPECT_THROW(DQN("CartPole-v1", small().exploration_steps(-1), 0), Error);
}

TEST(DQN, MaxGradNormZeroLeavesGradientsUnclipped) {
  // Adam with ε 1 takes a step that grows with the gradient's size, so a binding clip shows in the
  // weights: clipping off gives the step of a limit too large to bind, a small limit a different one.
  auto step = [](double max_grad_norm) {
    torch::manual_seed(0);
    DQN agent("CartPole-v1", small().gamma(0.0).optimizer_eps(1.0).max_grad_norm(max_grad_norm), 0);
    ReplayBuffer rb(8, {4}, torch::kFloat32, {}, torch::kLong);
    for (int i = 0; i < 8; ++i)
      rb.add(torch::randn({4}), torch::scalar_tensor(i % 2, torch::kLong), 100.0, torch::randn({4}), false);
    agent.update(rb.gather(torch::arange(8)));
    return agent.q_net()->parameters()[0].clone();
  };
  EXPECT_TRUE(torch::equal(step(0.0), step(1e9)));
  EXPECT_FALSE(torch::allclose(step(0.0), step(1e-3)));
  EXPECT_THROW(DQN("CartPole-v1", small().max_grad_norm(-1), 0), Error);
}

TEST(DQN, SameSeedSameRun) {
  auto run = [] {
    torch::manual_seed(3);
    DQN agent("CartPole-v1", small(), 3);
    Callback none;
    agent.learn(1200, none);
    return agent.q_net()->parameters()[0].clone();
  };
  EXPECT_TRUE(torch::equal(run(), run()));
}

TEST(FusedAdam, MatchesLibTorchAdam) {
  torch::manual_seed(0);
  auto p1 = torch::randn({257}, torch::requires_grad());
  auto p2 = p1.detach().clone().requires_grad_();
  torch::optim::Adam reference({p1}, torch::optim::AdamOptions(1e-2).weight_decay(0.1));
  nn::FusedAdam fused({p2}, torch::optim::AdamOptions(1e-2).weight_decay(0.1));
  for (int i = 0; i < 20; ++i) {
    const auto target = torch::randn({257});
    reference.zero_grad();
    fused.zero_grad();
    (p1 - target).pow(2).sum().backward();
    (p2 - target).pow(2).sum().backward();
    reference.step();
    fused.step();
  }
  EXPECT_TRUE(torch::allclose(p1, p2, 1e-5, 1e-6));
}

TEST(FusedRMSprop, MatchesLibTorchRMSprop) {
  // Plain, centred (the DQN presets'), with momentum, with weight decay.
  for (const auto& options : {torch::optim::RMSpropOptions(1e-2),
                              torch::optim::RMSpropOptions(2.5e-4).alpha(0.95).eps(0.01).centered(true),
                              torch::optim::RMSpropOptions(1e-2).momentum(0.9).centered(true),
                              torch::optim::RMSpropOptions(1e-2).weight_decay(0.1).eps(1e-5)}) {
    torch::manual_seed(0);
    auto p1 = torch::randn({257}, torch::requires_grad());
    auto p2 = p1.detach().clone().requires_grad_();
    torch::optim::RMSprop reference({p1}, options);
    nn::FusedRMSprop fused({p2}, options);
    for (int i = 0; i < 20; ++i) {
      const auto target = torch::randn({257});
      reference.zero_grad();
      fused.zero_grad();
      (p1 - target).pow(2).sum().backward();
      (p2 - target).pow(2).sum().backward();
      reference.step();
      fused.step();
    }
    EXPECT_FALSE(torch::equal(p1, p1.detach().clone().zero_()));
    EXPECT_TRUE(torch::allclose(p1, p2, 1e-5, 1e-6)) << (p1 - p2).abs().max().item<float>();
    // The state is LibTorch's, so a checkpoint of one loads into the other.
    const auto& s = static_cast<const torch::optim::RMSpropParamState&>(
        *fused.state().at(c10::guts::to_string(p2.unsafeGetTensorImpl())));
    EXPECT_EQ(s.step(), 20);
    EXPECT_EQ(s.grad_avg().defined(), options.centered());
  }
}

TEST(MakeOptimizer, FusesFloatParametersAndFallsBackForOthers) {
  for (const std::string name : {"adam", "rmsprop"}) {
    nn::OptimizerOptions o;
    o.name = name;
    auto single = torch::randn({5}, torch::requires_grad());
    auto fused = nn::make_optimizer({single}, o);
    EXPECT_TRUE(dynamic_cast<nn::FusedAdam*>(fused.get()) || dynamic_cast<nn::FusedRMSprop*>(fused.get()));
    // A float64 parameter takes LibTorch's class, which steps it.
    auto dbl = torch::randn({5}, torch::dtype(torch::kFloat64).requires_grad(true));
    const auto before = dbl.detach().clone();
    auto plain = nn::make_optimizer({dbl}, o);
    EXPECT_FALSE(dynamic_cast<nn::FusedAdam*>(plain.get()) || dynamic_cast<nn::FusedRMSprop*>(plain.get()));
    nn::gradient_step(*plain, dbl.pow(2).sum(), 0.0);
    EXPECT_FALSE(torch::equal(before, dbl.detach()));
  }
}

TEST(ClipGradNorm, ScalesOnlyAboveTheLimit) {
  auto p = torch::zeros({2}, torch::requires_grad());
  p.mutable_grad() = torch::tensor({3.0f, 4.0f});
  EXPECT_NEAR(nn::clip_grad_norm({p}, 10.0), 5.0, 1e-6);
  EXPECT_TRUE(torch::allclose(p.grad(), torch::tensor({3.0f, 4.0f})));
  nn::clip_grad_norm({p}, 1.0);
  EXPECT_NEAR(p.grad().norm().item<double>(), 1.0, 1e-5);
}

}  // namespace
}  // namespace dojo::rl
