#include "prob/loss.h"

#include <torch/torch.h>

#include <ostream>

#include "core/error.h"

namespace dojo::prob {

namespace {

torch::Tensor sum_features(const torch::Tensor& t) {
  return t.dim() <= 1 ? t : t.reshape({t.size(0), -1}).sum(1);
}

// The number of samples in a Dict (the first tensor's batch), for parameters without a network.
std::int64_t batch_of(const Dict& values) { return values.empty() ? 0 : values.begin()->second.size(0); }

class ConstantNode : public LossNode {
 public:
  explicit ConstantNode(double v) : v_(v) {}
  torch::Tensor eval(Dict&) const override { return torch::scalar_tensor(v_); }
  std::string str() const override {
    auto s = std::to_string(v_);
    s.erase(s.find_last_not_of('0') + 1);
    if (s.back() == '.') s.pop_back();
    return s;
  }

 private:
  double v_;
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

class KLNode : public LossNode {
 public:
  KLNode(DistPtr q, DistPtr p) : q_(std::move(q)), p_(std::move(p)) {
    if (q_->var() != p_->var()) {
      throw Error("KL: " + q_->prob_text() + " and " + p_->prob_text() + " are over different variables");
    }
  }
  torch::Tensor eval(Dict& v) const override {
    const auto n = batch_of(v);
    auto qp = q_->params(v, q_->cond_var().empty() ? n : 0);
    auto pp = p_->params(v, p_->cond_var().empty() ? n : 0);
    return kl_divergence(*q_, qp, *p_, pp);
  }
  std::string str() const override { return fmt::format("D_KL[{}||{}]", q_->prob_text(), p_->prob_text()); }

 private:
  DistPtr q_, p_;
};

class ExpectationNode : public LossNode {
 public:
  ExpectationNode(DistPtr q, std::shared_ptr<LossNode> inner) : q_(std::move(q)), inner_(std::move(inner)) {}
  torch::Tensor eval(Dict& v) const override {
    // One sample of q's variables, reparameterised where q allows so gradients reach q's network.
    Dict with = q_->sample(v, {.reparam = q_->has_rsample()});
    auto out = inner_->eval(with);
    for (const auto& name : q_->var()) v[name] = with[name];
    return out;
  }
  std::string str() const override { return fmt::format("E_{}[{}]", q_->prob_text(), inner_->str()); }

 private:
  DistPtr q_;
  std::shared_ptr<LossNode> inner_;
};

}  // namespace

Loss::Loss(double constant) : node_(std::make_shared<ConstantNode>(constant)) {}

torch::Tensor Loss::eval(const Dict& values) const {
  Dict v = values;
  return node_->eval(v);
}

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
Loss Entropy(DistPtr p) { return Loss(std::make_shared<EntropyNode>(std::move(p))); }
Loss KL(DistPtr q, DistPtr p) { return Loss(std::make_shared<KLNode>(std::move(q), std::move(p))); }
Loss E(DistPtr q, const Loss& inner) {
  return Loss(std::make_shared<ExpectationNode>(std::move(q), inner.node()));
}

torch::Tensor analytic_kl_more(const std::string& type, const Params& q, const Params& p);  // more.cpp

torch::Tensor kl_divergence(const Distribution& q, const Params& qp, const Distribution& p,
                            const Params& pp) {
  if (q.type() == p.type()) {
    if (auto kl = analytic_kl_more(q.type(), qp, pp); kl.defined()) return sum_features(kl);
  }
  if (q.type() == "Normal" && p.type() == "Normal") {
    // log(σp/σq) + (σq² + (μq − μp)²) / (2σp²) − ½
    const auto &mq = qp.at("loc"), &sq = qp.at("scale"), &mp = pp.at("loc"), &sp = pp.at("scale");
    return sum_features((sp / sq).log() + (sq.square() + (mq - mp).square()) / (2 * sp.square()) - 0.5);
  }
  if (q.type() == "Bernoulli" && p.type() == "Bernoulli") {
    auto a = q.mean_from(qp).clamp(1e-7, 1 - 1e-7), b = p.mean_from(pp).clamp(1e-7, 1 - 1e-7);
    return sum_features(a * (a / b).log() + (1 - a) * ((1 - a) / (1 - b)).log());
  }
  throw Error("no analytic KL registered for " + q.type() + " || " + p.type() + " (" + q.prob_text() +
              " || " + p.prob_text() + ")");
}

}  // namespace dojo::prob
