// Proportional prioritized replay (Schaul et al. 2016, "Prioritized Experience Replay"): transition i
// is drawn with probability P(i) = p_i / Σ_k p_k, where p_i = (|δ_i| + ε)^α is set from its last TD
// error and new transitions get the highest priority seen so far, so each is replayed at least once.
// The bias this brings is corrected by importance weights w_i = (N·P(i))^−β / max_k w_k, with β
// annealed to 1 over training. The max runs over every stored transition (baselines), so the weights
// shrink when a few transitions have near-zero error, or over the minibatch (Dopamine), so the
// largest weight of every batch is 1.
#pragma once
#include <torch/types.h>

#include <cstdint>
#include <random>
#include <vector>

#include "core/export.h"
#include "rl/replay.h"

DOJO_PUBLIC_BEGIN
namespace dojo::rl {

// A complete binary tree over `capacity` leaves that keeps the sum and the minimum (over positive
// leaves) of every subtree: setting a leaf and finding the leaf under a prefix sum are O(log n).
class SumTree {
 public:
  explicit SumTree(std::int64_t capacity);

  void set(std::int64_t leaf, double priority);  // priority >= 0; 0 takes the leaf out of sampling
  double get(std::int64_t leaf) const { return sum_[static_cast<std::size_t>(size_ + leaf)]; }
  double total() const { return sum_[1]; }
  double min() const { return min_[1]; }  // smallest positive leaf; +inf when none is positive
  // The leaf i with Σ_{k<i} p_k <= prefix < Σ_{k<=i} p_k (the last positive leaf when rounding
  // puts prefix at or past the total).
  std::int64_t find(double prefix) const;
  std::int64_t capacity() const { return capacity_; }

 private:
  std::int64_t capacity_, size_;   // size_: leaves rounded up to a power of two
  std::vector<double> sum_, min_;  // heap order, root at 1
};

struct PrioritizedOptions {
  double alpha = 0.6;  // how much prioritisation: 0 is uniform
  double eps = 1e-6;   // keeps zero-error transitions drawable
  // Normalise the weights by the minibatch's largest (Dopamine), not the memory's (baselines): with
  // the memory's, one near-zero error shrinks every weight and PER barely learns on MinAtar Breakout.
  bool batch_weights = true;
};

class PrioritizedSampler {
 public:
  PrioritizedSampler(std::int64_t capacity, PrioritizedOptions options);

  // A transition was written at `slot`: it gets the highest priority seen so far.
  void added(std::int64_t slot);
  // Stratified draws: the total priority is cut into batch_size equal segments, one draw in each.
  // Slots the memory can no longer use (overwritten frames) are dropped from the tree when drawn.
  // The batch carries its slots and importance weights w = (p_i / p_min)^−β, p_min the smallest
  // priority in the memory or, with batch_weights, in the batch.
  Batch sample(const Replay& replay, std::int64_t batch_size, double beta, std::mt19937_64& rng,
               const NStep& nstep = {});
  // p_i = (|δ_i| + ε)^α for the batch's slots.
  void update(const std::vector<std::int64_t>& slots, const torch::Tensor& td_error);

  const SumTree& tree() const { return tree_; }
  double max_priority() const { return max_priority_; }

 private:
  SumTree tree_;
  PrioritizedOptions opts_;
  double max_priority_ = 1.0;
};

}  // namespace dojo::rl

DOJO_PUBLIC_END
