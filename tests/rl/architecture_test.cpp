// The shared architecture: env factories, the algorithm registry, the logger, the gradient hook, and
// one test per correctness risk of issue 19, each of which failed before its fix.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>
#include <set>

#include "core/error.h"
#include "core/seed.h"
#include "envs/atari_wrappers.h"
#include "envs/registry.h"
#include "rl/algos.h"
#include "rl/dqn.h"
#include "rl/evaluation.h"
#include "rl/frame_replay.h"
#include "rl/loops.h"
#include "rl/ppo.h"
#include "rl/reinforce.h"
#include "rl/tabular_control.h"
#include "rl/trainer.h"
#include "test_util.h"

namespace dojo::rl {
namespace {

namespace fs = std::filesystem;

DQNOptions small_dqn() { return DQNOptions().net_arch({16}).learning_starts(50).buffer_size(1000); }

// An env without a time limit whose episodes never end.
class Endless final : public envs::Env {
 public:
  envs::ResetResult reset(std::optional<std::uint64_t> seed) override {
    seed_rng(seed);
    return {torch::zeros({1}), {}};
  }
  using Env::step;
  envs::StepResult step(const torch::Tensor&) override { return {torch::zeros({1}), 1.0, false, false, {}}; }
  const envs::Space& action_space() const override { return actions_; }
  const envs::Space& observation_space() const override { return obs_; }
  std::string name() const override { return "Endless"; }

 private:
  envs::Space actions_ = envs::Discrete{2};
  envs::Space obs_ = envs::Box{{-1.0}, {1.0}, {1}, torch::kFloat32};
};

TEST(Evaluation, EveryArcadeIdHasAStepLimit) {
  // Gymnasium registers two toy-text ids without one: Blackjack ends within a few cards, and a
  // CliffWalking policy that walks into a wall forever is cut by evaluation's own cap.
  for (const auto& id : envs::registered_ids()) {
    if (id == "Blackjack-v1" || id == "CliffWalking-v0") continue;
    EXPECT_TRUE(envs::spec(id).max_episode_steps.has_value()) << id;
  }
  EXPECT_EQ(*envs::spec("MinAtar/Breakout-v1").max_episode_steps, 108'000);
}

TEST(Evaluation, AnEpisodeThatNeverEndsIsCutAtTheCap) {
  Endless env;
  env.reset(0);
  const auto r =
      evaluate([](const torch::Tensor&) { return torch::scalar_tensor(0, torch::kLong); }, env, 2, {},
               /*max_episode_steps=*/500);
  EXPECT_EQ(r.lengths, (std::vector<std::int64_t>{500, 500}));
  EXPECT_DOUBLE_EQ(r.mean, 500.0);
}

TEST(Seeding, StreamsAreIndependentAndStable) {
  EXPECT_NE(core::derive_seed(0, "agent"), core::derive_seed(0, "env"));
  EXPECT_NE(core::derive_seed(0, "env", 1), core::derive_seed(1, "env", 0));
  EXPECT_EQ(core::derive_seed(42, "agent"), core::derive_seed(42, "agent"));
}

TEST(Seeding, NetworksAreInitialisedFromTheAgentsSeedNotTheGlobalGenerator) {
  torch::manual_seed(1);
  DQN a("CartPole-v1", small_dqn(), 3);
  torch::manual_seed(2);
  DQN b("CartPole-v1", small_dqn(), 3);
  DQN c("CartPole-v1", small_dqn(), 4);
  const auto pa = a.q_net()->parameters(), pb = b.q_net()->parameters(), pc = c.q_net()->parameters();
  for (std::size_t i = 0; i < pa.size(); ++i) EXPECT_TRUE(torch::equal(pa[i], pb[i])) << i;
  EXPECT_FALSE(torch::equal(pa[0], pc[0]));
}

TEST(Checkpoint, AFailedLoadLeavesTheAgentAsItWas) {
  const auto path = test::fresh_path("half_load") / "a.ckpt";
  fs::create_directories(path.parent_path());
  DQN a("CartPole-v1", small_dqn().net_arch({16, 16}), 0);
  a.save(path);
  // The first layer fits (4 -> 16), the second does not (16 -> 8 against 16 -> 16).
  DQN b("CartPole-v1", small_dqn().net_arch({16, 8}), 1);
  std::vector<torch::Tensor> before;
  for (const auto& p : b.q_net()->parameters()) before.push_back(p.clone());
  EXPECT_THROW(b.load(path), Error);
  const auto after = b.q_net()->parameters();
  for (std::size_t i = 0; i < before.size(); ++i) EXPECT_TRUE(torch::equal(before[i], after[i])) << i;
  EXPECT_EQ(b.num_timesteps(), 0);
}

// Records the ε the agent used at its first step of a learn() call.
struct FirstEpsilon final : Callback {
  double eps = -1;
  bool on_step(Agent&, const StepInfo& info) override {
    if (eps < 0) eps = info.logger->get("exploration");
    return true;
  }
};

TEST(Schedules, ResumingWithMoreStepsContinuesThemInsteadOfStretchingThem) {
  const auto path = test::fresh_path("horizon") / "a.ckpt";
  fs::create_directories(path.parent_path());
  const auto o = small_dqn().exploration_fraction(0.8).exploration_final_eps(0.05);
  {
    DQN a("CartPole-v1", o, 0);
    Callback none;
    a.learn(1000, none);  // ε anneals over the first 800 steps of 1000
    a.save(path);
  }
  DQN resumed("CartPole-v1", o, 0);
  resumed.load(path);
  FirstEpsilon first;
  resumed.learn(2000, first);
  // Stretched over 2000 steps, ε at step 1000 would be 1 − 0.95 · 1000/1600 ≈ 0.41.
  EXPECT_NEAR(first.eps, 0.05, 1e-12);
}

TEST(FrameReplay, DrawsOnlyFromFilledSlots) {
  FrameReplay memory(1000, 4, 4, 2);
  memory.start(torch::zeros({4, 4, 2}, torch::kUInt8));
  for (int t = 0; t < 10; ++t) memory.add(0, 1.0, torch::full({4, 4, 2}, t, torch::kUInt8), false);
  EXPECT_EQ(memory.draw_range(), 11);  // the start frame and 10 more, not the whole capacity
  std::mt19937_64 rng(0);
  const auto b = memory.sample(64, rng);
  for (const auto s : b.slots) EXPECT_LT(s, 10);
}

TEST(REINFORCE, ATruncatedEpisodeBootstrapsFromTheBaselineATerminatedOneDoesNot) {
  REINFORCE agent("CartPole-v1", REINFORCEOptions().baseline(true).gamma(0.5), 0);
  REINFORCE::Episode cut, ended;
  for (auto* e : {&cut, &ended}) {
    e->obs = {torch::zeros({4}), torch::zeros({4})};
    e->actions = {0, 1};
    e->rewards = {1.0, 1.0};
  }
  cut.truncated = true;
  cut.final_obs = torch::full({4}, 0.3);
  const double v = agent.value()->forward(cut.final_obs.unsqueeze(0)).item<double>();
  const auto g = agent.returns({cut, ended});
  EXPECT_NEAR(g[1], 1.0 + 0.5 * v, 1e-6);
  EXPECT_NEAR(g[0], 1.0 + 0.5 * (1.0 + 0.5 * v), 1e-6);
  EXPECT_DOUBLE_EQ(g[3], 1.0);
  EXPECT_DOUBLE_EQ(g[2], 1.5);
}

TEST(Registry, UnknownAlgorithmsAreErrorsAndEveryEntryBuildsItsAgent) {
  EXPECT_THROW(algorithm("dqm"), Error);
  const std::set<std::string> offline{"bc", "bcq", "bear", "brac", "cql", "iql", "kl_control", "td3bc"};
  std::set<std::string> tabular;
  for (const auto& rule : tabular_rules()) tabular.insert(rule.name);
  for (const auto& name : algorithms()) {
    const auto& spec = algorithm(name);
    auto config = spec.resolve({});
    // The actor-critics for Box actions refuse CartPole; the tabular agents refuse its Box
    // observations and take FrozenLake's states; every other agent takes CartPole. Offline agents
    // need a dataset that fits the env.
    const bool box_only = name == "sac" || name == "td3" || offline.count(name);
    const std::string env = box_only ? "Pendulum-v1" : tabular.count(name) ? "FrozenLake-v1" : "CartPole-v1";
    if (offline.count(name)) {
      EXPECT_THROW(spec.check_env(config, *envs::make(env)), Error) << name << " without a dataset";
      config.set(
          "dataset",
          YAML::Node(
              (std::filesystem::path(DOJO_TEST_DATA_DIR) / "offline" / "minari_pendulum_tiny").string()));
    }
    spec.check_env(config, *envs::make(env));
    if (box_only || tabular.count(name)) {
      EXPECT_THROW(spec.check_env(config, *envs::make("CartPole-v1")), Error) << name;
    }
    EXPECT_EQ(spec.make(config, env, 0)->algo(), name);
  }
  EXPECT_THROW(algorithm("dqn").check_env(algorithm("dqn").resolve({}), *envs::make("Pendulum-v1")), Error);
}

TEST(GradientHook, RunsBetweenBackwardAndTheStep) {
  DQN agent("CartPole-v1", small_dqn().batch_size(8).learning_starts(1000), 0);
  Callback none;
  agent.learn(60, none);  // fills the replay memory without an update: Adam's moments are still 0
  int calls = 0;
  agent.set_gradient_hook([&](const std::vector<torch::Tensor>& params) {
    ++calls;
    for (const auto& p : params) {
      ASSERT_TRUE(p.grad().defined());
      p.mutable_grad().zero_();  // what the step applies is what the hook left
    }
  });
  std::vector<torch::Tensor> before;
  for (const auto& p : agent.q_net()->parameters()) before.push_back(p.clone());
  agent.update(agent.sample_batch());
  EXPECT_EQ(calls, 1);
  const auto after = agent.q_net()->parameters();
  for (std::size_t i = 0; i < before.size(); ++i) EXPECT_TRUE(torch::allclose(before[i], after[i])) << i;
}

TEST(Logger, PPOsLossesReachTheAgentsRecord) {
  PPO agent("CartPole-v1", PPOOptions().n_steps(32).batch_size(32).n_epochs(1), 0);
  Callback none;
  agent.learn(64, none);
  for (const char* key : {"policy_loss", "value_loss", "entropy", "approx_kl", "clip_fraction"})
    EXPECT_FALSE(std::isnan(agent.logger().get(key))) << key;
}

TEST(PPO, VectorEnvsKeepTheFactorysWrappers) {
  envs::AtariOptions atari;
  atari.noop_max = 0;
  const auto factory = envs::EnvFactory("Pixel/Breakout-v1").wrap(envs::atari_wrapper(atari));
  PPO agent(factory, PPOOptions().n_envs(2).n_steps(8).batch_size(16).n_epochs(1).network("nature"), 0);
  Callback none;
  agent.learn(16, none);
  EXPECT_EQ(agent.num_timesteps(), 16);
  const auto a = agent.act(torch::zeros({84, 84, 4}, torch::kUInt8));
  EXPECT_EQ(a.dim(), 0);
}

// The smallest offline learner: no env, a "gradient step" that only counts.
class Offline final : public Agent {
 public:
  Offline() : Agent(0) {}
  std::string algo() const override { return "offline"; }
  void learn(std::int64_t total, Callback& callback) override {
    offline_loop(
        {*this, num_timesteps_, logger_},
        [&] {
          ++updates;
          return std::map<std::string, double>{{"loss", 1.0 / static_cast<double>(updates)}};
        },
        total, callback);
  }
  torch::Tensor act_batch(const torch::Tensor& obs, bool) override {
    return torch::zeros({obs.size(0)}, torch::kLong);
  }
  int updates = 0;

 private:
  void save_state(core::CheckpointWriter&) const override {}
  void load_state(core::CheckpointReader&) override {}
};

struct StopAt final : Callback {
  std::int64_t at;
  std::int64_t calls = 0;
  bool saw_result = false;
  explicit StopAt(std::int64_t a) : at(a) {}
  bool on_step(Agent&, const StepInfo& info) override {
    ++calls;
    saw_result = saw_result || info.result != nullptr;
    return info.step < at;
  }
};

TEST(OfflineLoop, CountsGradientStepsAndReportsEachToTheCallbacks) {
  Offline agent;
  StopAt stop(3);
  agent.learn(10, stop);
  EXPECT_EQ(agent.updates, 3);
  EXPECT_EQ(agent.num_timesteps(), 3);
  EXPECT_EQ(stop.calls, 3);
  EXPECT_FALSE(stop.saw_result);
  EXPECT_DOUBLE_EQ(agent.logger().get("loss"), 1.0 / 3.0);
  // The shared checkpoint keeps the count; act_batch serves a batch.
  const auto path = test::fresh_path("offline") / "o.ckpt";
  fs::create_directories(path.parent_path());
  agent.save(path, {{"best", 1.5}});
  Offline loaded;
  EXPECT_EQ(loaded.load(path).at("best"), 1.5);
  EXPECT_EQ(loaded.num_timesteps(), 3);
  EXPECT_EQ(loaded.act_batch(torch::zeros({5, 2}), true).sizes(), torch::IntArrayRef({5}));
}

}  // namespace
}  // namespace dojo::rl
