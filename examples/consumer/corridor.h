// Corridor-v0: a walk along n cells; start at the left end, +1 for reaching the right end. The
// observation is the position, one-hot; action 0 steps left, 1 steps right. A custom env is
// a class with Gymnasium's reset/step, its two spaces and (optionally) a renderer.
#pragma once
#include <dojo/envs/env.h>
#include <dojo/envs/registry.h>
#include <torch/torch.h>

namespace corridor {

class Corridor final : public dojo::envs::Env {
 public:
  static constexpr std::int64_t kCells = 8;

  dojo::envs::ResetResult reset(std::optional<std::uint64_t> seed = std::nullopt) override {
    seed_rng(seed);
    position_ = 0;
    return {obs(), {}};
  }
  using Env::step;
  dojo::envs::StepResult step(const torch::Tensor& action) override {
    check_action(action);
    position_ =
        std::clamp<std::int64_t>(position_ + (action.item<std::int64_t>() == 1 ? 1 : -1), 0, kCells - 1);
    const bool goal = position_ == kCells - 1;
    return {obs(), goal ? 1.0 : 0.0, goal, false, {}};
  }
  const dojo::envs::Space& action_space() const override { return action_space_; }
  const dojo::envs::Space& observation_space() const override { return observation_space_; }
  std::string name() const override { return "Corridor"; }
  // One 16x16 square per cell: the agent red, the goal green.
  torch::Tensor render() const override {
    auto frame = torch::full({16, 16 * kCells, 3}, 230, torch::kUInt8);
    frame.index_put_({torch::indexing::Slice(), torch::indexing::Slice((kCells - 1) * 16, kCells * 16), 1},
                     200);
    auto agent = frame.index(
        {torch::indexing::Slice(4, 12), torch::indexing::Slice(position_ * 16 + 4, position_ * 16 + 12)});
    agent.copy_(torch::tensor({200, 30, 30}, torch::kUInt8).expand({8, 8, 3}));
    return frame;
  }

 private:
  torch::Tensor obs() const {
    auto o = torch::zeros({kCells});
    o[position_] = 1.0f;
    return o;
  }
  dojo::envs::Space action_space_ = dojo::envs::Discrete{2};
  dojo::envs::Space observation_space_ = dojo::envs::Box(0.0, 1.0, {kCells});
  std::int64_t position_ = 0;
};

inline void register_corridor() {
  dojo::envs::register_env({.id = "Corridor-v0",
                            .entry_point = [] { return std::make_unique<Corridor>(); },
                            .max_episode_steps = 50,
                            .reward_threshold = 1.0});
}

}  // namespace corridor
