#include "prob/rbm.h"

#include <torch/torch.h>

#include <chrono>
#include <cmath>

#include "core/error.h"

namespace dojo::prob {

RbmImpl::RbmImpl(std::int64_t visible, std::int64_t hidden, std::string visible_type)
    : visible_type_(std::move(visible_type)) {
  if (visible <= 0 || hidden <= 0)
    throw Error("rbm: " + std::to_string(visible) + " visible and " + std::to_string(hidden) +
                " hidden units: expected both > 0");
  if (visible_type_ != "bernoulli" && visible_type_ != "gaussian")
    throw Error("rbm: visible_type '" + visible_type_ + "': expected bernoulli or gaussian");
  // Hinton's guide: small random weights (std 0.01), hidden biases 0.
  W = register_parameter("W", torch::randn({visible, hidden}) * 0.01);
  b = register_parameter("b", torch::zeros({visible}));
  c = register_parameter("c", torch::zeros({hidden}));
}

torch::Tensor RbmImpl::hidden_probs(const torch::Tensor& v) const {
  return torch::sigmoid(torch::addmm(c, v, W));
}

torch::Tensor RbmImpl::visible_mean(const torch::Tensor& h) const {
  const auto a = torch::addmm(b, h, W.t());
  return visible_type_ == "bernoulli" ? torch::sigmoid(a) : a;
}

torch::Tensor RbmImpl::sample_hidden(const torch::Tensor& v) const {
  return torch::bernoulli(hidden_probs(v));
}

torch::Tensor RbmImpl::sample_visible(const torch::Tensor& h) const {
  const auto mean = visible_mean(h);
  return visible_type_ == "bernoulli" ? torch::bernoulli(mean) : mean + torch::randn_like(mean);
}

torch::Tensor RbmImpl::gibbs(torch::Tensor v, std::int64_t steps) const {
  for (std::int64_t i = 0; i < steps; ++i) v = sample_visible(sample_hidden(v));
  return v;
}

torch::Tensor RbmImpl::free_energy(const torch::Tensor& v) const {
  const auto hidden_term = torch::softplus(torch::addmm(c, v, W)).sum(1);
  if (visible_type_ == "bernoulli") return -torch::mv(v, b) - hidden_term;
  return 0.5 * (v - b).pow(2).sum(1) - hidden_term;
}

void RbmImpl::init_visible_bias(const torch::Tensor& data) {
  torch::NoGradGuard no_grad;
  const auto mean = data.mean(0);
  b.copy_(visible_type_ == "bernoulli" ? torch::logit(mean.clamp(1e-3, 1 - 1e-3)) : mean);
}

namespace {

void check_data(const RbmImpl& rbm, const torch::Tensor& data, const std::string& who) {
  if (data.dim() != 2 || data.size(1) != rbm.visible())
    throw Error(who + ": data of shape " + c10::str(data.sizes()) + ", expected [N, " +
                std::to_string(rbm.visible()) + "]");
  if (data.size(0) == 0) throw Error(who + ": no rows of data");
}

}  // namespace

std::vector<RbmEpoch> train_rbm(Rbm& rbm, const torch::Tensor& data, const RbmTrainOptions& options,
                                const std::function<void(const RbmEpoch&)>& on_epoch) {
  auto o = options;
  core::check_options(o);
  check_data(*rbm, data, "train_rbm");
  // Weight decay on W alone: biases are not penalised (Hinton's guide).
  std::vector<torch::optim::OptimizerParamGroup> groups;
  groups.emplace_back(std::vector<torch::Tensor>{rbm->W},
                      std::make_unique<torch::optim::SGDOptions>(
                          torch::optim::SGDOptions(o.learning_rate()).weight_decay(o.weight_decay())));
  groups.emplace_back(std::vector<torch::Tensor>{rbm->b, rbm->c},
                      std::make_unique<torch::optim::SGDOptions>(o.learning_rate()));
  torch::optim::SGD sgd(groups, torch::optim::SGDOptions(o.learning_rate()));

  const auto n = data.size(0);
  torch::Tensor chains;  // PCD's fantasy particles, started at data rows
  if (o.persistent())
    chains = data.index_select(0, torch::randperm(n).slice(0, 0, std::min(n, o.batch_size())));
  std::vector<RbmEpoch> history;
  for (std::int64_t epoch = 1; epoch <= o.epochs(); ++epoch) {
    const auto t0 = std::chrono::steady_clock::now();
    const double share =
        o.epochs() > 1 ? static_cast<double>(epoch - 1) / static_cast<double>(o.epochs() - 1) : 0;
    const double lr = o.learning_rate() + share * (o.final_learning_rate() - o.learning_rate());
    const double momentum = epoch <= o.momentum_epochs() ? o.momentum() : o.final_momentum();
    for (auto& g : sgd.param_groups()) {
      auto& so = static_cast<torch::optim::SGDOptions&>(g.options());
      so.lr(lr);
      so.momentum(momentum);
    }
    const auto order = torch::randperm(n);
    double error = 0;
    for (std::int64_t start = 0; start < n; start += o.batch_size()) {
      const auto v0 = data.index_select(0, order.slice(0, start, std::min(n, start + o.batch_size())));
      torch::Tensor negative;
      {
        torch::NoGradGuard no_grad;
        negative = rbm->gibbs(o.persistent() ? chains : v0, o.k());
        if (o.persistent()) chains = negative;
        error += (rbm->visible_mean(rbm->hidden_probs(v0)) - v0).pow(2).sum().item<double>();
      }
      // The gradient of this loss is CD's (or PCD's) estimate of −∂ log p(v0)/∂θ.
      const auto loss = rbm->free_energy(v0).mean() - rbm->free_energy(negative).mean();
      sgd.zero_grad();
      loss.backward();
      sgd.step();
    }
    RbmEpoch e{epoch, error / static_cast<double>(n * rbm->visible()),
               std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count()};
    history.push_back(e);
    if (on_epoch) on_epoch(e);
  }
  return history;
}

namespace {

void require_bernoulli(const RbmImpl& rbm, const std::string& who) {
  if (rbm.visible_type() != "bernoulli")
    throw Error(who + ": an RBM with " + rbm.visible_type() + " visible units: expected bernoulli");
}

// Salakhutdinov & Murray's inverse temperatures, 0 … 1, `count` steps in their proportions.
std::vector<double> ais_schedule(std::int64_t count) {
  const auto n1 = std::max<std::int64_t>(1, count * 500 / 14'500);
  const auto n2 = std::max<std::int64_t>(1, count * 4'000 / 14'500);
  const auto n3 = std::max<std::int64_t>(1, count - n1 - n2);
  std::vector<double> betas{0.0};
  const auto segment = [&](double from, double to, std::int64_t steps) {
    for (std::int64_t i = 1; i <= steps; ++i)
      betas.push_back(from + (to - from) * static_cast<double>(i) / static_cast<double>(steps));
  };
  segment(0.0, 0.5, n1);
  segment(0.5, 0.9, n2);
  segment(0.9, 1.0, n3);
  return betas;
}

}  // namespace

PartitionEstimate ais_log_partition(const Rbm& rbm, const torch::Tensor& base_visible_bias, std::int64_t runs,
                                    std::int64_t betas) {
  require_bernoulli(*rbm, "ais_log_partition");
  if (runs < 2 || betas < 3)
    throw Error("ais_log_partition: " + std::to_string(runs) + " runs and " + std::to_string(betas) +
                " temperatures: expected at least 2 and 3");
  if (base_visible_bias.dim() != 1 || base_visible_bias.size(0) != rbm->visible())
    throw Error("ais_log_partition: base visible biases of shape " + c10::str(base_visible_bias.sizes()) +
                ", expected [" + std::to_string(rbm->visible()) + "]");
  torch::NoGradGuard no_grad;
  const auto W = rbm->W.detach(), b = rbm->b.detach(), c = rbm->c.detach();
  const auto bA = base_visible_bias.to(torch::kFloat32);
  const auto H = static_cast<double>(rbm->hidden());
  // The intermediate models p_β(v) ∝ exp((1−β) v·b_A + β v·b) Π_j (1 + exp(β (vW + c)_j)); at β = 0
  // the base RBM (whose 2^H hidden states with no weights are in Z_0), at β = 1 the model.
  const auto log_pstar = [&](const torch::Tensor& v, const torch::Tensor& act, double beta) {
    return ((1 - beta) * torch::mv(v, bA) + beta * torch::mv(v, b) + torch::softplus(beta * act).sum(1))
        .to(torch::kFloat64);
  };
  const double log_z0 = torch::softplus(bA).sum().item<double>() + H * std::log(2.0);
  const auto schedule = ais_schedule(betas);
  auto v = torch::bernoulli(torch::sigmoid(bA).expand({runs, rbm->visible()}).contiguous());
  auto log_w = torch::zeros({runs}, torch::kFloat64);
  for (std::size_t k = 1; k < schedule.size(); ++k) {
    const auto act = torch::addmm(c, v, W);
    log_w += log_pstar(v, act, schedule[k]) - log_pstar(v, act, schedule[k - 1]);
    if (k + 1 < schedule.size()) {  // a Gibbs step that leaves p_βk invariant
      const double beta = schedule[k];
      const auto h = torch::bernoulli(torch::sigmoid(beta * act));
      v = torch::bernoulli(torch::sigmoid((1 - beta) * bA + beta * torch::addmm(b, h, W.t())));
    }
  }
  const double top = log_w.max().item<double>();
  const auto w = torch::exp(log_w - top);
  const double mean = w.mean().item<double>();
  const double se = w.std().item<double>() / std::sqrt(static_cast<double>(runs));
  PartitionEstimate e;
  e.log_z = log_z0 + top + std::log(mean);
  e.log_z_high = log_z0 + top + std::log(mean + 3 * se);
  e.log_z_low = log_z0 + top + std::log(std::max(mean - 3 * se, 1e-300));
  e.effective_runs = std::pow(w.sum().item<double>(), 2) / w.pow(2).sum().item<double>();
  return e;
}

double exact_log_partition(const Rbm& rbm) {
  require_bernoulli(*rbm, "exact_log_partition");
  const auto H = rbm->hidden();
  if (H > 24)
    throw Error("exact_log_partition: " + std::to_string(H) +
                " hidden units: expected at most 24 (2^H terms)");
  torch::NoGradGuard no_grad;
  const auto W = rbm->W.detach().to(torch::kFloat64), b = rbm->b.detach().to(torch::kFloat64),
             c = rbm->c.detach().to(torch::kFloat64);
  const std::int64_t total = std::int64_t{1} << H, chunk = std::int64_t{1} << 16;
  const auto bits = torch::pow(2, torch::arange(H, torch::kLong));
  std::vector<torch::Tensor> parts;
  for (std::int64_t start = 0; start < total; start += chunk) {
    const auto ids = torch::arange(start, std::min(total, start + chunk), torch::kLong);
    const auto h = ids.unsqueeze(1).bitwise_and(bits).ne(0).to(torch::kFloat64);
    // log Σ_v exp(−E(v, h)) = c·h + Σ_i softplus(b_i + (W h)_i)
    parts.push_back(torch::logsumexp(torch::mv(h, c) + torch::softplus(torch::addmm(b, h, W.t())).sum(1), 0));
  }
  return torch::logsumexp(torch::stack(parts), 0).item<double>();
}

double log_likelihood(const Rbm& rbm, const torch::Tensor& data, double log_z) {
  check_data(*rbm, data, "log_likelihood");
  torch::NoGradGuard no_grad;
  return -rbm->free_energy(data).to(torch::kFloat64).mean().item<double>() - log_z;
}

Dbn::Dbn(std::int64_t visible, const std::vector<std::int64_t>& sizes, const std::string& visible_type) {
  if (sizes.empty()) throw Error("dbn: no hidden layers: expected one size or more");
  std::int64_t below = visible;
  for (std::size_t l = 0; l < sizes.size(); ++l) {
    layers.emplace_back(below, sizes[l], l == 0 ? visible_type : "bernoulli");
    below = sizes[l];
  }
}

torch::Tensor Dbn::up(const torch::Tensor& v) const {
  torch::NoGradGuard no_grad;
  auto x = v;
  for (const auto& rbm : layers) x = rbm->hidden_probs(x);
  return x;
}

torch::Tensor Dbn::sample(std::int64_t n, std::int64_t steps) const {
  torch::NoGradGuard no_grad;
  const auto& top = layers.back();
  // The top RBM is the DBN's undirected associative memory: run its chain, then go down the directed
  // layers with their means.
  auto x = top->visible_mean(
      top->hidden_probs(top->gibbs(torch::bernoulli(torch::full({n, top->visible()}, 0.5)), steps)));
  for (auto l = layers.size() - 1; l-- > 0;) x = layers[l]->visible_mean(x);
  return x;
}

std::vector<std::vector<RbmEpoch>> train_dbn(
    Dbn& dbn, const torch::Tensor& data, const RbmTrainOptions& options,
    const std::function<void(std::size_t, const RbmEpoch&)>& on_epoch) {
  std::vector<std::vector<RbmEpoch>> history;
  auto x = data;
  for (std::size_t l = 0; l < dbn.layers.size(); ++l) {
    auto& rbm = dbn.layers[l];
    rbm->init_visible_bias(x);
    history.push_back(train_rbm(rbm, x, options, [&](const RbmEpoch& e) {
      if (on_epoch) on_epoch(l, e);
    }));
    torch::NoGradGuard no_grad;
    x = rbm->hidden_probs(x);
  }
  return history;
}

}  // namespace dojo::prob
