// Laplace, Uniform, Beta, Gamma, Dirichlet, Categorical, OneHotCategorical and Deterministic.
#include <torch/torch.h>

#include <cmath>

#include "core/error.h"
#include "prob/family.h"

namespace dojo::prob {

using detail::Family;
using detail::make;

namespace {

class LaplaceDist : public Family<LaplaceDist> {
 public:
  using Family::Family;
  std::string type() const override { return "Laplace"; }
  bool has_rsample() const override { return true; }
  torch::Tensor sample_from(const Params& p, bool reparam) const override {
    // Inverse CDF of u ~ U(−½, ½): loc − scale·sign(u)·log(1 − 2|u|).
    auto u = torch::rand_like(p.at("loc")) - 0.5;
    u = u.clamp(-0.5 + 1e-7, 0.5 - 1e-7);
    auto x = p.at("loc") - p.at("scale") * u.sign() * (1 - 2 * u.abs()).log();
    return reparam ? x : x.detach();
  }
  torch::Tensor log_prob_from(const Params& p, const torch::Tensor& x) const override {
    return -(2 * p.at("scale")).log() - (x - p.at("loc")).abs() / p.at("scale");
  }
  torch::Tensor entropy_from(const Params& p) const override { return 1 + (2 * p.at("scale")).log(); }
  torch::Tensor mean_from(const Params& p) const override { return p.at("loc"); }
  torch::Tensor variance_from(const Params& p) const override { return 2 * p.at("scale").square(); }

 protected:
  std::vector<std::string> param_names() const override { return {"loc", "scale"}; }
  void check(const Params& p) const override { positive(p, "scale"); }
};

class UniformDist : public Family<UniformDist> {
 public:
  using Family::Family;
  std::string type() const override { return "Uniform"; }
  bool has_rsample() const override { return true; }
  torch::Tensor sample_from(const Params& p, bool reparam) const override {
    auto x = p.at("low") + (p.at("high") - p.at("low")) * torch::rand_like(p.at("low"));
    return reparam ? x : x.detach();
  }
  torch::Tensor log_prob_from(const Params& p, const torch::Tensor& x) const override {
    auto inside = (x >= p.at("low")) & (x < p.at("high"));
    auto lp = -(p.at("high") - p.at("low")).log();
    return torch::where(inside, lp, torch::full_like(lp, -INFINITY));
  }
  torch::Tensor entropy_from(const Params& p) const override { return (p.at("high") - p.at("low")).log(); }
  torch::Tensor mean_from(const Params& p) const override { return (p.at("high") + p.at("low")) / 2; }
  torch::Tensor variance_from(const Params& p) const override {
    return (p.at("high") - p.at("low")).square() / 12;
  }

 protected:
  std::vector<std::string> param_names() const override { return {"low", "high"}; }
  void check(const Params& p) const override {
    torch::NoGradGuard no_grad;
    if (!(p.at("high") > p.at("low")).all().item<bool>()) fail("high must exceed low");
  }
};

class GammaDist : public Family<GammaDist> {
 public:
  using Family::Family;
  std::string type() const override { return "Gamma"; }
  bool has_rsample() const override { return true; }
  torch::Tensor sample_from(const Params& p, bool reparam) const override {
    // LibTorch's standard gamma sampler carries implicit reparameterisation gradients.
    auto x = at::_standard_gamma(p.at("concentration")) / p.at("rate");
    return reparam ? x : x.detach();
  }
  torch::Tensor log_prob_from(const Params& p, const torch::Tensor& x) const override {
    const auto &a = p.at("concentration"), &b = p.at("rate");
    return a * b.log() + (a - 1) * x.log() - b * x - torch::lgamma(a);
  }
  torch::Tensor entropy_from(const Params& p) const override {
    const auto &a = p.at("concentration"), &b = p.at("rate");
    return a - b.log() + torch::lgamma(a) + (1 - a) * torch::digamma(a);
  }
  torch::Tensor mean_from(const Params& p) const override { return p.at("concentration") / p.at("rate"); }
  torch::Tensor variance_from(const Params& p) const override {
    return p.at("concentration") / p.at("rate").square();
  }

 protected:
  std::vector<std::string> param_names() const override { return {"concentration", "rate"}; }
  void check(const Params& p) const override {
    positive(p, "concentration");
    positive(p, "rate");
  }
};

torch::Tensor lbeta(const torch::Tensor& a, const torch::Tensor& b) {
  return torch::lgamma(a) + torch::lgamma(b) - torch::lgamma(a + b);
}

class BetaDist : public Family<BetaDist> {
 public:
  using Family::Family;
  std::string type() const override { return "Beta"; }
  bool has_rsample() const override { return true; }
  torch::Tensor sample_from(const Params& p, bool reparam) const override {
    auto g1 = at::_standard_gamma(p.at("concentration1")), g0 = at::_standard_gamma(p.at("concentration0"));
    auto x = (g1 / (g1 + g0)).clamp(1e-7, 1 - 1e-7);
    return reparam ? x : x.detach();
  }
  torch::Tensor log_prob_from(const Params& p, const torch::Tensor& x) const override {
    const auto &a = p.at("concentration1"), &b = p.at("concentration0");
    return (a - 1) * x.log() + (b - 1) * (1 - x).log() - lbeta(a, b);
  }
  torch::Tensor entropy_from(const Params& p) const override {
    const auto &a = p.at("concentration1"), &b = p.at("concentration0");
    return lbeta(a, b) - (a - 1) * torch::digamma(a) - (b - 1) * torch::digamma(b) +
           (a + b - 2) * torch::digamma(a + b);
  }
  torch::Tensor mean_from(const Params& p) const override {
    return p.at("concentration1") / (p.at("concentration1") + p.at("concentration0"));
  }
  torch::Tensor variance_from(const Params& p) const override {
    const auto &a = p.at("concentration1"), &b = p.at("concentration0");
    return a * b / ((a + b).square() * (a + b + 1));
  }

 protected:
  std::vector<std::string> param_names() const override { return {"concentration1", "concentration0"}; }
  void check(const Params& p) const override {
    positive(p, "concentration1");
    positive(p, "concentration0");
  }
};

// Over K classes; the variable holds class indices (int64, one per sample).
class CategoricalDist : public Family<CategoricalDist> {
 public:
  using Family::Family;
  std::string type() const override { return "Categorical"; }
  bool has_rsample() const override { return false; }
  torch::Tensor sample_from(const Params& p, bool) const override {
    torch::NoGradGuard no_grad;
    auto probs = p.at("probs");
    return torch::multinomial(probs.reshape({-1, probs.size(-1)}), 1, true)
        .view(probs.sizes().slice(0, probs.dim() - 1));
  }
  torch::Tensor log_prob_from(const Params& p, const torch::Tensor& x) const override {
    auto logp = p.at("probs").clamp_min(1e-12).log();
    auto idx = x.to(torch::kLong);
    if (logp.dim() == 1) return logp.index_select(0, idx.reshape({-1})).view(idx.sizes());
    return logp.gather(-1, idx.unsqueeze(-1)).squeeze(-1);
  }
  torch::Tensor entropy_from(const Params& p) const override {
    auto probs = p.at("probs");
    return -(probs * probs.clamp_min(1e-12).log()).sum(-1);
  }
  torch::Tensor mean_from(const Params&) const override { fail("has no mean (its values are class labels)"); }
  torch::Tensor variance_from(const Params&) const override {
    fail("has no variance (its values are class labels)");
  }

 protected:
  std::vector<std::string> param_names() const override { return {"probs"}; }
  // log_prob_from already sums over the class axis.
  std::int64_t feature_dims(const Params& p, bool batched) const override {
    return Distribution::feature_dims(p, batched) - 1;
  }
  void check(const Params& p) const override { simplex(p, "probs"); }
};

// Over one-hot vectors of the last axis: OneHotCategorical.
class OneHotCategoricalDist : public CategoricalDist {
 public:
  using CategoricalDist::CategoricalDist;
  std::string type() const override { return "OneHotCategorical"; }
  torch::Tensor sample_from(const Params& p, bool reparam) const override {
    return torch::one_hot(CategoricalDist::sample_from(p, reparam), p.at("probs").size(-1))
        .to(p.at("probs").dtype());
  }
  torch::Tensor log_prob_from(const Params& p, const torch::Tensor& x) const override {
    return (x * p.at("probs").clamp_min(1e-12).log()).sum(-1);
  }
  torch::Tensor mean_from(const Params& p) const override { return p.at("probs"); }
  torch::Tensor variance_from(const Params& p) const override { return p.at("probs") * (1 - p.at("probs")); }
};

class DirichletDist : public Family<DirichletDist> {
 public:
  using Family::Family;
  std::string type() const override { return "Dirichlet"; }
  bool has_rsample() const override { return true; }
  torch::Tensor sample_from(const Params& p, bool reparam) const override {
    auto g = at::_standard_gamma(p.at("concentration"));
    auto x = g / g.sum(-1, true);
    return reparam ? x : x.detach();
  }
  torch::Tensor log_prob_from(const Params& p, const torch::Tensor& x) const override {
    const auto& a = p.at("concentration");
    return ((a - 1) * x.clamp_min(1e-12).log()).sum(-1) + torch::lgamma(a.sum(-1)) - torch::lgamma(a).sum(-1);
  }
  torch::Tensor entropy_from(const Params& p) const override {
    const auto& a = p.at("concentration");
    const auto a0 = a.sum(-1);
    const auto k = static_cast<double>(a.size(-1));
    return torch::lgamma(a).sum(-1) - torch::lgamma(a0) + (a0 - k) * torch::digamma(a0) -
           ((a - 1) * torch::digamma(a)).sum(-1);
  }
  torch::Tensor mean_from(const Params& p) const override {
    return p.at("concentration") / p.at("concentration").sum(-1, true);
  }
  torch::Tensor variance_from(const Params& p) const override {
    const auto& a = p.at("concentration");
    auto a0 = a.sum(-1, true);
    return a * (a0 - a) / (a0.square() * (a0 + 1));
  }

 protected:
  std::vector<std::string> param_names() const override { return {"concentration"}; }
  std::int64_t feature_dims(const Params& p, bool batched) const override {
    return Distribution::feature_dims(p, batched) - 1;
  }
  void check(const Params& p) const override { positive(p, "concentration"); }
};

// All its mass on one value: a deterministic function of the conditioning variables inside a
// probabilistic model (log_prob is 0 at the value and −∞ elsewhere).
class DeterministicDist : public Family<DeterministicDist> {
 public:
  using Family::Family;
  std::string type() const override { return "Deterministic"; }
  bool has_rsample() const override { return true; }
  torch::Tensor sample_from(const Params& p, bool reparam) const override {
    return reparam ? p.at("value") : p.at("value").detach();
  }
  torch::Tensor log_prob_from(const Params& p, const torch::Tensor& x) const override {
    auto same = x == p.at("value");
    return torch::where(same, torch::zeros_like(x), torch::full_like(x, -INFINITY));
  }
  torch::Tensor entropy_from(const Params& p) const override { return torch::zeros_like(p.at("value")); }
  torch::Tensor mean_from(const Params& p) const override { return p.at("value"); }
  torch::Tensor variance_from(const Params& p) const override { return torch::zeros_like(p.at("value")); }

 protected:
  std::vector<std::string> param_names() const override { return {"value"}; }
  void check(const Params&) const override {}
};

}  // namespace

DistPtr Laplace(torch::Tensor loc, torch::Tensor scale, DistOptions o) {
  return make<LaplaceDist>(std::move(o), {{"loc", std::move(loc)}, {"scale", std::move(scale)}});
}
DistPtr Laplace(Network net, DistOptions o) { return make<LaplaceDist>(std::move(o), std::move(net)); }
DistPtr Uniform(torch::Tensor low, torch::Tensor high, DistOptions o) {
  return make<UniformDist>(std::move(o), {{"low", std::move(low)}, {"high", std::move(high)}});
}
DistPtr Gamma(torch::Tensor concentration, torch::Tensor rate, DistOptions o) {
  return make<GammaDist>(std::move(o),
                         {{"concentration", std::move(concentration)}, {"rate", std::move(rate)}});
}
DistPtr Beta(torch::Tensor concentration1, torch::Tensor concentration0, DistOptions o) {
  return make<BetaDist>(std::move(o), {{"concentration1", std::move(concentration1)},
                                       {"concentration0", std::move(concentration0)}});
}
DistPtr Categorical(torch::Tensor probs, DistOptions o) {
  return make<CategoricalDist>(std::move(o), {{"probs", std::move(probs)}});
}
DistPtr Categorical(Network net, DistOptions o) {
  return make<CategoricalDist>(std::move(o), std::move(net));
}

DistPtr OneHotCategorical(torch::Tensor probs, DistOptions o) {
  return make<OneHotCategoricalDist>(std::move(o), {{"probs", std::move(probs)}});
}
DistPtr OneHotCategorical(Network net, DistOptions o) {
  return make<OneHotCategoricalDist>(std::move(o), std::move(net));
}
DistPtr Dirichlet(torch::Tensor concentration, DistOptions o) {
  return make<DirichletDist>(std::move(o), {{"concentration", std::move(concentration)}});
}
DistPtr Deterministic(Network net, DistOptions o) {
  return make<DeterministicDist>(std::move(o), std::move(net));
}
DistPtr Deterministic(torch::Tensor value, DistOptions o) {
  return make<DeterministicDist>(std::move(o), {{"value", std::move(value)}});
}

torch::Tensor analytic_kl_more(const std::string& type, const Params& q, const Params& p) {
  if (type == "Laplace") {
    // log(b2/b1) + |μ1 − μ2|/b2 + (b1/b2)·exp(−|μ1 − μ2|/b1) − 1
    const auto &m1 = q.at("loc"), &b1 = q.at("scale"), &m2 = p.at("loc"), &b2 = p.at("scale");
    auto d = (m1 - m2).abs();
    return (b2 / b1).log() + d / b2 + (b1 / b2) * (-d / b1).exp() - 1;
  }
  if (type == "Uniform") {
    const auto &l1 = q.at("low"), &h1 = q.at("high"), &l2 = p.at("low"), &h2 = p.at("high");
    auto kl = ((h2 - l2) / (h1 - l1)).log();
    return torch::where((l1 >= l2) & (h1 <= h2), kl, torch::full_like(kl, INFINITY));
  }
  if (type == "Gamma") {
    const auto &a1 = q.at("concentration"), &b1 = q.at("rate"), &a2 = p.at("concentration"),
               &b2 = p.at("rate");
    return (a1 - a2) * torch::digamma(a1) - torch::lgamma(a1) + torch::lgamma(a2) +
           a2 * (b1.log() - b2.log()) + a1 * (b2 - b1) / b1;
  }
  if (type == "Beta") {
    const auto &a1 = q.at("concentration1"), &b1 = q.at("concentration0");
    const auto &a2 = p.at("concentration1"), &b2 = p.at("concentration0");
    return lbeta(a2, b2) - lbeta(a1, b1) + (a1 - a2) * torch::digamma(a1) + (b1 - b2) * torch::digamma(b1) +
           (a2 - a1 + b2 - b1) * torch::digamma(a1 + b1);
  }
  if (type == "Dirichlet") {
    const auto &a = q.at("concentration"), &b = p.at("concentration");
    const auto a0 = a.sum(-1);
    return torch::lgamma(a0) - torch::lgamma(a).sum(-1) - torch::lgamma(b.sum(-1)) +
           torch::lgamma(b).sum(-1) +
           ((a - b) * (torch::digamma(a) - torch::digamma(a0).unsqueeze(-1))).sum(-1);
  }
  if (type == "Categorical" || type == "OneHotCategorical") {
    auto pq = q.at("probs").clamp_min(1e-12), pp = p.at("probs").clamp_min(1e-12);
    return (pq * (pq.log() - pp.log())).sum(-1);
  }
  return {};
}

}  // namespace dojo::prob
