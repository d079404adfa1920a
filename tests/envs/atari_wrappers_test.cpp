// The Atari wrappers on a counting environment (where every effect is predictable) and on the pixel
// MinAtar games.
#include "envs/atari_wrappers.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <set>

#include "core/error.h"
#include "envs/registry.h"

namespace dojo::envs {
namespace {

// Frame t is a 4×4×3 image of value t (mod 256) (t = steps since reset); the reward of step t is t − 3; the
// episode ends at step `length`. Counts every inner step.
class Counter final : public Env {
 public:
  explicit Counter(std::int64_t length = 10, std::int64_t* steps = nullptr, bool flicker = false)
      : length_(length), steps_(steps), flicker_(flicker) {}
  ResetResult reset(std::optional<std::uint64_t> seed) override {
    seed_rng(seed);
    t_ = 0;
    return {frame(), {}};
  }
  using Env::step;
  StepResult step(const torch::Tensor&) override {
    ++t_;
    if (steps_) ++*steps_;
    StepResult r;
    r.obs = frame();
    r.reward = static_cast<double>(t_ - 3);
    r.terminated = t_ >= length_;
    return r;
  }
  const Space& action_space() const override { return actions_; }
  const Space& observation_space() const override { return obs_; }
  std::string name() const override { return "Counter"; }

 private:
  // With flicker, even frames are blank (as Atari sprites drawn every other frame).
  torch::Tensor frame() const {
    return torch::full({4, 4, 3}, flicker_ && t_ % 2 == 0 ? 0 : t_ % 256, torch::kUInt8);
  }
  std::int64_t length_, t_ = 0;
  std::int64_t* steps_;
  bool flicker_;
  Space actions_ = Discrete{2};
  Space obs_ = Box(0.0, 255.0, {4, 4, 3}, torch::kUInt8);
};

// A game with lives and an ALE-like action set (NOOP, FIRE, RIGHT, LEFT). The ball is only served
// by FIRE; LEFT while it is in play loses a life; the game is over when no lives are left. The
// observation is [lives, served, steps since the game's reset, actions since the last reset() call].
class LivesGame final : public Env {
 public:
  explicit LivesGame(int lives = 3) : start_lives_(lives) {}
  ResetResult reset(std::optional<std::uint64_t> seed) override {
    seed_rng(seed);
    lives_ = start_lives_;
    served_ = false;
    t_ = 0;
    ++resets;
    return {obs(), {{"lives", lives_}}};
  }
  using Env::step;
  StepResult step(const torch::Tensor& action) override {
    const auto a = action.item<std::int64_t>();
    ++t_;
    actions.push_back(a);
    StepResult r;
    if (a == 1) served_ = true;
    if (a == 3 && served_) {
      --lives_;
      served_ = false;
    }
    r.reward = served_ ? 1.0 : 0.0;
    r.terminated = lives_ == 0;
    r.obs = obs();
    r.info = {{"lives", lives_}};
    return r;
  }
  const Space& action_space() const override { return actions_; }
  const Space& observation_space() const override { return obs_; }
  std::vector<std::string> action_meanings() const override { return {"NOOP", "FIRE", "RIGHT", "LEFT"}; }
  std::string name() const override { return "LivesGame"; }
  int resets = 0;
  std::vector<std::int64_t> actions;

 private:
  torch::Tensor obs() const {
    return torch::tensor({static_cast<float>(lives_), served_ ? 1.0f : 0.0f, static_cast<float>(t_)});
  }
  int start_lives_, lives_ = 0, t_ = 0;
  bool served_ = false;
  Space actions_ = Discrete{4};
  Space obs_ = Box(-1e9, 1e9, {3});
};

TEST(AtariWrappers, EpisodicLifeEndsTheLearnersEpisodeAtEachLostLife) {
  auto game = std::make_unique<LivesGame>(2);
  auto* g = game.get();
  EpisodicLife env(std::move(game));
  env.reset(0);
  EXPECT_FALSE(env.step(std::int64_t{1}).done());  // served
  auto lost = env.step(std::int64_t{3});           // a life lost: the learner's episode ends
  EXPECT_TRUE(lost.terminated);
  EXPECT_FALSE(env.game_over());
  auto r = env.reset();  // continues the game with a no-op step instead of resetting it
  EXPECT_EQ(g->resets, 1);
  EXPECT_EQ(r.obs[0].item<float>(), 1.0f);  // one life left
  EXPECT_EQ(r.obs[2].item<float>(), 3.0f);  // three steps into the same game
  EXPECT_EQ(g->actions.back(), 0);
  env.step(std::int64_t{1});
  auto over = env.step(std::int64_t{3});  // the last life: the game is over
  EXPECT_TRUE(over.terminated);
  EXPECT_TRUE(env.game_over());
  r = env.reset();
  EXPECT_EQ(g->resets, 2);
  EXPECT_EQ(r.obs[0].item<float>(), 2.0f);
  // Without info["lives"] it is an error naming the env.
  EpisodicLife bad(std::make_unique<Counter>());
  try {
    bad.reset(0);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("Counter"), std::string::npos) << e.what();
  }
}

TEST(AtariWrappers, FireResetServesAfterEveryReset) {
  auto game = std::make_unique<LivesGame>(3);
  auto* g = game.get();
  FireReset env(std::move(game));
  auto r = env.reset(0);
  EXPECT_EQ(g->actions, (std::vector<std::int64_t>{1, 2}));
  EXPECT_EQ(r.obs[1].item<float>(), 1.0f);  // the ball is in play
  EXPECT_EQ(env.name(), "FireReset<LivesGame>");
  // An action set without FIRE at index 1 is refused, naming the actions.
  try {
    FireReset bad(make("MinAtar/Breakout-v0"));
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("NOOP, LEFT, UP, RIGHT, DOWN, FIRE"), std::string::npos) << e.what();
  }
}

TEST(AtariWrappers, MaxAndSkipRepeatsSumsAndTakesTheMaxOfTheLastTwo) {
  std::int64_t steps = 0;
  MaxAndSkip env(std::make_unique<Counter>(10, &steps, /*flicker=*/true), 4);
  env.reset(0);
  auto r = env.step(std::int64_t{0});
  EXPECT_EQ(steps, 4);
  EXPECT_EQ(r.reward, -2 - 1 + 0 + 1);    // steps 1-4
  EXPECT_EQ(r.obs.max().item<int>(), 3);  // max(frame 3, blank frame 4)
  env.step(std::int64_t{0});              // steps 5-8
  auto last = env.step(std::int64_t{0});  // 9, 10: the episode ends early
  EXPECT_EQ(steps, 10);
  EXPECT_TRUE(last.terminated);
  EXPECT_EQ(last.reward, 6 + 7);
  EXPECT_THROW(MaxAndSkip(std::make_unique<Counter>(), 0), Error);
}

TEST(AtariWrappers, ClipRewardKeepsTheSign) {
  ClipReward env(std::make_unique<Counter>());
  env.reset(0);
  std::vector<double> rewards;
  for (int t = 0; t < 5; ++t) rewards.push_back(env.step(std::int64_t{0}).reward);
  EXPECT_EQ(rewards, (std::vector<double>{-1, -1, 0, 1, 1}));
}

TEST(AtariWrappers, NoopResetTakesOneToThirtyNoops) {
  std::int64_t steps = 0;
  NoopReset env(std::make_unique<Counter>(1000, &steps), 30);
  std::set<std::int64_t> seen;
  for (std::uint64_t s = 0; s < 200; ++s) {
    steps = 0;
    auto r = env.reset(s);
    EXPECT_EQ(steps, env.last_noops());
    EXPECT_GE(env.last_noops(), 1);
    EXPECT_LE(env.last_noops(), 30);
    EXPECT_EQ(r.obs.max().item<int>(), env.last_noops());  // the frame after the no-ops
    seen.insert(env.last_noops());
  }
  EXPECT_GE(seen.size(), 25u);  // spread over the range
  NoopReset again(std::make_unique<Counter>(1000), 30);
  again.reset(7);
  const auto first = again.last_noops();
  again.reset(7);
  EXPECT_EQ(again.last_noops(), first);  // seeded
}

TEST(AtariWrappers, WarpFrameStackAndThePreprocessingChain) {
  // Grayscale 84×84 of the pixel Breakout: black background, the bricks' band lit.
  WarpFrame warp(make("Pixel/Breakout-v1"));
  auto obs = warp.reset(0).obs;
  EXPECT_EQ(obs.sizes(), (std::vector<std::int64_t>{84, 84, 1}));
  EXPECT_EQ(obs.scalar_type(), torch::kUInt8);
  EXPECT_EQ(to_string(warp.observation_space()), "Box(0, 255, (84, 84, 1), uint8)");
  // Rows 1-3 of cells are bricks: frame rows 48-101 of 210, i.e. about rows 19-40 of 84.
  EXPECT_GT(obs.slice(0, 22, 38).to(torch::kFloat32).mean().item<double>(), 80);
  EXPECT_LT(obs.slice(0, 0, 10).slice(1, 0, 60).to(torch::kFloat32).mean().item<double>(), 1.0);
  // A vector observation cannot be warped: one clear error.
  try {
    WarpFrame bad(make("CartPole-v1"));
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("WarpFrame: expected [H, W, 3] uint8 RGB frames"),
              std::string::npos);
  }

  FrameStack stack(std::make_unique<Counter>(), 4);
  auto s = stack.reset(0).obs;
  EXPECT_EQ(s.sizes(), (std::vector<std::int64_t>{4, 4, 12}));
  EXPECT_EQ(s.max().item<int>(), 0);  // the first frame four times
  stack.step(std::int64_t{0});
  s = stack.step(std::int64_t{0}).obs;
  // Oldest first: frames 0, 0, 1, 2.
  EXPECT_EQ(s.select(2, 0)[0][0].item<int>(), 0);
  EXPECT_EQ(s.select(2, 6)[0][0].item<int>(), 1);
  EXPECT_EQ(s.select(2, 9)[0][0].item<int>(), 2);
  EXPECT_THROW(FrameStack(make("CartPole-v1"), 4), Error);

  // Frames are shared, not copied: consecutive stacks are views of one strip, and a stack kept from
  // early on still holds its frames after many steps have filled and replaced strips.
  FrameStack shared(std::make_unique<Counter>(1000), 4);
  shared.reset(0);
  auto kept = shared.step(std::int64_t{0}).obs;  // frames 0, 0, 0, 1
  const auto kept_copy = kept.clone();
  auto prev = kept;
  std::int64_t same_strip = 0;
  for (int t = 2; t <= 250; ++t) {
    auto now = shared.step(std::int64_t{0}).obs;
    same_strip += now.storage().data() == prev.storage().data() ? 1 : 0;
    EXPECT_EQ(now.select(2, 9)[0][0].item<int>(), t);  // newest last
    EXPECT_EQ(now.select(2, 0)[0][0].item<int>(), std::max(0, t - 3));
    prev = now;
  }
  EXPECT_GT(same_strip, 240);  // a new strip only every 64 steps
  EXPECT_TRUE(torch::equal(kept, kept_copy));

  auto atari = atari_preprocessing(make("Pixel/Breakout-v1"));
  auto a = atari->reset(0).obs;
  EXPECT_EQ(a.sizes(), (std::vector<std::int64_t>{84, 84, 4}));
  EXPECT_EQ(to_string(atari->observation_space()), "Box(0, 255, (84, 84, 4), uint8)");
  for (int t = 0; t < 100; ++t) {
    auto r = atari->step(std::int64_t{t % 3});
    EXPECT_TRUE(r.reward == 0 || r.reward == 1);  // clipped
    if (r.done()) break;
  }
  EXPECT_EQ(atari->name(),
            "FrameStack<WarpFrame<ClipReward<MaxAndSkip<NoopReset<TimeLimit<OrderEnforcing<PixelBreakout>>>>>>>");
}

}  // namespace
}  // namespace dojo::envs
