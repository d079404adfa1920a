#include "rl/prioritized.h"

#include <fmt/format.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

#include "core/error.h"

namespace dojo::rl {

namespace {
constexpr double kInf = std::numeric_limits<double>::infinity();
}

SumTree::SumTree(std::int64_t capacity) : capacity_(capacity), size_(1) {
  if (capacity <= 0)
    throw Error("prioritized replay: capacity " + std::to_string(capacity) + ", expected > 0");
  while (size_ < capacity) size_ *= 2;
  sum_.assign(static_cast<std::size_t>(2 * size_), 0.0);
  min_.assign(static_cast<std::size_t>(2 * size_), kInf);
}

void SumTree::set(std::int64_t leaf, double priority) {
  if (leaf < 0 || leaf >= capacity_ || !(priority >= 0.0) || std::isinf(priority)) {
    throw std::invalid_argument("SumTree::set: leaf " + std::to_string(leaf) + ", priority " +
                                std::to_string(priority));
  }
  auto i = static_cast<std::size_t>(size_ + leaf);
  sum_[i] = priority;
  min_[i] = priority > 0.0 ? priority : kInf;
  for (i /= 2; i >= 1; i /= 2) {
    sum_[i] = sum_[2 * i] + sum_[2 * i + 1];
    min_[i] = std::min(min_[2 * i], min_[2 * i + 1]);
  }
}

std::int64_t SumTree::find(double prefix) const {
  std::size_t i = 1;
  const auto leaves = static_cast<std::size_t>(size_);
  while (i < leaves) {
    const auto left = 2 * i;
    // Go right only when the prefix passes the left subtree and the right one has mass to land on.
    if (prefix >= sum_[left] && sum_[left + 1] > 0.0) {
      prefix -= sum_[left];
      i = left + 1;
    } else {
      i = left;
    }
  }
  return static_cast<std::int64_t>(i - leaves);
}

PrioritizedSampler::PrioritizedSampler(std::int64_t capacity, PrioritizedOptions options)
    : tree_(capacity), opts_(options) {
  if (!(opts_.alpha >= 0.0))
    throw Error(fmt::format("prioritized_replay_alpha = {:g}: expected >= 0", opts_.alpha));
  if (!(opts_.eps > 0.0)) throw Error(fmt::format("prioritized_replay_eps = {:g}: expected > 0", opts_.eps));
}

void PrioritizedSampler::added(std::int64_t slot) { tree_.set(slot, max_priority_); }

Batch PrioritizedSampler::sample(const Replay& replay, std::int64_t batch_size, double beta,
                                 std::mt19937_64& rng, const NStep& nstep) {
  std::vector<std::int64_t> slots(static_cast<std::size_t>(batch_size));
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  for (bool stale = true; stale;) {
    if (!(tree_.total() > 0.0)) throw std::logic_error("PrioritizedSampler::sample with nothing to draw");
    stale = false;
    const double segment = tree_.total() / static_cast<double>(batch_size);
    for (std::int64_t k = 0; k < batch_size && !stale; ++k) {
      const auto slot = tree_.find(segment * (static_cast<double>(k) + unit(rng)));
      if (!replay.sampleable(slot)) {
        tree_.set(slot, 0.0);  // overwritten since it was added: out of the tree, and draw again
        stale = true;
      }
      slots[static_cast<std::size_t>(k)] = slot;
    }
  }
  auto batch = replay.gather(slots, nstep);
  // w_i = (N·P(i))^−β / max_k w_k = (p_i / p_min)^−β: the rarest-drawn transition (of the memory,
  // or of the batch) has weight 1.
  double p_min = tree_.min();
  if (opts_.batch_weights) {
    p_min = kInf;
    for (const auto slot : slots) p_min = std::min(p_min, tree_.get(slot));
  }
  batch.weight = torch::empty({batch_size}, torch::kFloat32);
  for (std::int64_t k = 0; k < batch_size; ++k) {
    batch.weight.data_ptr<float>()[k] =
        static_cast<float>(std::pow(tree_.get(slots[static_cast<std::size_t>(k)]) / p_min, -beta));
  }
  return batch;
}

void PrioritizedSampler::update(const std::vector<std::int64_t>& slots, const torch::Tensor& td_error) {
  const auto err = td_error.detach().to(torch::kCPU, torch::kDouble).abs().contiguous();
  if (err.numel() != static_cast<std::int64_t>(slots.size())) {
    throw std::invalid_argument("PrioritizedSampler::update: " + std::to_string(err.numel()) +
                                " errors for " + std::to_string(slots.size()) + " slots");
  }
  for (std::size_t k = 0; k < slots.size(); ++k) {
    const double p = std::pow(err.data_ptr<double>()[k] + opts_.eps, opts_.alpha);
    tree_.set(slots[k], p);
    max_priority_ = std::max(max_priority_, p);
  }
}

}  // namespace dojo::rl
