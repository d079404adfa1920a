// Vector envs: Gymnasium 1.x next-step autoreset, per-env seeds, episode statistics, and the thread
// pool giving exactly the synchronous results.
#include "envs/vector.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "core/error.h"
#include "core/seed.h"
#include "envs/registry.h"
#include "envs/wrappers.h"

namespace dojo::envs {
namespace {

TEST(VectorEnv, PerEnvSeedsAreIndependentStreams) {
  auto vec = make_vec("CartPole-v1", 4);
  const auto obs = vec->reset(7).clone();
  EXPECT_EQ(obs.sizes(), torch::IntArrayRef({4, 4}));
  for (int i = 0; i < 4; ++i) {
    const auto seed = core::derive_seed(7, "vector_env", static_cast<std::uint64_t>(i));
    EXPECT_TRUE(torch::equal(obs[i], make("CartPole-v1")->reset(seed).obs.to(obs.scalar_type()))) << i;
  }
  EXPECT_FALSE(torch::equal(obs[0], obs[1]));
  // With seed + i, run 7's env 1 was run 8's env 0: the runs of consecutive seeds overlapped.
  const auto next = make_vec("CartPole-v1", 4)->reset(8).clone();
  for (int i = 0; i < 4; ++i) {
    for (int j = 0; j < 4; ++j) EXPECT_FALSE(torch::equal(obs[i], next[j])) << i << " " << j;
  }
}

TEST(VectorEnv, EveryEnvGetsTheFactorysWrappers) {
  int made = 0;
  const auto factory = EnvFactory("CartPole-v1").wrap([&made](std::unique_ptr<Env> e) {
    ++made;
    return std::make_unique<TimeLimit>(std::move(e), 3);
  });
  auto vec = make_vec(factory, 2);
  EXPECT_EQ(made, 2);
  EXPECT_EQ(vec->env(1).name(), "TimeLimit<TimeLimit<OrderEnforcing<CartPole>>>");
  vec->reset(0);
  const auto zeros = torch::zeros({2}, torch::kLong);
  vec->step(zeros);
  vec->step(zeros);
  EXPECT_TRUE(vec->step(zeros).truncated.all().item<bool>());  // the wrapper's limit of 3, not 500
}

TEST(VectorEnv, NextStepAutoresetAndEpisodeStatistics) {
  // Episodes truncated after 3 steps; env 1 starts one step later than env 0.
  auto vec = make_vec("CartPole-v1", 2, {.make = {.max_episode_steps = 3}});
  vec->reset(0);
  auto reference = make("CartPole-v1", {.max_episode_steps = 3});
  reference->reset(core::derive_seed(0, "vector_env", 0));
  const auto act = torch::zeros({2}, torch::kLong);
  for (int t = 1; t <= 3; ++t) {
    const auto& s = vec->step(act);
    const auto r = reference->step(std::int64_t{0});
    EXPECT_TRUE(torch::allclose(s.obs[0], r.obs.to(s.obs.scalar_type()))) << t;
    EXPECT_EQ(s.reward[0].item<double>(), 1.0);
    EXPECT_EQ(s.truncated[0].item<bool>(), t == 3);
    EXPECT_FALSE(s.terminated[0].item<bool>());
  }
  // The step that ended the episode carried its statistics.
  {
    const auto& s = vec->step(act);  // step 4: the reset step (action ignored)
    EXPECT_EQ(s.reward[0].item<double>(), 0.0);
    EXPECT_FALSE(s.truncated[0].item<bool>());
    EXPECT_FALSE(s.terminated[0].item<bool>());
    // A reset draws a fresh start from the env's own generator: the first obs of a new episode.
    EXPECT_LT(s.obs[0].abs().max().item<double>(), 0.05 + 1e-6);
  }
  // Statistics: run a fresh vec env to the end of its first episode.
  auto stats = make_vec("CartPole-v1", 1, {.make = {.max_episode_steps = 3}});
  stats->reset(1);
  stats->step(act.slice(0, 0, 1));
  stats->step(act.slice(0, 0, 1));
  const auto& end = stats->step(act.slice(0, 0, 1));
  EXPECT_TRUE(end.truncated[0].item<bool>());
  EXPECT_EQ(end.episode_return[0].item<double>(), 3.0);
  EXPECT_EQ(end.episode_length[0].item<std::int64_t>(), 3);
}

TEST(VectorEnv, AsyncEqualsSyncWhateverTheThreads) {
  auto run = [](bool async, std::int64_t threads) {
    auto vec = make_vec("CartPole-v1", 8, {.async = async, .n_threads = threads, .make = {}});
    vec->reset(11);
    std::mt19937_64 rng(3);
    std::vector<torch::Tensor> trace;
    double total = 0;
    std::int64_t episodes = 0;
    for (int t = 0; t < 300; ++t) {
      auto a = torch::empty({8}, torch::kLong);
      for (int i = 0; i < 8; ++i) a[i] = static_cast<std::int64_t>(rng() % 2);
      const auto& s = vec->step(a);
      trace.push_back(s.obs.clone());
      total += s.reward.sum().item<double>();
      episodes += (s.terminated | s.truncated).sum().item<std::int64_t>();
    }
    return std::make_tuple(torch::stack(trace), total, episodes);
  };
  const auto [sync_obs, sync_total, sync_episodes] = run(false, 0);
  EXPECT_GT(sync_episodes, 50);  // CartPole with random actions: ~22 steps an episode
  for (std::int64_t threads : {1, 3, 8}) {
    const auto [obs, total, episodes] = run(true, threads);
    EXPECT_TRUE(torch::equal(obs, sync_obs)) << threads << " threads";
    EXPECT_EQ(total, sync_total);
    EXPECT_EQ(episodes, sync_episodes);
  }
}

TEST(VectorEnv, BadInput) {
  EXPECT_THROW(make_vec("CartPole-v1", 0), Error);
  EXPECT_THROW(make_vec("NoSuchEnv-v0", 2), Error);
  auto vec = make_vec("CartPole-v1", 3, {.async = true, .n_threads = 0, .make = {}});
  vec->reset(0);
  EXPECT_THROW(vec->step(torch::zeros({2}, torch::kLong)), Error);
  EXPECT_THROW(vec->step(torch::full({3}, 5, torch::kLong)), Error);  // not in Discrete(2): from a worker
  std::vector<std::unique_ptr<Env>> mixed;
  mixed.push_back(make("CartPole-v1"));
  mixed.push_back(make("Acrobot-v1"));
  EXPECT_THROW(SyncVectorEnv(std::move(mixed)), Error);
}

}  // namespace
}  // namespace dojo::envs
