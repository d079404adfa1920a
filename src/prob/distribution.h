// Distributions named by their variables, as in Pixyz: p(x|z) has var {"x"} and cond_var {"z"}; its
// parameters are constants or come from a network of the conditioning variables. Samples and
// conditioning values travel in a Dict of named tensors (batch first).
#pragma once
#include <torch/nn/module.h>
#include <torch/types.h>

#include <functional>
#include <iosfwd>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/export.h"
#include "nn/model.h"

DOJO_PUBLIC_BEGIN
namespace dojo::prob {

// log(2π), the normal density's constant.
inline constexpr double kLog2Pi = 1.8378770664093453;

using Dict = std::map<std::string, torch::Tensor>;
using Params = std::map<std::string, torch::Tensor>;

struct DistOptions {
  std::vector<std::string> var = {};
  std::vector<std::string> cond_var = {};
  std::string name = "p";  // printed: p(x|z)
};

struct SampleOptions {
  std::int64_t batch_n = 0;  // for distributions without conditioning variables: samples to draw
  // Extra leading axes of independent draws: a sample has shape sample_shape + [batch] + features.
  std::vector<std::int64_t> sample_shape = {};
  bool reparam = false;  // differentiable samples (rsample) where the distribution allows them
};

// What maps the conditioning variables (in cond_var order) to the parameter tensors: an nn::Model
// (converts implicitly), or any LibTorch module with a forward function.
struct Network {
  using Forward = std::function<std::vector<torch::Tensor>(const std::vector<torch::Tensor>&)>;
  Network(nn::Model model);  // NOLINT: an nn::Model is the usual network
  Network(std::shared_ptr<torch::nn::Module> module, Forward forward, std::size_t inputs);
  Forward forward;
  std::function<std::vector<torch::Tensor>()> parameters;
  std::function<void(bool)> set_training;  // dropout and batch statistics on (train) or off (test)
  std::function<void(c10::Device)> to;     // moves the weights (Module::to: the same tensors)
  std::size_t inputs = 0;
};

class Distribution;
using DistPtr = std::shared_ptr<Distribution>;

class Distribution : public std::enable_shared_from_this<Distribution> {
 public:
  virtual ~Distribution() = default;
  const std::vector<std::string>& var() const { return o_.var; }
  const std::vector<std::string>& cond_var() const { return o_.cond_var; }
  const std::string& name() const { return o_.name; }
  // "p(x|z)"; a joint is "p(x,z)".
  virtual std::string prob_text() const;
  // What operator<< prints: prob_text, and for a joint its factors, "p(x,z) = p(x|z)p(z)".
  virtual std::string formula() const { return prob_text(); }
  virtual std::string type() const = 0;

  // The parameters given the conditioning variables in `given` (or the constants, repeated batch_n
  // times when batch_n > 0). Throws dojo::Error naming a missing variable.
  virtual Params params(const Dict& given, std::int64_t batch_n = 0) const;
  // Draws var given cond_var; returns `given` with the sample added.
  virtual Dict sample(const Dict& given = {}, SampleOptions options = {}) const;
  // log p(var | cond_var) per sample, summed over the feature dimensions ([batch]); sum_features =
  // false keeps them.
  virtual torch::Tensor log_prob(const Dict& values, bool sum_features = true) const;
  virtual torch::Tensor entropy(const Dict& given = {}, bool sum_features = true) const;
  torch::Tensor mean(const Dict& given = {}) const;
  torch::Tensor variance(const Dict& given = {}) const;
  // Weights of the network, or the constants that require gradients (trained by prob::Model).
  virtual std::vector<torch::Tensor> parameters() const;
  virtual bool has_rsample() const = 0;
  // Puts the networks in training mode (dropout, batch statistics) or inference mode.
  virtual void train(bool on);
  // Moves the network's weights and the constant parameters to `device`, keeping them the same
  // tensors (an optimizer made over them still updates them); prob::Model::to calls it.
  virtual void to(c10::Device device);
  // Whether the parameters come from a network (batched) rather than constants.
  virtual bool conditional() const { return net_ != nullptr; }

  // The formula helpers compute with parameters directly.
  virtual torch::Tensor sample_from(const Params& p, bool reparam) const = 0;
  virtual torch::Tensor log_prob_from(const Params& p, const torch::Tensor& x) const = 0;
  virtual torch::Tensor entropy_from(const Params& p) const = 0;
  virtual torch::Tensor mean_from(const Params& p) const = 0;
  virtual torch::Tensor variance_from(const Params& p) const = 0;
  // The parameters' names, in the order a network gives them.
  virtual std::vector<std::string> param_names() const = 0;
  // How many trailing axes of log_prob_from's result are features (summed by log_prob): by default
  // those of the first parameter, less the batch axis.
  virtual std::int64_t feature_dims(const Params& p, bool batched) const;

  // The same distribution over renamed variables: replace_var({{"z", "y"}}) turns p(x|z) into p(x|y).
  virtual DistPtr replace_var(const std::map<std::string, std::string>& names) const;
  // Draws as before but drops these variables: ∫p(x|z)p(z)dz. Has no log_prob.
  DistPtr marginalize_var(const std::vector<std::string>& names) const;

 protected:
  // Constant parameters (each [features…]) or a network: cond_var values in order -> the parameter
  // tensors in param_names() order.
  Distribution(DistOptions o, Params constants);
  Distribution(DistOptions o, Network net);
  // Turns raw network outputs or constants into valid parameters, or throws naming the argument.
  virtual void check(const Params& p) const = 0;
  [[noreturn]] void fail(const std::string& what) const;
  void set_options(DistOptions o) { o_ = std::move(o); }

 private:
  DistOptions o_;
  Params constants_;
  std::shared_ptr<Network> net_;
};

// Normal(loc, scale), diagonal; reparameterisable.
DistPtr Normal(Network net, DistOptions o);  // net -> {loc, scale}
DistPtr Normal(torch::Tensor loc, torch::Tensor scale, DistOptions o);
// N(0, I) over var with the given feature shape: the usual prior.
DistPtr standard_normal(std::vector<std::string> var, std::vector<std::int64_t> features,
                        std::string name = "p");
// Bernoulli from logits (the network's raw output), or from probabilities with probs = true.
DistPtr Bernoulli(Network net, DistOptions o, bool probs = false);
DistPtr Bernoulli(torch::Tensor param, DistOptions o, bool probs = false);

// Laplace(loc, scale), reparameterisable.
DistPtr Laplace(torch::Tensor loc, torch::Tensor scale, DistOptions o);
DistPtr Laplace(Network net, DistOptions o);
// Uniform on [low, high), reparameterisable.
DistPtr Uniform(torch::Tensor low, torch::Tensor high, DistOptions o);
// Gamma(concentration α, rate β) and Beta(α = concentration1, β = concentration0), both
// reparameterised through LibTorch's gamma sampler.
DistPtr Gamma(torch::Tensor concentration, torch::Tensor rate, DistOptions o);
DistPtr Beta(torch::Tensor concentration1, torch::Tensor concentration0, DistOptions o);
// Over the last axis of probs; the variable holds class indices.
DistPtr Categorical(torch::Tensor probs, DistOptions o);
DistPtr Categorical(Network net, DistOptions o);  // net -> probs (a softmax output)
// The same over one-hot vectors.
DistPtr OneHotCategorical(torch::Tensor probs, DistOptions o);
DistPtr OneHotCategorical(Network net, DistOptions o);
// Over the probability simplex of the last axis; reparameterised through the gamma sampler.
DistPtr Dirichlet(torch::Tensor concentration, DistOptions o);
// All mass on one value (a network's output, or a constant).
DistPtr Deterministic(Network net, DistOptions o);
DistPtr Deterministic(torch::Tensor value, DistOptions o);

// Gumbel-softmax relaxations (Maddison et al. 2017; Jang et al. 2017) at a temperature:
// reparameterisable samples in (0, 1), or on the simplex of the last axis.
DistPtr RelaxedBernoulli(torch::Tensor probs, double temperature, DistOptions o);
DistPtr RelaxedBernoulli(Network net, double temperature, DistOptions o);  // net -> probs
DistPtr RelaxedOneHotCategorical(torch::Tensor probs, double temperature, DistOptions o);
DistPtr RelaxedOneHotCategorical(Network net, double temperature, DistOptions o);  // net -> probs

// MultivariateNormal over the last axis: diagonal (loc, scale) or full, through the lower-triangular
// Cholesky factor scale_tril (Σ = L Lᵀ). Use mvn_scale_tril to get L from a covariance.
DistPtr MultivariateNormalDiag(torch::Tensor loc, torch::Tensor scale, DistOptions o);
DistPtr MultivariateNormalDiag(Network net, DistOptions o);  // net -> {loc, scale}
DistPtr MultivariateNormal(torch::Tensor loc, torch::Tensor scale_tril, DistOptions o);
DistPtr MultivariateNormal(Network net, DistOptions o);  // net -> {loc, scale_tril}
torch::Tensor mvn_scale_tril(const torch::Tensor& covariance);

// A mixture of K diagonal Normals over the last axis, as an MDN's head: weights [.., K] (summing to
// 1), loc and scale [.., K, D]. Samples are not reparameterisable (the component is discrete).
DistPtr MixtureOfNormal(torch::Tensor weights, torch::Tensor loc, torch::Tensor scale, DistOptions o);
DistPtr MixtureOfNormal(Network net, DistOptions o);  // net -> {weights, loc, scale}

// tanh(u), u ~ Normal(loc, scale): SAC's squashed Gaussian. log_prob carries the log-det term
// −log(1 − tanh²u); entropy, mean and variance have no closed form and are estimated by sampling.
DistPtr TanhNormal(torch::Tensor loc, torch::Tensor scale, DistOptions o);
DistPtr TanhNormal(Network net, DistOptions o);  // net -> {loc, scale}

// The data as a distribution (Pixyz's DataDistribution): sampling returns the values already given.
DistPtr DataDistribution(std::vector<std::string> var, std::string name = "p_data");

// The factorised product p(x|z) * p(z): samples in dependency order, log_prob is the sum of the
// factors' log_probs. Its variables are all the factors' variables; it is conditioned on what no
// factor provides.
DistPtr operator*(const DistPtr& a, const DistPtr& b);

std::ostream& operator<<(std::ostream& out, const Distribution& d);

}  // namespace dojo::prob

DOJO_PUBLIC_END
