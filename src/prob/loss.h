// Objectives as formulas (Pixyz's losses): built from distributions, evaluated on a Dict, printed
// as what they compute, e.g. mean(D_KL[q(z|x)||p(z)] - E_q(z|x)[log p(x|z)]).
#pragma once
#include <iosfwd>
#include <memory>
#include <string>

#include "prob/distribution.h"

namespace dojo::prob {

class LossNode {
 public:
  virtual ~LossNode() = default;
  // Per-sample values [batch] (or a scalar after mean/sum); may add samples to `values`.
  virtual torch::Tensor eval(Dict& values) const = 0;
  virtual std::string str() const = 0;
  // Binding strength for printing: 3 atoms, 2 products, 1 sums.
  virtual int precedence() const { return 3; }
};

class Loss {
 public:
  explicit Loss(std::shared_ptr<LossNode> node) : node_(std::move(node)) {}
  Loss(double constant);  // NOLINT: scalars mix into formulas
  torch::Tensor eval(const Dict& values) const;
  std::string str() const { return node_->str(); }
  Loss mean() const;
  Loss sum() const;
  const std::shared_ptr<LossNode>& node() const { return node_; }

 private:
  std::shared_ptr<LossNode> node_;
};

Loss operator+(const Loss& a, const Loss& b);
Loss operator-(const Loss& a, const Loss& b);
Loss operator*(const Loss& a, const Loss& b);
Loss operator/(const Loss& a, const Loss& b);
Loss operator-(const Loss& a);
Loss abs(const Loss& a);
std::ostream& operator<<(std::ostream& out, const Loss& loss);

// log p(var|cond_var) of the values given: "log p(x|z)".
Loss LogProb(DistPtr p);
// −E_p[log p]: "H[p(z|x)]".
Loss Entropy(DistPtr p);
// D_KL[q||p], analytic where a formula is registered (Normal–Normal, Bernoulli–Bernoulli), else an
// error naming the pair. "D_KL[q(z|x)||p(z)]".
Loss KL(DistPtr q, DistPtr p);
// E_q[loss] with one reparameterised sample of q's variables: "E_q(z|x)[log p(x|z)]".
Loss E(DistPtr q, const Loss& inner);

// The analytic KL per sample (summed over features); throws dojo::Error for a pair without one.
torch::Tensor kl_divergence(const Distribution& q, const Params& qp, const Distribution& p, const Params& pp);

}  // namespace dojo::prob
