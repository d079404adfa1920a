// MinAtar Asterix: the player moves in four directions between rows 1 and 8; enemies and gold enter
// from either side on their own row and cross the screen. Gold is +1, an enemy ends the episode. A
// trail channel shows which way each one moves. Every 100 frames the game speeds up: things spawn one
// frame sooner, and every other ramp they also move one frame sooner, down to every frame.
#include <algorithm>
#include <optional>

#include "envs/minatar/games.h"

namespace dojo::envs::minatar {

namespace {

constexpr int kRampInterval = 100, kInitSpawnPeriod = 10, kInitMovePeriod = 5, kSlots = 8;

class Asterix final : public Game {
 public:
  std::string name() const override { return "Asterix"; }
  std::vector<std::string> channels() const override { return {"player", "enemy", "trail", "gold"}; }
  std::vector<Action> minimal_actions() const override { return {kNoop, kLeft, kUp, kRight, kDown}; }

  void reset(std::mt19937_64&) override {
    x_ = y_ = 5;
    slots_.fill(std::nullopt);
    spawn_period_ = spawn_timer_ = kInitSpawnPeriod;
    move_period_ = move_timer_ = kInitMovePeriod;
    ramp_timer_ = kRampInterval;
    ramp_index_ = 0;
    terminal_ = false;
  }

  double act(Action a, std::mt19937_64& rng) override {
    if (terminal_) return 0;
    double reward = 0;
    if (spawn_timer_ == 0) {
      spawn(rng);
      spawn_timer_ = spawn_period_;
    }
    if (a == kLeft) x_ = std::max(0, x_ - 1);
    if (a == kRight) x_ = std::min(kGrid - 1, x_ + 1);
    if (a == kUp) y_ = std::max(1, y_ - 1);
    if (a == kDown) y_ = std::min(8, y_ + 1);
    // Contact after the player's move, then again after the objects move (when they do).
    reward += touch();
    if (move_timer_ == 0) {
      move_timer_ = move_period_;
      for (auto& s : slots_) {
        if (!s) continue;
        s->x += s->rightward ? 1 : -1;
        if (s->x < 0 || s->x >= kGrid) s.reset();
      }
      reward += touch();
    }
    --spawn_timer_;
    --move_timer_;
    ramp();
    return reward;
  }

  bool terminal() const override { return terminal_; }

  Grid state() const override {
    Grid g(4);
    g.set(y_, x_, 0);
    for (int i = 0; i < kSlots; ++i) {
      const auto& s = slots_[i];
      if (!s) continue;
      g.set(i + 1, s->x, s->gold ? 3 : 1);
      const int back = s->x + (s->rightward ? -1 : 1);
      if (back >= 0 && back < kGrid) g.set(i + 1, back, 2);
    }
    return g;
  }

  int ramp_index() const { return ramp_index_; }

 private:
  struct Thing {
    int x;
    bool rightward, gold;
  };
  // A new enemy (or, one time in three, gold) at a random free row, entering from a random side.
  void spawn(std::mt19937_64& rng) {
    const bool rightward = std::uniform_int_distribution<int>(0, 1)(rng) == 1;
    const bool gold = std::uniform_int_distribution<int>(0, 2)(rng) == 0;
    std::vector<int> free;
    for (int i = 0; i < kSlots; ++i) {
      if (!slots_[i]) free.push_back(i);
    }
    if (free.empty()) return;
    const int slot = free[std::uniform_int_distribution<std::size_t>(0, free.size() - 1)(rng)];
    slots_[slot] = Thing{rightward ? 0 : kGrid - 1, rightward, gold};
  }
  double touch() {
    double reward = 0;
    for (int i = 0; i < kSlots; ++i) {
      auto& s = slots_[i];
      if (!s || s->x != x_ || i + 1 != y_) continue;
      if (s->gold) {
        reward += 1;
        s.reset();
      } else {
        terminal_ = true;
      }
    }
    return reward;
  }
  void ramp() {
    if (spawn_period_ <= 1 && move_period_ <= 1) return;
    if (ramp_timer_ >= 0) {
      --ramp_timer_;
      return;
    }
    if (move_period_ > 1 && ramp_index_ % 2 == 1) --move_period_;
    if (spawn_period_ > 1) --spawn_period_;
    ++ramp_index_;
    ramp_timer_ = kRampInterval;
  }

  std::array<std::optional<Thing>, kSlots> slots_{};
  int x_ = 5, y_ = 5;
  int spawn_period_ = kInitSpawnPeriod, spawn_timer_ = kInitSpawnPeriod;
  int move_period_ = kInitMovePeriod, move_timer_ = kInitMovePeriod;
  int ramp_timer_ = kRampInterval, ramp_index_ = 0;
  bool terminal_ = false;
};

}  // namespace

std::unique_ptr<Game> make_asterix() { return std::make_unique<Asterix>(); }

}  // namespace dojo::envs::minatar
