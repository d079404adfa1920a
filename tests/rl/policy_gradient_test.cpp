// The policy-gradient pieces against hand-computed values: GAE (with termination, truncation and
// autoreset entries), the categorical and Gaussian policies, PPO's clipped objective.
#include <ATen/CPUGeneratorImpl.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "core/error.h"
#include "rl/advantage.h"
#include "rl/policy.h"

namespace dojo::rl {
namespace {

torch::Tensor col(std::vector<float> v) { return torch::tensor(v).unsqueeze(1); }  // [T, 1]
torch::Tensor bcol(std::vector<int> v) {
  std::vector<float> f(v.begin(), v.end());
  return torch::tensor(f).unsqueeze(1).to(torch::kBool);
}

TEST(Gae, MatchesHandComputedValuesWithLambda) {
  // Three steps, no episode end, γ = 0.5, λ = 0.5, bootstrapping from last value 4.
  Rollout r{col({1, 2, 3}), col({1, 1, 2}), bcol({0, 0, 0}), bcol({0, 0, 0}), bcol({1, 1, 1})};
  const auto g = compute_gae(r, torch::tensor({4.0f}), 0.5, 0.5);
  // δ2 = 3 + 0.5·4 − 2 = 3; δ1 = 2 + 0.5·2 − 1 = 2; δ0 = 1 + 0.5·1 − 1 = 0.5.
  // A2 = 3; A1 = 2 + 0.25·3 = 2.75; A0 = 0.5 + 0.25·2.75 = 1.1875.
  EXPECT_TRUE(torch::allclose(g.advantages, col({1.1875f, 2.75f, 3.0f}))) << g.advantages;
  EXPECT_TRUE(torch::allclose(g.returns, col({2.1875f, 3.75f, 5.0f})));
}

TEST(Gae, LambdaOneIsDiscountedReturnMinusValue) {
  Rollout r{col({1, 1, 1}), col({0.5f, 0.25f, 0.0f}), bcol({0, 0, 1}), bcol({0, 0, 0}), bcol({1, 1, 1})};
  const auto g = compute_gae(r, torch::tensor({100.0f}), 0.9, 1.0);
  const auto ret = discounted_returns({1, 1, 1}, 0.9);  // terminated at the end: no bootstrap
  EXPECT_NEAR(g.returns[0][0].item<double>(), ret[0], 1e-6);
  EXPECT_NEAR(g.advantages[1][0].item<double>(), ret[1] - 0.25, 1e-6);
}

TEST(Gae, TerminationStopsBootstrapTruncationBootstrapsFromTheFinalObservation) {
  // Entry 1 ends an episode; entry 2 is the autoreset step, whose value (5) is V(final obs); entry 3
  // starts the next episode. γ = 0.5, λ = 1, last value 8.
  for (const bool truncated : {false, true}) {
    Rollout r{col({1, 2, 7, 3}), col({1, 1, 5, 2}), bcol({0, !truncated, 0, 0}), bcol({0, truncated, 0, 0}),
              bcol({1, 1, 0, 1})};
    const auto g = compute_gae(r, torch::tensor({8.0f}), 0.5, 1.0);
    // Entry 3: 3 + 0.5·8 − 2 = 5. Entry 2: not a transition, 0.
    EXPECT_FLOAT_EQ(g.advantages[3][0].item<float>(), 5.0f);
    EXPECT_FLOAT_EQ(g.advantages[2][0].item<float>(), 0.0f);
    EXPECT_FLOAT_EQ(g.returns[2][0].item<float>(), 0.0f);
    // Entry 1: terminated 2 − 1 = 1; truncated 2 + 0.5·5 − 1 = 3.5. The sum does not cross into the
    // next episode.
    EXPECT_FLOAT_EQ(g.advantages[1][0].item<float>(), truncated ? 3.5f : 1.0f) << truncated;
    // Entry 0: δ0 = 1 + 0.5·1 − 1 = 0.5, plus 0.5·A1.
    EXPECT_FLOAT_EQ(g.advantages[0][0].item<float>(), 0.5f + 0.5f * (truncated ? 3.5f : 1.0f));
  }
}

TEST(Gae, EnvsAreIndependentAndShapesChecked) {
  // Two envs side by side: [T, 2]; env 1 terminates at step 0.
  Rollout r{torch::tensor({{1.0f, 1.0f}, {1.0f, 1.0f}}), torch::zeros({2, 2}),
            torch::tensor({{false, true}, {false, false}}), torch::zeros({2, 2}, torch::kBool),
            torch::tensor({{true, true}, {true, false}})};
  const auto g = compute_gae(r, torch::zeros({2}), 1.0, 1.0);
  EXPECT_FLOAT_EQ(g.advantages[0][0].item<float>(), 2.0f);
  EXPECT_FLOAT_EQ(g.advantages[0][1].item<float>(), 1.0f);
  r.values = torch::zeros({3, 2});
  EXPECT_THROW(compute_gae(r, torch::zeros({2}), 1.0, 1.0), Error);
}

TEST(Policies, CategoricalLogProbAndEntropy) {
  const auto logits = torch::tensor({{0.0f, std::log(3.0f)}});  // probabilities 1/4, 3/4
  EXPECT_NEAR(categorical_log_prob(logits, torch::tensor({1}))[0].item<double>(), std::log(0.75), 1e-6);
  EXPECT_NEAR(categorical_entropy(logits)[0].item<double>(), -(0.25 * std::log(0.25) + 0.75 * std::log(0.75)),
              1e-6);
  EXPECT_NEAR(categorical_entropy(torch::zeros({1, 4}))[0].item<double>(), std::log(4.0), 1e-6);
}

TEST(Policies, DiagonalGaussianLogProbAndEntropy) {
  const auto mean = torch::tensor({{0.0f, 1.0f}}), log_std = torch::tensor({0.0f, std::log(2.0f)});
  const auto a = torch::tensor({{1.0f, 2.0f}});
  // N(1; 0, 1) · N(2; 1, 2): −½ − ½log 2π + (−⅛ − log 2 − ½log 2π).
  const double expected = -0.5 - 0.125 - std::log(2.0) - std::log(2.0 * M_PI);
  EXPECT_NEAR(gaussian_log_prob(mean, log_std, a)[0].item<double>(), expected, 1e-5);
  const auto h = gaussian_entropy(log_std, 3);
  EXPECT_EQ(h.sizes(), torch::IntArrayRef({3}));
  EXPECT_NEAR(h[2].item<double>(), std::log(2.0 * M_PI * M_E) + std::log(2.0), 1e-5);
}

TEST(Ppo, ClippedObjectiveByHand) {
  // ρ = 1.5, 0.5, 1.1 with advantages +1, +1, −2 and ε = 0.2:
  //   min(1.5, 1.2) = 1.2; min(0.5, 0.8) = 0.5; min(−2.2, −2.2) = −2.2 → loss = −(1.2 + 0.5 − 2.2)/3.
  const auto old_lp = torch::zeros({3});
  const auto lp = torch::log(torch::tensor({1.5f, 0.5f, 1.1f}));
  const auto out = ppo_clip_loss(lp, old_lp, torch::tensor({1.0f, 1.0f, -2.0f}), 0.2);
  EXPECT_NEAR(out.loss.item<double>(), -(1.2 + 0.5 - 2.2) / 3.0, 1e-6);
  EXPECT_NEAR(out.clip_fraction, 2.0 / 3.0, 1e-9);
  const double kl = ((0.5 - std::log(1.5)) + (-0.5 - std::log(0.5)) + (0.1 - std::log(1.1))) / 3.0;
  EXPECT_NEAR(out.approx_kl, kl, 1e-6);
  // The clipped side carries no gradient: only ρ = 0.5 (unclipped, A > 0) and ρ = 1.1 pull.
  auto lp_var = lp.clone().requires_grad_(true);
  ppo_clip_loss(lp_var, old_lp, torch::tensor({1.0f, 1.0f, -2.0f}), 0.2).loss.backward();
  EXPECT_FLOAT_EQ(lp_var.grad()[0].item<float>(), 0.0f);
  EXPECT_NEAR(lp_var.grad()[1].item<double>(), -0.5 / 3.0, 1e-6);
  EXPECT_NEAR(lp_var.grad()[2].item<double>(), 2.2 / 3.0, 1e-6);
}

TEST(TanhGaussian, LogProbIsTheChangeOfVariablesAndTheDrawIsReparameterised) {
  const auto mean = torch::tensor({{0.3, -1.0}, {2.0, 0.0}}, torch::kDouble).requires_grad_();
  const auto log_std = torch::tensor({-0.5, 0.2}, torch::kDouble);
  const auto u = torch::tensor({{0.1, -0.7}, {3.0, 0.4}}, torch::kDouble);
  // log N(u; mean, σ) − Σ log(1 − tanh²u), written out.
  const auto sigma = log_std.exp();
  const auto normal = (-0.5 * ((u - mean) / sigma).pow(2) - log_std - 0.5 * std::log(2 * M_PI)).sum(-1);
  const auto naive = normal - torch::log(1 - torch::tanh(u).pow(2)).sum(-1);
  EXPECT_TRUE(torch::allclose(tanh_gaussian_log_prob(mean, log_std, u), naive, 1e-9, 1e-9));

  auto g1 = at::make_generator<at::CPUGeneratorImpl>(7), g2 = at::make_generator<at::CPUGeneratorImpl>(7);
  const auto a = tanh_gaussian_sample(mean, log_std, g1), b = tanh_gaussian_sample(mean, log_std, g2);
  EXPECT_TRUE(torch::equal(a.action, b.action));  // the agent's generator alone decides the draw
  EXPECT_TRUE((a.action.abs() < 1).all().item<bool>());
  EXPECT_EQ(a.log_prob.sizes(), torch::IntArrayRef({2}));
  a.action.sum().backward();
  EXPECT_TRUE(mean.grad().defined());
  EXPECT_GT(mean.grad().abs().sum().item<double>(), 0.0);
  // Far into saturation the stable form stays finite where the naive one is −inf.
  const auto far = torch::full({1, 1}, 30.0, torch::kDouble);
  EXPECT_TRUE(std::isfinite(
      tanh_gaussian_log_prob(torch::zeros({1, 1}, torch::kDouble), torch::zeros({1}, torch::kDouble), far)
          .item<double>()));
}

}  // namespace
}  // namespace dojo::rl
