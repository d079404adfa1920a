// Distributions named by their variables, as in Pixyz: p(x|z) has var {"x"} and cond_var {"z"}; its
// parameters are constants or come from a network of the conditioning variables. Samples and
// conditioning values travel in a Dict of named tensors (batch first).
#pragma once
#include <torch/types.h>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "nn/model.h"

namespace dojo::prob {

using Dict = std::map<std::string, torch::Tensor>;
using Params = std::map<std::string, torch::Tensor>;

struct DistOptions {
  std::vector<std::string> var = {};
  std::vector<std::string> cond_var = {};
  std::string name = "p";  // printed: p(x|z)
};

struct SampleOptions {
  std::int64_t batch_n = 0;  // for distributions without conditioning variables: samples to draw
  bool reparam = false;      // differentiable samples (rsample) where the distribution allows them
};

class Distribution {
 public:
  virtual ~Distribution() = default;
  const std::vector<std::string>& var() const { return o_.var; }
  const std::vector<std::string>& cond_var() const { return o_.cond_var; }
  const std::string& name() const { return o_.name; }
  // "p(x|z)"
  std::string prob_text() const;
  virtual std::string type() const = 0;

  // The parameters given the conditioning variables in `given` (or the constants, repeated batch_n
  // times when batch_n > 0). Throws dojo::Error naming a missing variable.
  Params params(const Dict& given, std::int64_t batch_n = 0) const;
  // Draws var given cond_var; returns `given` with the sample added.
  Dict sample(const Dict& given = {}, SampleOptions options = {}) const;
  // log p(var | cond_var) per sample, summed over the feature dimensions ([batch]); sum_features =
  // false keeps them.
  torch::Tensor log_prob(const Dict& values, bool sum_features = true) const;
  torch::Tensor entropy(const Dict& given = {}, bool sum_features = true) const;
  torch::Tensor mean(const Dict& given = {}) const;
  torch::Tensor variance(const Dict& given = {}) const;
  // Weights of the network, if any (trained by prob::Model).
  std::vector<torch::Tensor> parameters() const;
  // The formula helpers compute with parameters directly.
  virtual torch::Tensor sample_from(const Params& p, bool reparam) const = 0;
  virtual torch::Tensor log_prob_from(const Params& p, const torch::Tensor& x) const = 0;
  virtual torch::Tensor entropy_from(const Params& p) const = 0;
  virtual torch::Tensor mean_from(const Params& p) const = 0;
  virtual torch::Tensor variance_from(const Params& p) const = 0;
  virtual bool has_rsample() const = 0;

 protected:
  // Constant parameters (each [features…]) or a network: cond_var values in order -> the parameter
  // tensors in param_names() order.
  Distribution(DistOptions o, Params constants);
  Distribution(DistOptions o, nn::Model net);
  virtual std::vector<std::string> param_names() const = 0;
  // Turns raw network outputs or constants into valid parameters, or throws naming the argument.
  virtual void check(const Params& p) const = 0;
  [[noreturn]] void fail(const std::string& what) const;

 private:
  DistOptions o_;
  Params constants_;
  std::shared_ptr<nn::ModelImpl> net_;
};
using DistPtr = std::shared_ptr<Distribution>;

// Normal(loc, scale), diagonal; reparameterisable.
DistPtr Normal(nn::Model net, DistOptions o);  // net -> {loc, scale}
DistPtr Normal(torch::Tensor loc, torch::Tensor scale, DistOptions o);
// N(0, I) over var with the given feature shape: the usual prior.
DistPtr standard_normal(std::vector<std::string> var, std::vector<std::int64_t> features,
                        std::string name = "p");
// Bernoulli from logits (the network's raw output), or from probabilities with probs = true.
DistPtr Bernoulli(nn::Model net, DistOptions o, bool probs = false);
DistPtr Bernoulli(torch::Tensor param, DistOptions o, bool probs = false);

// Laplace(loc, scale), reparameterisable.
DistPtr Laplace(torch::Tensor loc, torch::Tensor scale, DistOptions o);
DistPtr Laplace(nn::Model net, DistOptions o);
// Uniform on [low, high), reparameterisable.
DistPtr Uniform(torch::Tensor low, torch::Tensor high, DistOptions o);
// Gamma(concentration α, rate β) and Beta(α = concentration1, β = concentration0), both
// reparameterised through LibTorch's gamma sampler.
DistPtr Gamma(torch::Tensor concentration, torch::Tensor rate, DistOptions o);
DistPtr Beta(torch::Tensor concentration1, torch::Tensor concentration0, DistOptions o);
// Over the last axis of probs; the variable holds class indices.
DistPtr Categorical(torch::Tensor probs, DistOptions o);
DistPtr Categorical(nn::Model net, DistOptions o);  // net -> probs (a softmax output)
// The same over one-hot vectors.
DistPtr OneHotCategorical(torch::Tensor probs, DistOptions o);
DistPtr OneHotCategorical(nn::Model net, DistOptions o);
// Over the probability simplex of the last axis; reparameterised through the gamma sampler.
DistPtr Dirichlet(torch::Tensor concentration, DistOptions o);
// All mass on one value (a network's output, or a constant).
DistPtr Deterministic(nn::Model net, DistOptions o);
DistPtr Deterministic(torch::Tensor value, DistOptions o);

}  // namespace dojo::prob
