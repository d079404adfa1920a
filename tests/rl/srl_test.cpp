// State-representation learning's priors and measures, on batches small enough to work out by hand.
#include "rl/srl.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "core/error.h"

namespace dojo::rl {
namespace {

// Three transitions (float32, so values hold to 1e-6): Δs = (1, 0), (0, 0), (0, 2); transitions 0 and 2 share
// action 0 and differ in reward.
prob::Dict batch() {
  return {{"s", torch::tensor({0.0, 0.0, 1.0, 0.0, 0.0, 1.0}).reshape({3, 2})},
          {"s_next", torch::tensor({1.0, 0.0, 1.0, 0.0, 0.0, 3.0}).reshape({3, 2})},
          {"a", torch::tensor({0, 1, 0}, torch::kInt64)},
          {"r", torch::tensor({0.0, 5.0, 1.0})}};
}

TEST(Srl, RoboticPriorsHaveTheirValuesOnAHandWorkedBatch) {
  EXPECT_NEAR(TemporalCoherence().eval(batch()).item<double>(), 5.0 / 3.0, 1e-6);
  EXPECT_NEAR(Proportionality().eval(batch()).item<double>(), 1.0, 1e-6);  // (2 − 1)²
  EXPECT_NEAR(Causality().eval(batch()).item<double>(), std::exp(-1.0), 1e-6);
  EXPECT_NEAR(Repeatability().eval(batch()).item<double>(), 5.0 * std::exp(-1.0), 1e-6);
  // The same rewards: no pair for causality, which is then 0.
  auto same = batch();
  same["r"] = torch::tensor({1.0, 5.0, 1.0});
  EXPECT_EQ(Causality().eval(same).item<double>(), 0.0);
  // Box actions pair within the tolerance.
  auto box = batch();
  box["a"] = torch::tensor({0.5, 0.5, 0.7}).reshape({3, 1});
  EXPECT_NEAR(Proportionality().eval(box).item<double>(), 1.0, 1e-6);  // (0 − 1)²: transitions 0, 1
  EXPECT_NEAR(Proportionality({.action_tolerance = 0.3}).eval(box).item<double>(), (1.0 + 1.0 + 4.0) / 3.0,
              1e-12);
}

TEST(Srl, PriorsPrintAsFormulasAndTrainThroughTheirStates) {
  EXPECT_EQ(TemporalCoherence().str(), "mean_t[||s_next - s||^2]");
  EXPECT_EQ(Proportionality().str(), "mean_(a_i=a_j)[(||s_next_j - s_j|| - ||s_next_i - s_i||)^2]");
  EXPECT_EQ(Causality().str(), "mean_(a_i=a_j, r_i!=r_j)[exp(-||s_j - s_i||^2)]");
  EXPECT_EQ(Repeatability().str(),
            "mean_(a_i=a_j)[exp(-||s_j - s_i||^2) * ||(s_next_j - s_j) - (s_next_i - s_i)||^2]");
  const auto all = TemporalCoherence() + Proportionality() + Causality() + Repeatability();
  EXPECT_EQ(all.str().find("mean_t[||s_next - s||^2] + mean_(a_i=a_j)"), 0u);
  // d/ds_next of mean ||s_next − s||² is 2Δs / B.
  auto b = batch();
  b["s_next"].requires_grad_(true);
  TemporalCoherence().eval(b).backward();
  EXPECT_TRUE(torch::allclose(b["s_next"].grad(), 2.0 * (b["s_next"] - b["s"]).detach() / 3.0));
  // A batch without the variables is named.
  try {
    Causality().eval({{"s", torch::zeros({2, 2})}, {"s_next", torch::zeros({2, 2})}});
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "Causality: the batch has no 'a'");
  }
}

TEST(Srl, GroundTruthCorrelationFindsEachTrueDimensionUpToScale) {
  torch::manual_seed(0);
  const auto truth = torch::randn({500, 2});
  const auto learned = torch::stack(
      {2.0 * truth.select(1, 1) + 3.0, -truth.select(1, 0), torch::randn({500}), torch::ones({500})}, 1);
  const auto g = ground_truth_correlation(learned, truth);
  ASSERT_EQ(g.per_dimension.size(), 2u);
  EXPECT_NEAR(g.per_dimension[0], 1.0, 1e-9);
  EXPECT_NEAR(g.per_dimension[1], 1.0, 1e-9);
  EXPECT_NEAR(g.mean, 1.0, 1e-9);
  EXPECT_LT(ground_truth_correlation(torch::randn({500, 3}), truth).mean, 0.2);
  EXPECT_THROW(ground_truth_correlation(torch::zeros({5, 2}), torch::zeros({4, 2})), Error);
}

TEST(Srl, KnnMseIsTheTrueDistanceToLearnedNeighbours) {
  // Ten points on a line, learned exactly: the nearest other is 1 away (MSE 1); with k = 2 the two
  // ends see 1 and 2 (mean 2.5), the rest ±1.
  const auto line = torch::arange(10, torch::kFloat64).unsqueeze(1);
  EXPECT_NEAR(knn_mse(line, line, 1), 1.0, 1e-6);
  EXPECT_NEAR(knn_mse(line, line, 2), (8 * 1.0 + 2 * 2.5) / 10, 1e-6);
  // A representation that scrambles the order finds worse neighbours.
  const auto scrambled = torch::tensor({3.0, 8.0, 1.0, 9.0, 0.0, 6.0, 2.0, 7.0, 4.0, 5.0}).unsqueeze(1);
  EXPECT_GT(knn_mse(scrambled, line, 2), 5.0);
  // A sample of the references, the same for the same seed.
  EXPECT_EQ(knn_mse(scrambled, line, 2, 4, 7), knn_mse(scrambled, line, 2, 4, 7));
  EXPECT_THROW(knn_mse(line, line, 10), Error);
}

}  // namespace
}  // namespace dojo::rl
