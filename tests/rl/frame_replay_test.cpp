// FrameReplay against the stacks a FrameStack would have produced, kept whole for comparison.
#include "rl/frame_replay.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <deque>
#include <map>

#include "core/error.h"

namespace dojo::rl {
namespace {

// A 2×2 frame whose four bytes spell a counter: every frame in the test is unique.
torch::Tensor frame(std::uint32_t id) {
  auto f = torch::empty({2, 2}, torch::kUInt8);
  auto* p = f.data_ptr<std::uint8_t>();
  for (int b = 0; b < 4; ++b) p[b] = static_cast<std::uint8_t>(id >> (8 * b));
  return f;
}

struct Recorded {
  torch::Tensor obs, next_obs;
  std::int64_t action;
  float reward, terminated;
};

TEST(FrameReplay, RebuildsTheStacksAndRespectsEpisodeStarts) {
  const std::int64_t capacity = 64, k = 4;
  FrameReplay replay(capacity, 2, 2, k);
  std::mt19937_64 rng(0);
  std::map<std::string, Recorded> by_obs;  // key: the obs and next_obs bytes
  auto key = [](const torch::Tensor& a, const torch::Tensor& b) {
    auto ca = a.contiguous(), cb = b.contiguous();
    return std::string(reinterpret_cast<const char*>(ca.data_ptr<std::uint8_t>()),
                       static_cast<std::size_t>(ca.numel())) +
           std::string(reinterpret_cast<const char*>(cb.data_ptr<std::uint8_t>()),
                       static_cast<std::size_t>(cb.numel()));
  };
  std::uint32_t id = 1;
  for (int episode = 0; episode < 30; ++episode) {
    // FrameStack: the first frame repeated, then a sliding window, oldest first.
    std::deque<torch::Tensor> window(k, frame(id++));
    auto obs = torch::stack(std::vector<torch::Tensor>(window.begin(), window.end()), 2);
    replay.start(obs);
    const int length = 1 + static_cast<int>(rng() % 9);
    for (int t = 0; t < length; ++t) {
      window.pop_front();
      window.push_back(frame(id++));
      auto next = torch::stack(std::vector<torch::Tensor>(window.begin(), window.end()), 2);
      const bool terminated = t == length - 1 && episode % 2 == 0;  // odd episodes end truncated
      const std::int64_t action = static_cast<std::int64_t>(rng() % 6);
      const float reward = static_cast<float>(t) - 1.5f;
      replay.add(action, reward, next, terminated);
      by_obs[key(obs, next)] = {obs, next, action, reward, terminated ? 1.0f : 0.0f};
      obs = next;
    }
  }
  EXPECT_LE(replay.size(), capacity);
  EXPECT_GT(replay.size(), capacity - 30);
  auto b = replay.sample(500, rng);
  for (std::int64_t n = 0; n < 500; ++n) {
    auto it = by_obs.find(key(b.obs[n], b.next_obs[n]));
    ASSERT_NE(it, by_obs.end()) << "sample " << n << " is not a recorded transition";
    EXPECT_EQ(b.action[n].item<std::int64_t>(), it->second.action);
    EXPECT_EQ(b.reward[n].item<float>(), it->second.reward);
    EXPECT_EQ(b.terminated[n].item<float>(), it->second.terminated);
  }
  // One frame per slot: 2·2 bytes here; an 84×84 buffer holds 7056 bytes of frame per transition.
  EXPECT_EQ(FrameReplay(100, 84, 84, 4).bytes_per_transition(), 7056 + 15);
  EXPECT_THROW(replay.start(torch::zeros({2, 2, 3}, torch::kUInt8)), Error);  // wrong stack
  EXPECT_THROW(FrameReplay(4, 84, 84, 4), Error);
}

}  // namespace
}  // namespace dojo::rl
