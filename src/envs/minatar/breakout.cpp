// MinAtar Breakout: the paddle on the bottom row bounces a ball that travels on diagonals into three
// rows of bricks; +1 per brick, three new rows once all are gone, and the episode ends when the ball
// reaches the bottom row past the paddle. A trail channel shows where the ball was, so its direction
// is visible in one frame.
#include <algorithm>

#include "envs/minatar/games.h"

namespace dojo::envs::minatar {

namespace {

// Directions: 0 up-left, 1 up-right, 2 down-right, 3 down-left.
constexpr std::array<int, 4> kDx{-1, 1, 1, -1}, kDy{-1, -1, 1, 1};
constexpr std::array<int, 4> kFlipX{1, 0, 3, 2}, kFlipY{3, 2, 1, 0}, kReverse{2, 3, 0, 1};

class Breakout final : public Game {
 public:
  std::string name() const override { return "Breakout"; }
  std::vector<std::string> channels() const override { return {"paddle", "ball", "trail", "brick"}; }
  std::vector<Action> minimal_actions() const override { return {kNoop, kLeft, kRight}; }

  void reset(std::mt19937_64& rng) override {
    // The ball starts on row 3 at either wall, heading down and away from it.
    const bool right = std::uniform_int_distribution<int>(0, 1)(rng) == 1;
    ball_ = {right ? 9 : 0, 3};
    dir_ = right ? 3 : 2;
    last_ = ball_;
    paddle_ = 4;
    bricks_ = {};
    fill_bricks();
    strike_ = terminal_ = false;
  }

  double act(Action a, std::mt19937_64&) override {
    if (terminal_) return 0;
    if (a == kLeft) paddle_ = std::max(0, paddle_ - 1);
    if (a == kRight) paddle_ = std::min(kGrid - 1, paddle_ + 1);
    double reward = 0;
    last_ = ball_;
    int x = ball_[0] + kDx[dir_], y = ball_[1] + kDy[dir_];
    bool striking = false;
    if (x < 0 || x >= kGrid) {  // a side wall reflects
      x = std::clamp(x, 0, kGrid - 1);
      dir_ = kFlipX[dir_];
    }
    if (y < 0) {  // the top wall reflects
      y = 0;
      dir_ = kFlipY[dir_];
    } else if (bricks_[y][x]) {
      // A brick breaks and reflects the ball, once: a ball still inside a brick's cell after a strike
      // passes through it.
      striking = true;
      if (!strike_) {
        reward += 1;
        strike_ = true;
        bricks_[y][x] = false;
        y = last_[1];
        dir_ = kFlipY[dir_];
      }
    } else if (y == kGrid - 1) {
      if (std::none_of(bricks_.begin(), bricks_.end(), [](const auto& row) {
            return std::any_of(row.begin(), row.end(), [](bool b) { return b; });
          })) {
        fill_bricks();
      }
      if (ball_[0] == paddle_) {  // straight above the paddle: back up the same diagonal side
        dir_ = kFlipY[dir_];
        y = last_[1];
      } else if (x == paddle_) {  // caught by the paddle's edge: back the way it came
        dir_ = kReverse[dir_];
        y = last_[1];
      } else {
        terminal_ = true;
      }
    }
    if (!striking) strike_ = false;
    ball_ = {x, y};
    return reward;
  }

  bool terminal() const override { return terminal_; }

  Grid state() const override {
    Grid g(4);
    g.set(kGrid - 1, paddle_, 0);
    g.set(ball_[1], ball_[0], 1);
    g.set(last_[1], last_[0], 2);
    for (int y = 0; y < kGrid; ++y) {
      for (int x = 0; x < kGrid; ++x) {
        if (bricks_[y][x]) g.set(y, x, 3);
      }
    }
    return g;
  }

 private:
  void fill_bricks() {
    for (int y = 1; y <= 3; ++y) bricks_[y].fill(true);
  }
  std::array<int, 2> ball_{}, last_{};  // (x, y)
  int dir_ = 2, paddle_ = 4;
  std::array<std::array<bool, kGrid>, kGrid> bricks_{};
  bool strike_ = false, terminal_ = false;
};

}  // namespace

std::unique_ptr<Game> make_breakout() { return std::make_unique<Breakout>(); }

}  // namespace dojo::envs::minatar
