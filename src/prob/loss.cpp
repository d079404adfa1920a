#include "prob/loss.h"

#include <fmt/format.h>
#include <torch/torch.h>

#include <ostream>

#include "core/error.h"
#include "nn/optim.h"

namespace dojo::prob {

namespace {

torch::Tensor sum_features(const torch::Tensor& t) {
  return t.dim() <= 1 ? t : t.reshape({t.size(0), -1}).sum(1);
}

// The number of samples in a Dict (the first tensor's batch), for parameters without a network.
std::int64_t batch_of(const Dict& values) { return values.empty() ? 0 : values.begin()->second.size(0); }

// Draws d's variables into a copy of `values`: a batch's worth where d has no conditioning variables.
Dict draw(const Distribution& d, const Dict& values, bool reparam,
          std::vector<std::int64_t> sample_shape = {}) {
  return d.sample(values, {.batch_n = d.conditional() ? 0 : std::max<std::int64_t>(1, batch_of(values)),
                           .sample_shape = std::move(sample_shape),
                           .reparam = reparam && d.has_rsample()});
}

// Formats a number the way a formula shows it: 2, 0.5, 600.
std::string number(double v) {
  auto s = fmt::format("{:.6f}", v);
  s.erase(s.find_last_not_of('0') + 1);
  if (s.back() == '.') s.pop_back();
  return s;
}

class ConstantNode : public LossNode {
 public:
  explicit ConstantNode(double v) : v_(v) {}
  torch::Tensor eval(Dict&) const override { return torch::scalar_tensor(v_); }
  std::string str() const override { return number(v_); }

 private:
  double v_;
};

class TensorNode : public LossNode {
 public:
  TensorNode(torch::Tensor t, std::string name) : t_(std::move(t)), name_(std::move(name)) {}
  torch::Tensor eval(Dict&) const override { return t_; }
  std::string str() const override { return name_; }

 private:
  torch::Tensor t_;
  std::string name_;
};

class BinaryNode : public LossNode {
 public:
  BinaryNode(char op, std::shared_ptr<LossNode> a, std::shared_ptr<LossNode> b)
      : op_(op), a_(std::move(a)), b_(std::move(b)) {}
  torch::Tensor eval(Dict& v) const override {
    auto x = a_->eval(v), y = b_->eval(v);
    switch (op_) {
      case '+':
        return x + y;
      case '-':
        return x - y;
      case '*':
        return x * y;
      default:
        return x / y;
    }
  }
  int precedence() const override { return op_ == '+' || op_ == '-' ? 1 : 2; }
  std::string str() const override {
    auto wrap = [&](const LossNode& n, bool right) {
      const bool paren = n.precedence() < precedence() ||
                         (right && n.precedence() == precedence() && (op_ == '-' || op_ == '/'));
      return paren ? fmt::format("({})", n.str()) : n.str();
    };
    return fmt::format("{} {} {}", wrap(*a_, false), op_, wrap(*b_, true));
  }

 private:
  char op_;
  std::shared_ptr<LossNode> a_, b_;
};

class UnaryNode : public LossNode {
 public:
  UnaryNode(std::string fn, std::shared_ptr<LossNode> a) : fn_(std::move(fn)), a_(std::move(a)) {}
  torch::Tensor eval(Dict& v) const override {
    auto x = a_->eval(v);
    if (fn_ == "mean") return x.mean();
    if (fn_ == "sum") return x.sum();
    if (fn_ == "abs") return x.abs();
    if (fn_ == "detach") return x.detach();
    return -x;
  }
  std::string str() const override {
    if (fn_ == "neg")
      return a_->precedence() < 3 ? fmt::format("-({})", a_->str()) : fmt::format("-{}", a_->str());
    return fmt::format("{}({})", fn_, a_->str());
  }

 private:
  std::string fn_;
  std::shared_ptr<LossNode> a_;
};

class LogProbNode : public LossNode {
 public:
  explicit LogProbNode(DistPtr p) : p_(std::move(p)) {}
  torch::Tensor eval(Dict& v) const override { return p_->log_prob(v); }
  std::string str() const override { return fmt::format("log {}", p_->prob_text()); }

 private:
  DistPtr p_;
};

class ProbNode : public LossNode {
 public:
  explicit ProbNode(DistPtr p) : p_(std::move(p)) {}
  torch::Tensor eval(Dict& v) const override { return p_->log_prob(v).exp(); }
  std::string str() const override { return p_->prob_text(); }

 private:
  DistPtr p_;
};

class EntropyNode : public LossNode {
 public:
  explicit EntropyNode(DistPtr p) : p_(std::move(p)) {}
  torch::Tensor eval(Dict& v) const override {
    return sum_features(p_->entropy_from(p_->params(v, p_->cond_var().empty() ? batch_of(v) : 0)));
  }
  std::string str() const override { return fmt::format("H[{}]", p_->prob_text()); }

 private:
  DistPtr p_;
};

torch::Tensor analytic_kl(const Distribution& q, const Params& qp, const Distribution& p, const Params& pp);

class KLNode : public LossNode {
 public:
  KLNode(DistPtr q, DistPtr p, KLOptions o) : q_(std::move(q)), p_(std::move(p)), o_(o) {
    if (q_->var() != p_->var()) {
      throw Error("KL: " + q_->prob_text() + " and " + p_->prob_text() + " are over different variables");
    }
    if (o_.samples < 1) throw Error("KL: samples must be at least 1, got " + std::to_string(o_.samples));
  }
  torch::Tensor eval(Dict& v) const override {
    if (kind(*q_) == Kind::kParametric && kind(*p_) == Kind::kParametric) {
      const auto n = batch_of(v);
      auto qp = q_->params(v, q_->cond_var().empty() ? n : 0);
      auto pp = p_->params(v, p_->cond_var().empty() ? n : 0);
      if (auto kl = analytic_kl(*q_, qp, *p_, pp); kl.defined()) return kl;
    }
    if (o_.analytic) kl_divergence(*q_, {}, *p_, {});  // throws, naming the pair
    // E_q[log q − log p] over `samples` reparameterised draws of q.
    auto z = draw(*q_, v, true, {o_.samples});
    return (q_->log_prob(z) - p_->log_prob(z)).mean(0);
  }
  std::string str() const override { return fmt::format("D_KL[{}||{}]", q_->prob_text(), p_->prob_text()); }

 private:
  enum class Kind { kParametric, kComposite };
  static Kind kind(const Distribution& d) {
    const auto& t = d.type();
    return t == "Joint" || t == "Marginal" || t == "Data" ? Kind::kComposite : Kind::kParametric;
  }
  DistPtr q_, p_;
  KLOptions o_;
};

class ExpectationNode : public LossNode {
 public:
  ExpectationNode(DistPtr q, std::shared_ptr<LossNode> inner, EOptions o)
      : q_(std::move(q)), inner_(std::move(inner)), o_(o) {
    if (o_.enumerate && q_->type() != "Categorical" && q_->type() != "OneHotCategorical") {
      throw Error("E: enumerating needs a Categorical or OneHotCategorical, got " + q_->type() + " " +
                  q_->prob_text());
    }
  }
  torch::Tensor eval(Dict& v) const override {
    if (o_.enumerate) return enumerated(v);
    // One sample of q's variables, reparameterised where q allows so gradients reach q's network.
    Dict with = draw(*q_, v, true);
    auto out = inner_->eval(with);
    for (const auto& name : q_->var()) v[name] = with[name];
    return out;
  }
  std::string str() const override { return fmt::format("E_{}[{}]", q_->prob_text(), inner_->str()); }

 private:
  // Σ_k q(k|…) · inner(k), each class given to every row.
  torch::Tensor enumerated(Dict& v) const {
    const auto n = batch_of(v);
    auto probs = q_->params(v, q_->conditional() ? 0 : n).at("probs");
    const auto classes = probs.size(-1);
    const bool one_hot = q_->type() == "OneHotCategorical";
    torch::Tensor total;
    for (std::int64_t k = 0; k < classes; ++k) {
      Dict with = v;
      auto label = torch::full({probs.size(0)}, k, torch::kLong);
      with[q_->var()[0]] = one_hot ? torch::one_hot(label, classes).to(probs.dtype()) : label;
      auto term = probs.select(-1, k) * inner_->eval(with);
      total = total.defined() ? total + term : term;
    }
    return total;
  }
  DistPtr q_;
  std::shared_ptr<LossNode> inner_;
  EOptions o_;
};

class MMDNode : public LossNode {
 public:
  MMDNode(DistPtr p, DistPtr q, MMDOptions o) : p_(std::move(p)), q_(std::move(q)), o_(std::move(o)) {
    if (p_->var() != q_->var()) {
      throw Error("MMD: " + p_->prob_text() + " and " + q_->prob_text() + " are over different variables");
    }
    if (o_.kernel != "gaussian" && o_.kernel != "laplacian") {
      throw Error("MMD: unknown kernel '" + o_.kernel + "', expected gaussian or laplacian");
    }
    if (!(o_.bandwidth > 0))
      throw Error("MMD: bandwidth must be positive, got " + std::to_string(o_.bandwidth));
  }
  torch::Tensor eval(Dict& v) const override {
    const auto& name = p_->var()[0];
    if (o_.samples == 0) {  // across the batch: [B, F…] -> one estimate
      auto x = draw(*p_, v, true).at(name), y = draw(*q_, v, true).at(name);
      return mmd(x.flatten(1).unsqueeze(0), y.flatten(1).unsqueeze(0)).squeeze(0);
    }
    // n draws per row: [n, B, F…] -> [B, n, F] -> one estimate per row.
    auto x = draw(*p_, v, true, {o_.samples}).at(name), y = draw(*q_, v, true, {o_.samples}).at(name);
    return mmd(x.flatten(2).transpose(0, 1), y.flatten(2).transpose(0, 1));
  }
  std::string str() const override {
    return fmt::format("D_MMD^2[{}||{}]", p_->prob_text(), q_->prob_text());
  }

 private:
  // Biased estimate over sets [G, n, F]: mean k(x, x') + mean k(y, y') − 2 mean k(x, y), per set.
  torch::Tensor mmd(const torch::Tensor& x, const torch::Tensor& y) const {
    auto k = [&](const torch::Tensor& a, const torch::Tensor& b) {
      auto d2 = (a.unsqueeze(2) - b.unsqueeze(1)).square().sum(-1);
      auto k = o_.kernel == "gaussian" ? (-d2 / (2 * o_.bandwidth * o_.bandwidth)).exp()
                                       : (-(d2 + 1e-12).sqrt() / o_.bandwidth).exp();
      return k.mean({1, 2});
    };
    return k(x, x) + k(y, y) - 2 * k(x, y);
  }
  DistPtr p_, q_;
  MMDOptions o_;
};

// Shared by the adversarial losses: p's and q's draws, and the discriminator's score of them.
class AdversarialNode : public LossNode {
 public:
  enum class Kind { kJS, kKL, kWasserstein };
  AdversarialNode(Kind kind, DistPtr p, DistPtr q, DistPtr d, AdversarialOptions o)
      : kind_(kind), p_(std::move(p)), q_(std::move(q)), d_(std::move(d)), o_(std::move(o)) {
    if (p_->var() != q_->var()) {
      throw Error("adversarial loss: " + p_->prob_text() + " and " + q_->prob_text() +
                  " are over different variables");
    }
    auto params = d_->parameters();
    if (params.empty())
      throw Error("adversarial loss: the discriminator " + d_->prob_text() + " has no weights");
    optimizer_ = nn::make_optimizer(params, o_.optimizer.options);
  }
  // The model's side: p is the data (JS, Wasserstein) or the distribution whose KL is estimated.
  torch::Tensor eval(Dict& v) const override {
    switch (kind_) {
      case Kind::kJS: {
        auto fake = score(draw(*q_, v, true));
        if (o_.inverse_g_loss) return torch::softplus(-fake);  // −log σ(d)
        auto real = score(draw(*p_, v, false));
        return std::log(2.0) - 0.5 * (torch::softplus(-real) + torch::softplus(fake));
      }
      case Kind::kKL:
        return score(draw(*p_, v, true));  // log d/(1 − d) ≈ log p/q
      default:
        return score(draw(*p_, v, false)) - score(draw(*q_, v, true));
    }
  }
  std::string str() const override {
    const char* head = kind_ == Kind::kJS ? "D_JS^Adv" : kind_ == Kind::kKL ? "D_KL^Adv" : "W^upper";
    return fmt::format("{}[{}||{}]", head, p_->prob_text(), q_->prob_text());
  }
  // The discriminator's step: p's draws are "real" (label 1), q's "fake" (label 0).
  double train(const Dict& batch) const {
    d_->train(true);
    torch::Tensor real_x, fake_x;
    {
      torch::NoGradGuard no_grad;
      real_x = draw(*p_, batch, false).at(name());
      fake_x = draw(*q_, batch, false).at(name());
    }
    Dict real = batch, fake = batch;
    real[name()] = real_x;
    fake[name()] = fake_x;
    if (kind_ == Kind::kWasserstein) {
      const double loss = nn::gradient_step(*optimizer_, -(score(real) - score(fake)).mean(), 0.0);
      torch::NoGradGuard no_grad;
      for (auto& w : d_->parameters()) w.clamp_(-o_.clip_value, o_.clip_value);
      return loss;
    }
    return nn::gradient_step(*optimizer_,
                             (torch::softplus(-score(real)) + torch::softplus(score(fake))).mean(), 0.0);
  }

 private:
  const std::string& name() const { return p_->var()[0]; }
  // The discriminator's value on the sample in `v`, one number per row.
  torch::Tensor score(const Dict& v) const {
    auto t = d_->params(v).begin()->second;
    return t.reshape({t.size(0), -1}).sum(1);
  }
  Kind kind_;
  DistPtr p_, q_, d_;
  AdversarialOptions o_;
  std::unique_ptr<torch::optim::Optimizer> optimizer_;
};

class IterativeNode : public LossNode {
 public:
  IterativeNode(std::shared_ptr<LossNode> step, IterativeOptions o)
      : step_(std::move(step)), o_(std::move(o)) {
    if (o_.max_iter <= 0 && o_.series_var.empty()) {
      throw Error("IterativeLoss: give max_iter or series variables to set the number of steps");
    }
  }
  torch::Tensor eval(Dict& v) const override {
    std::map<std::string, torch::Tensor> series;
    std::int64_t steps = o_.max_iter;
    for (const auto& name : o_.series_var) {
      auto it = v.find(name);
      if (it == v.end()) throw Error("IterativeLoss: needs the series variable '" + name + "'");
      series[name] = it->second;
      if (o_.max_iter <= 0) steps = steps == 0 ? it->second.size(0) : std::min(steps, it->second.size(0));
      if (it->second.size(0) < steps) {
        throw Error("IterativeLoss: '" + name + "' has " + std::to_string(it->second.size(0)) +
                    " steps, expected at least " + std::to_string(steps));
      }
    }
    torch::Tensor total;
    for (std::int64_t t = 0; t < steps; ++t) {
      Dict step = v;
      for (const auto& [name, x] : series) step[name] = x[t];
      auto value = step_->eval(step);
      total = total.defined() ? total + value : value;
      for (const auto& [from, to] : o_.update_value) {
        auto it = step.find(from);
        if (it == step.end())
          throw Error("IterativeLoss: the step gives no '" + from + "' to carry to '" + to + "'");
        v[to] = it->second;
      }
    }
    return total;
  }
  std::string str() const override {
    const auto t = o_.max_iter > 0 ? number(static_cast<double>(o_.max_iter)) : std::string("T");
    return fmt::format("sum_(t=1..{})[{}]", t, step_->str());
  }

 private:
  std::shared_ptr<LossNode> step_;
  IterativeOptions o_;
};

}  // namespace

Loss::Loss(double constant) : node_(std::make_shared<ConstantNode>(constant)) {}

torch::Tensor Loss::eval(const Dict& values) const {
  Dict v = values;
  return node_->eval(v);
}

Loss::Loss(torch::Tensor value, std::string name)
    : node_(std::make_shared<TensorNode>(std::move(value), std::move(name))) {}
Loss Loss::detach() const { return Loss(std::make_shared<UnaryNode>("detach", node_)); }
Loss Loss::mean() const { return Loss(std::make_shared<UnaryNode>("mean", node_)); }
Loss Loss::sum() const { return Loss(std::make_shared<UnaryNode>("sum", node_)); }
Loss operator+(const Loss& a, const Loss& b) {
  return Loss(std::make_shared<BinaryNode>('+', a.node(), b.node()));
}
Loss operator-(const Loss& a, const Loss& b) {
  return Loss(std::make_shared<BinaryNode>('-', a.node(), b.node()));
}
Loss operator*(const Loss& a, const Loss& b) {
  return Loss(std::make_shared<BinaryNode>('*', a.node(), b.node()));
}
Loss operator/(const Loss& a, const Loss& b) {
  return Loss(std::make_shared<BinaryNode>('/', a.node(), b.node()));
}
Loss operator-(const Loss& a) { return Loss(std::make_shared<UnaryNode>("neg", a.node())); }
Loss abs(const Loss& a) { return Loss(std::make_shared<UnaryNode>("abs", a.node())); }
std::ostream& operator<<(std::ostream& out, const Loss& loss) { return out << loss.str(); }

Loss LogProb(DistPtr p) { return Loss(std::make_shared<LogProbNode>(std::move(p))); }
Loss Prob(DistPtr p) { return Loss(std::make_shared<ProbNode>(std::move(p))); }
Loss Entropy(DistPtr p) { return Loss(std::make_shared<EntropyNode>(std::move(p))); }
Loss KL(DistPtr q, DistPtr p, KLOptions o) {
  return Loss(std::make_shared<KLNode>(std::move(q), std::move(p), o));
}
Loss E(DistPtr q, const Loss& inner, EOptions o) {
  return Loss(std::make_shared<ExpectationNode>(std::move(q), inner.node(), o));
}
Loss CrossEntropy(DistPtr p, DistPtr q) { return -E(p, LogProb(std::move(q))); }
Loss ELBO(DistPtr p, DistPtr q) { return E(q, LogProb(std::move(p)) - LogProb(q)); }
Loss MMD(DistPtr p, DistPtr q, MMDOptions o) {
  return Loss(std::make_shared<MMDNode>(std::move(p), std::move(q), std::move(o)));
}

namespace {
AdversarialLoss adversarial(AdversarialNode::Kind kind, DistPtr p, DistPtr q, DistPtr d,
                            AdversarialOptions o) {
  auto node = std::make_shared<AdversarialNode>(kind, std::move(p), std::move(q), std::move(d), std::move(o));
  return AdversarialLoss(node, [node](const Dict& batch) { return node->train(batch); });
}
}  // namespace

AdversarialLoss AdversarialJensenShannon(DistPtr p_data, DistPtr p, DistPtr d, AdversarialOptions o) {
  return adversarial(AdversarialNode::Kind::kJS, std::move(p_data), std::move(p), std::move(d), std::move(o));
}
AdversarialLoss AdversarialKullbackLeibler(DistPtr p, DistPtr q, DistPtr d, AdversarialOptions o) {
  return adversarial(AdversarialNode::Kind::kKL, std::move(p), std::move(q), std::move(d), std::move(o));
}
AdversarialLoss Wasserstein(DistPtr p_data, DistPtr p, DistPtr critic, AdversarialOptions o) {
  return adversarial(AdversarialNode::Kind::kWasserstein, std::move(p_data), std::move(p), std::move(critic),
                     std::move(o));
}
Loss IterativeLoss(const Loss& step, IterativeOptions o) {
  return Loss(std::make_shared<IterativeNode>(step.node(), std::move(o)));
}

torch::Tensor analytic_kl_more(const std::string& type, const Params& q, const Params& p);  // more.cpp

torch::Tensor analytic_kl_mvn(const Distribution& q, const Params& qp, const Distribution& p,
                              const Params& pp);  // continuous.cpp

namespace {
// The registered closed forms, per sample (summed over features); undefined where there is none.
torch::Tensor analytic_kl(const Distribution& q, const Params& qp, const Distribution& p, const Params& pp) {
  if (auto kl = analytic_kl_mvn(q, qp, p, pp); kl.defined()) return kl.dim() <= 1 ? kl : sum_features(kl);
  if (q.type() != p.type()) return {};
  if (auto kl = analytic_kl_more(q.type(), qp, pp); kl.defined()) return sum_features(kl);
  if (q.type() == "Normal") {
    // log(σp/σq) + (σq² + (μq − μp)²) / (2σp²) − ½
    const auto &mq = qp.at("loc"), &sq = qp.at("scale"), &mp = pp.at("loc"), &sp = pp.at("scale");
    return sum_features((sp / sq).log() + (sq.square() + (mq - mp).square()) / (2 * sp.square()) - 0.5);
  }
  if (q.type() == "Bernoulli") {
    auto a = q.mean_from(qp).clamp(1e-7, 1 - 1e-7), b = p.mean_from(pp).clamp(1e-7, 1 - 1e-7);
    return sum_features(a * (a / b).log() + (1 - a) * ((1 - a) / (1 - b)).log());
  }
  return {};
}
}  // namespace

torch::Tensor kl_divergence(const Distribution& q, const Params& qp, const Distribution& p,
                            const Params& pp) {
  if (!qp.empty() && !pp.empty()) {
    if (auto kl = analytic_kl(q, qp, p, pp); kl.defined()) return kl;
  }
  throw Error("no analytic KL registered for " + q.type() + " || " + p.type() + " (" + q.prob_text() +
              " || " + p.prob_text() + "); leave KLOptions::analytic false for a sampled estimate");
}

}  // namespace dojo::prob
