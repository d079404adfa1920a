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

#include "core/export.h"
#include "rl/replay.h"

DOJO_PUBLIC_BEGIN
namespace dojo::rl {

class FrameReplay final : public Replay {
 public:
  // Observations are [height, width, stack] uint8 stacks, oldest frame first.
  FrameReplay(std::int64_t capacity, std::int64_t height, std::int64_t width, std::int64_t stack);

  // The first observation of an episode (after reset).
  void start(const torch::Tensor& obs);
  // The step taken from the last observation: its action, reward and the next observation; returns
  // the transition's slot. Only `terminated` stops bootstrapping; a truncated episode keeps its next
  // observation's value (and the next start() ends the episode in the memory).
  std::int64_t add(std::int64_t action, double reward, const torch::Tensor& next_obs, bool terminated);
  Batch gather(const std::vector<std::int64_t>& slots, const NStep& nstep = {}) const override;

  std::int64_t size() const override { return transitions_; }
  std::int64_t capacity() const override { return capacity_; }
  // Slots are filled from 0 in order: draw only among those written so far, so a fresh 1M-slot memory
  // is not searched slot by slot for the few filled ones.
  std::int64_t draw_range() const override { return filled_; }
  // Complete, and the k − 1 frames before it are still the ones it was recorded with.
  bool sampleable(std::int64_t slot) const override;
  // Memory held per slot: one frame plus the transition's fields.
  std::int64_t bytes_per_transition() const;

 private:
  double reward_at(std::int64_t slot) const override { return reward_[static_cast<std::size_t>(slot)]; }
  bool continues_after(std::int64_t slot) const override;
  void stack_into(std::int64_t newest, std::uint8_t* out) const;  // [k, H, W] at out
  void write_frame(std::int64_t slot, const torch::Tensor& obs);

  std::int64_t capacity_, height_, width_, stack_;
  torch::Tensor frames_;              // [capacity, H·W] uint8
  std::vector<std::int64_t> action_;  // of the transition leaving slot i
  std::vector<float> reward_;
  std::vector<std::uint8_t> terminated_, valid_, episode_start_;
  std::int64_t head_ = -1;  // the newest slot
  std::int64_t transitions_ = 0;
  std::int64_t filled_ = 0;  // slots ever written: [0, filled_)
};

}  // namespace dojo::rl

DOJO_PUBLIC_END
