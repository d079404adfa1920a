// A preallocated ring buffer of transitions (s, a, r, s', terminated) with uniform sampling over the
// filled slots. Only `terminated` is stored: a time-limit truncation keeps bootstrapping from s', so
// agents cannot get the two wrong (SB3 handles time-outs once, in its buffer, for the same reason).
#pragma once
#include <torch/types.h>

#include <cstdint>
#include <random>
#include <vector>

namespace dojo::rl {

struct Batch {
  torch::Tensor obs;         // [B, *obs_shape]
  torch::Tensor action;      // [B, *action_shape]
  torch::Tensor reward;      // [B] float32
  torch::Tensor next_obs;    // [B, *obs_shape]
  torch::Tensor terminated;  // [B] float32, 1 where s' is terminal
};

class ReplayBuffer {
 public:
  ReplayBuffer(std::int64_t capacity, std::vector<std::int64_t> obs_shape, torch::Dtype obs_dtype,
               std::vector<std::int64_t> action_shape, torch::Dtype action_dtype);

  // Copies one transition in, overwriting the oldest once full.
  void add(const torch::Tensor& obs, const torch::Tensor& action, double reward,
           const torch::Tensor& next_obs, bool terminated);
  // batch_size indices drawn uniformly (with replacement) from the filled slots.
  Batch sample(std::int64_t batch_size, std::mt19937_64& rng) const;
  Batch gather(const torch::Tensor& indices) const;

  std::int64_t size() const { return size_; }
  std::int64_t capacity() const { return capacity_; }
  std::int64_t position() const { return pos_; }
  void clear() { size_ = pos_ = 0; }

 private:
  std::int64_t capacity_;
  std::int64_t pos_ = 0, size_ = 0;
  torch::Tensor obs_, action_, reward_, next_obs_, terminated_;
};

}  // namespace dojo::rl
