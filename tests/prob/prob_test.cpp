// prob: distributions against closed forms and sampling, analytic KL against Monte Carlo, loss
// formulas as printed, and a small VAE that learns.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "core/error.h"
#include "nn/layers.h"
#include "prob/model.h"

namespace dojo::prob {
namespace {

constexpr double kPi = 3.14159265358979323846;

TEST(Normal, ClosedFormsOnAGrid) {
  for (double loc : {-2.0, 0.0, 1.5}) {
    for (double scale : {0.3, 1.0, 2.5}) {
      auto d = Normal(torch::tensor({loc}), torch::tensor({scale}), {.var = {"x"}});
      const double x = 0.7;
      const double expected =
          -std::pow(x - loc, 2) / (2 * scale * scale) - std::log(scale) - 0.5 * std::log(2 * kPi);
      EXPECT_NEAR(d->log_prob({{"x", torch::tensor({{x}})}}).item<double>(), expected, 1e-5);
      EXPECT_NEAR(d->entropy().item<double>(), 0.5 * std::log(2 * kPi * std::exp(1.0) * scale * scale), 1e-5);
      EXPECT_NEAR(d->mean().item<double>(), loc, 1e-6);
      EXPECT_NEAR(d->variance().item<double>(), scale * scale, 1e-5);
    }
  }
}

TEST(Normal, SampleMomentsWithinThreeStandardErrors) {
  torch::manual_seed(0);
  const double loc = 1.2, scale = 0.7;
  const std::int64_t n = 100'000;
  auto d = Normal(torch::tensor({loc}), torch::tensor({scale}), {.var = {"x"}});
  auto x = d->sample({}, {.batch_n = n}).at("x").to(torch::kFloat64);
  EXPECT_NEAR(x.mean().item<double>(), loc, 3 * scale / std::sqrt(n));
  // Var of the sample variance of a normal: 2σ⁴/(n−1).
  EXPECT_NEAR(x.var().item<double>(), scale * scale, 3 * std::sqrt(2.0 / (n - 1)) * scale * scale);
}

TEST(Normal, RsampleGradientsMatchFiniteDifferences) {
  // d/dloc and d/dscale of E[f(x)] with the same noise: f(x) = x² gives 2x and 2x·ε.
  torch::manual_seed(1);
  auto loc = torch::tensor({0.5}, torch::kFloat64).requires_grad_(true);
  auto scale = torch::tensor({1.3}, torch::kFloat64).requires_grad_(true);
  auto d = Normal(loc, scale, {.var = {"x"}});
  torch::manual_seed(2);
  auto x = d->sample({}, {.batch_n = 1, .reparam = true}).at("x");
  x.square().sum().backward();
  auto f = [&](double l, double s) {
    torch::manual_seed(2);
    auto dd =
        Normal(torch::tensor({l}, torch::kFloat64), torch::tensor({s}, torch::kFloat64), {.var = {"x"}});
    return dd->sample({}, {.batch_n = 1, .reparam = true}).at("x").square().sum().item<double>();
  };
  const double eps = 1e-6;
  EXPECT_NEAR(loc.grad().item<double>(), (f(0.5 + eps, 1.3) - f(0.5 - eps, 1.3)) / (2 * eps), 1e-5);
  EXPECT_NEAR(scale.grad().item<double>(), (f(0.5, 1.3 + eps) - f(0.5, 1.3 - eps)) / (2 * eps), 1e-5);
}

TEST(Bernoulli, ClosedFormsAndBadProbs) {
  for (double pr : {0.1, 0.5, 0.85}) {
    auto d = Bernoulli(torch::tensor({pr}), {.var = {"x"}}, /*probs=*/true);
    EXPECT_NEAR(d->log_prob({{"x", torch::tensor({{1.0}})}}).item<double>(), std::log(pr), 1e-5);
    EXPECT_NEAR(d->log_prob({{"x", torch::tensor({{0.0}})}}).item<double>(), std::log(1 - pr), 1e-5);
    EXPECT_NEAR(d->entropy().item<double>(), -pr * std::log(pr) - (1 - pr) * std::log(1 - pr), 1e-5);
    EXPECT_NEAR(d->mean().item<double>(), pr, 1e-6);
    EXPECT_NEAR(d->variance().item<double>(), pr * (1 - pr), 1e-6);
  }
  try {
    Bernoulli(torch::tensor({1.5}), {.var = {"x"}}, true)->mean();
    FAIL() << "expected dojo::Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("Bernoulli"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("probs"), std::string::npos);
  }
  try {
    Normal(torch::tensor({0.0}), torch::tensor({-1.0}), {.var = {"x"}})->mean();
    FAIL() << "expected dojo::Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("scale"), std::string::npos);
  }
}

TEST(KL, AnalyticAgreesWithMonteCarlo) {
  torch::manual_seed(0);
  const std::int64_t n = 100'000;
  auto q = Normal(torch::tensor({0.3, -1.0}), torch::tensor({0.8, 1.5}), {.var = {"z"}, .name = "q"});
  auto p = Normal(torch::tensor({0.0, 0.5}), torch::tensor({1.0, 2.0}), {.var = {"z"}});
  auto z = q->sample({}, {.batch_n = n});
  const double mc = (q->log_prob(z) - p->log_prob(z)).mean().item<double>();
  const double analytic = KL(q, p).eval(z).mean().item<double>();
  EXPECT_NEAR(analytic, mc, 0.01 * std::abs(analytic));

  auto a = Bernoulli(torch::tensor({0.2, 0.7}), {.var = {"x"}, .name = "q"}, true);
  auto b = Bernoulli(torch::tensor({0.5, 0.4}), {.var = {"x"}}, true);
  auto x = a->sample({}, {.batch_n = n});
  const double mc2 = (a->log_prob(x) - b->log_prob(x)).mean().item<double>();
  const double analytic2 = KL(a, b).eval(x).mean().item<double>();
  EXPECT_NEAR(analytic2, mc2, 0.01 * std::abs(analytic2) + 3e-3);

  EXPECT_THROW(KL(q, b).eval(z), Error);  // different variables
}

struct Vae {
  DistPtr q, p, prior;
};

Vae small_vae() {
  auto x_in = nn::Input({16});
  auto h = nn::Dense(32, {.activation = "relu"})(x_in);
  nn::Model enc(
      x_in, std::vector<nn::SymbolicTensor>{nn::Dense(2)(h), nn::Dense(2, {.activation = "softplus"})(h)});
  auto z_in = nn::Input({2});
  nn::Model dec(z_in, nn::Dense(16)(nn::Dense(32, {.activation = "relu"})(z_in)));
  return {Normal(enc, {.var = {"z"}, .cond_var = {"x"}, .name = "q"}),
          Bernoulli(dec, {.var = {"x"}, .cond_var = {"z"}}), standard_normal({"z"}, {2})};
}

TEST(Loss, VaeFormulaPrints) {
  auto v = small_vae();
  auto loss = (KL(v.q, v.prior) - E(v.q, LogProb(v.p))).mean();
  EXPECT_EQ(loss.str(), "mean(D_KL[q(z|x)||p(z)] - E_q(z|x)[log p(x|z)])");
  EXPECT_EQ((-LogProb(v.p) * 2.0 + Entropy(v.q)).sum().str(), "sum(-log p(x|z) * 2 + H[q(z|x)])");
  EXPECT_EQ((LogProb(v.p) - (Entropy(v.q) - 1.0)).str(), "log p(x|z) - (H[q(z|x)] - 1)");
}

TEST(Model, SmallVaeLearnsBinaryPatterns) {
  torch::manual_seed(0);
  auto v = small_vae();
  auto loss = (KL(v.q, v.prior) - E(v.q, LogProb(v.p))).mean();
  Model model(loss, {v.q, v.p}, nn::optimizers::Adam(1e-2));
  // Two prototypes with 5% of bits flipped.
  auto protos =
      torch::stack({torch::arange(16) % 2, (torch::arange(16) < 8).to(torch::kLong)}).to(torch::kFloat32);
  auto data = [&](std::int64_t n) {
    auto pick = protos.index_select(0, torch::randint(0, 2, {n}, torch::kLong));
    return torch::where(torch::rand({n, 16}) < 0.05, 1 - pick, pick);
  };
  auto test = data(256);
  const double before = model.test({{"x", test}});
  for (int step = 0; step < 300; ++step) model.train({{"x", data(64)}});
  const double after = model.test({{"x", test}});
  EXPECT_LT(after, 0.5 * before);
  EXPECT_LT(after, 16 * std::log(2.0) * 0.6);  // well below coin-flipping every bit
}

}  // namespace
}  // namespace dojo::prob
