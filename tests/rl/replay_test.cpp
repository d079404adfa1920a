#include "rl/replay.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <set>

#include "rl/schedule.h"

namespace dojo::rl {
namespace {

TEST(ReplayBuffer, WrapsAroundOverwritingTheOldest) {
  ReplayBuffer rb(4, {2}, torch::kFloat32, {}, torch::kLong);
  for (int i = 0; i < 6; ++i) {
    rb.add(torch::full({2}, static_cast<float>(i)), torch::scalar_tensor(i, torch::kLong), i,
           torch::full({2}, i + 0.5f), i == 5);
  }
  EXPECT_EQ(rb.size(), 4);
  EXPECT_EQ(rb.position(), 2);
  const auto b = rb.gather(torch::arange(4));
  // Slots 0 and 1 were overwritten by transitions 4 and 5.
  EXPECT_EQ(b.action[0].item<std::int64_t>(), 4);
  EXPECT_EQ(b.action[1].item<std::int64_t>(), 5);
  EXPECT_EQ(b.action[2].item<std::int64_t>(), 2);
  EXPECT_FLOAT_EQ(b.obs[1][0].item<float>(), 5.0f);
  EXPECT_FLOAT_EQ(b.next_obs[1][1].item<float>(), 5.5f);
  EXPECT_FLOAT_EQ(b.reward[3].item<float>(), 3.0f);
  EXPECT_FLOAT_EQ(b.terminated[1].item<float>(), 1.0f);
  EXPECT_FLOAT_EQ(b.terminated[0].item<float>(), 0.0f);
}

TEST(ReplayBuffer, SamplesOnlyFilledSlots) {
  ReplayBuffer rb(100, {1}, torch::kFloat32, {}, torch::kLong);
  for (int i = 0; i < 5; ++i)
    rb.add(torch::ones({1}), torch::scalar_tensor(i + 1, torch::kLong), 0, torch::ones({1}), false);
  std::mt19937_64 rng(0);
  std::set<std::int64_t> seen;
  for (int k = 0; k < 50; ++k) {
    const auto b = rb.sample(16, rng);
    EXPECT_EQ(b.obs.sizes(), torch::IntArrayRef({16, 1}));
    EXPECT_EQ(b.action.sizes(), torch::IntArrayRef({16}));
    for (int i = 0; i < 16; ++i) seen.insert(b.action[i].item<std::int64_t>());
  }
  EXPECT_EQ(seen, (std::set<std::int64_t>{1, 2, 3, 4, 5}));  // never an empty (zero) slot
}

TEST(ReplayBuffer, SameSeedSameBatchAndShapeChecks) {
  ReplayBuffer rb(10, {3}, torch::kFloat32, {}, torch::kLong);
  for (int i = 0; i < 10; ++i)
    rb.add(torch::randn({3}), torch::scalar_tensor(i, torch::kLong), i, torch::randn({3}), false);
  std::mt19937_64 a(5), b(5);
  EXPECT_TRUE(torch::equal(rb.sample(8, a).action, rb.sample(8, b).action));
  EXPECT_ANY_THROW(
      rb.add(torch::randn({4}), torch::scalar_tensor(0, torch::kLong), 0, torch::randn({4}), false));
  EXPECT_ANY_THROW(ReplayBuffer(0, {1}, torch::kFloat32, {}, torch::kLong));
}

TEST(LinearSchedule, AnnealsOverTheFractionThenHolds) {
  LinearSchedule eps{1.0, 0.1, 0.5};
  EXPECT_DOUBLE_EQ(eps(0.0), 1.0);
  EXPECT_DOUBLE_EQ(eps(0.25), 0.55);
  EXPECT_DOUBLE_EQ(eps(0.5), 0.1);
  EXPECT_DOUBLE_EQ(eps(0.9), 0.1);
  EXPECT_DOUBLE_EQ((LinearSchedule{1.0, 0.05, 0.0})(0.0), 0.05);
}

}  // namespace
}  // namespace dojo::rl
