// prob: distributions against closed forms and sampling, analytic KL against Monte Carlo, loss
// formulas as printed, and a small VAE that learns.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <numbers>

#include "core/error.h"
#include "nn/layers.h"
#include "prob/model.h"

namespace dojo::prob {
namespace {

TEST(Normal, ClosedFormsOnAGrid) {
  for (double loc : {-2.0, 0.0, 1.5}) {
    for (double scale : {0.3, 1.0, 2.5}) {
      auto d = Normal(torch::tensor({loc}), torch::tensor({scale}), {.var = {"x"}});
      const double x = 0.7;
      const double expected = -std::pow(x - loc, 2) / (2 * scale * scale) - std::log(scale) -
                              0.5 * std::log(2 * std::numbers::pi);
      EXPECT_NEAR(d->log_prob({{"x", torch::tensor({{x}})}}).item<double>(), expected, 1e-5);
      EXPECT_NEAR(d->entropy().item<double>(),
                  0.5 * std::log(2 * std::numbers::pi * std::exp(1.0) * scale * scale), 1e-5);
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

// Moments of 100k samples within 3 standard errors, and analytic KL against Monte Carlo within 1%.
void check_moments(const DistPtr& d, double mean, double var) {
  const std::int64_t n = 100'000;
  auto x = d->sample({}, {.batch_n = n}).at("x").to(torch::kFloat64).reshape({n});
  EXPECT_NEAR(x.mean().item<double>(), mean, 3 * std::sqrt(var / n)) << d->type();
  const double fourth = ((x - mean).pow(4)).mean().item<double>();
  EXPECT_NEAR(x.var().item<double>(), var, 3 * std::sqrt((fourth - var * var) / n)) << d->type();
  EXPECT_NEAR(d->mean().item<double>(), mean, 1e-5) << d->type();
  EXPECT_NEAR(d->variance().item<double>(), var, 1e-5) << d->type();
}

void check_kl(const DistPtr& q, const DistPtr& p) {
  const std::int64_t n = 100'000;
  auto z = q->sample({}, {.batch_n = n});
  const double mc = (q->log_prob(z) - p->log_prob(z)).to(torch::kFloat64).mean().item<double>();
  const double analytic = KL(q, p).eval(z).to(torch::kFloat64).mean().item<double>();
  EXPECT_NEAR(analytic, mc, 0.01 * std::abs(analytic) + 1e-3) << q->type();
}

TEST(MoreDistributions, ClosedFormsMomentsAndKL) {
  torch::manual_seed(0);
  auto t = [](double v) { return torch::tensor({v}); };
  const double a = 2.5, b = 1.5;
  // Laplace: log p(0.3) with loc 1, scale 0.5.
  auto lap = Laplace(t(1.0), t(0.5), {.var = {"x"}});
  EXPECT_NEAR(lap->log_prob({{"x", torch::tensor({{0.3}})}}).item<double>(), -std::log(1.0) - 0.7 / 0.5,
              1e-5);
  EXPECT_NEAR(lap->entropy().item<double>(), 1 + std::log(1.0), 1e-5);
  check_moments(lap, 1.0, 0.5);
  auto gam = Gamma(t(a), t(b), {.var = {"x"}});
  EXPECT_NEAR(gam->log_prob({{"x", torch::tensor({{1.2}})}}).item<double>(),
              a * std::log(b) + (a - 1) * std::log(1.2) - b * 1.2 - std::lgamma(a), 1e-5);
  check_moments(gam, a / b, a / (b * b));
  auto bet = Beta(t(a), t(b), {.var = {"x"}});
  EXPECT_NEAR(bet->log_prob({{"x", torch::tensor({{0.4}})}}).item<double>(),
              (a - 1) * std::log(0.4) + (b - 1) * std::log(0.6) -
                  (std::lgamma(a) + std::lgamma(b) - std::lgamma(a + b)),
              1e-5);
  check_moments(bet, a / (a + b), a * b / ((a + b) * (a + b) * (a + b + 1)));
  auto uni = Uniform(t(-1.0), t(3.0), {.var = {"x"}});
  EXPECT_NEAR(uni->log_prob({{"x", torch::tensor({{0.0}})}}).item<double>(), -std::log(4.0), 1e-6);
  EXPECT_TRUE(std::isinf(uni->log_prob({{"x", torch::tensor({{5.0}})}}).item<double>()));
  check_moments(uni, 1.0, 16.0 / 12);
  auto cat = Categorical(torch::tensor({0.2, 0.5, 0.3}), {.var = {"x"}});
  EXPECT_NEAR(cat->log_prob({{"x", torch::tensor({1}, torch::kLong)}}).item<double>(), std::log(0.5), 1e-6);
  EXPECT_NEAR(cat->entropy().item<double>(),
              -(0.2 * std::log(0.2) + 0.5 * std::log(0.5) + 0.3 * std::log(0.3)), 1e-6);
  auto counts =
      torch::bincount(cat->sample({}, {.batch_n = 100'000}).at("x"), {}, 3).to(torch::kFloat64) / 1e5;
  EXPECT_NEAR(counts[1].item<double>(), 0.5, 3 * std::sqrt(0.25 / 1e5));
  EXPECT_THROW(cat->mean(), Error);

  check_kl(Laplace(t(0.5), t(0.7), {.var = {"x"}, .name = "q"}), Laplace(t(-0.2), t(1.3), {.var = {"x"}}));
  check_kl(Gamma(t(2.0), t(1.0), {.var = {"x"}, .name = "q"}), Gamma(t(3.0), t(2.0), {.var = {"x"}}));
  check_kl(Beta(t(2.0), t(3.0), {.var = {"x"}, .name = "q"}), Beta(t(1.5), t(1.5), {.var = {"x"}}));
  check_kl(Uniform(t(0.0), t(1.0), {.var = {"x"}, .name = "q"}), Uniform(t(-1.0), t(2.0), {.var = {"x"}}));
  check_kl(Categorical(torch::tensor({0.2, 0.5, 0.3}), {.var = {"x"}, .name = "q"}),
           Categorical(torch::tensor({0.4, 0.4, 0.2}), {.var = {"x"}}));

  EXPECT_THROW(Gamma(t(-1.0), t(1.0), {.var = {"x"}})->mean(), Error);
  EXPECT_THROW(Uniform(t(1.0), t(0.0), {.var = {"x"}})->mean(), Error);
  EXPECT_THROW(Categorical(torch::tensor({0.5, 0.6}), {.var = {"x"}})->entropy(), Error);
  EXPECT_THROW(KL(lap, gam, {.analytic = true}).eval({{"x", torch::ones({2, 1})}}), Error);  // no formula
}

TEST(MoreDistributions, DirichletOneHotDeterministic) {
  torch::manual_seed(0);
  auto alpha = torch::tensor({2.0, 3.0, 5.0});
  auto dir = Dirichlet(alpha, {.var = {"x"}});
  EXPECT_TRUE(torch::allclose(dir->mean(), alpha / 10, 1e-6, 1e-6));
  // log p at the mean, by hand: Σ(α−1)log x + lgamma(Σα) − Σ lgamma(α)
  const double lp = 1 * std::log(0.2) + 2 * std::log(0.3) + 4 * std::log(0.5) + std::lgamma(10.0) -
                    std::lgamma(2.0) - std::lgamma(3.0) - std::lgamma(5.0);
  EXPECT_NEAR(dir->log_prob({{"x", (alpha / 10).unsqueeze(0)}}).item<double>(), lp, 1e-4);
  auto x = dir->sample({}, {.batch_n = 100'000}).at("x").to(torch::kFloat64);
  auto var = dir->variance().to(torch::kFloat64);
  for (int k = 0; k < 3; ++k) {
    EXPECT_NEAR(x.select(1, k).mean().item<double>(), alpha[k].item<double>() / 10,
                3 * std::sqrt(var[k].item<double>() / 1e5));
  }
  // Entropy against −E[log p] by sampling.
  EXPECT_NEAR(dir->entropy().item<double>(),
              -dir->log_prob({{"x", x.to(torch::kFloat32)}}).mean().item<double>(), 0.02);
  check_kl(Dirichlet(alpha, {.var = {"x"}, .name = "q"}),
           Dirichlet(torch::tensor({1.0, 1.0, 1.0}), {.var = {"x"}}));

  auto oh = OneHotCategorical(torch::tensor({0.2, 0.8}), {.var = {"x"}});
  auto s = oh->sample({}, {.batch_n = 1000}).at("x");
  EXPECT_TRUE(s.sum(1).eq(1).all().item<bool>());
  EXPECT_NEAR(oh->log_prob({{"x", torch::tensor({{0.0, 1.0}})}}).item<double>(), std::log(0.8), 1e-6);
  check_kl(OneHotCategorical(torch::tensor({0.1, 0.9}), {.var = {"x"}, .name = "q"}),
           OneHotCategorical(torch::tensor({0.5, 0.5}), {.var = {"x"}}));

  auto det = Deterministic(torch::tensor({1.5}), {.var = {"x"}});
  EXPECT_EQ(det->log_prob({{"x", torch::tensor({{1.5}})}}).item<double>(), 0.0);
  EXPECT_TRUE(std::isinf(det->log_prob({{"x", torch::tensor({{1.0}})}}).item<double>()));
  EXPECT_EQ(det->variance().item<double>(), 0.0);
  EXPECT_THROW(Dirichlet(torch::tensor({1.0, -1.0}), {.var = {"x"}})->mean(), Error);
}

TEST(MoreDistributions, GammaAndBetaRsampleCarryGradients) {
  auto conc = torch::tensor({2.0}).requires_grad_(true);
  auto g = Gamma(conc, torch::tensor({1.0}), {.var = {"x"}});
  auto x = g->sample({}, {.batch_n = 4096, .reparam = true}).at("x");
  x.mean().backward();
  EXPECT_NEAR(conc.grad().item<double>(), 1.0, 0.1);  // d E[x]/dα = 1/β
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

TEST(Loss, CvaeFormulaPrints) {
  auto x = nn::Input({4}), y = nn::Input({2}), z = nn::Input({2});
  auto hq = nn::Concatenate()({x, y});
  nn::Model enc({x, y}, std::vector<nn::SymbolicTensor>{nn::Dense(2)(hq),
                                                        nn::Dense(2, {.activation = "softplus"})(hq)});
  nn::Model dec({z, y}, nn::Dense(4)(nn::Concatenate()({z, y})));
  auto q = Normal(enc, {.var = {"z"}, .cond_var = {"x", "y"}, .name = "q"});
  auto p = Bernoulli(dec, {.var = {"x"}, .cond_var = {"z", "y"}});
  auto loss = (KL(q, standard_normal({"z"}, {2})) - E(q, LogProb(p))).mean();
  EXPECT_EQ(loss.str(), "mean(D_KL[q(z|x,y)||p(z)] - E_q(z|x,y)[log p(x|z,y)])");
  auto v = loss.eval(
      {{"x", torch::rand({3, 4}).round()}, {"y", torch::eye(2).index_select(0, torch::tensor({0, 1, 1}))}});
  EXPECT_EQ(v.dim(), 0);
  EXPECT_THROW(loss.eval({{"x", torch::rand({3, 4})}}), Error);  // y is missing
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

TEST(Model, ToKeepsTheOptimizerStateAndTakesBatchesAnywhere) {
  // Twins trained alike, one moved (to the CPU: the round trip must keep Adam's moments).
  auto make = [] {
    torch::manual_seed(1);
    auto v = small_vae();
    return Model((KL(v.q, v.prior) - E(v.q, LogProb(v.p))).mean(), {v.q, v.p}, nn::optimizers::Adam(1e-2));
  };
  auto a = make(), b = make();
  const auto x = (torch::arange(64 * 16).reshape({64, 16}) % 3 == 0).to(torch::kFloat32);
  auto step = [&](Model& m) {
    torch::manual_seed(2);  // the reparameterised noise
    return m.train({{"x", x}});
  };
  step(a);
  step(b);
  b.to("cpu");
  EXPECT_EQ(b.device(), c10::Device(c10::kCPU));
  step(a);
  step(b);
  EXPECT_EQ(step(a), step(b));  // train returns the loss before its step: the moved step shows here
  EXPECT_THROW(b.to("gpu"), Error);
}

}  // namespace
}  // namespace dojo::prob
