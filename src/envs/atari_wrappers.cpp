#include "envs/atari_wrappers.h"

#include <torch/torch.h>

#include "core/error.h"
#include "envs/pixels.h"

namespace dojo::envs {

namespace {
const Box& box_of(const Env& env, const std::string& wrapper) {
  const auto* b = std::get_if<Box>(&env.observation_space());
  if (!b)
    throw Error(wrapper + ": expected a Box observation space, " + env.name() + " has " +
                to_string(env.observation_space()));
  return *b;
}
}  // namespace

NoopReset::NoopReset(std::unique_ptr<Env> env, std::int64_t noop_max, std::int64_t noop_action)
    : Wrapper(std::move(env)), noop_max_(noop_max), noop_action_(noop_action) {
  if (noop_max < 1) throw Error("NoopReset: noop_max = " + std::to_string(noop_max) + ", expected >= 1");
}

ResetResult NoopReset::reset(std::optional<std::uint64_t> seed) {
  seed_rng(seed);
  auto r = env_->reset(seed);
  last_noops_ = std::uniform_int_distribution<std::int64_t>(1, noop_max_)(rng());
  for (std::int64_t i = 0; i < last_noops_; ++i) {
    auto s = env_->step(noop_action_);
    r.obs = s.obs;
    r.info = s.info;
    if (s.done()) r = env_->reset();
  }
  return r;
}

namespace {
double lives_of(const Info& info, const Env& env) {
  const auto it = info.find("lives");
  if (it == info.end()) {
    throw Error("EpisodicLife: " + env.name() + " reports no info[\"lives\"]; expected a game with lives");
  }
  return it->second.number();
}
}  // namespace

EpisodicLife::EpisodicLife(std::unique_ptr<Env> env) : Wrapper(std::move(env)) {}

ResetResult EpisodicLife::reset(std::optional<std::uint64_t> seed) {
  ResetResult r;
  if (game_over_ || seed) {
    r = env_->reset(seed);
  } else {
    // A life was lost, not the game: carry on from where it stopped.
    auto s = env_->step(std::int64_t{0});
    r = {s.obs, s.info};
    if (s.done()) r = env_->reset();
  }
  lives_ = lives_of(r.info, *env_);
  game_over_ = false;
  return r;
}

StepResult EpisodicLife::step(const torch::Tensor& action) {
  auto s = env_->step(action);
  game_over_ = s.done();
  const double lives = lives_of(s.info, *env_);
  if (lives < lives_ && lives > 0) s.terminated = true;  // a lost life ends the learner's episode
  lives_ = lives;
  return s;
}

FireReset::FireReset(std::unique_ptr<Env> env) : Wrapper(std::move(env)) {
  const auto meanings = env_->action_meanings();
  if (meanings.size() < 3 || meanings[1] != "FIRE") {
    std::string names;
    for (const auto& m : meanings) names += (names.empty() ? "" : ", ") + m;
    throw Error("FireReset: " + env_->name() + " has actions [" + names +
                "]; expected FIRE at index 1 of 3 or more");
  }
}

ResetResult FireReset::reset(std::optional<std::uint64_t> seed) {
  auto r = env_->reset(seed);
  for (std::int64_t action : {1, 2}) {
    auto s = env_->step(action);
    r = {s.obs, s.info};
    if (s.done()) r = env_->reset();
  }
  return r;
}

MaxAndSkip::MaxAndSkip(std::unique_ptr<Env> env, std::int64_t skip) : Wrapper(std::move(env)), skip_(skip) {
  if (skip < 1) throw Error("MaxAndSkip: skip = " + std::to_string(skip) + ", expected >= 1");
}

StepResult MaxAndSkip::step(const torch::Tensor& action) {
  StepResult out;
  torch::Tensor previous;
  double reward = 0;
  for (std::int64_t i = 0; i < skip_; ++i) {
    auto s = env_->step(action);
    reward += s.reward;
    previous = out.obs.defined() ? out.obs : torch::Tensor();
    out = std::move(s);
    if (out.done()) break;
  }
  out.reward = reward;
  if (previous.defined()) out.obs = torch::maximum(previous, out.obs);
  return out;
}

StepResult ClipReward::step(const torch::Tensor& action) {
  auto r = env_->step(action);
  r.reward = static_cast<double>((r.reward > 0) - (r.reward < 0));
  return r;
}

WarpFrame::WarpFrame(std::unique_ptr<Env> env, std::int64_t size)
    : Wrapper(std::move(env)), size_(size), space_(Box(0.0, 255.0, {size, size, 1}, torch::kUInt8)) {
  const auto& b = box_of(*env_, "WarpFrame");
  if (b.shape.size() != 3 || b.shape[2] != 3 || b.dtype != torch::kUInt8) {
    throw Error("WarpFrame: expected [H, W, 3] uint8 RGB frames, " + env_->name() + " has " +
                to_string(env_->observation_space()));
  }
  if (size < 1) throw Error("WarpFrame: size = " + std::to_string(size) + ", expected >= 1");
}

torch::Tensor WarpFrame::warp(const torch::Tensor& frame) const { return resize_frame(frame, size_, true); }

ResetResult WarpFrame::reset(std::optional<std::uint64_t> seed) {
  auto r = env_->reset(seed);
  r.obs = warp(r.obs);
  return r;
}

StepResult WarpFrame::step(const torch::Tensor& action) {
  auto r = env_->step(action);
  r.obs = warp(r.obs);
  return r;
}

namespace {
// Frames a strip holds after the k−1 it carries over: one allocation and one (k−1)-frame copy per
// this many steps.
constexpr std::int64_t kStripFrames = 64;
}  // namespace

FrameStack::FrameStack(std::unique_ptr<Env> env, std::int64_t k)
    : Wrapper(std::move(env)), k_(k), channels_(0), space_(Discrete{}) {
  const auto& b = box_of(*env_, "FrameStack");
  if (k < 1) throw Error("FrameStack: k = " + std::to_string(k) + ", expected >= 1");
  if (b.shape.size() != 3) {
    throw Error("FrameStack: expected [H, W, C] frames, " + env_->name() + " has " +
                to_string(env_->observation_space()));
  }
  channels_ = b.shape[2];
  auto shape = b.shape;
  shape[2] *= k;
  space_ = Box(b.low.front(), b.high.front(), shape, b.dtype);
}

void FrameStack::push(const torch::Tensor& frame) {
  const auto capacity = k_ - 1 + kStripFrames;
  if (!strip_.defined() || used_ == capacity) {
    // A new strip, starting with the k−1 newest frames of the old one; views of the old one stay valid.
    auto fresh = torch::empty({frame.size(0), frame.size(1), capacity * channels_}, frame.options());
    if (strip_.defined() && k_ > 1) {
      fresh.slice(2, 0, (k_ - 1) * channels_)
          .copy_(strip_.slice(2, (used_ - k_ + 1) * channels_, used_ * channels_));
    }
    used_ = strip_.defined() ? k_ - 1 : 0;
    strip_ = fresh;
  }
  strip_.slice(2, used_ * channels_, (used_ + 1) * channels_).copy_(frame);
  ++used_;
}

torch::Tensor FrameStack::stacked() const {
  return strip_.slice(2, (used_ - k_) * channels_, used_ * channels_);
}

ResetResult FrameStack::reset(std::optional<std::uint64_t> seed) {
  auto r = env_->reset(seed);
  for (std::int64_t i = 0; i < k_; ++i) push(r.obs);
  r.obs = stacked();
  return r;
}

StepResult FrameStack::step(const torch::Tensor& action) {
  auto r = env_->step(action);
  push(r.obs);
  r.obs = stacked();
  return r;
}

std::unique_ptr<Env> atari_preprocessing(std::unique_ptr<Env> env, const AtariOptions& o) {
  if (o.noop_max > 0) env = std::make_unique<NoopReset>(std::move(env), o.noop_max);
  if (o.frame_skip > 1) env = std::make_unique<MaxAndSkip>(std::move(env), o.frame_skip);
  if (o.episodic_life) env = std::make_unique<EpisodicLife>(std::move(env));
  if (o.fire_reset) env = std::make_unique<FireReset>(std::move(env));
  if (o.clip_reward) env = std::make_unique<ClipReward>(std::move(env));
  env = std::make_unique<WarpFrame>(std::move(env), o.screen_size);
  if (o.frame_stack > 1) env = std::make_unique<FrameStack>(std::move(env), o.frame_stack);
  return env;
}

WrapperFn atari_wrapper(const AtariOptions& options) {
  return [options](std::unique_ptr<Env> env) { return atari_preprocessing(std::move(env), options); };
}

}  // namespace dojo::envs
