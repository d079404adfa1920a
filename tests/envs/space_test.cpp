#include "envs/space.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "core/error.h"
#include "envs/env.h"

namespace dojo::envs {
namespace {

TEST(Discrete, ContainsAndSamplesInRange) {
  Discrete d{3};
  EXPECT_TRUE(d.contains(torch::scalar_tensor(2, torch::kLong)));
  EXPECT_FALSE(d.contains(torch::scalar_tensor(3, torch::kLong)));
  EXPECT_FALSE(d.contains(torch::scalar_tensor(-1, torch::kLong)));
  EXPECT_FALSE(d.contains(torch::scalar_tensor(1.0)));  // floats are not discrete actions
  std::mt19937_64 rng(0);
  std::vector<int> seen(3);
  for (int i = 0; i < 300; ++i) seen[static_cast<std::size_t>(d.sample(rng).item<std::int64_t>())]++;
  for (int c : seen) EXPECT_GT(c, 50);
  EXPECT_EQ(d.str(), "Discrete(3)");
}

TEST(Box, ContainsChecksShapeAndPerElementBounds) {
  Box b({-1.0, 0.0}, {1.0, 5.0}, {2});
  EXPECT_TRUE(b.contains(torch::tensor({0.5f, 4.0f})));
  EXPECT_FALSE(b.contains(torch::tensor({0.5f, 6.0f})));
  EXPECT_FALSE(b.contains(torch::tensor({0.5f})));
  using Bounds = std::vector<double>;
  EXPECT_THROW(Box(Bounds{1.0}, Bounds{0.0}, {1}), Error);
  EXPECT_THROW(Box(Bounds{0.0}, Bounds{1.0}, {2}), Error);
}

TEST(Box, SamplesWithinBoundsAndUnboundedDimensions) {
  const double inf = std::numeric_limits<double>::infinity();
  Box b({-2.0, -inf, 0.0}, {2.0, inf, inf}, {3});
  std::mt19937_64 rng(1);
  for (int i = 0; i < 200; ++i) {
    const auto s = b.sample(rng);
    EXPECT_EQ(s.sizes(), torch::IntArrayRef({3}));
    EXPECT_EQ(s.scalar_type(), torch::kFloat32);
    EXPECT_TRUE(b.contains(s));
  }
  EXPECT_EQ(Box(-2.0, 2.0, {1}).str(), "Box(-2, 2, (1,), float32)");
}

TEST(Space, VariantHelpers) {
  Space s = Box(0.0, 1.0, {2, 3});
  EXPECT_EQ(flat_dim(s), 6);
  EXPECT_EQ(flat_dim(Space(Discrete{4})), 4);
  std::mt19937_64 rng(0);
  EXPECT_TRUE(contains(s, sample(s, rng)));
}

TEST(MultiDiscrete, ContainsAndSamplesEachElementInItsRange) {
  const MultiDiscrete m{{3, 2}};
  const Space space = m;
  EXPECT_EQ(to_string(space), "MultiDiscrete([3 2])");
  EXPECT_EQ(flat_dim(space), 5);
  EXPECT_TRUE(contains(space, torch::tensor({2, 1}, torch::kLong)));
  EXPECT_FALSE(contains(space, torch::tensor({3, 0}, torch::kLong)));
  EXPECT_FALSE(contains(space, torch::tensor({0.0, 1.0})));
  EXPECT_FALSE(contains(space, torch::tensor({0, 1, 1}, torch::kLong)));
  std::mt19937_64 rng(0);
  for (int i = 0; i < 50; ++i) EXPECT_TRUE(contains(space, sample(space, rng)));
}

TEST(Info, HoldsNumbersStringsAndTensorsAndTheActionMask) {
  Info info{{"lives", 3.0}, {"stage", "boss"}, {"action_mask", torch::tensor({true, false, true})}};
  EXPECT_EQ(info.at("lives").number(), 3.0);
  EXPECT_EQ(info.at("stage").str(), "boss");
  EXPECT_THROW(info.at("stage").number(), Error);
  EXPECT_TRUE(torch::equal(action_mask(info), torch::tensor({true, false, true})));
  EXPECT_FALSE(action_mask({}).defined());
  info["action_mask"] = torch::ones({3});
  EXPECT_THROW(action_mask(info), Error);  // floats, not flags
}

}  // namespace
}  // namespace dojo::envs
