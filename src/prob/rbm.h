// Restricted Boltzmann machines and deep belief nets (Hinton 2002; Hinton, Osindero & Teh 2006; the
// seeds' DBN tutorial). An RBM is the energy E(v, h) = −bᵀv − cᵀh − vᵀWh over visible units v and
// hidden units h ∈ {0, 1}; summing h out leaves the free energy F(v) = −bᵀv − Σⱼ softplus(cⱼ + vᵀW·ⱼ)
// (Bernoulli visible units) or ½‖v − b‖² − Σⱼ softplus(cⱼ + vᵀW·ⱼ) (Gaussian visible units of unit
// variance: standardise the data first), and p(v) = exp(−F(v)) / Z.
//
// Training follows the log-likelihood's gradient, −∂F(v_data)/∂θ + E_model[∂F(v)/∂θ], with the model's
// expectation taken at the end of k Gibbs steps: from the data (contrastive divergence, CD-k) or from
// chains kept between updates (persistent CD, Tieleman 2008). Written as the surrogate loss
// mean F(v_data) − mean F(v_model) (v_model held fixed), whose gradient is exactly that estimate, so any
// LibTorch optimizer takes the step.
//
// Z is estimated by annealed importance sampling (Salakhutdinov & Murray 2008) from a base RBM with no
// weights and the data's visible biases, so a model's test log-likelihood can be reported.
#pragma once
#include <torch/arg.h>
#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/export.h"
#include "core/options.h"

DOJO_PUBLIC_BEGIN
namespace dojo::prob {

class RbmImpl : public torch::nn::Module {
 public:
  // visible_type: "bernoulli" (binary data) or "gaussian" (real data of unit variance).
  RbmImpl(std::int64_t visible, std::int64_t hidden, std::string visible_type = "bernoulli");

  torch::Tensor hidden_probs(const torch::Tensor& v) const;  // p(h = 1 | v), [B, H]
  torch::Tensor visible_mean(const torch::Tensor& h) const;  // E[v | h], [B, V]
  torch::Tensor sample_hidden(const torch::Tensor& v) const;
  torch::Tensor sample_visible(const torch::Tensor& h) const;
  // `steps` rounds of v → h → v from v; returns the last visible sample.
  torch::Tensor gibbs(torch::Tensor v, std::int64_t steps) const;
  torch::Tensor free_energy(const torch::Tensor& v) const;  // F(v) per row, [B]
  // Hinton's guide: visible biases log(p / (1 − p)) of the data's unit means (Bernoulli), or the means.
  void init_visible_bias(const torch::Tensor& data);

  std::int64_t visible() const { return W.size(0); }
  std::int64_t hidden() const { return W.size(1); }
  const std::string& visible_type() const { return visible_type_; }

  torch::Tensor W, b, c;  // weights [V, H], visible and hidden biases

 private:
  std::string visible_type_;
};
TORCH_MODULE(Rbm);

struct RbmTrainOptions {
  TORCH_ARG(std::int64_t, epochs) = 20;
  TORCH_ARG(std::int64_t, batch_size) = 100;
  TORCH_ARG(std::int64_t, k) = 1;                 // Gibbs steps of the negative phase
  TORCH_ARG(bool, persistent) = false;            // PCD: the negative chains persist across updates
  TORCH_ARG(double, learning_rate) = 0.05;        // SGD on the batch mean
  TORCH_ARG(double, final_learning_rate) = 0.05;  // reached linearly by the last epoch (PCD wants a decay)
  TORCH_ARG(double, momentum) = 0.5;              // Hinton's guide: 0.5 at first,
  TORCH_ARG(double, final_momentum) = 0.9;        // 0.9 after `momentum_epochs`
  TORCH_ARG(std::int64_t, momentum_epochs) = 5;
  TORCH_ARG(double, weight_decay) = 2e-4;  // L2 on W

 public:
  template <class F>
  void visit(F&& f) {
    f("epochs", epochs_, core::positive());
    f("batch_size", batch_size_, core::positive());
    f("k", k_, core::positive());
    f("persistent", persistent_);
    f("learning_rate", learning_rate_, core::positive());
    f("final_learning_rate", final_learning_rate_, core::positive());
    f("momentum", momentum_, core::in_closed_open(0, 1));
    f("final_momentum", final_momentum_, core::in_closed_open(0, 1));
    f("momentum_epochs", momentum_epochs_, core::non_negative());
    f("weight_decay", weight_decay_, core::non_negative());
  }
};

struct RbmEpoch {
  std::int64_t epoch = 0;
  double reconstruction_error = 0;  // mean squared error of v → p(h|v) → E[v|h], per unit
  double seconds = 0;
};

// CD-k or PCD-k over `data` [N, V] in a fresh order each epoch (torch's generator: seed it first).
// on_epoch sees each epoch as it ends. Throws dojo::Error for data of the wrong width or bad options.
std::vector<RbmEpoch> train_rbm(Rbm& rbm, const torch::Tensor& data, const RbmTrainOptions& options,
                                const std::function<void(const RbmEpoch&)>& on_epoch = {});

struct PartitionEstimate {
  double log_z = 0;
  double log_z_low = 0, log_z_high = 0;  // log(mean w ∓ 3 standard errors), Salakhutdinov & Murray's band
  // (Σw)² / Σw²: how many runs the estimate effectively rests on; near 1, one run dominates and the
  // estimate is likely low (a mode the annealing missed), the band's lower end unbounded.
  double effective_runs = 0;
};

// log Z of a Bernoulli RBM by annealed importance sampling: `runs` chains through `betas` inverse
// temperatures (Salakhutdinov & Murray's schedule: 500, 4,000 and 10,000 of 14,500 steps over [0, 0.5],
// [0.5, 0.9] and [0.9, 1], scaled to `betas`) from the base RBM with W = 0, hidden biases 0 and visible
// biases `base_visible_bias` (the data's, from which the base samples are exact).
PartitionEstimate ais_log_partition(const Rbm& rbm, const torch::Tensor& base_visible_bias,
                                    std::int64_t runs = 100, std::int64_t betas = 14'500);
// The exact log Z of a Bernoulli RBM by summing over every hidden configuration (hidden ≤ 24).
double exact_log_partition(const Rbm& rbm);
// Mean log p(v) over the rows of `data`: −F(v) − log Z.
double log_likelihood(const Rbm& rbm, const torch::Tensor& data, double log_z);

// A deep belief net: RBMs stacked, each trained greedily on the hidden probabilities of the one below.
struct Dbn {
  std::vector<Rbm> layers;
  // Builds RBMs visible → sizes[0] → sizes[1] …; the first has `visible_type` units, the rest Bernoulli.
  Dbn(std::int64_t visible, const std::vector<std::int64_t>& sizes,
      const std::string& visible_type = "bernoulli");
  // The top layer's hidden probabilities (the deterministic up-pass), [B, sizes.back()].
  torch::Tensor up(const torch::Tensor& v) const;
  // Samples: a Gibbs chain of `steps` in the top RBM from random states, then down through the
  // lower layers' E[v|h]. Returns the visible means [n, V].
  torch::Tensor sample(std::int64_t n, std::int64_t steps) const;
};
// Greedy layer-wise pre-training (Hinton et al. 2006): layer l on layer l−1's hidden probabilities.
// on_epoch sees (layer, epoch). Returns each layer's history.
std::vector<std::vector<RbmEpoch>> train_dbn(
    Dbn& dbn, const torch::Tensor& data, const RbmTrainOptions& options,
    const std::function<void(std::size_t, const RbmEpoch&)>& on_epoch = {});

}  // namespace dojo::prob

DOJO_PUBLIC_END
