// Replay memory of stacked frames that keeps each frame once (Mnih et al. 2015 held 1M transitions of
// 84×84 uint8 frames this way): a stack of k frames shares k − 1 of them with its neighbours, so
// storing stacks would cost k times the memory. Slot i holds frame i and the transition that leaves
// it; stacks are rebuilt at sampling, and never reach across an episode's start (the first frame is
// repeated instead, as FrameStack does after a reset).
#pragma once
#include <torch/types.h>

#include <cstdint>
#include <random>
#include <vector>

#include "rl/replay.h"

namespace dojo::rl {

class FrameReplay {
 public:
  // Observations are [height, width, stack] uint8 stacks, oldest frame first.
  FrameReplay(std::int64_t capacity, std::int64_t height, std::int64_t width, std::int64_t stack);

  // The first observation of an episode (after reset).
  void start(const torch::Tensor& obs);
  // The step taken from the last observation: its action, reward and the next observation. Only
  // `terminated` stops bootstrapping; a truncated episode keeps its next observation's value.
  void add(std::int64_t action, double reward, const torch::Tensor& next_obs, bool terminated);
  // batch_size transitions drawn uniformly from those whose stacks are intact.
  Batch sample(std::int64_t batch_size, std::mt19937_64& rng) const;

  std::int64_t size() const { return transitions_; }
  std::int64_t capacity() const { return capacity_; }
  // Memory held per slot: one frame plus the transition's fields.
  std::int64_t bytes_per_transition() const;

 private:
  bool sampleable(std::int64_t i) const;
  void stack_into(std::int64_t newest, std::uint8_t* out) const;  // [k, H, W] at out
  void write_frame(std::int64_t slot, const torch::Tensor& obs);

  std::int64_t capacity_, height_, width_, stack_;
  torch::Tensor frames_;              // [capacity, H·W] uint8
  std::vector<std::int64_t> action_;  // of the transition leaving slot i
  std::vector<float> reward_;
  std::vector<std::uint8_t> terminated_, valid_, episode_start_;
  std::int64_t head_ = -1;  // the newest slot
  std::int64_t transitions_ = 0;
};

}  // namespace dojo::rl
