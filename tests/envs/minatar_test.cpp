// MinAtar games: the rules that matter, read off the observation channels; sticky actions; replay
// from a seed; the registry's ids.
#include "envs/minatar/minatar.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "core/error.h"
#include "envs/minatar/pixels.h"
#include "envs/registry.h"

namespace dojo::envs::minatar {
namespace {

// (x, y) of the single cell set in a channel; (-1, -1) when none is.
std::pair<int, int> where(const torch::Tensor& obs, int channel) {
  auto idx = obs.select(2, channel).nonzero();
  if (idx.size(0) == 0) return {-1, -1};
  return {static_cast<int>(idx[0][1].item<std::int64_t>()), static_cast<int>(idx[0][0].item<std::int64_t>())};
}
std::int64_t count(const torch::Tensor& obs, int channel) {
  return obs.select(2, channel).sum().item<std::int64_t>();
}

TEST(Breakout, StartsWithThreeRowsAndTheBallOnRowThree) {
  MinAtarEnv env(make_game("Breakout"), true, 0.0);
  EXPECT_EQ(env.game().channels(), (std::vector<std::string>{"paddle", "ball", "trail", "brick"}));
  for (std::uint64_t seed = 0; seed < 6; ++seed) {
    auto obs = env.reset(seed).obs;
    EXPECT_EQ(obs.sizes(), (std::vector<std::int64_t>{10, 10, 4}));
    EXPECT_EQ(obs.scalar_type(), torch::kUInt8);
    EXPECT_EQ(count(obs, 3), 30);
    EXPECT_EQ(obs.select(2, 3).slice(0, 1, 4).sum().item<std::int64_t>(), 30);  // rows 1-3
    EXPECT_EQ(where(obs, 0), std::make_pair(4, 9));
    auto [x, y] = where(obs, 1);
    EXPECT_EQ(y, 3);
    EXPECT_TRUE(x == 0 || x == 9);
  }
  EXPECT_EQ(std::get<Discrete>(env.action_space()).n, 3);
}

TEST(Breakout, BallMovesDiagonallyAndEachBrickPaysOne) {
  // A paddle that follows the ball: every move is one diagonal step (or a bounce in place), the
  // trail marks the last cell, and the reward is exactly the number of bricks that disappeared.
  MinAtarEnv env(make_game("Breakout"), true, 0.0);
  auto obs = env.reset(3).obs;
  double total = 0;
  bool refilled = false;
  for (int t = 0; t < 3000; ++t) {
    auto [bx, by] = where(obs, 1);
    auto [px, py] = where(obs, 0);
    const std::int64_t action = bx < px ? 1 : bx > px ? 2 : 0;  // n, l, r
    auto r = env.step(action);
    auto [nx, ny] = where(r.obs, 1);
    EXPECT_LE(std::abs(nx - bx), 1);
    EXPECT_LE(std::abs(ny - by), 1);
    EXPECT_EQ(where(r.obs, 2), std::make_pair(bx, by));  // the trail
    const auto before = count(obs, 3), after = count(r.obs, 3);
    if (after == 30 && before < 30 - static_cast<std::int64_t>(r.reward)) {
      refilled = true;  // cleared, then three new rows
    } else {
      EXPECT_EQ(before - after, static_cast<std::int64_t>(r.reward));
    }
    EXPECT_TRUE(r.reward == 0 || r.reward == 1);
    total += r.reward;
    obs = r.obs;
    if (r.terminated) break;
  }
  EXPECT_GE(total, 30);  // the follower clears the first wall
  EXPECT_TRUE(refilled);
}

TEST(Breakout, LosingTheBallEnds) {
  MinAtarEnv env(make_game("Breakout"), true, 0.0);
  env.reset(0);
  bool ended = false;
  for (int t = 0; t < 200 && !ended; ++t) {
    auto r = env.step(std::int64_t{1});  // hug the left wall
    ended = r.terminated;
    if (ended) {
      EXPECT_EQ(where(r.obs, 1).second, 9);  // the ball reached the bottom row
    }
  }
  EXPECT_TRUE(ended);
}

TEST(Freeway, MovesEveryThirdFrameScoresAtTheTopAndEndsAt2500) {
  MinAtarEnv env(make_game("Freeway"), true, 0.0);
  auto obs = env.reset(1).obs;
  EXPECT_EQ(obs.sizes(), (std::vector<std::int64_t>{10, 10, 7}));
  EXPECT_EQ(count(obs, 1), 8);  // one car per lane, rows 1-8
  for (int lane = 1; lane <= 8; ++lane) EXPECT_EQ(obs.select(2, 1)[lane].sum().item<std::int64_t>(), 1);
  EXPECT_EQ(obs.slice(2, 2, 7).sum().item<std::int64_t>(), 8);  // one speed trail per car
  double total = 0;
  int last_move = -10, steps = 0;
  auto y = where(obs, 0).second;
  for (;;) {
    auto r = env.step(std::int64_t{1});  // up
    ++steps;
    const auto ny = where(r.obs, 0).second;
    if (ny == y - 1) {  // moved up
      EXPECT_GE(steps - last_move, 3);
      last_move = steps;
    }
    if (r.reward > 0) {
      EXPECT_EQ(ny, 9);  // back to the bottom after scoring
    }
    total += r.reward;
    y = ny;
    if (r.terminated) break;
  }
  EXPECT_EQ(steps, 2501);
  EXPECT_GT(total, 5);  // always-up crosses now and then
}

TEST(Asterix, PlayerStaysInRowsOneToEightGoldPaysAndEnemiesEnd) {
  MinAtarEnv env(make_game("Asterix"), true, 0.0);
  auto obs = env.reset(0).obs;
  EXPECT_EQ(obs.sizes(), (std::vector<std::int64_t>{10, 10, 4}));
  EXPECT_EQ(where(obs, 0), std::make_pair(5, 5));
  EXPECT_EQ(std::get<Discrete>(env.action_space()).n, 5);
  for (int i = 0; i < 6; ++i) obs = env.step(std::int64_t{2}).obs;  // up: no higher than row 1
  EXPECT_EQ(where(obs, 0).second, 1);
  // Random play: things enter at a side on rows 1-8 with a trail behind them; gold is +1 and
  // disappears; an enemy on the player's cell ends the episode.
  std::mt19937_64 rng(1);
  double total = 0;
  bool ended = false;
  for (int t = 0; t < 5000 && !ended; ++t) {
    auto r = env.step(sample(env.action_space(), rng));
    for (int c : {1, 3}) {
      auto cells = r.obs.select(2, c).nonzero();
      for (std::int64_t k = 0; k < cells.size(0); ++k) {
        const auto y = cells[k][0].item<std::int64_t>();
        EXPECT_GE(y, 1);
        EXPECT_LE(y, 8);
      }
    }
    EXPECT_TRUE(r.reward == 0 || r.reward == 1);
    total += r.reward;
    ended = r.terminated;
  }
  EXPECT_TRUE(ended);
}

TEST(Asterix, ThingsMoveEveryFifthFrameAtFirst) {
  MinAtarEnv env(make_game("Asterix"), true, 0.0);
  env.reset(2);
  // The first spawn is at frame 11 (the timer starts at 10); from then on a thing moves one cell every
  // 5 frames until the first speed-up.
  std::vector<int> moves;
  int last_x = -1;
  for (int t = 1; t <= 60; ++t) {
    auto obs = env.step(std::int64_t{0}).obs;
    auto both = obs.select(2, 1) + obs.select(2, 3);
    auto any = both.nonzero();  // follow the first thing on the screen
    if (any.size(0) == 0) continue;
    const int x = static_cast<int>(any[0][1].item<std::int64_t>());
    if (last_x >= 0 && x != last_x) moves.push_back(t);
    last_x = x;
  }
  ASSERT_GE(moves.size(), 3u);
  for (std::size_t i = 1; i < moves.size(); ++i) EXPECT_EQ(moves[i] - moves[i - 1], 5);
}

TEST(SpaceInvaders, AliensMarchTurnAndDieToShots) {
  MinAtarEnv env(make_game("SpaceInvaders"), true, 0.0);
  auto obs = env.reset(0).obs;
  EXPECT_EQ(obs.sizes(), (std::vector<std::int64_t>{10, 10, 6}));
  EXPECT_EQ(count(obs, 1), 24);  // 4 rows × 6
  EXPECT_EQ(obs.select(2, 1).slice(0, 0, 4).slice(1, 2, 8).sum().item<std::int64_t>(), 24);
  EXPECT_EQ(count(obs, 2), 24);  // marching left
  EXPECT_EQ(std::get<Discrete>(env.action_space()).n, 4);
  // The block moves every 12 frames: one column left on frame 13.
  for (int t = 1; t <= 13; ++t) obs = env.step(std::int64_t{0}).obs;
  EXPECT_EQ(obs.select(2, 1).select(1, 1).sum().item<std::int64_t>(), 4);
  EXPECT_EQ(obs.select(2, 1).select(1, 7).sum().item<std::int64_t>(), 0);
  // Firing: a shot appears above the cannon and rises a row per frame; at most one per 5 frames.
  env.reset(0);
  obs = env.step(std::int64_t{3}).obs;  // fire
  EXPECT_EQ(where(obs, 4), std::make_pair(5, 8));
  obs = env.step(std::int64_t{3}).obs;  // cooling down: nothing new
  EXPECT_EQ(count(obs, 4), 1);
  EXPECT_EQ(where(obs, 4), std::make_pair(5, 7));
  // Shooting from under the block: every reward is one alien fewer (until a wave is cleared).
  env.reset(0);
  std::mt19937_64 rng(3);
  double total = 0;
  obs = env.reset(0).obs;
  for (int t = 0; t < 3000; ++t) {
    const std::int64_t a = std::uniform_int_distribution<int>(0, 3)(rng) == 0 ? 1 + (t / 7) % 2 : 3;
    auto r = env.step(a);
    const auto before = count(obs, 1), after = count(r.obs, 1);
    if (after != 24) {
      EXPECT_EQ(before - after, static_cast<std::int64_t>(r.reward)) << t;
    }
    total += r.reward;
    obs = r.obs;
    if (r.terminated) break;
  }
  EXPECT_GE(total, 3);
}

TEST(SpaceInvaders, StandingStillIsFatal) {
  // The alien nearest the cannon drops a bomb every 10 frames.
  MinAtarEnv env(make_game("SpaceInvaders"), true, 0.0);
  env.reset(0);
  int t = 0;
  for (; t < 500; ++t) {
    auto r = env.step(std::int64_t{0});
    if (r.terminated) break;
  }
  EXPECT_LT(t, 500);
  EXPECT_GT(t, 10);
}

TEST(Seaquest, OxygenDrainsBelowAndSurfacingNeedsADiver) {
  MinAtarEnv env(make_game("Seaquest"), true, 0.0);
  auto obs = env.reset(0).obs;
  EXPECT_EQ(obs.sizes(), (std::vector<std::int64_t>{10, 10, 10}));
  EXPECT_EQ(std::get<Discrete>(env.action_space()).n, 6);
  EXPECT_EQ(where(obs, 0), std::make_pair(5, 0));  // the front, facing left
  EXPECT_EQ(where(obs, 1), std::make_pair(6, 0));  // the back
  EXPECT_EQ(count(obs, 7), 10);                    // full oxygen
  EXPECT_EQ(count(obs, 8), 0);                     // no diver on board
  // One frame of oxygen per frame below the surface: the gauge shows tenths of 200.
  for (int n = 1; n <= 20; ++n) {
    auto r = env.step(std::int64_t{n == 1 ? 4 : 0});  // down once, then wait on row 1
    ASSERT_FALSE(r.terminated) << n;
    EXPECT_EQ(count(r.obs, 7), (200 - n) / 20) << n;
  }
  // Back up with no diver on board: the episode ends.
  EXPECT_TRUE(env.step(std::int64_t{2}).terminated);
}

TEST(Seaquest, RunningOutOfOxygenEnds) {
  MinAtarEnv env(make_game("Seaquest"), true, 0.0);
  // Dive, then random moves that never go up: every episode ends, by an enemy or by oxygen. Oxygen
  // (200) is down to −1 after 201 frames below, which ends the episode on frame 202.
  std::mt19937_64 rng(4);
  for (std::uint64_t seed = 0; seed < 5; ++seed) {
    env.reset(seed);
    int frames = 1;
    bool done = env.step(std::int64_t{4}).terminated;
    for (; !done; ++frames) {
      const std::int64_t moves[] = {0, 1, 3, 4, 5};
      done = env.step(moves[std::uniform_int_distribution<int>(0, 4)(rng)]).terminated;
    }
    EXPECT_LE(frames, 202) << seed;
  }
}

TEST(Pixel, FramesAre210By160RgbDrawnFromTheGrid) {
  auto env = make("Pixel/Breakout-v1");
  EXPECT_EQ(to_string(env->observation_space()), "Box(0, 255, (210, 160, 3), uint8)");
  auto frame = env->reset(0).obs;
  EXPECT_EQ(frame.sizes(), (std::vector<std::int64_t>{210, 160, 3}));
  EXPECT_EQ(frame.scalar_type(), torch::kUInt8);
  // The paddle (channel 0) fills cell (row 9, column 4): a 16×18 block below the 30-row score area.
  auto paddle = frame.slice(0, 30 + 9 * 18, 30 + 10 * 18).slice(1, 4 * 16, 5 * 16);
  EXPECT_TRUE(paddle.select(2, 0).eq(200).all().item<bool>());
  EXPECT_TRUE(paddle.select(2, 1).eq(72).all().item<bool>());
  // Bricks fill rows 1-3 of cells; row 4 holds at most the ball and its trail.
  auto brick = frame.slice(0, 30 + 18, 30 + 4 * 18);
  EXPECT_EQ(brick.select(2, 0).eq(181).sum().item<std::int64_t>(), 30 * 16 * 18);
  // The score area shows the score: its lit pixels change once a brick falls.
  auto score_area = [](const torch::Tensor& f) { return f.slice(0, 0, 30).ne(0).sum().item<std::int64_t>(); };
  const auto zero = score_area(frame);
  EXPECT_GT(zero, 0);
  minatar::MinAtarEnv grid_env(minatar::make_game("Breakout"), true);
  auto grid_obs = grid_env.reset(0).obs;
  // The same game seen as a grid and as frames: the frame is the grid drawn.
  for (int t = 0; t < 200; ++t) {
    auto a = torch::scalar_tensor(t % 3, torch::kLong);
    auto r = env->step(a);
    auto g = grid_env.step(a);
    EXPECT_EQ(r.reward, g.reward);
    for (int y = 0; y < 10; ++y) {
      for (int x = 0; x < 10; ++x) {
        const bool any = g.obs[y][x].sum().item<std::int64_t>() > 0;
        const bool lit = r.obs[30 + y * 18 + 9][x * 16 + 8].sum().item<std::int64_t>() > 0;
        ASSERT_EQ(any, lit) << t << " " << y << " " << x;
      }
    }
    if (r.reward > 0) {
      EXPECT_NE(score_area(r.obs), zero);
    }
    if (r.terminated) break;
  }
}

// Records the actions that reach the game.
class Recorder final : public Game {
 public:
  std::vector<Action>* seen;
  explicit Recorder(std::vector<Action>* s) : seen(s) {}
  std::string name() const override { return "Recorder"; }
  std::vector<std::string> channels() const override { return {"x"}; }
  std::vector<Action> minimal_actions() const override { return {kLeft, kRight}; }
  void reset(std::mt19937_64&) override {}
  double act(Action a, std::mt19937_64&) override {
    seen->push_back(a);
    return 0;
  }
  bool terminal() const override { return false; }
  Grid state() const override { return Grid(1); }
};

TEST(MinAtar, StickyActionsRepeatTheLastActionOneTimeInTen) {
  std::vector<Action> seen;
  MinAtarEnv env(std::make_unique<Recorder>(&seen), true);
  env.reset(0);
  const int n = 20000;
  int repeated = 0;
  for (int t = 0; t < n; ++t) {
    env.step(std::int64_t{t % 2});  // alternate left and right
    if (seen.back() != (t % 2 == 0 ? kLeft : kRight)) ++repeated;
  }
  // A sticky step hands the game what it last received, which differs from what was sent unless that
  // step was itself sticky: q = 0.1·(1 − q), q = 0.1/1.1.
  const double q = 0.1 / 1.1;
  EXPECT_NEAR(repeated / static_cast<double>(n), q, 3 * std::sqrt(q * (1 - q) / n));
}

TEST(MinAtar, TheSameSeedReplaysTheSameEpisode) {
  for (const char* id : {"MinAtar/Breakout-v1", "MinAtar/Freeway-v0", "MinAtar/Asterix-v1",
                         "MinAtar/SpaceInvaders-v1", "MinAtar/Seaquest-v1"}) {
    auto run = [&] {
      auto env = make(id);
      std::mt19937_64 rng(5);
      std::vector<torch::Tensor> frames{env->reset(11).obs};
      for (int t = 0; t < 300; ++t) {
        auto r = env->step(sample(env->action_space(), rng));
        frames.push_back(r.obs);
        if (r.done()) break;
      }
      return torch::stack(frames);
    };
    EXPECT_TRUE(torch::equal(run(), run())) << id;
  }
}

TEST(MinAtar, RegistryIdsAndErrors) {
  EXPECT_EQ(std::get<Discrete>(make("MinAtar/Freeway-v1")->action_space()).n, 3);
  EXPECT_EQ(std::get<Discrete>(make("MinAtar/Freeway-v0")->action_space()).n, 6);
  try {
    make("MinAtar/Brekout-v1");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("MinAtar/Breakout-v1"), std::string::npos) << e.what();
  }
  EXPECT_THROW(make_game("Pong"), Error);
  EXPECT_THROW(MinAtarEnv(make_game("Breakout"), true, 1.5), Error);
}

}  // namespace
}  // namespace dojo::envs::minatar
