#include "envs/registry.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "core/error.h"
#include "envs/wrappers.h"

namespace dojo::envs {
namespace {

TEST(Registry, ListsTheClassicControlIds) {
  const auto ids = registered_ids();
  for (const char* id : {"CartPole-v1", "MountainCar-v0", "Acrobot-v1", "Pendulum-v1"}) {
    EXPECT_NE(std::find(ids.begin(), ids.end(), id), ids.end()) << id;
  }
  EXPECT_EQ(*spec("CartPole-v1").max_episode_steps, 500);
  EXPECT_EQ(*spec("CartPole-v1").reward_threshold, 475.0);
  EXPECT_EQ(*spec("Pendulum-v1").max_episode_steps, 200);
}

TEST(Registry, UnknownIdSuggestsTheClosest) {
  try {
    make("CartPol-v1");
    FAIL() << "expected an error";
  } catch (const dojo::Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("unknown env id 'CartPol-v1'"), std::string::npos);
    EXPECT_NE(msg.find("did you mean 'CartPole-v1'"), std::string::npos);
  }
}

TEST(Registry, MakeWrapsLikeGymnasium) {
  auto env = make("CartPole-v1");
  EXPECT_EQ(env->name(), "TimeLimit<OrderEnforcing<CartPole>>");
  EXPECT_EQ(env->id(), "CartPole-v1");
  EXPECT_THROW(env->step(0), dojo::Error);  // step before reset
  env->reset(0);
  EXPECT_NO_THROW(env->step(0));
  auto short_env = make("CartPole-v1", {.max_episode_steps = 3, .record_episode_statistics = true});
  short_env->reset(1);
  short_env->step(0);
  short_env->step(1);
  const auto s = short_env->step(0);
  EXPECT_TRUE(s.truncated);
  EXPECT_EQ(s.info.at("episode_length"), 3.0);
  EXPECT_EQ(s.info.at("episode_return"), 3.0);
}

TEST(Wrappers, RecordEpisodeStatisticsOnlyAtEpisodeEnd) {
  auto env = std::make_unique<RecordEpisodeStatistics>(make("MountainCar-v0"));
  env->reset(0);
  double total = 0;
  for (int t = 1; t <= 200; ++t) {
    const auto s = env->step(1);
    total += s.reward;
    if (t < 200)
      EXPECT_TRUE(s.info.empty());
    else
      EXPECT_EQ(s.info.at("episode_return"), total);
  }
  EXPECT_THROW(TimeLimit(make("CartPole-v1"), 0), dojo::Error);
}

TEST(Registry, SameSeedSameTrajectory) {
  for (const auto& id : registered_ids()) {
    auto a = make(id), b = make(id);
    std::mt19937_64 ra(3), rb(3);
    EXPECT_TRUE(torch::equal(a->reset(11).obs, b->reset(11).obs)) << id;
    for (int t = 0; t < 50; ++t) {
      const auto sa = a->step(sample(a->action_space(), ra));
      const auto sb = b->step(sample(b->action_space(), rb));
      ASSERT_TRUE(torch::equal(sa.obs, sb.obs)) << id;
      ASSERT_EQ(sa.reward, sb.reward);
      EXPECT_TRUE(contains(a->observation_space(), sa.obs)) << id;
      if (sa.done()) break;
    }
  }
}

}  // namespace
}  // namespace dojo::envs
