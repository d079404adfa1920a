// The action distributions of policy-gradient agents and PPO's clipped objective, as functions of
// tensors: a categorical over logits for Discrete actions, a diagonal Gaussian with a state-independent
// log standard deviation for Box actions (Schulman et al. 2017; SB3's and CleanRL's choice).
#pragma once
#include <ATen/core/Generator.h>
#include <torch/types.h>

#include <random>

#include "core/export.h"

DOJO_PUBLIC_BEGIN
namespace dojo::rl {

// log π(a|s) for logits [B, n] and actions [B] (int64): [B].
torch::Tensor categorical_log_prob(const torch::Tensor& logits, const torch::Tensor& actions);
// One draw per row from probabilities [B, n] (float64), by inverse CDF with one uniform from `rng`
// each, so a run's draws depend on the agent's seed alone: [B] int64 in [0, n).
torch::Tensor sample_categorical(const torch::Tensor& probs, std::mt19937_64& rng);
// H[π(·|s)] for logits [B, n]: [B].
torch::Tensor categorical_entropy(const torch::Tensor& logits);

// log N(a; mean, exp(log_std)) summed over action dims: mean [B, d], log_std [d], actions [B, d] -> [B].
torch::Tensor gaussian_log_prob(const torch::Tensor& mean, const torch::Tensor& log_std,
                                const torch::Tensor& actions);
// Σ_d (½ log(2πe) + log σ_d), the same for every state: [B] for a batch of B.
torch::Tensor gaussian_entropy(const torch::Tensor& log_std, std::int64_t batch);

// The tanh-squashed Gaussian of SAC (Haarnoja et al. 2018, appendix C): u ~ N(mean, exp(log_std)),
// a = tanh(u) in (−1, 1), log π(a|s) = log N(u) − Σ_d log(1 − tanh(u_d)²). The draw is
// reparameterised (gradients reach mean and log_std) and takes its noise from `generator`, the
// agent's own; log(1 − tanh²u) is computed as 2(log 2 − u − softplus(−2u)), exact where tanh
// saturates.
struct SquashedSample {
  torch::Tensor action;    // [B, d] in (−1, 1)
  torch::Tensor log_prob;  // [B]
};
SquashedSample tanh_gaussian_sample(const torch::Tensor& mean, const torch::Tensor& log_std,
                                    at::Generator& generator);
// log π(a|s) of given pre-squash values u [B, d] (with a = tanh(u)).
torch::Tensor tanh_gaussian_log_prob(const torch::Tensor& mean, const torch::Tensor& log_std,
                                     const torch::Tensor& u);

struct ClippedObjective {
  torch::Tensor loss;          // −mean(min(ρ A, clip(ρ, 1 − ε, 1 + ε) A))
  double clip_fraction = 0.0;  // share of samples with |ρ − 1| > ε
  double approx_kl = 0.0;      // mean((ρ − 1) − log ρ), an unbiased, non-negative KL estimate
};
// PPO's clipped surrogate with ρ = exp(log_prob − old_log_prob).
ClippedObjective ppo_clip_loss(const torch::Tensor& log_prob, const torch::Tensor& old_log_prob,
                               const torch::Tensor& advantages, double clip_range);

}  // namespace dojo::rl

DOJO_PUBLIC_END
