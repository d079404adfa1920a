// The Gumbel-softmax relaxations, multivariate and mixture Normals, and the squashed (tanh) Normal.
#include <ATen/ExpandUtils.h>
#include <torch/torch.h>

#include <cmath>

#include "core/error.h"
#include "prob/family.h"

namespace dojo::prob {

using detail::Family;
using detail::make;

namespace {

constexpr double kLog2 = 0.6931471805599453;
constexpr std::int64_t kQuadrature = 2048;  // quantile midpoints for 1-D expectations
constexpr std::int64_t kMonteCarlo = 8192;  // samples for expectations without either

// Midpoints of M equal-probability slices of (0, 1): averaging f over the quantiles of a 1-D
// distribution at these points integrates f against it, deterministically.
torch::Tensor midpoints(const torch::TensorOptions& options) {
  return (torch::arange(kQuadrature, options) + 0.5) / kQuadrature;
}
// Prepends an axis of length n, broadcast.
torch::Tensor lead(const torch::Tensor& t, std::int64_t n) {
  std::vector<std::int64_t> shape{n};
  shape.insert(shape.end(), t.sizes().begin(), t.sizes().end());
  return t.unsqueeze(0).expand(shape);
}
// Broadcasts a 1-D grid along a new leading axis against t.
torch::Tensor grid_like(const torch::Tensor& g, const torch::Tensor& t) {
  std::vector<std::int64_t> shape{g.size(0)};
  shape.insert(shape.end(), t.dim(), 1);
  return g.view(shape);
}
// A private, seeded generator: expectations estimated by sampling are the same on every call and
// leave the global random stream alone.
at::Generator estimate_generator() { return at::make_generator<at::CPUGeneratorImpl>(20261122); }
// Broadcasts a [.., D, D] factor and a [.., D] vector to the same leading axes.
std::pair<torch::Tensor, torch::Tensor> batch_like(const torch::Tensor& tril, const torch::Tensor& vec) {
  auto lead_t = tril.sizes().slice(0, tril.dim() - 2), lead_v = vec.sizes().slice(0, vec.dim() - 1);
  auto b = at::infer_size(lead_t, lead_v);
  auto bt = b, bv = b;
  bt.insert(bt.end(), {tril.size(-2), tril.size(-1)});
  bv.push_back(vec.size(-1));
  return {tril.expand(bt), vec.expand(bv)};
}

class RelaxedBernoulliDist : public Family<RelaxedBernoulliDist> {
 public:
  RelaxedBernoulliDist(DistOptions o, Params c, double t) : Family(std::move(o), std::move(c)), t_(t) {
    check_t();
  }
  RelaxedBernoulliDist(DistOptions o, Network n, double t) : Family(std::move(o), std::move(n)), t_(t) {
    check_t();
  }
  std::string type() const override { return "RelaxedBernoulli"; }
  bool has_rsample() const override { return true; }
  torch::Tensor sample_from(const Params& p, bool reparam) const override {
    // σ((logit π + L) / T) with L logistic noise.
    const double e = eps(p.at("probs"));
    auto u = torch::rand_like(p.at("probs")).clamp(e, 1 - e);
    auto y = relax(p.at("probs"), u.log() - (-u).log1p());
    return reparam ? y : y.detach();
  }
  torch::Tensor log_prob_from(const Params& p, const torch::Tensor& y) const override {
    // The logistic density at x = logit(y), less log|dy/dx| = log y(1 − y).
    const double e = eps(y);
    auto yc = y.clamp(e, 1 - e);
    auto x = yc.log() - (-yc).log1p();
    auto diff = logit(p.at("probs")) - x * t_;
    return std::log(t_) + diff - 2 * torch::softplus(diff) - yc.log() - (-yc).log1p();
  }
  // No closed forms: expectations over the logistic noise's quantiles.
  torch::Tensor entropy_from(const Params& p) const override {
    // y = σ(s) with s = (logit π + L)/T logistic of scale 1/T: H[y] = H[s] + E[log σ'(s)]
    // = 2 − log T − E[softplus(s) + softplus(−s)].
    auto u = grid_like(midpoints(p.at("probs").options()), p.at("probs"));
    auto s_ = (logit(p.at("probs")).unsqueeze(0) + u.log() - (-u).log1p()) / t_;
    return 2 - std::log(t_) - (torch::softplus(s_) + torch::softplus(-s_)).mean(0);
  }
  torch::Tensor mean_from(const Params& p) const override { return on_grid(p).mean(0); }
  torch::Tensor variance_from(const Params& p) const override {
    auto y = on_grid(p);
    return y.var(0, /*unbiased=*/false);
  }
  std::vector<std::string> param_names() const override { return {"probs"}; }

 protected:
  void check(const Params& p) const override {
    torch::NoGradGuard no_grad;
    if (!((p.at("probs") > 0) & (p.at("probs") < 1)).all().item<bool>()) fail("probs must lie in (0, 1)");
  }

 private:
  void check_t() const {
    if (!(t_ > 0)) fail("temperature must be positive, got " + std::to_string(t_));
  }
  static torch::Tensor logit(const torch::Tensor& q) { return q.log() - (-q).log1p(); }
  torch::Tensor relax(const torch::Tensor& probs, const torch::Tensor& noise) const {
    const double e = eps(probs);
    return torch::sigmoid((logit(probs) + noise) / t_).clamp(e, 1 - e);
  }
  // Keeps y off 0 and 1 by what the precision resolves.
  static double eps(const torch::Tensor& t) { return t.scalar_type() == torch::kFloat64 ? 1e-15 : 1e-7; }
  torch::Tensor on_grid(const Params& p) const {
    auto u = grid_like(midpoints(p.at("probs").options()), p.at("probs"));
    return relax(p.at("probs").unsqueeze(0), u.log() - (-u).log1p());
  }
  double t_;
};

class RelaxedOneHotCategoricalDist : public Family<RelaxedOneHotCategoricalDist> {
 public:
  RelaxedOneHotCategoricalDist(DistOptions o, Params c, double t)
      : Family(std::move(o), std::move(c)), t_(t) {
    check_t();
  }
  RelaxedOneHotCategoricalDist(DistOptions o, Network n, double t)
      : Family(std::move(o), std::move(n)), t_(t) {
    check_t();
  }
  std::string type() const override { return "RelaxedOneHotCategorical"; }
  bool has_rsample() const override { return true; }
  torch::Tensor sample_from(const Params& p, bool reparam) const override {
    auto y = draw(p.at("probs"), torch::rand_like(p.at("probs")));
    return reparam ? y : y.detach();
  }
  torch::Tensor log_prob_from(const Params& p, const torch::Tensor& y) const override {
    // The Concrete density (Maddison et al. 2017, eq. 9) over the first K − 1 coordinates:
    // (K−1)! T^(K−1) Π π_k y_k^(−T−1) / (Σ π_i y_i^(−T))^K.
    const auto k = static_cast<double>(p.at("probs").size(-1));
    auto logy = y.clamp_min(1e-12).log();
    auto logpi = p.at("probs").clamp_min(1e-12).log();
    return std::lgamma(k) + (k - 1) * std::log(t_) + (logpi - (t_ + 1) * logy).sum(-1) -
           k * torch::logsumexp(logpi - t_ * logy, -1);
  }
  // No closed forms: estimates from a fixed set of draws.
  torch::Tensor entropy_from(const Params& p) const override {
    auto y = draws(p);
    return -log_prob_from({{"probs", lead(p.at("probs"), kMonteCarlo)}}, y).mean(0);
  }
  torch::Tensor mean_from(const Params& p) const override { return draws(p).mean(0); }
  torch::Tensor variance_from(const Params& p) const override { return draws(p).var(0, false); }
  std::vector<std::string> param_names() const override { return {"probs"}; }
  std::int64_t feature_dims(const Params& p, bool batched) const override {
    return Distribution::feature_dims(p, batched) - 1;
  }

 protected:
  void check(const Params& p) const override { simplex(p, "probs"); }

 private:
  void check_t() const {
    if (!(t_ > 0)) fail("temperature must be positive, got " + std::to_string(t_));
  }
  // softmax((log π + g) / T) with g = −log(−log u) Gumbel noise.
  torch::Tensor draw(const torch::Tensor& probs, const torch::Tensor& u) const {
    auto g = -(-u.clamp(1e-10, 1 - 1e-7).log()).log();
    return torch::softmax((probs.clamp_min(1e-12).log() + g) / t_, -1).clamp_min(1e-12);
  }
  torch::Tensor draws(const Params& p) const {
    torch::NoGradGuard no_grad;
    auto gen = estimate_generator();
    const auto& probs = p.at("probs");
    std::vector<std::int64_t> shape{kMonteCarlo};
    shape.insert(shape.end(), probs.sizes().begin(), probs.sizes().end());
    return draw(probs.unsqueeze(0), torch::rand(shape, gen, probs.options()));
  }
  double t_;
};

// Diagonal or full covariance over the last axis; `full` reads scale_tril, else scale.
class MultivariateNormalDist : public Family<MultivariateNormalDist> {
 public:
  MultivariateNormalDist(DistOptions o, Params c, bool full)
      : Family(std::move(o), std::move(c)), full_(full) {}
  MultivariateNormalDist(DistOptions o, Network n, bool full)
      : Family(std::move(o), std::move(n)), full_(full) {}
  std::string type() const override { return full_ ? "MultivariateNormal" : "MultivariateNormalDiag"; }
  bool has_rsample() const override { return true; }
  torch::Tensor sample_from(const Params& p, bool reparam) const override {
    const auto& loc = p.at("loc");
    auto eps = torch::randn_like(loc);
    auto x = full_ ? loc + torch::matmul(p.at("scale_tril"), eps.unsqueeze(-1)).squeeze(-1)
                   : loc + p.at("scale") * eps;
    return reparam ? x : x.detach();
  }
  torch::Tensor log_prob_from(const Params& p, const torch::Tensor& x) const override {
    // −½(D log 2π + |L⁻¹(x − μ)|²) − Σ log diag L
    const auto d = static_cast<double>(p.at("loc").size(-1));
    auto diff = x - p.at("loc");
    torch::Tensor white;
    if (full_) {
      auto [tril, d] = batch_like(p.at("scale_tril"), diff);
      white = torch::linalg_solve_triangular(tril, d.unsqueeze(-1), /*upper=*/false).squeeze(-1);
    } else {
      white = diff / p.at("scale");
    }
    return -0.5 * (d * kLog2Pi + white.square().sum(-1)) - log_det_half(p);
  }
  torch::Tensor entropy_from(const Params& p) const override {
    const auto d = static_cast<double>(p.at("loc").size(-1));
    return 0.5 * d * (1 + kLog2Pi) + log_det_half(p);
  }
  torch::Tensor mean_from(const Params& p) const override { return p.at("loc"); }
  torch::Tensor variance_from(const Params& p) const override {
    return full_ ? p.at("scale_tril").square().sum(-1) : p.at("scale").square();
  }
  std::vector<std::string> param_names() const override { return {"loc", full_ ? "scale_tril" : "scale"}; }
  std::int64_t feature_dims(const Params& p, bool batched) const override {
    return Distribution::feature_dims(p, batched) - 1;
  }

 protected:
  void check(const Params& p) const override {
    if (!full_) {
      same_shape(p, "loc", "scale");
      positive(p, "scale");
      return;
    }
    const auto& l = p.at("scale_tril");
    const auto d = p.at("loc").size(-1);
    if (l.dim() < 2 || l.size(-1) != d || l.size(-2) != d) {
      fail("scale_tril must be [.., " + std::to_string(d) + ", " + std::to_string(d) + "], got " +
           c10::str(l.sizes()));
    }
    torch::NoGradGuard no_grad;
    if (!(l.diagonal(0, -2, -1) > 0).all().item<bool>()) fail("scale_tril must have a positive diagonal");
  }

 private:
  // Σ log diag L = ½ log det Σ.
  torch::Tensor log_det_half(const Params& p) const {
    return full_ ? p.at("scale_tril").diagonal(0, -2, -1).log().sum(-1) : p.at("scale").log().sum(-1);
  }
  bool full_;
};

class MixtureOfNormalDist : public Family<MixtureOfNormalDist> {
 public:
  using Family::Family;
  std::string type() const override { return "MixtureOfNormal"; }
  bool has_rsample() const override { return false; }
  torch::Tensor sample_from(const Params& p, bool) const override {
    torch::NoGradGuard no_grad;
    const auto& w = p.at("weights");
    auto k = torch::multinomial(w.reshape({-1, w.size(-1)}), 1, true).view(w.sizes().slice(0, w.dim() - 1));
    auto pick = [&](const torch::Tensor& t) {  // t [.., K, D] at component k [..]
      auto idx = k.unsqueeze(-1).unsqueeze(-1).expand(t.sizes().vec()).narrow(-2, 0, 1);
      return t.gather(-2, idx).squeeze(-2);
    };
    return at::normal(pick(p.at("loc")), pick(p.at("scale")));
  }
  torch::Tensor log_prob_from(const Params& p, const torch::Tensor& x) const override {
    // log Σ_k w_k N(x; μ_k, σ_k), through logsumexp.
    const auto &loc = p.at("loc"), &scale = p.at("scale");
    auto xk = x.unsqueeze(-2);
    auto comp = (-(xk - loc).square() / (2 * scale.square()) - scale.log() - 0.5 * kLog2Pi).sum(-1);
    return torch::logsumexp(p.at("weights").clamp_min(1e-12).log() + comp, -1);
  }
  torch::Tensor entropy_from(const Params& p) const override {
    // No closed form: −E[log p] over a fixed set of draws.
    torch::NoGradGuard no_grad;
    auto gen = estimate_generator();
    const auto& w = p.at("weights");
    auto flat_w = w.reshape({-1, w.size(-1)});
    auto k = torch::multinomial(flat_w, kMonteCarlo, true, gen).t().reshape([&] {
      std::vector<std::int64_t> s{kMonteCarlo};
      s.insert(s.end(), w.sizes().begin(), w.sizes().end() - 1);
      return s;
    }());
    Params many;
    for (const auto& [name, t] : p) many[name] = lead(t, kMonteCarlo);
    auto idx = k.unsqueeze(-1).unsqueeze(-1).expand(many.at("loc").sizes().vec()).narrow(-2, 0, 1);
    auto mu = many.at("loc").gather(-2, idx).squeeze(-2), sd = many.at("scale").gather(-2, idx).squeeze(-2);
    auto x = mu + sd * torch::randn(mu.sizes(), gen, mu.options());
    return -log_prob_from(many, x).mean(0);
  }
  torch::Tensor mean_from(const Params& p) const override {
    return (p.at("weights").unsqueeze(-1) * p.at("loc")).sum(-2);
  }
  torch::Tensor variance_from(const Params& p) const override {
    auto w = p.at("weights").unsqueeze(-1);
    auto second = (w * (p.at("scale").square() + p.at("loc").square())).sum(-2);
    return second - mean_from(p).square();
  }
  std::vector<std::string> param_names() const override { return {"weights", "loc", "scale"}; }
  // weights [.., K] hold no feature axis; log_prob_from sums the components' D.
  std::int64_t feature_dims(const Params& p, bool batched) const override {
    return Distribution::feature_dims(p, batched) - 1;
  }

 protected:
  void check(const Params& p) const override {
    simplex(p, "weights");
    same_shape(p, "loc", "scale");
    positive(p, "scale");
    const auto &w = p.at("weights"), &loc = p.at("loc");
    if (loc.dim() != w.dim() + 1 || loc.size(-2) != w.size(-1)) {
      fail("loc and scale must be [.., K, D] for weights [.., K]; got weights " + c10::str(w.sizes()) +
           " and loc " + c10::str(loc.sizes()));
    }
  }
};

class TanhNormalDist : public Family<TanhNormalDist> {
 public:
  using Family::Family;
  std::string type() const override { return "TanhNormal"; }
  bool has_rsample() const override { return true; }
  torch::Tensor sample_from(const Params& p, bool reparam) const override {
    auto x = torch::tanh(p.at("loc") + p.at("scale") * torch::randn_like(p.at("loc")));
    return reparam ? x : x.detach();
  }
  torch::Tensor log_prob_from(const Params& p, const torch::Tensor& x) const override {
    // N(u; μ, σ) − log(1 − tanh²u), u = atanh x; log(1 − tanh²u) = 2(log 2 − u − softplus(−2u)) stays
    // finite where tanh saturates.
    auto u = torch::atanh(x.clamp(-1 + 1e-6, 1 - 1e-6));
    const auto &loc = p.at("loc"), &scale = p.at("scale");
    auto normal = -(u - loc).square() / (2 * scale.square()) - scale.log() - 0.5 * kLog2Pi;
    return normal - log_det(u);
  }
  // No closed forms: expectations over the Normal's quantiles.
  torch::Tensor entropy_from(const Params& p) const override {
    auto u = on_grid(p);
    return 0.5 + 0.5 * kLog2Pi + p.at("scale").log() + log_det(u).mean(0);
  }
  torch::Tensor mean_from(const Params& p) const override { return torch::tanh(on_grid(p)).mean(0); }
  torch::Tensor variance_from(const Params& p) const override {
    return torch::tanh(on_grid(p)).var(0, false);
  }
  std::vector<std::string> param_names() const override { return {"loc", "scale"}; }

 protected:
  void check(const Params& p) const override {
    same_shape(p, "loc", "scale");
    positive(p, "scale");
  }

 private:
  static torch::Tensor log_det(const torch::Tensor& u) { return 2 * (kLog2 - u - torch::softplus(-2 * u)); }
  static torch::Tensor on_grid(const Params& p) {
    const auto &loc = p.at("loc"), &scale = p.at("scale");
    auto z = grid_like(std::sqrt(2.0) * torch::erfinv(2 * midpoints(loc.options()) - 1), loc);
    return loc.unsqueeze(0) + scale.unsqueeze(0) * z;
  }
};

}  // namespace

DistPtr RelaxedBernoulli(torch::Tensor probs, double temperature, DistOptions o) {
  return make<RelaxedBernoulliDist>(std::move(o), {{"probs", std::move(probs)}}, temperature);
}
DistPtr RelaxedBernoulli(Network net, double temperature, DistOptions o) {
  return make<RelaxedBernoulliDist>(std::move(o), std::move(net), temperature);
}
DistPtr RelaxedOneHotCategorical(torch::Tensor probs, double temperature, DistOptions o) {
  return make<RelaxedOneHotCategoricalDist>(std::move(o), {{"probs", std::move(probs)}}, temperature);
}
DistPtr RelaxedOneHotCategorical(Network net, double temperature, DistOptions o) {
  return make<RelaxedOneHotCategoricalDist>(std::move(o), std::move(net), temperature);
}
DistPtr MultivariateNormalDiag(torch::Tensor loc, torch::Tensor scale, DistOptions o) {
  return make<MultivariateNormalDist>(std::move(o), {{"loc", std::move(loc)}, {"scale", std::move(scale)}},
                                      false);
}
DistPtr MultivariateNormalDiag(Network net, DistOptions o) {
  return make<MultivariateNormalDist>(std::move(o), std::move(net), false);
}
DistPtr MultivariateNormal(torch::Tensor loc, torch::Tensor scale_tril, DistOptions o) {
  return make<MultivariateNormalDist>(std::move(o),
                                      {{"loc", std::move(loc)}, {"scale_tril", std::move(scale_tril)}}, true);
}
DistPtr MultivariateNormal(Network net, DistOptions o) {
  return make<MultivariateNormalDist>(std::move(o), std::move(net), true);
}
torch::Tensor mvn_scale_tril(const torch::Tensor& covariance) {
  auto [l, info] = torch::linalg_cholesky_ex(covariance);
  if (info.ne(0).any().item<bool>())
    throw Error("MultivariateNormal: the covariance is not positive definite");
  return l;
}
DistPtr MixtureOfNormal(torch::Tensor weights, torch::Tensor loc, torch::Tensor scale, DistOptions o) {
  return make<MixtureOfNormalDist>(
      std::move(o), {{"weights", std::move(weights)}, {"loc", std::move(loc)}, {"scale", std::move(scale)}});
}
DistPtr MixtureOfNormal(Network net, DistOptions o) {
  return make<MixtureOfNormalDist>(std::move(o), std::move(net));
}
DistPtr TanhNormal(torch::Tensor loc, torch::Tensor scale, DistOptions o) {
  return make<TanhNormalDist>(std::move(o), {{"loc", std::move(loc)}, {"scale", std::move(scale)}});
}
DistPtr TanhNormal(Network net, DistOptions o) { return make<TanhNormalDist>(std::move(o), std::move(net)); }

// The multivariate KLs (continuous.cpp holds the parameters' layout); an undefined tensor when the
// pair has no formula here.
torch::Tensor analytic_kl_mvn(const Distribution& q, const Params& qp, const Distribution& p,
                              const Params& pp) {
  auto is_mvn = [](const Distribution& d) {
    return d.type() == "MultivariateNormal" || d.type() == "MultivariateNormalDiag";
  };
  if (!is_mvn(q) || !is_mvn(p)) return {};
  auto tril = [](const Distribution& d, const Params& ps) {
    return d.type() == "MultivariateNormal" ? ps.at("scale_tril") : torch::diag_embed(ps.at("scale"));
  };
  // ½[tr(Σp⁻¹Σq) + (μp − μq)ᵀΣp⁻¹(μp − μq) − D + log det Σp − log det Σq], with Σ = LLᵀ.
  auto lq = tril(q, qp), lp = tril(p, pp);
  auto [lp_b, diff] = batch_like(lp, pp.at("loc") - qp.at("loc"));
  auto m = torch::linalg_solve_triangular(lp_b, lq.expand(lp_b.sizes()), /*upper=*/false);
  auto w = torch::linalg_solve_triangular(lp_b, diff.unsqueeze(-1), /*upper=*/false);
  const auto d = static_cast<double>(qp.at("loc").size(-1));
  auto logdet = [](const torch::Tensor& l) { return l.diagonal(0, -2, -1).log().sum(-1); };
  return 0.5 * (m.square().sum({-2, -1}) + w.square().sum({-2, -1}) - d) + logdet(lp) - logdet(lq);
}

}  // namespace dojo::prob
