#include "rl/replay.h"

#include <torch/torch.h>

#include <cstring>

#include "core/error.h"

namespace dojo::rl {

namespace {
std::vector<std::int64_t> with_leading(std::int64_t n, const std::vector<std::int64_t>& shape) {
  std::vector<std::int64_t> out{n};
  out.insert(out.end(), shape.begin(), shape.end());
  return out;
}

// Row `row` of `dst` <- `src` by memcpy: per-step adds are the hot path, and a tensor copy_ costs
// microseconds of dispatch for a few bytes.
void put_row(torch::Tensor& dst, std::int64_t row, const torch::Tensor& src) {
  const auto row_bytes = static_cast<std::size_t>(dst[0].numel()) * dst.element_size();
  auto s = src.to(dst.scalar_type()).contiguous();
  if (static_cast<std::size_t>(s.numel()) * s.element_size() != row_bytes) {
    throw Error("replay buffer: transition of " + std::to_string(s.numel()) + " values, expected " +
                std::to_string(dst[0].numel()));
  }
  std::memcpy(static_cast<char*>(dst.data_ptr()) + static_cast<std::size_t>(row) * row_bytes, s.data_ptr(),
              row_bytes);
}
}  // namespace

ReplayBuffer::ReplayBuffer(std::int64_t capacity, std::vector<std::int64_t> obs_shape, torch::Dtype obs_dtype,
                           std::vector<std::int64_t> action_shape, torch::Dtype action_dtype)
    : capacity_(capacity) {
  if (capacity <= 0)
    throw Error("buffer_size = " + std::to_string(capacity) + ": expected a positive integer");
  obs_ = torch::zeros(with_leading(capacity, obs_shape), obs_dtype);
  next_obs_ = torch::zeros(with_leading(capacity, obs_shape), obs_dtype);
  action_ = torch::zeros(with_leading(capacity, action_shape), action_dtype);
  reward_ = torch::zeros({capacity}, torch::kFloat32);
  terminated_ = torch::zeros({capacity}, torch::kFloat32);
}

void ReplayBuffer::add(const torch::Tensor& obs, const torch::Tensor& action, double reward,
                       const torch::Tensor& next_obs, bool terminated) {
  put_row(obs_, pos_, obs);
  put_row(next_obs_, pos_, next_obs);
  put_row(action_, pos_, action);
  reward_.data_ptr<float>()[pos_] = static_cast<float>(reward);
  terminated_.data_ptr<float>()[pos_] = terminated ? 1.0f : 0.0f;
  pos_ = (pos_ + 1) % capacity_;
  size_ = std::min(size_ + 1, capacity_);
}

Batch ReplayBuffer::sample(std::int64_t batch_size, std::mt19937_64& rng) const {
  if (size_ == 0) throw std::logic_error("ReplayBuffer::sample on an empty buffer");
  auto idx = torch::empty({batch_size}, torch::kLong);
  auto* p = idx.data_ptr<std::int64_t>();
  std::uniform_int_distribution<std::int64_t> pick(0, size_ - 1);
  for (std::int64_t i = 0; i < batch_size; ++i) p[i] = pick(rng);
  return gather(idx);
}

Batch ReplayBuffer::gather(const torch::Tensor& indices) const {
  return {obs_.index_select(0, indices), action_.index_select(0, indices), reward_.index_select(0, indices),
          next_obs_.index_select(0, indices), terminated_.index_select(0, indices)};
}

}  // namespace dojo::rl
