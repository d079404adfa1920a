// Replay memories. `Replay` is what samplers need from one (which slots can be drawn, and the n-step
// transitions that start at given slots); `ReplayBuffer` stores whole transitions, `FrameReplay`
// (frame_replay.h) stores each frame of a stacked-frame game once.
//
// Only `terminated` stops bootstrapping: a time-limit truncation keeps bootstrapping from s', so
// agents cannot get the two wrong (SB3 handles time-outs once, in its buffer, for the same reason).
#pragma once
#include <torch/types.h>

#include <cstdint>
#include <random>
#include <vector>

#include "core/export.h"

DOJO_PUBLIC_BEGIN
namespace dojo::rl {

struct Batch {
  torch::Tensor obs;       // [B, *obs_shape]
  torch::Tensor action;    // [B, *action_shape]
  torch::Tensor reward;    // [B] float32: Σ_{j<m} γ^j r_{t+j} over the m steps taken (m = 1 unless n-step)
  torch::Tensor next_obs;  // [B, *obs_shape]: s_{t+m}
  torch::Tensor terminated;  // [B] float32, 1 where s_{t+m} is terminal
  torch::Tensor steps;       // [B] float32, m: the target's bootstrap discount is γ^m; undefined means 1
  torch::Tensor weight;      // [B] float32 importance weights; undefined means uniform
  std::vector<std::int64_t> slots;  // where each transition starts, for priority updates

  // The tensors on `device` (replay memories live on the CPU; an update runs where its networks are).
  Batch to(c10::Device device) const;
};

// n-step returns (Sutton 1988; Hessel et al. 2018 use n = 3): the target bootstraps from s_{t+n} with
// γ^n after n discounted rewards, or stops early at the episode's end.
struct NStep {
  std::int64_t n = 1;
  double gamma = 0.99;
};

class Replay {
 public:
  virtual ~Replay() = default;
  virtual std::int64_t capacity() const = 0;
  virtual std::int64_t size() const = 0;  // transitions stored
  // Slots a sampler draws from, [0, draw_range()), and whether a drawn slot holds a usable transition.
  virtual std::int64_t draw_range() const = 0;
  virtual bool sampleable(std::int64_t slot) const = 0;
  // The n-step transitions that start at `slots`.
  virtual Batch gather(const std::vector<std::int64_t>& slots, const NStep& nstep = {}) const = 0;

  // batch_size transitions drawn uniformly (with replacement) from the usable slots.
  Batch sample(std::int64_t batch_size, std::mt19937_64& rng, const NStep& nstep = {}) const;

 protected:
  // Follows the episode from `slot` for up to n transitions, stopping after a terminal one, the last
  // one of an episode or the newest stored: the discounted reward sum, the last slot and the steps.
  struct Walk {
    double reward = 0.0;
    std::int64_t last = 0, steps = 0;
  };
  Walk walk(std::int64_t slot, const NStep& nstep) const;
  virtual double reward_at(std::int64_t slot) const = 0;
  // Whether slot + 1 holds the next transition of the same episode.
  virtual bool continues_after(std::int64_t slot) const = 0;
};

class ReplayBuffer final : public Replay {
 public:
  ReplayBuffer(std::int64_t capacity, std::vector<std::int64_t> obs_shape, torch::Dtype obs_dtype,
               std::vector<std::int64_t> action_shape, torch::Dtype action_dtype);

  // Copies one transition in, overwriting the oldest once full; returns its slot. `truncated` marks
  // the last transition of an episode cut by a time limit (it still bootstraps).
  std::int64_t add(const torch::Tensor& obs, const torch::Tensor& action, double reward,
                   const torch::Tensor& next_obs, bool terminated, bool truncated = false);
  Batch gather(const std::vector<std::int64_t>& slots, const NStep& nstep = {}) const override;
  Batch gather(const torch::Tensor& slots) const;  // one-step, for tests and tools

  std::int64_t size() const override { return size_; }
  std::int64_t capacity() const override { return capacity_; }
  std::int64_t draw_range() const override { return size_; }
  bool sampleable(std::int64_t slot) const override { return slot >= 0 && slot < size_; }
  std::int64_t position() const { return pos_; }
  // Whether the transition in `slot` ended its episode (terminated or truncated).
  bool episode_end(std::int64_t slot) const { return episode_end_.at(static_cast<std::size_t>(slot)) != 0; }
  void clear() { size_ = pos_ = 0; }

 private:
  double reward_at(std::int64_t slot) const override;
  bool continues_after(std::int64_t slot) const override;

  std::int64_t capacity_;
  std::int64_t pos_ = 0, size_ = 0;
  torch::Tensor obs_, action_, reward_, next_obs_, terminated_;
  std::vector<std::uint8_t> episode_end_;  // terminated or truncated
};

}  // namespace dojo::rl

DOJO_PUBLIC_END
