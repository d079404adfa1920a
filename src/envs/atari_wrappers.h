// The Atari preprocessing of Mnih et al. (2015) as Gymnasium and OpenAI baselines write it
// (gymnasium/wrappers/atari_preprocessing.py, baselines/common/atari_wrappers.py): random no-op
// starts, frame skipping with a max over the last two frames, reward clipping, grayscale 84×84
// frames and a stack of the last k.
#pragma once
#include "core/export.h"
#include "envs/factory.h"
#include "envs/wrappers.h"

DOJO_PUBLIC_BEGIN
namespace dojo::envs {

// On reset, takes 1 to noop_max no-op actions (drawn uniformly), so episodes start in different states.
class NoopReset final : public Wrapper {
 public:
  NoopReset(std::unique_ptr<Env> env, std::int64_t noop_max = 30, std::int64_t noop_action = 0);
  ResetResult reset(std::optional<std::uint64_t> seed = std::nullopt) override;
  std::string name() const override { return wrap_name("NoopReset"); }
  std::int64_t last_noops() const { return last_noops_; }

 private:
  std::int64_t noop_max_, noop_action_, last_noops_ = 0;
};

// Repeats each action `skip` times, summing the rewards; the observation is the element-wise max of
// the last two frames (Atari sprites flicker between frames). Stops early when the episode ends.
class MaxAndSkip final : public Wrapper {
 public:
  explicit MaxAndSkip(std::unique_ptr<Env> env, std::int64_t skip = 4);
  using Env::step;
  StepResult step(const torch::Tensor& action) override;
  std::string name() const override { return wrap_name("MaxAndSkip"); }

 private:
  std::int64_t skip_;
};

// Makes each lost life the end of an episode for the learner (Mnih et al. 2015), while the game only
// resets when it is really over: a reset after a lost life continues the game with a no-op step.
// Needs an env that reports info["lives"] at reset and at each step, as the ALE does.
class EpisodicLife final : public Wrapper {
 public:
  explicit EpisodicLife(std::unique_ptr<Env> env);
  ResetResult reset(std::optional<std::uint64_t> seed = std::nullopt) override;
  using Env::step;
  StepResult step(const torch::Tensor& action) override;
  std::string name() const override { return wrap_name("EpisodicLife"); }
  bool game_over() const { return game_over_; }

 private:
  double lives_ = 0;
  bool game_over_ = true;
};

// Presses FIRE (action 1) and then action 2 after each reset, for games that wait for FIRE to start
// (baselines' FireResetEnv). Needs action meanings with FIRE at index 1 and at least three actions.
class FireReset final : public Wrapper {
 public:
  explicit FireReset(std::unique_ptr<Env> env);
  ResetResult reset(std::optional<std::uint64_t> seed = std::nullopt) override;
  std::string name() const override { return wrap_name("FireReset"); }
};

// The reward's sign: −1, 0 or +1 (the paper's clipping, so one learning rate fits every game).
class ClipReward final : public Wrapper {
 public:
  using Env::step;
  using Wrapper::Wrapper;
  StepResult step(const torch::Tensor& action) override;
  std::string name() const override { return wrap_name("ClipReward"); }
};

// [H, W, 3] uint8 RGB frames -> [size, size, 1] uint8 grayscale, resized with area interpolation.
class WarpFrame final : public Wrapper {
 public:
  explicit WarpFrame(std::unique_ptr<Env> env, std::int64_t size = 84);
  ResetResult reset(std::optional<std::uint64_t> seed = std::nullopt) override;
  using Env::step;
  StepResult step(const torch::Tensor& action) override;
  const Space& observation_space() const override { return space_; }
  std::string name() const override { return wrap_name("WarpFrame"); }

 private:
  torch::Tensor warp(const torch::Tensor& frame) const;
  std::int64_t size_;
  Space space_;
};

// The last k frames along the channel axis: [H, W, C] -> [H, W, k·C], oldest first; a reset fills
// the stack with the first frame.
//
// Each frame is copied once, into a strip of frames laid side by side along the channels; an
// observation is a view of k neighbours in it (not contiguous), as baselines' LazyFrames share
// frames between stacks. A full strip is not reused but replaced, so an observation handed out never
// changes. Do not write into one: its frames belong to the next k−1 observations too.
class FrameStack final : public Wrapper {
 public:
  explicit FrameStack(std::unique_ptr<Env> env, std::int64_t k = 4);
  ResetResult reset(std::optional<std::uint64_t> seed = std::nullopt) override;
  using Env::step;
  StepResult step(const torch::Tensor& action) override;
  const Space& observation_space() const override { return space_; }
  std::string name() const override { return wrap_name("FrameStack"); }

 private:
  void push(const torch::Tensor& frame);
  torch::Tensor stacked() const;
  std::int64_t k_, channels_;
  torch::Tensor strip_;    // [H, W, capacity·C]
  std::int64_t used_ = 0;  // frames written into strip_
  Space space_;
};

struct AtariOptions {
  std::int64_t noop_max = 30;
  std::int64_t frame_skip = 4;
  std::int64_t screen_size = 84;
  std::int64_t frame_stack = 4;
  bool clip_reward = true;
  bool episodic_life = false;  // baselines' choice for training; Dopamine and Gymnasium leave it off
  bool fire_reset = false;     // for games that wait for FIRE
};
// NoopReset -> MaxAndSkip -> [EpisodicLife] -> [FireReset] -> ClipReward -> WarpFrame -> FrameStack,
// with Dopamine's defaults.
std::unique_ptr<Env> atari_preprocessing(std::unique_ptr<Env> env, const AtariOptions& options = {});
// The same, as a step of an EnvFactory's wrapper chain.
WrapperFn atari_wrapper(const AtariOptions& options = {});

}  // namespace dojo::envs

DOJO_PUBLIC_END
