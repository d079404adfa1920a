// Objectives as formulas (Pixyz's losses): built from distributions, evaluated on a Dict, printed
// as what they compute, e.g. mean(D_KL[q(z|x)||p(z)] - E_q(z|x)[log p(x|z)]).
#pragma once
#include <functional>
#include <iosfwd>
#include <map>
#include <memory>
#include <string>

#include "core/export.h"
#include "prob/distribution.h"

DOJO_PUBLIC_BEGIN
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
  // A tensor in a formula (a weight per sample, a mask): printed by its name.
  Loss(torch::Tensor value, std::string name);
  torch::Tensor eval(const Dict& values) const;
  std::string str() const { return node_->str(); }
  Loss mean() const;
  Loss sum() const;
  // The same value without gradients: "detach(...)".
  Loss detach() const;
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
// p(var|cond_var) itself, exp of the above: "p(x|z)".
Loss Prob(DistPtr p);
// −E_p[log p]: "H[p(z|x)]".
Loss Entropy(DistPtr p);

struct KLOptions {
  bool analytic = false;     // demand a closed form: an error names the pair without one
  std::int64_t samples = 1;  // draws of q for the sampled estimate E_q[log q − log p]
};
// D_KL[q||p]: analytic where a formula is registered, else sampled. "D_KL[q(z|x)||p(z)]".
Loss KL(DistPtr q, DistPtr p, KLOptions options = {});
struct EOptions {
  // Exact: the sum over every class of a Categorical or OneHotCategorical q, weighted by its
  // probabilities (Kingma et al.'s M2 sums over y this way), instead of one sample.
  bool enumerate = false;
};
// E_q[loss] with one reparameterised sample of q's variables: "E_q(z|x)[log p(x|z)]".
Loss E(DistPtr q, const Loss& inner, EOptions options = {});
// −E_p[log q]: "-E_p(x)[log q(x)]".
Loss CrossEntropy(DistPtr p, DistPtr q);
// The evidence lower bound E_q[log p − log q], p usually the joint p(x|z)p(z).
Loss ELBO(DistPtr p, DistPtr q);

struct MMDOptions {
  std::string kernel = "gaussian";  // or "laplacian": exp(−|x − y|²/(2σ²)) or exp(−|x − y|/σ)
  double bandwidth = 1.0;           // σ
  // 0: one estimate over the batch (a scalar). n > 0: n draws per batch row, one estimate per row
  // (BRAC's penalty between two policies at each state).
  std::int64_t samples = 0;
};
// The squared maximum mean discrepancy between p and q: "D_MMD^2[p(x)||q(x)]".
Loss MMD(DistPtr p, DistPtr q, MMDOptions options = {});

// The adversarial losses pair a model objective with a discriminator (or critic) d(t|x) whose
// network is trained by train_discriminator. The discriminator is a distribution, usually
// Deterministic, over t conditioned on the shared variable; its value is a logit (a score for the
// critic).
class AdversarialLoss : public Loss {
 public:
  AdversarialLoss(std::shared_ptr<LossNode> node, std::function<double(const Dict&)> step)
      : Loss(std::move(node)), step_(std::move(step)) {}
  // One gradient step of the discriminator on this batch; returns its loss.
  double train_discriminator(const Dict& batch) const { return step_(batch); }

 private:
  std::function<double(const Dict&)> step_;
};
struct AdversarialOptions {
  nn::Optimizer optimizer = "adam";
  // JS: the generator minimises −log d(G(z)) (Goodfellow's non-saturating form) rather than the
  // estimate of the divergence itself.
  bool inverse_g_loss = true;
  double clip_value = 0.01;  // Wasserstein: the critic's weights are clipped to ±clip_value
};
// Jensen–Shannon through a discriminator (the GAN objective): "D_JS^Adv[p_data(x)||p(x)]".
AdversarialLoss AdversarialJensenShannon(DistPtr p_data, DistPtr p, DistPtr discriminator,
                                         AdversarialOptions options = {});
// KL[p||q] by the density-ratio trick: d tells p from q, KL ≈ E_p[logit d(x)]. "D_KL^Adv[p(x)||q(x)]".
AdversarialLoss AdversarialKullbackLeibler(DistPtr p, DistPtr q, DistPtr discriminator,
                                           AdversarialOptions options = {});
// The Wasserstein-1 distance through a weight-clipped critic (its dual): "W^upper[p_data(x)||p(x)]".
AdversarialLoss Wasserstein(DistPtr p_data, DistPtr p, DistPtr critic, AdversarialOptions options = {});

struct IterativeOptions {
  std::int64_t max_iter = 0;                 // steps; 0: the length of the series variables
  std::vector<std::string> series_var = {};  // [T, batch, …] tensors; step t sees slice t by the same name
  // Carried state: after each step the value named by the key is given again under the value's name
  // (h_next -> h).
  std::map<std::string, std::string> update_value = {};
};
// A step loss summed over time with carried state (DRAW, TD-VAE, MDN-RNN): "sum_(t=1..T)[…]".
Loss IterativeLoss(const Loss& step, IterativeOptions options);

// The analytic KL per sample (summed over features); throws dojo::Error for a pair without one.
torch::Tensor kl_divergence(const Distribution& q, const Params& qp, const Distribution& p, const Params& pp);

}  // namespace dojo::prob

DOJO_PUBLIC_END
