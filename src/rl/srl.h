// State-representation learning (Lesort et al. 2018; the S-RL Toolbox, Raffin et al. 2018): learn a
// small state s = φ(o) from observations o so that control becomes cheap. This header has the
// objectives that are not a distribution's log-likelihood — Jonschkowski & Brock's (2015) robotic
// priors, as prob formulas — and the two measures the S-RL Toolbox scores a state with.
//
// The priors read a batch of transitions from a prob::Dict: s and s_next [B, d] (φ of o and of o'),
// a [B] (a Discrete action) or [B, k] (a Box action), r [B] (the transition's reward). Pairs are
// taken within the batch: (i, j), i < j, whose actions are the same (Box actions: within
// `action_tolerance` in Euclidean distance), as the S-RL Toolbox pairs a minibatch.
#pragma once
#include <torch/types.h>

#include <cstdint>
#include <vector>

#include "core/export.h"
#include "prob/loss.h"

DOJO_PUBLIC_BEGIN
namespace dojo::rl {

struct PriorVariables {
  std::string s = "s", s_next = "s_next", action = "a", reward = "r";
  double action_tolerance = 1e-6;  // Box actions closer than this count as the same action
};

// Temporal coherence: states change slowly. mean_t ||Δs_t||², Δs_t = s_{t+1} − s_t.
prob::Loss TemporalCoherence(PriorVariables v = {});
// Proportionality: the same action moves the state as far. mean over same-action pairs of
// (||Δs_j|| − ||Δs_i||)².
prob::Loss Proportionality(PriorVariables v = {});
// Causality: where the same action earned different rewards, the states differ. mean over those
// pairs of exp(−||s_j − s_i||²).
prob::Loss Causality(PriorVariables v = {});
// Repeatability: the same action from similar states moves them alike. mean over same-action pairs
// of exp(−||s_j − s_i||²)·||Δs_j − Δs_i||².
prob::Loss Repeatability(PriorVariables v = {});

// The pairs (i, j), i < j, of a batch whose actions match ([P, 2] int64), and of those the ones whose
// rewards differ.
struct PriorPairs {
  torch::Tensor same_action, different_reward;
};
PriorPairs prior_pairs(const torch::Tensor& actions, const torch::Tensor& rewards,
                       double action_tolerance = 1e-6);

// Ground-truth correlation (GTC, Raffin et al. 2018): for each dimension of the true state, the
// largest |Pearson correlation| with any learned dimension; `mean` is their mean, 1 when every true
// dimension is some learned one up to scale and shift.
struct GroundTruthCorrelation {
  std::vector<double> per_dimension;
  double mean = 0.0;
};
GroundTruthCorrelation ground_truth_correlation(const torch::Tensor& learned, const torch::Tensor& truth);

// KNN-MSE (Lesort et al. 2017): for `samples` observations drawn with `seed` (0: every one), the k
// nearest others in the learned space, and the mean squared distance between their true states and
// the observation's. Low when neighbours in the learned space are neighbours in the world.
double knn_mse(const torch::Tensor& learned, const torch::Tensor& truth, std::int64_t k = 5,
               std::int64_t samples = 0, std::uint64_t seed = 0);

}  // namespace dojo::rl

DOJO_PUBLIC_END
