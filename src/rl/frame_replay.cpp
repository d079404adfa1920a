#include "rl/frame_replay.h"

#include <torch/torch.h>

#include <algorithm>
#include <cstring>

#include "core/error.h"

namespace dojo::rl {

FrameReplay::FrameReplay(std::int64_t capacity, std::int64_t height, std::int64_t width, std::int64_t stack)
    : capacity_(capacity), height_(height), width_(width), stack_(stack) {
  if (capacity <= stack) {
    throw Error("buffer_size = " + std::to_string(capacity) + ": expected more than the frame stack (" +
                std::to_string(stack) + ")");
  }
  // Uninitialised: pages of a large buffer are only touched as frames arrive.
  frames_ = torch::empty({capacity, height * width}, torch::kUInt8);
  action_.assign(static_cast<std::size_t>(capacity), 0);
  reward_.assign(static_cast<std::size_t>(capacity), 0.0f);
  terminated_.assign(static_cast<std::size_t>(capacity), 0);
  valid_.assign(static_cast<std::size_t>(capacity), 0);
  episode_start_.assign(static_cast<std::size_t>(capacity), 0);
}

std::int64_t FrameReplay::bytes_per_transition() const {
  return height_ * width_ + static_cast<std::int64_t>(sizeof(std::int64_t) + sizeof(float) + 3);
}

// Copies the newest frame of a [H, W, k] stack into `slot`, which breaks the transition that led into
// the slot's old frame.
void FrameReplay::write_frame(std::int64_t slot, const torch::Tensor& obs) {
  if (obs.dim() != 3 || obs.size(0) != height_ || obs.size(1) != width_ || obs.size(2) != stack_ ||
      obs.scalar_type() != torch::kUInt8) {
    throw Error("frame replay: expected [" + std::to_string(height_) + ", " + std::to_string(width_) + ", " +
                std::to_string(stack_) + "] uint8 observations, got " + c10::str(obs.sizes()) + " " +
                std::string(c10::toString(obs.scalar_type())));
  }
  filled_ = std::max(filled_, slot + 1);
  auto newest = obs.select(2, stack_ - 1).contiguous();
  std::memcpy(frames_[slot].data_ptr<std::uint8_t>(), newest.data_ptr<std::uint8_t>(),
              static_cast<std::size_t>(height_ * width_));
  const auto prev = (slot + capacity_ - 1) % capacity_;
  if (valid_[static_cast<std::size_t>(prev)]) {
    valid_[static_cast<std::size_t>(prev)] = 0;  // the old frame's predecessor no longer leads here
    --transitions_;
  }
  if (valid_[static_cast<std::size_t>(slot)]) {
    valid_[static_cast<std::size_t>(slot)] = 0;
    --transitions_;
  }
}

void FrameReplay::start(const torch::Tensor& obs) {
  head_ = (head_ + 1) % capacity_;
  write_frame(head_, obs);
  episode_start_[static_cast<std::size_t>(head_)] = 1;
}

std::int64_t FrameReplay::add(std::int64_t action, double reward, const torch::Tensor& next_obs,
                              bool terminated) {
  if (head_ < 0) throw std::logic_error("FrameReplay::add before start");
  const auto from = head_;
  head_ = (head_ + 1) % capacity_;
  write_frame(head_, next_obs);
  episode_start_[static_cast<std::size_t>(head_)] = 0;
  const auto i = static_cast<std::size_t>(from);
  action_[i] = action;
  reward_[i] = static_cast<float>(reward);
  terminated_[i] = terminated ? 1 : 0;
  valid_[i] = 1;
  ++transitions_;
  return from;
}

// Slots just after the head are the oldest, and their pasts were overwritten.
bool FrameReplay::sampleable(std::int64_t i) const {
  if (!valid_[static_cast<std::size_t>(i)]) return false;
  const auto age = (head_ - i + capacity_) % capacity_;  // 0 for the head itself
  return age + stack_ <= capacity_;
}

// A slot's successor holds the same episode's next transition unless this one was terminal or the
// episode was cut there (its final frame then has no transition leaving it).
bool FrameReplay::continues_after(std::int64_t slot) const {
  return !terminated_[static_cast<std::size_t>(slot)] &&
         valid_[static_cast<std::size_t>((slot + 1) % capacity_)];
}

void FrameReplay::stack_into(std::int64_t newest, std::uint8_t* out) const {
  // Walk back from the newest frame; at an episode's start, repeat its first frame.
  std::vector<std::int64_t> slots(static_cast<std::size_t>(stack_));
  auto s = newest;
  for (auto k = stack_; k-- > 0;) {
    slots[static_cast<std::size_t>(k)] = s;
    if (!episode_start_[static_cast<std::size_t>(s)]) s = (s + capacity_ - 1) % capacity_;
  }
  const auto hw = height_ * width_;
  const auto* frames = frames_.data_ptr<std::uint8_t>();
  for (std::int64_t k = 0; k < stack_; ++k) {
    std::memcpy(out + k * hw, frames + slots[static_cast<std::size_t>(k)] * hw, static_cast<std::size_t>(hw));
  }
}

Batch FrameReplay::gather(const std::vector<std::int64_t>& slots, const NStep& nstep) const {
  const auto batch_size = static_cast<std::int64_t>(slots.size());
  Batch b;
  // Frames are copied whole into [B, k, H, W] storage; the batch is its [B, H, W, k] view, which a CNN
  // permutes back to channels-first without a copy.
  auto obs = torch::empty({batch_size, stack_, height_, width_}, torch::kUInt8);
  auto next = torch::empty({batch_size, stack_, height_, width_}, torch::kUInt8);
  b.action = torch::empty({batch_size}, torch::kLong);
  b.reward = torch::empty({batch_size}, torch::kFloat32);
  b.terminated = torch::empty({batch_size}, torch::kFloat32);
  b.steps = torch::empty({batch_size}, torch::kFloat32);
  const auto stride = height_ * width_ * stack_;
  for (std::int64_t n = 0; n < batch_size; ++n) {
    const auto i = slots[static_cast<std::size_t>(n)];
    const auto w = walk(i, nstep);
    stack_into(i, obs.data_ptr<std::uint8_t>() + n * stride);
    stack_into((w.last + 1) % capacity_, next.data_ptr<std::uint8_t>() + n * stride);
    b.action.data_ptr<std::int64_t>()[n] = action_[static_cast<std::size_t>(i)];
    b.reward.data_ptr<float>()[n] = static_cast<float>(w.reward);
    b.terminated.data_ptr<float>()[n] = terminated_[static_cast<std::size_t>(w.last)];
    b.steps.data_ptr<float>()[n] = static_cast<float>(w.steps);
  }
  b.obs = obs.permute({0, 2, 3, 1});
  b.next_obs = next.permute({0, 2, 3, 1});
  b.slots = slots;
  return b;
}

}  // namespace dojo::rl
