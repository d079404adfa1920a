#include "prob/distribution.h"

#include <fmt/format.h>
#include <torch/torch.h>

#include <cmath>
#include <ostream>

#include "core/error.h"
#include "core/strings.h"

namespace dojo::prob {

namespace {}

Distribution::Distribution(DistOptions o, Params constants)
    : o_(std::move(o)), constants_(std::move(constants)) {
  if (o_.var.empty()) throw Error("a distribution needs at least one variable (var)");
}

Network::Network(nn::Model model)
    : forward([m = model.ptr()](const std::vector<torch::Tensor>& xs) { return m->predict_batch(xs); }),
      parameters([m = model.ptr()] { return m->parameters(); }),
      set_training([m = model.ptr()](bool on) { m->train(on); }),
      to([m = model.ptr()](c10::Device d) { m->to(d); }),
      inputs(model->inputs().size()) {}

Network::Network(std::shared_ptr<torch::nn::Module> module, Forward f, std::size_t n_inputs)
    : forward(std::move(f)),
      parameters([module] { return module->parameters(); }),
      set_training([module](bool on) { module->train(on); }),
      to([module](c10::Device d) { module->to(d); }),
      inputs(n_inputs) {}

Distribution::Distribution(DistOptions o, Network net)
    : o_(std::move(o)), net_(std::make_shared<Network>(std::move(net))) {
  if (o_.var.empty()) throw Error("a distribution needs at least one variable (var)");
  if (o_.cond_var.empty()) throw Error(prob_text() + ": a network needs conditioning variables (cond_var)");
  if (net_->inputs != o_.cond_var.size()) {
    throw Error(prob_text() + ": the network takes " + std::to_string(net_->inputs) + " inputs but " +
                std::to_string(o_.cond_var.size()) + " conditioning variables are named");
  }
}

void Distribution::fail(const std::string& what) const {
  throw Error(type() + " " + prob_text() + ": " + what);
}

std::string Distribution::prob_text() const {
  if (o_.cond_var.empty()) return fmt::format("{}({})", o_.name, core::join(o_.var, ","));
  return fmt::format("{}({}|{})", o_.name, core::join(o_.var, ","), core::join(o_.cond_var, ","));
}

std::ostream& operator<<(std::ostream& out, const Distribution& d) { return out << d.formula(); }

Params Distribution::params(const Dict& given, std::int64_t batch_n) const {
  Params p;
  if (net_) {
    std::vector<torch::Tensor> xs;
    for (const auto& v : o_.cond_var) {
      auto it = given.find(v);
      if (it == given.end()) fail("needs the conditioning variable '" + v + "'");
      xs.push_back(it->second);
    }
    auto out = net_->forward(xs);
    const auto names = param_names();
    if (out.size() != names.size()) {
      fail("the network gives " + std::to_string(out.size()) + " outputs, expected " +
           std::to_string(names.size()) + " (" + core::join(names, ", ") + ")");
    }
    for (std::size_t i = 0; i < names.size(); ++i) p[names[i]] = out[i];
  } else {
    for (const auto& [k, v] : constants_) {
      if (batch_n > 0) {
        std::vector<std::int64_t> shape{batch_n};
        shape.insert(shape.end(), v.sizes().begin(), v.sizes().end());
        p[k] = v.unsqueeze(0).expand(shape);
      } else {
        p[k] = v;
      }
    }
  }
  check(p);
  return p;
}

std::int64_t Distribution::feature_dims(const Params& p, bool batched) const {
  return p.at(param_names()[0]).dim() - (batched ? 1 : 0);
}

namespace {
// Sums the trailing `dims` axes of t.
torch::Tensor sum_last(const torch::Tensor& t, std::int64_t dims) {
  if (dims <= 0) return t;
  std::vector<std::int64_t> axes;
  for (std::int64_t d = t.dim() - dims; d < t.dim(); ++d) axes.push_back(d);
  return t.sum(axes);
}
}  // namespace

Dict Distribution::sample(const Dict& given, SampleOptions o) const {
  if (o.reparam && !has_rsample()) fail("has no reparameterised samples (reparam = true)");
  std::int64_t n = o.batch_n;
  if (!net_ && n == 0) {
    // Without a network, draw as many samples as the batch of anything given, else one.
    n = given.empty() ? 1 : given.begin()->second.size(0);
  }
  auto p = params(given, net_ ? 0 : n);
  if (!o.sample_shape.empty()) {
    for (auto& [k, v] : p) {
      std::vector<std::int64_t> shape = o.sample_shape;
      shape.insert(shape.end(), v.sizes().begin(), v.sizes().end());
      auto lead = v;
      for (std::size_t i = 0; i < o.sample_shape.size(); ++i) lead = lead.unsqueeze(0);
      v = lead.expand(shape);
    }
  }
  Dict out = given;
  out[o_.var[0]] = sample_from(p, o.reparam);
  return out;
}

torch::Tensor Distribution::log_prob(const Dict& values, bool sum) const {
  auto it = values.find(o_.var[0]);
  if (it == values.end()) fail("log_prob needs a value of '" + o_.var[0] + "'");
  const auto p = params(values);
  auto lp = log_prob_from(p, it->second);
  if (!sum) return lp;
  return sum_last(lp, feature_dims(p, net_ != nullptr));
}

torch::Tensor Distribution::entropy(const Dict& given, bool sum) const {
  const auto p = params(given);
  auto h = entropy_from(p);
  if (!sum) return h;
  return net_ ? sum_last(h, std::max<std::int64_t>(0, h.dim() - 1)) : h.sum();
}

torch::Tensor Distribution::mean(const Dict& given) const { return mean_from(params(given)); }
torch::Tensor Distribution::variance(const Dict& given) const { return variance_from(params(given)); }

void Distribution::train(bool on) {
  if (net_) net_->set_training(on);
}

void Distribution::to(c10::Device device) {
  if (net_) net_->to(device);
  torch::NoGradGuard no_grad;
  for (auto& [name, t] : constants_) t.set_data(t.data().to(device));
}

std::vector<torch::Tensor> Distribution::parameters() const {
  if (net_) return net_->parameters();
  // Constants that require gradients are learnable too (maximum likelihood of p(x)).
  std::vector<torch::Tensor> out;
  for (const auto& [name, t] : constants_) {
    if (t.requires_grad()) out.push_back(t);
  }
  return out;
}

namespace {

class NormalDist : public Distribution {
 public:
  NormalDist(DistOptions o, Params c) : Distribution(std::move(o), std::move(c)) {}
  NormalDist(DistOptions o, Network net) : Distribution(std::move(o), std::move(net)) {}
  std::string type() const override { return "Normal"; }
  bool has_rsample() const override { return true; }
  torch::Tensor sample_from(const Params& p, bool reparam) const override {
    const auto& loc = p.at("loc");
    const auto& scale = p.at("scale");
    if (reparam) return loc + scale * torch::randn_like(loc);
    torch::NoGradGuard no_grad;
    return at::normal(loc, scale);
  }
  torch::Tensor log_prob_from(const Params& p, const torch::Tensor& x) const override {
    const auto& loc = p.at("loc");
    const auto& scale = p.at("scale");
    return -(x - loc).square() / (2 * scale.square()) - scale.log() - 0.5 * kLog2Pi;
  }
  torch::Tensor entropy_from(const Params& p) const override {
    return 0.5 + 0.5 * kLog2Pi + p.at("scale").log();
  }
  torch::Tensor mean_from(const Params& p) const override { return p.at("loc"); }
  torch::Tensor variance_from(const Params& p) const override { return p.at("scale").square(); }

 protected:
  std::vector<std::string> param_names() const override { return {"loc", "scale"}; }
  void check(const Params& p) const override {
    if (p.at("loc").sizes() != p.at("scale").sizes()) {
      fail("loc " + c10::str(p.at("loc").sizes()) + " and scale " + c10::str(p.at("scale").sizes()) +
           " differ in shape");
    }
    torch::NoGradGuard no_grad;
    if (!(p.at("scale") > 0).all().item<bool>()) {
      fail("scale must be positive, got " + std::to_string(p.at("scale").min().item<double>()));
    }
  }
};

class BernoulliDist : public Distribution {
 public:
  BernoulliDist(DistOptions o, Params c, bool probs)
      : Distribution(std::move(o), std::move(c)), probs_(probs) {}
  BernoulliDist(DistOptions o, Network net, bool probs)
      : Distribution(std::move(o), std::move(net)), probs_(probs) {}
  std::string type() const override { return "Bernoulli"; }
  bool has_rsample() const override { return false; }
  torch::Tensor sample_from(const Params& p, bool) const override {
    torch::NoGradGuard no_grad;
    return torch::bernoulli(probs(p));
  }
  torch::Tensor log_prob_from(const Params& p, const torch::Tensor& x) const override {
    // x·l − softplus(l): the log-likelihood from logits without rounding probabilities to 0 or 1.
    auto l = logits(p);
    return x * l - torch::softplus(l);
  }
  torch::Tensor entropy_from(const Params& p) const override {
    auto l = logits(p);
    return torch::softplus(l) - l * torch::sigmoid(l);
  }
  torch::Tensor mean_from(const Params& p) const override { return probs(p); }
  torch::Tensor variance_from(const Params& p) const override {
    auto q = probs(p);
    return q * (1 - q);
  }
  torch::Tensor probs(const Params& p) const {
    return probs_ ? p.at("probs") : torch::sigmoid(p.at("logits"));
  }
  torch::Tensor logits(const Params& p) const {
    if (!probs_) return p.at("logits");
    auto q = p.at("probs").clamp(1e-7, 1 - 1e-7);
    return q.log() - (1 - q).log();
  }

 protected:
  std::vector<std::string> param_names() const override { return {probs_ ? "probs" : "logits"}; }
  void check(const Params& p) const override {
    if (!probs_) return;
    torch::NoGradGuard no_grad;
    const auto& q = p.at("probs");
    if (!((q >= 0) & (q <= 1)).all().item<bool>()) fail("probs must lie in [0, 1]");
  }

 private:
  bool probs_;
};

}  // namespace

DistPtr Normal(Network net, DistOptions o) {
  return std::make_shared<NormalDist>(std::move(o), std::move(net));
}
DistPtr Normal(torch::Tensor loc, torch::Tensor scale, DistOptions o) {
  return std::make_shared<NormalDist>(std::move(o),
                                      Params{{"loc", std::move(loc)}, {"scale", std::move(scale)}});
}
DistPtr standard_normal(std::vector<std::string> var, std::vector<std::int64_t> features, std::string name) {
  return Normal(torch::zeros(features), torch::ones(features),
                {.var = std::move(var), .name = std::move(name)});
}
DistPtr Bernoulli(Network net, DistOptions o, bool probs) {
  return std::make_shared<BernoulliDist>(std::move(o), std::move(net), probs);
}
DistPtr Bernoulli(torch::Tensor param, DistOptions o, bool probs) {
  return std::make_shared<BernoulliDist>(std::move(o), Params{{probs ? "probs" : "logits", std::move(param)}},
                                         probs);
}

}  // namespace dojo::prob
