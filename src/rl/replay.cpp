#include "rl/replay.h"

#include <torch/torch.h>

#include <cstring>

#include "core/error.h"

namespace dojo::rl {

Batch Batch::to(c10::Device device) const {
  const auto move = [&](const torch::Tensor& t) { return t.defined() ? t.to(device) : t; };
  return {move(obs),        move(action), move(reward), move(next_obs),
          move(terminated), move(steps),  move(weight), slots};
}

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

Batch Replay::sample(std::int64_t batch_size, std::mt19937_64& rng, const NStep& nstep) const {
  if (size() == 0) throw std::logic_error("Replay::sample on an empty buffer");
  std::vector<std::int64_t> slots(static_cast<std::size_t>(batch_size));
  std::uniform_int_distribution<std::int64_t> pick(0, draw_range() - 1);
  for (auto& s : slots) {
    do s = pick(rng);
    while (!sampleable(s));
  }
  return gather(slots, nstep);
}

Replay::Walk Replay::walk(std::int64_t slot, const NStep& nstep) const {
  Walk w{0.0, slot, 0};
  double discount = 1.0;
  for (;;) {
    w.reward += discount * reward_at(w.last);
    discount *= nstep.gamma;
    ++w.steps;
    if (w.steps >= nstep.n || !continues_after(w.last)) return w;
    w.last = (w.last + 1) % capacity();
  }
}

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
  episode_end_.assign(static_cast<std::size_t>(capacity), 0);
}

std::int64_t ReplayBuffer::add(const torch::Tensor& obs, const torch::Tensor& action, double reward,
                               const torch::Tensor& next_obs, bool terminated, bool truncated) {
  const auto slot = pos_;
  put_row(obs_, slot, obs);
  put_row(next_obs_, slot, next_obs);
  put_row(action_, slot, action);
  reward_.data_ptr<float>()[slot] = static_cast<float>(reward);
  terminated_.data_ptr<float>()[slot] = terminated ? 1.0f : 0.0f;
  episode_end_[static_cast<std::size_t>(slot)] = terminated || truncated ? 1 : 0;
  pos_ = (pos_ + 1) % capacity_;
  size_ = std::min(size_ + 1, capacity_);
  return slot;
}

double ReplayBuffer::reward_at(std::int64_t slot) const { return reward_.data_ptr<float>()[slot]; }

// Slots are written in time order; the newest (just before pos_) has no successor yet.
bool ReplayBuffer::continues_after(std::int64_t slot) const {
  return !episode_end_[static_cast<std::size_t>(slot)] && (slot + 1) % capacity_ != pos_;
}

Batch ReplayBuffer::gather(const std::vector<std::int64_t>& slots, const NStep& nstep) const {
  const auto b = static_cast<std::int64_t>(slots.size());
  auto first = torch::empty({b}, torch::kLong), last = torch::empty({b}, torch::kLong);
  auto reward = torch::empty({b}, torch::kFloat32), steps = torch::empty({b}, torch::kFloat32);
  for (std::int64_t i = 0; i < b; ++i) {
    const auto w = walk(slots[static_cast<std::size_t>(i)], nstep);
    first.data_ptr<std::int64_t>()[i] = slots[static_cast<std::size_t>(i)];
    last.data_ptr<std::int64_t>()[i] = w.last;
    reward.data_ptr<float>()[i] = static_cast<float>(w.reward);
    steps.data_ptr<float>()[i] = static_cast<float>(w.steps);
  }
  Batch out;
  out.obs = obs_.index_select(0, first);
  out.action = action_.index_select(0, first);
  out.reward = reward;
  out.next_obs = next_obs_.index_select(0, last);
  out.terminated = terminated_.index_select(0, last);
  out.steps = steps;
  out.slots = slots;
  return out;
}

Batch ReplayBuffer::gather(const torch::Tensor& slots) const {
  const auto s = slots.to(torch::kLong).contiguous();
  return gather(std::vector<std::int64_t>(s.data_ptr<std::int64_t>(), s.data_ptr<std::int64_t>() + s.numel()),
                NStep{});
}

}  // namespace dojo::rl
