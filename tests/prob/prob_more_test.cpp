// prob, second part: the relaxed, multivariate, mixture and squashed distributions; rsample
// gradients against finite differences for every reparameterisable family; joints, renaming and
// marginals; sampled KL; the losses Prob, CrossEntropy, ELBO, MMD, the adversarial ones and
// IterativeLoss; the ready-made models and the M2 formula.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <functional>
#include <iostream>
#include <numbers>

#include "core/error.h"
#include "nn/layers.h"
#include "prob/models.h"

namespace dojo::prob {
namespace {

using Tensors = std::vector<torch::Tensor>;

torch::Tensor f64(std::initializer_list<double> v) {
  return torch::tensor(std::vector<double>(v), torch::kFloat64);
}

// The error names the distribution and the argument.
void expect_error(const std::function<void()>& f, const std::string& dist, const std::string& arg) {
  try {
    f();
    FAIL() << "expected dojo::Error about " << dist << " " << arg;
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(dist), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(arg), std::string::npos) << e.what();
  }
}

// ∫ f over (a, b) by the midpoint rule on n slices.
double integrate(const std::function<torch::Tensor(const torch::Tensor&)>& f, double a, double b,
                 std::int64_t n = 200'000) {
  auto x = a + (torch::arange(n, torch::kFloat64) + 0.5) * ((b - a) / static_cast<double>(n));
  return f(x).sum().item<double>() * (b - a) / static_cast<double>(n);
}

// Gradients of Σx² for x = rsample(params) against central differences with the same noise.
void check_rsample_fd(const std::string& what, const std::function<DistPtr(const Tensors&)>& make,
                      Tensors params) {
  auto f = [&](const Tensors& ps) {
    torch::manual_seed(7);
    auto x = make(ps)->sample({}, {.batch_n = 3, .reparam = true}).at("x");
    return x.square().sum();
  };
  for (auto& p : params) p = p.to(torch::kFloat64).requires_grad_(true);
  f(params).backward();
  const double h = 1e-6;
  for (std::size_t i = 0; i < params.size(); ++i) {
    auto flat = params[i].detach().reshape({-1});
    for (std::int64_t k = 0; k < flat.numel(); ++k) {
      auto shifted = [&](double d) {
        Tensors ps;
        for (auto& p : params) ps.push_back(p.detach().clone());
        ps[i].view({-1})[k] += d;
        return f(ps).item<double>();
      };
      const double fd = (shifted(h) - shifted(-h)) / (2 * h);
      const double ad = params[i].grad().reshape({-1})[k].item<double>();
      EXPECT_NEAR(ad, fd, 1e-4 * std::max(1.0, std::abs(fd)))
          << what << " parameter " << i << "[" << k << "]";
    }
  }
}

TEST(Rsample, GradientsMatchFiniteDifferences) {
  check_rsample_fd("Normal", [](const Tensors& p) { return Normal(p[0], p[1], {.var = {"x"}}); },
                   {f64({0.5, -1.0}), f64({1.3, 0.4})});
  check_rsample_fd("Laplace", [](const Tensors& p) { return Laplace(p[0], p[1], {.var = {"x"}}); },
                   {f64({0.5}), f64({0.8})});
  check_rsample_fd("Uniform", [](const Tensors& p) { return Uniform(p[0], p[1], {.var = {"x"}}); },
                   {f64({-1.0}), f64({2.0})});
  check_rsample_fd("RelaxedBernoulli",
                   [](const Tensors& p) { return RelaxedBernoulli(p[0], 0.7, {.var = {"x"}}); },
                   {f64({0.3, 0.8})});
  check_rsample_fd("RelaxedOneHotCategorical",
                   [](const Tensors& p) { return RelaxedOneHotCategorical(p[0], 0.5, {.var = {"x"}}); },
                   {f64({0.2, 0.5, 0.3})});
  check_rsample_fd("MultivariateNormalDiag",
                   [](const Tensors& p) { return MultivariateNormalDiag(p[0], p[1], {.var = {"x"}}); },
                   {f64({0.1, 0.2}), f64({1.0, 0.5})});
  check_rsample_fd("MultivariateNormal",
                   [](const Tensors& p) { return MultivariateNormal(p[0], p[1], {.var = {"x"}}); },
                   {f64({0.1, 0.2}), torch::tensor({{1.0, 0.0}, {0.4, 0.7}}, torch::kFloat64)});
  check_rsample_fd("TanhNormal", [](const Tensors& p) { return TanhNormal(p[0], p[1], {.var = {"x"}}); },
                   {f64({0.3}), f64({0.6})});
  check_rsample_fd("Deterministic", [](const Tensors& p) { return Deterministic(p[0], {.var = {"x"}}); },
                   {f64({0.3, -2.0})});
}

TEST(Rsample, GammaFamilyGradientsMatchTheClosedFormMean) {
  // LibTorch's gamma sampler differentiates implicitly (not along a fixed-noise path), so the check
  // is in expectation: d E[x]/dθ from 100k draws against finite differences of the closed form.
  torch::manual_seed(0);
  const std::int64_t n = 100'000;
  auto a = f64({2.0}).requires_grad_(true), b = f64({3.0}).requires_grad_(true);
  Beta(a, b, {.var = {"x"}})->sample({}, {.batch_n = n, .reparam = true}).at("x").mean().backward();
  const double h = 1e-6;
  auto mean = [](double x, double y) { return x / (x + y); };
  EXPECT_NEAR(a.grad().item<double>(), (mean(2 + h, 3) - mean(2 - h, 3)) / (2 * h), 0.01);
  EXPECT_NEAR(b.grad().item<double>(), (mean(2, 3 + h) - mean(2, 3 - h)) / (2 * h), 0.01);
  auto alpha = f64({1.0, 2.0, 3.0}).requires_grad_(true);
  Dirichlet(alpha, {.var = {"x"}})
      ->sample({}, {.batch_n = n, .reparam = true})
      .at("x")
      .select(1, 0)
      .mean()
      .backward();
  // E[x0] = α0/Σα: ∂/∂α0 = (Σα − α0)/(Σα)², ∂/∂α1 = −α0/(Σα)².
  EXPECT_NEAR(alpha.grad()[0].item<double>(), 5.0 / 36, 0.01);
  EXPECT_NEAR(alpha.grad()[1].item<double>(), -1.0 / 36, 0.01);
}

TEST(RelaxedBernoulli, DensityMomentsAndErrors) {
  for (double pr : {0.2, 0.6}) {
    for (double t : {0.5, 1.0, 2.0}) {
      auto d = RelaxedBernoulli(f64({pr}), t, {.var = {"x"}});
      // Integrated over logit(y) (y = σ(s), dy = y(1 − y)ds): the density is singular at 0 and 1 when T < 1.
      auto log_density = [&](const torch::Tensor& y) { return d->log_prob({{"x", y.view({-1, 1})}}); };
      auto over_logit =
          [&](const std::function<torch::Tensor(const torch::Tensor&, const torch::Tensor&)>& g) {
            return integrate(
                [&](const torch::Tensor& s) {
                  auto y = torch::sigmoid(s);
                  auto lp = log_density(y);
                  return g(y, lp) * lp.exp() * y * (1 - y);
                },
                -60, 60, 400'000);
          };
      EXPECT_NEAR(
          over_logit([](const torch::Tensor& y, const torch::Tensor&) { return torch::ones_like(y); }), 1.0,
          2e-3)
          << pr << " " << t;
      const double mean = over_logit([](const torch::Tensor& y, const torch::Tensor&) { return y; });
      const double second = over_logit([](const torch::Tensor& y, const torch::Tensor&) { return y * y; });
      const double entropy = over_logit([](const torch::Tensor&, const torch::Tensor& lp) { return -lp; });
      EXPECT_NEAR(d->mean().item<double>(), mean, 2e-3);
      EXPECT_NEAR(d->variance().item<double>(), second - mean * mean, 2e-3);
      EXPECT_NEAR(d->entropy().item<double>(), entropy, 5e-3);
    }
  }
  // At T = 1 with p = ½ the relaxed variable is uniform on (0, 1).
  auto u = RelaxedBernoulli(f64({0.5}), 1.0, {.var = {"x"}});
  EXPECT_NEAR(u->log_prob({{"x", f64({0.3}).view({1, 1})}}).item<double>(), 0.0, 1e-6);
  torch::manual_seed(0);
  auto x = u->sample({}, {.batch_n = 100'000}).at("x");
  EXPECT_NEAR(x.mean().item<double>(), 0.5, 3 * std::sqrt(1.0 / 12 / 1e5));
  expect_error([] { RelaxedBernoulli(f64({1.5}), 1.0, {.var = {"x"}})->mean(); }, "RelaxedBernoulli",
               "probs");
  expect_error([] { RelaxedBernoulli(f64({0.5}), 0.0, {.var = {"x"}}); }, "RelaxedBernoulli", "temperature");
}

TEST(RelaxedOneHotCategorical, AgreesWithTheBinaryCaseAndSamplesItsMoments) {
  // With two classes the first coordinate is a RelaxedBernoulli of the first probability.
  auto cat = RelaxedOneHotCategorical(f64({0.3, 0.7}), 0.8, {.var = {"x"}});
  auto bin = RelaxedBernoulli(f64({0.3}), 0.8, {.var = {"x"}});
  for (double y : {0.1, 0.45, 0.9}) {
    EXPECT_NEAR(cat->log_prob({{"x", f64({y, 1 - y}).view({1, 2})}}).item<double>(),
                bin->log_prob({{"x", f64({y}).view({1, 1})}}).item<double>(), 1e-6);
  }
  torch::manual_seed(1);
  auto d = RelaxedOneHotCategorical(f64({0.2, 0.5, 0.3}), 0.5, {.var = {"x"}});
  const std::int64_t n = 100'000;
  auto x = d->sample({}, {.batch_n = n}).at("x");
  EXPECT_TRUE(torch::allclose(x.sum(1), torch::ones({n}, torch::kFloat64), 1e-6, 1e-6));
  auto mean = d->mean(), var = d->variance();
  for (int k = 0; k < 3; ++k) {
    // The closed-form-free mean is itself an 8192-draw estimate: both errors count.
    const double se = std::sqrt(var[k].item<double>() * (1.0 / n + 1.0 / 8192));
    EXPECT_NEAR(x.select(1, k).mean().item<double>(), mean[k].item<double>(), 3 * se);
  }
  EXPECT_NEAR(d->entropy().item<double>(), -d->log_prob({{"x", x}}).mean().item<double>(), 0.05);
  expect_error(
      [] {
        RelaxedOneHotCategorical(f64({0.5, 0.6}), 1.0, {.var = {"x"}})->mean();
      },
      "RelaxedOneHotCategorical", "probs");
}

TEST(MultivariateNormal, ClosedFormsMomentsAndKL) {
  auto loc = f64({1.0, -0.5});
  auto cov = torch::tensor({{2.0, 0.6}, {0.6, 1.0}}, torch::kFloat64);
  auto d = MultivariateNormal(loc, mvn_scale_tril(cov), {.var = {"x"}});
  // log N(x; μ, Σ) by hand: −½(D log 2π + log det Σ + (x − μ)ᵀΣ⁻¹(x − μ)).
  auto x = f64({0.3, 0.2});
  const double det = 2.0 * 1.0 - 0.36;
  auto diff = x - loc;
  auto inv = torch::tensor({{1.0, -0.6}, {-0.6, 2.0}}, torch::kFloat64) / det;
  const double maha = diff.dot(inv.matmul(diff)).item<double>();
  EXPECT_NEAR(d->log_prob({{"x", x.view({1, 2})}}).item<double>(),
              -0.5 * (2 * std::log(2 * std::numbers::pi) + std::log(det) + maha), 1e-9);
  EXPECT_NEAR(d->entropy().item<double>(), 0.5 * (2 * (1 + std::log(2 * std::numbers::pi)) + std::log(det)),
              1e-9);
  EXPECT_TRUE(torch::allclose(d->variance(), f64({2.0, 1.0})));
  torch::manual_seed(0);
  const std::int64_t n = 100'000;
  auto s = d->sample({}, {.batch_n = n}).at("x");
  for (int k = 0; k < 2; ++k) {
    EXPECT_NEAR(s.select(1, k).mean().item<double>(), loc[k].item<double>(),
                3 * std::sqrt(cov[k][k].item<double>() / n));
  }
  // Sample covariance: Var[(x0−μ0)(x1−μ1)] = Σ00Σ11 + Σ01².
  auto c = s - loc;
  EXPECT_NEAR((c.select(1, 0) * c.select(1, 1)).mean().item<double>(), 0.6, 3 * std::sqrt((2.0 + 0.36) / n));

  auto diag = MultivariateNormalDiag(loc, f64({1.5, 0.5}), {.var = {"x"}});
  auto two_normals = Normal(loc, f64({1.5, 0.5}), {.var = {"x"}});
  EXPECT_NEAR(diag->log_prob({{"x", x.view({1, 2})}}).item<double>(),
              two_normals->log_prob({{"x", x.view({1, 2})}}).item<double>(), 1e-9);

  // Every pair against 100k-draw Monte Carlo, to 1%.
  auto q_full = MultivariateNormal(loc, mvn_scale_tril(cov), {.var = {"x"}, .name = "q"});
  auto q_diag = MultivariateNormalDiag(loc, f64({1.5, 0.5}), {.var = {"x"}, .name = "q"});
  auto p_full = MultivariateNormal(f64({0.0, 0.0}),
                                   mvn_scale_tril(torch::tensor({{1.0, -0.3}, {-0.3, 1.5}}, torch::kFloat64)),
                                   {.var = {"x"}});
  auto p_diag = MultivariateNormalDiag(f64({0.5, 0.0}), f64({1.0, 2.0}), {.var = {"x"}});
  for (const auto& q : {q_full, q_diag}) {
    for (const auto& p : {p_full, p_diag}) {
      auto z = q->sample({}, {.batch_n = n});
      const double mc = (q->log_prob(z) - p->log_prob(z)).mean().item<double>();
      const double analytic = KL(q, p, {.analytic = true}).eval(z).mean().item<double>();
      EXPECT_NEAR(analytic, mc, 0.01 * std::abs(analytic)) << q->type() << " || " << p->type();
    }
  }
  expect_error([&] { MultivariateNormal(loc, -torch::eye(2, torch::kFloat64), {.var = {"x"}})->mean(); },
               "MultivariateNormal", "scale_tril");
  expect_error([&] { MultivariateNormal(loc, torch::eye(3, torch::kFloat64), {.var = {"x"}})->mean(); },
               "MultivariateNormal", "scale_tril");
  EXPECT_THROW(mvn_scale_tril(-torch::eye(2)), Error);
}

TEST(MixtureOfNormal, ClosedFormsMomentsAndErrors) {
  auto w = f64({0.3, 0.7});
  auto loc = torch::tensor({{-2.0}, {1.0}}, torch::kFloat64),
       scale = torch::tensor({{0.5}, {1.0}}, torch::kFloat64);
  auto d = MixtureOfNormal(w, loc, scale, {.var = {"x"}});
  auto normal = [](double x, double m, double s) {
    return std::exp(-(x - m) * (x - m) / (2 * s * s)) / (s * std::sqrt(2 * std::numbers::pi));
  };
  const double x = 0.4;
  EXPECT_NEAR(d->log_prob({{"x", f64({x}).view({1, 1})}}).item<double>(),
              std::log(0.3 * normal(x, -2, 0.5) + 0.7 * normal(x, 1, 1)), 1e-9);
  const double mean = 0.3 * -2 + 0.7 * 1, second = 0.3 * (0.25 + 4) + 0.7 * (1 + 1);
  EXPECT_NEAR(d->mean().item<double>(), mean, 1e-12);
  EXPECT_NEAR(d->variance().item<double>(), second - mean * mean, 1e-12);
  auto density = [&](const torch::Tensor& t) { return d->log_prob({{"x", t.view({-1, 1})}}).exp(); };
  const double entropy = integrate(
      [&](const torch::Tensor& t) { return -density(t) * density(t).clamp_min(1e-300).log(); }, -12, 12);
  EXPECT_NEAR(d->entropy().item<double>(), entropy, 0.03);
  torch::manual_seed(0);
  const std::int64_t n = 100'000;
  auto s = d->sample({}, {.batch_n = n}).at("x").reshape({n});
  const double var = second - mean * mean;
  EXPECT_NEAR(s.mean().item<double>(), mean, 3 * std::sqrt(var / n));
  const double fourth = (s - mean).pow(4).mean().item<double>();
  EXPECT_NEAR(s.var().item<double>(), var, 3 * std::sqrt((fourth - var * var) / n));
  expect_error(
      [&] {
        MixtureOfNormal(f64({0.5, 0.6}), loc, scale, {.var = {"x"}})->mean();
      },
      "MixtureOfNormal", "weights");
  expect_error([&] { MixtureOfNormal(w, loc, -scale, {.var = {"x"}})->mean(); }, "MixtureOfNormal", "scale");
}

TEST(TanhNormal, DensityMomentsAndLogDet) {
  auto d = TanhNormal(f64({0.4}), f64({0.8}), {.var = {"x"}});
  auto density = [&](const torch::Tensor& y) { return d->log_prob({{"x", y.view({-1, 1})}}).exp(); };
  EXPECT_NEAR(integrate(density, -1 + 1e-9, 1 - 1e-9), 1.0, 1e-3);
  // Moments over u ~ N(0.4, 0.8²) by the trapezoid-free midpoint rule on a wide grid.
  auto gauss = [](const torch::Tensor& u) {
    return (-(u - 0.4).square() / (2 * 0.64)).exp() / (0.8 * std::sqrt(2 * std::numbers::pi));
  };
  const double mean = integrate([&](const torch::Tensor& u) { return torch::tanh(u) * gauss(u); }, -8, 8);
  const double second =
      integrate([&](const torch::Tensor& u) { return torch::tanh(u).square() * gauss(u); }, -8, 8);
  EXPECT_NEAR(d->mean().item<double>(), mean, 1e-4);
  EXPECT_NEAR(d->variance().item<double>(), second - mean * mean, 1e-4);
  const double entropy =
      integrate([&](const torch::Tensor& y) { return -density(y) * density(y).clamp_min(1e-300).log(); },
                -1 + 1e-9, 1 - 1e-9);
  EXPECT_NEAR(d->entropy().item<double>(), entropy, 2e-3);
  // The log-det term stays finite where tanh saturates.
  auto wide = TanhNormal(f64({0.0}), f64({5.0}), {.var = {"x"}});
  torch::manual_seed(0);
  auto x = wide->sample({}, {.batch_n = 100'000}).at("x");
  EXPECT_TRUE(torch::isfinite(wide->log_prob({{"x", x}})).all().item<bool>());
  auto s = d->sample({}, {.batch_n = 100'000}).at("x");
  EXPECT_NEAR(s.mean().item<double>(), mean, 3 * std::sqrt((second - mean * mean) / 1e5));
  expect_error([] { TanhNormal(f64({0.0}), f64({-1.0}), {.var = {"x"}})->mean(); }, "TanhNormal", "scale");
}

TEST(Variables, JointSamplesInOrderAndPrints) {
  torch::manual_seed(0);
  auto z_in = nn::Input({2});
  nn::Model dec(z_in, nn::Dense(3)(z_in));
  auto p = Bernoulli(dec, {.var = {"x"}, .cond_var = {"z"}});
  auto prior = standard_normal({"z"}, {2});
  auto joint = p * prior;
  EXPECT_EQ(joint->prob_text(), "p(x,z)");
  std::ostringstream out;
  out << *joint;
  EXPECT_EQ(out.str(), "p(x,z) = p(x|z)p(z)");
  auto s = joint->sample({}, {.batch_n = 5});
  EXPECT_EQ(s.at("z").sizes(), (std::vector<std::int64_t>{5, 2}));
  EXPECT_EQ(s.at("x").sizes(), (std::vector<std::int64_t>{5, 3}));
  EXPECT_TRUE(torch::allclose(joint->log_prob(s), p->log_prob(s) + prior->log_prob(s)));
  EXPECT_EQ(joint->parameters().size(), dec->parameters().size());

  auto renamed = p->replace_var({{"z", "y"}});
  EXPECT_EQ(renamed->prob_text(), "p(x|y)");
  EXPECT_EQ(renamed->replace_var({{"y", "w"}, {"x", "v"}})->prob_text(), "p(v|w)");
  auto r = renamed->sample({{"y", torch::zeros({4, 2})}});
  EXPECT_EQ(r.at("x").size(0), 4);
  EXPECT_FALSE(r.count("z"));
  EXPECT_THROW(renamed->sample({{"z", torch::zeros({4, 2})}}), Error);  // p(x|y) reads y, never z
  EXPECT_TRUE(torch::allclose(renamed->log_prob(r), p->log_prob({{"x", r.at("x")}, {"z", r.at("y")}})));
  EXPECT_THROW(p->replace_var({{"q", "y"}}), Error);
  EXPECT_EQ((joint->replace_var({{"z", "h"}}))->formula(), "p(x,h) = p(x|h)p(h)");

  auto marginal = joint->marginalize_var({"z"});
  EXPECT_EQ(marginal->prob_text(), "∫p(x|z)p(z)dz");
  EXPECT_EQ(marginal->var(), (std::vector<std::string>{"x"}));
  auto m = marginal->sample({}, {.batch_n = 6});
  EXPECT_EQ(m.at("x").size(0), 6);
  EXPECT_FALSE(m.count("z"));
  EXPECT_THROW(marginal->log_prob(m), Error);
  EXPECT_THROW(joint->marginalize_var({"y"}), Error);
  EXPECT_THROW(p * p, Error);  // both factors draw x
}

TEST(Variables, SampleShapeAndAnyModule) {
  // A plain LibTorch module as the network: x -> (loc, softplus scale).
  auto linear = std::make_shared<torch::nn::LinearImpl>(3, 4);
  Network net(
      linear,
      [linear](const std::vector<torch::Tensor>& xs) {
        auto h = linear->forward(xs[0]);
        return std::vector<torch::Tensor>{h.slice(1, 0, 2), torch::softplus(h.slice(1, 2, 4)) + 1e-3};
      },
      1);
  auto q = Normal(net, {.var = {"z"}, .cond_var = {"x"}, .name = "q"});
  EXPECT_EQ(q->parameters().size(), 2u);
  auto s = q->sample({{"x", torch::randn({5, 3})}}, {.sample_shape = {7}});
  EXPECT_EQ(s.at("z").sizes(), (std::vector<std::int64_t>{7, 5, 2}));
  EXPECT_EQ(q->log_prob(s).sizes(), (std::vector<std::int64_t>{7, 5}));
  auto c = Categorical(torch::tensor({0.5, 0.5}), {.var = {"k"}});
  EXPECT_EQ(c->sample({}, {.batch_n = 4, .sample_shape = {3}}).at("k").sizes(),
            (std::vector<std::int64_t>{3, 4}));
}

TEST(Losses, SampledKLProbCrossEntropyAndELBO) {
  torch::manual_seed(0);
  auto lap = Laplace(f64({0.3}), f64({0.7}), {.var = {"x"}, .name = "q"});
  auto nor = Normal(f64({0.0}), f64({1.0}), {.var = {"x"}});
  // No formula for Laplace || Normal: the sampled estimate, against numerical integration.
  const double exact = integrate(
      [&](const torch::Tensor& t) {
        Dict v{{"x", t.view({-1, 1})}};
        auto lq = lap->log_prob(v);
        return lq.exp() * (lq - nor->log_prob(v));
      },
      -30, 30);
  const double sampled =
      KL(lap, nor, {.samples = 100'000}).eval({{"x", torch::zeros({1, 1}, torch::kFloat64)}}).item<double>();
  EXPECT_NEAR(sampled, exact, 0.01 * exact);
  expect_error(
      [&] {
        KL(lap, nor, {.analytic = true}).eval({{"x", torch::zeros({1, 1})}});
      },
      "Laplace || Normal", "analytic");

  Dict at{{"x", f64({0.5}).view({1, 1})}};
  EXPECT_NEAR(Prob(nor).eval(at).item<double>(), std::exp(nor->log_prob(at).item<double>()), 1e-12);
  EXPECT_EQ(Prob(nor).str(), "p(x)");
  // H[p, q] = H[p] + KL[p||q] for two Normals.
  auto p = Normal(f64({0.5}), f64({0.8}), {.var = {"x"}});
  auto q = Normal(f64({-0.2}), f64({1.3}), {.var = {"x"}, .name = "q"});
  auto ce = CrossEntropy(p, q);
  EXPECT_EQ(ce.str(), "-E_p(x)[log q(x)]");
  Dict many{{"n", torch::zeros({100'000})}};
  const double expected = p->entropy().item<double>() + KL(p, q).eval({}).item<double>();
  EXPECT_NEAR(ce.eval(many).mean().item<double>(), expected, 0.01 * expected);

  auto x_in = nn::Input({3});
  nn::Model enc(x_in, std::vector<nn::SymbolicTensor>{nn::Dense(2)(x_in),
                                                      nn::Dense(2, {.activation = "softplus"})(x_in)});
  auto z_in = nn::Input({2});
  nn::Model dec(z_in, nn::Dense(3)(z_in));
  auto qz = Normal(enc, {.var = {"z"}, .cond_var = {"x"}, .name = "q"});
  auto px = Bernoulli(dec, {.var = {"x"}, .cond_var = {"z"}});
  EXPECT_EQ(ELBO(px * standard_normal({"z"}, {2}), qz).str(), "E_q(z|x)[log p(x,z) - log q(z|x)]");
  auto w = torch::tensor({1.0, 2.0});
  EXPECT_EQ((LogProb(px) * Loss(w, "w")).detach().sum().str(), "sum(detach(log p(x|z) * w))");
}

TEST(Losses, MMDSeparatesDistributions) {
  torch::manual_seed(0);
  auto a = Normal(torch::zeros({2}), torch::ones({2}), {.var = {"x"}});
  auto b = Normal(torch::zeros({2}), torch::ones({2}), {.var = {"x"}, .name = "q"});
  auto c = Normal(torch::full({2}, 2.0), torch::ones({2}), {.var = {"x"}, .name = "r"});
  Dict batch{{"x", torch::zeros({512, 2})}};
  for (const std::string kernel : {"gaussian", "laplacian"}) {
    const double same = MMD(a, b, {.kernel = kernel}).eval(batch).item<double>();
    const double apart = MMD(a, c, {.kernel = kernel}).eval(batch).item<double>();
    EXPECT_LT(same, 0.02) << kernel;
    EXPECT_GT(apart, 0.3) << kernel;
  }
  EXPECT_EQ(MMD(a, c).str(), "D_MMD^2[p(x)||r(x)]");
  // Per row: n draws at each of the batch's conditions.
  auto per_row = MMD(a, c, {.samples = 16}).eval(Dict{{"x", torch::zeros({5, 2})}});
  EXPECT_EQ(per_row.sizes(), (std::vector<std::int64_t>{5}));
  EXPECT_THROW(MMD(a, c, {.kernel = "cosine"}), Error);
}

TEST(Losses, AdversarialKLLearnsTheDensityRatio) {
  // KL[N(0,1)||N(1,1)] = ½; the Bayes-optimal discriminator's logit is linear in x (−x + ½).
  torch::manual_seed(0);
  auto p = Normal(torch::zeros({1}), torch::ones({1}), {.var = {"x"}});
  auto q = Normal(torch::ones({1}), torch::ones({1}), {.var = {"x"}, .name = "q"});
  auto x_in = nn::Input({1});
  auto d = Deterministic(nn::Model(x_in, nn::Dense(1)(x_in)), {.var = {"t"}, .cond_var = {"x"}, .name = "d"});
  auto kl = AdversarialKullbackLeibler(p, q, d, {.optimizer = nn::optimizers::Adam(0.05)});
  EXPECT_EQ(kl.str(), "D_KL^Adv[p(x)||q(x)]");
  Dict batch{{"x", torch::zeros({512, 1})}};
  for (int step = 0; step < 400; ++step) kl.train_discriminator(batch);
  Dict big{{"x", torch::zeros({100'000, 1})}};
  EXPECT_NEAR(kl.eval(big).mean().item<double>(), 0.5, 0.1);

  auto critic_in = nn::Input({1});
  auto critic =
      Deterministic(nn::Model(critic_in, nn::Dense(1)(nn::Dense(8, {.activation = "relu"})(critic_in))),
                    {.var = {"t"}, .cond_var = {"x"}, .name = "f"});
  auto w = Wasserstein(DataDistribution({"x"}), q, critic);
  EXPECT_EQ(w.str(), "W^upper[p_data(x)||q(x)]");
  w.train_discriminator(Dict{{"x", torch::randn({64, 1})}});
  for (const auto& t : critic->parameters()) EXPECT_LE(t.abs().max().item<double>(), 0.01 + 1e-7);
  auto js = AdversarialJensenShannon(DataDistribution({"x"}), q, d);
  EXPECT_EQ(js.str(), "D_JS^Adv[p_data(x)||q(x)]");
}

TEST(Losses, IterativeLossCarriesState) {
  // h_t = h_{t−1} + x_t (a Deterministic step), x_t ~ N(h_{t−1}, 1): the summed log-likelihood.
  auto none = std::make_shared<torch::nn::Module>();
  auto step = Deterministic(Network(
                                none, [](const Tensors& v) { return Tensors{v[0] + v[1]}; }, 2),
                            {.var = {"h_next"}, .cond_var = {"h", "x"}, .name = "f"});
  auto px = Normal(Network(
                       none,
                       [](const Tensors& v) {
                         return Tensors{v[0], torch::ones_like(v[0])};
                       },
                       1),
                   {.var = {"x"}, .cond_var = {"h"}});
  auto loss = IterativeLoss(E(step, LogProb(px)), {.series_var = {"x"}, .update_value = {{"h_next", "h"}}});
  EXPECT_EQ(loss.str(), "sum_(t=1..T)[E_f(h_next|h,x)[log p(x|h)]]");
  auto xs = f64({0.5, -1.0, 2.0}).view({3, 1, 1});
  auto total = loss.eval({{"x", xs}, {"h", torch::zeros({1, 1}, torch::kFloat64)}}).item<double>();
  double h = 0, expected = 0;
  for (double x : {0.5, -1.0, 2.0}) {
    expected += -0.5 * (x - h) * (x - h) - 0.5 * std::log(2 * std::numbers::pi);
    h += x;
  }
  EXPECT_NEAR(total, expected, 1e-9);
  EXPECT_THROW(IterativeLoss(LogProb(px), {}), Error);
}

TEST(Models, MaximumLikelihoodAndVariationalInference) {
  torch::manual_seed(0);
  // ML: the learnable mean of a Normal goes to the data's mean.
  auto loc = torch::zeros({1}).requires_grad_(true);
  auto p = Normal(loc, torch::ones({1}), {.var = {"x"}});
  auto ml = ML(p, nn::optimizers::Adam(0.05));
  EXPECT_EQ(ml.loss().str(), "-mean(log p(x))");
  auto data = torch::randn({256, 1}) * 0.5 + 2.0;
  for (int i = 0; i < 300; ++i) ml.train({{"x", data}});
  EXPECT_NEAR(loc.item<double>(), data.mean().item<double>(), 0.02);

  // VI: z ~ N(0,1), x|z ~ N(z, 1); with x = 2 the posterior is N(1, ½).
  auto none = std::make_shared<torch::nn::Module>();
  auto px = Normal(Network(
                       none,
                       [](const Tensors& v) {
                         return Tensors{v[0], torch::ones_like(v[0])};
                       },
                       1),
                   {.var = {"x"}, .cond_var = {"z"}});
  auto q_loc = torch::zeros({1}).requires_grad_(true), q_log_scale = torch::zeros({1}).requires_grad_(true);
  auto qnet = std::make_shared<torch::nn::Module>();
  qnet->register_parameter("loc", q_loc);
  qnet->register_parameter("log_scale", q_log_scale);
  auto q = Normal(Network(
                      qnet,
                      [&](const Tensors& v) {
                        auto n = v[0].size(0);
                        return Tensors{q_loc.expand({n, 1}), q_log_scale.exp().expand({n, 1})};
                      },
                      1),
                  {.var = {"z"}, .cond_var = {"x"}, .name = "q"});
  auto vi = VI(px * standard_normal({"z"}, {1}), q, nn::optimizers::Adam(0.02));
  EXPECT_EQ(vi.loss().str(), "-mean(E_q(z|x)[log p(x,z) - log q(z|x)])");
  for (int i = 0; i < 1500; ++i) vi.train({{"x", torch::full({64, 1}, 2.0)}});
  EXPECT_NEAR(q_loc.item<double>(), 1.0, 0.1);
  EXPECT_NEAR(std::exp(q_log_scale.item<double>()), std::sqrt(0.5), 0.1);
}

TEST(Models, M2AndCvaeFormulas) {
  torch::manual_seed(0);
  auto x = nn::Input({4}), y = nn::Input({3}), z = nn::Input({2});
  auto hq = nn::Concatenate()({x, y});
  nn::Model enc({x, y}, std::vector<nn::SymbolicTensor>{nn::Dense(2)(hq),
                                                        nn::Dense(2, {.activation = "softplus"})(hq)});
  nn::Model dec({z, y}, nn::Dense(4)(nn::Concatenate()({z, y})));
  auto x2 = nn::Input({4});
  nn::Model cls(x2, nn::Dense(3, {.activation = "softmax"})(x2));
  M2Parts m{.q = Normal(enc, {.var = {"z"}, .cond_var = {"x", "y"}, .name = "q"}),
            .p = Bernoulli(dec, {.var = {"x"}, .cond_var = {"z", "y"}}),
            .prior = standard_normal({"z"}, {2}),
            .classifier = OneHotCategorical(cls, {.var = {"y"}, .cond_var = {"x"}, .name = "f"}),
            .relaxed = RelaxedOneHotCategorical(cls, 0.5, {.var = {"y"}, .cond_var = {"x"}, .name = "f"}),
            .alpha = 10};
  EXPECT_EQ(m2_loss(m).str(),
            "-mean(E_q(z,y_u|x_u)[log p(x_u,z|y_u) - log q(z|x_u,y_u)] + H[f(y_u|x_u)]) - "
            "mean(E_q(z|x,y)[log p(x,z|y) - log q(z|x,y)]) + mean(10 * -log f(y|x))");
  m.relaxed = nullptr;  // Kingma et al.'s sum over the classes
  EXPECT_EQ(m2_loss(m).str(),
            "-mean(E_f(y_u|x_u)[E_q(z|x_u,y_u)[log p(x_u,z|y_u) - log q(z|x_u,y_u)]] + H[f(y_u|x_u)]) - "
            "mean(E_q(z|x,y)[log p(x,z|y) - log q(z|x,y)]) + mean(10 * -log f(y|x))");
  // The enumerated expectation is the probability-weighted sum over the classes.
  {
    auto f_probs = torch::tensor({{0.2, 0.5, 0.3}});
    auto f = OneHotCategorical(f_probs, {.var = {"c"}});
    auto px = Normal(torch::zeros({1}), torch::ones({1}), {.var = {"x"}});
    auto inner = LogProb(px) * Loss(torch::tensor({1.0}), "1");
    EXPECT_NEAR(E(f, inner, {.enumerate = true}).eval({{"x", torch::zeros({1, 1})}}).item<double>(),
                -0.5 * std::log(2 * std::numbers::pi), 1e-6);
    EXPECT_THROW(E(px, inner, {.enumerate = true}), Error);
  }
  auto model = M2(m);
  Dict batch{{"x", torch::rand({6, 4}).round()},
             {"y", torch::eye(3).index_select(0, torch::tensor({0, 1, 2, 0, 1, 2}))},
             {"x_u", torch::rand({6, 4}).round()}};
  // The test loss draws z (and y_u for the relaxed form), so average it over many draws: one draw
  // is noisy enough to hide 50 steps of progress.
  auto mean_test_loss = [&] {
    double sum = 0;
    for (int i = 0; i < 64; ++i) sum += model.test(batch);
    return sum / 64;
  };
  const double before = mean_test_loss();
  for (int i = 0; i < 200; ++i) model.train(batch);
  const double after = mean_test_loss();
  EXPECT_LT(after, before - 1.0);                                                  // 22.4 -> 16.8 here
  EXPECT_THROW(model.train({{"x", batch.at("x")}, {"y", batch.at("y")}}), Error);  // x_u is missing

  auto cvae = CVAE(m.q, m.p, m.prior);
  EXPECT_EQ(cvae.loss().str(), "mean(D_KL[q(z|x,y)||p(z)] - E_q(z|x,y)[log p(x|z,y)])");
  auto q_plain = Normal(
      nn::Model(
          x, std::vector<nn::SymbolicTensor>{nn::Dense(2)(x), nn::Dense(2, {.activation = "softplus"})(x)}),
      {.var = {"z"}, .cond_var = {"x"}, .name = "q"});
  EXPECT_THROW(CVAE(q_plain, m.p, m.prior), Error);  // no shared condition
}

TEST(Models, GanNeedsTheMarginalGenerator) {
  auto z_in = nn::Input({2});
  auto gen = Deterministic(nn::Model(z_in, nn::Dense(1)(z_in)), {.var = {"x"}, .cond_var = {"z"}});
  auto x_in = nn::Input({1});
  auto d = Deterministic(nn::Model(x_in, nn::Dense(1)(x_in)), {.var = {"t"}, .cond_var = {"x"}, .name = "d"});
  auto joint = gen * standard_normal({"z"}, {2});
  EXPECT_THROW(GAN(joint, d), Error);
  GAN gan(joint->marginalize_var({"z"}), d);
  EXPECT_EQ(gan.loss().str(), "D_JS^Adv[p_data(x)||∫p(x|z)p(z)dz]");
  auto [g, dl] = gan.train({{"x", torch::randn({32, 1})}});
  EXPECT_TRUE(std::isfinite(g));
  EXPECT_TRUE(std::isfinite(dl));
}

}  // namespace
}  // namespace dojo::prob
