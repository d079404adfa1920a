// MinAtar Space Invaders: a cannon on the bottom row shoots upward at a block of aliens that marches
// sideways, stepping down and turning at the edges. +1 per alien shot. The alien nearest the cannon
// fires back every 10 frames. The march speeds up as aliens die: it moves every min(aliens left,
// interval) frames. A cleared wave is replaced by a new one whose interval is one frame shorter (12
// down to 6). The episode ends when an alien or a bullet reaches the cannon, or when the block turns
// while on the bottom row.
#include <algorithm>
#include <numeric>

#include "envs/minatar/games.h"

namespace dojo::envs::minatar {

namespace {

constexpr int kShotCooldown = 5, kInitMoveInterval = 12, kMinMoveInterval = 6, kShotInterval = 10;

using Cells = std::array<std::array<bool, kGrid>, kGrid>;  // [y][x]

int count(const Cells& c) {
  int n = 0;
  for (const auto& row : c) n += static_cast<int>(std::count(row.begin(), row.end(), true));
  return n;
}
bool column_occupied(const Cells& c, int x) {
  return std::any_of(c.begin(), c.end(), [x](const auto& row) { return row[x]; });
}
bool row_occupied(const Cells& c, int y) {
  return std::any_of(c[y].begin(), c[y].end(), [](bool b) { return b; });
}

// Moves every cell down by `dy` (rows leaving the grid are dropped) and across by `dx` (wrapping, as
// np.roll does; the aliens turn before they would wrap).
Cells shifted(const Cells& c, int dy, int dx) {
  Cells out{};
  for (int y = 0; y < kGrid; ++y) {
    const int ny = y + dy;
    if (ny < 0 || ny >= kGrid) continue;
    for (int x = 0; x < kGrid; ++x) out[ny][(x + dx + kGrid) % kGrid] = c[y][x];
  }
  return out;
}

class SpaceInvaders final : public Game {
 public:
  std::string name() const override { return "SpaceInvaders"; }
  std::vector<std::string> channels() const override {
    return {"cannon", "alien", "alien_left", "alien_right", "friendly_bullet", "enemy_bullet"};
  }
  std::vector<Action> minimal_actions() const override { return {kNoop, kLeft, kRight, kFire}; }

  void reset(std::mt19937_64&) override {
    pos_ = 5;
    shots_ = {};
    bombs_ = {};
    new_wave();
    dir_ = -1;
    move_interval_ = kInitMoveInterval;
    move_timer_ = move_interval_;
    shot_timer_ = kShotInterval;
    ramp_index_ = 0;
    cooldown_ = 0;
    terminal_ = false;
  }

  double act(Action a, std::mt19937_64&) override {
    if (terminal_) return 0;
    if (a == kFire && cooldown_ == 0) {
      shots_[kGrid - 1][pos_] = true;
      cooldown_ = kShotCooldown;
    } else if (a == kLeft) {
      pos_ = std::max(0, pos_ - 1);
    } else if (a == kRight) {
      pos_ = std::min(kGrid - 1, pos_ + 1);
    }
    shots_ = shifted(shots_, -1, 0);  // up one row; off the top they are gone
    bombs_ = shifted(bombs_, 1, 0);   // down one row
    if (bombs_[kGrid - 1][pos_]) terminal_ = true;
    if (aliens_[kGrid - 1][pos_]) terminal_ = true;
    if (move_timer_ == 0) {
      move_timer_ = std::min(count(aliens_), move_interval_);
      const bool at_edge =
          (dir_ < 0 && column_occupied(aliens_, 0)) || (dir_ > 0 && column_occupied(aliens_, kGrid - 1));
      if (at_edge) {  // turn and step down
        dir_ = -dir_;
        if (row_occupied(aliens_, kGrid - 1)) terminal_ = true;
        aliens_ = shifted(aliens_, 1, 0);
      } else {
        aliens_ = shifted(aliens_, 0, dir_);
      }
      if (aliens_[kGrid - 1][pos_]) terminal_ = true;
    }
    if (shot_timer_ == 0) {
      shot_timer_ = kShotInterval;
      fire_from_nearest();
    }
    // A shot and an alien in the same cell destroy each other.
    double reward = 0;
    for (int y = 0; y < kGrid; ++y) {
      for (int x = 0; x < kGrid; ++x) {
        if (aliens_[y][x] && shots_[y][x]) {
          aliens_[y][x] = shots_[y][x] = false;
          reward += 1;
        }
      }
    }
    if (cooldown_ > 0) --cooldown_;
    --move_timer_;
    --shot_timer_;
    if (count(aliens_) == 0) {  // the next wave marches a frame faster
      if (move_interval_ > kMinMoveInterval) {
        --move_interval_;
        ++ramp_index_;
      }
      new_wave();
    }
    return reward;
  }

  bool terminal() const override { return terminal_; }

  Grid state() const override {
    Grid g(6);
    g.set(kGrid - 1, pos_, 0);
    for (int y = 0; y < kGrid; ++y) {
      for (int x = 0; x < kGrid; ++x) {
        if (aliens_[y][x]) {
          g.set(y, x, 1);
          g.set(y, x, dir_ < 0 ? 2 : 3);
        }
        if (shots_[y][x]) g.set(y, x, 4);
        if (bombs_[y][x]) g.set(y, x, 5);
      }
    }
    return g;
  }

 private:
  void new_wave() {
    aliens_ = {};
    for (int y = 0; y < 4; ++y) {
      for (int x = 2; x < 8; ++x) aliens_[y][x] = true;
    }
  }
  // The lowest alien of the occupied column nearest the cannon (the left one on a tie) drops a bomb.
  void fire_from_nearest() {
    std::array<int, kGrid> order{};
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(),
                     [this](int a, int b) { return std::abs(a - pos_) < std::abs(b - pos_); });
    for (int x : order) {
      for (int y = kGrid - 1; y >= 0; --y) {
        if (aliens_[y][x]) {
          bombs_[y][x] = true;
          return;
        }
      }
    }
  }

  Cells aliens_{}, shots_{}, bombs_{};
  int pos_ = 5, dir_ = -1, move_interval_ = kInitMoveInterval, move_timer_ = kInitMoveInterval;
  int shot_timer_ = kShotInterval, cooldown_ = 0, ramp_index_ = 0;
  bool terminal_ = false;
};

}  // namespace

std::unique_ptr<Game> make_space_invaders() { return std::make_unique<SpaceInvaders>(); }

}  // namespace dojo::envs::minatar
