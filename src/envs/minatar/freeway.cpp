// MinAtar Freeway: a chicken crosses eight lanes of traffic from the bottom row to the top, moving at
// most once every 3 frames; +1 for each crossing, after which it starts again at the bottom and the
// cars' speeds are redrawn. A car sends it back to the bottom. Cars wrap around the screen, moving
// once every 1 to 5 frames; five trail channels show each car's direction (where the trail is) and
// speed (which channel). The episode ends after 2500 frames.
#include <algorithm>

#include "envs/minatar/games.h"

namespace dojo::envs::minatar {

namespace {

constexpr int kPlayerPeriod = 3, kTimeLimit = 2500, kLanes = 8, kChickenX = 4;

class Freeway final : public Game {
 public:
  std::string name() const override { return "Freeway"; }
  std::vector<std::string> channels() const override {
    return {"chicken", "car", "speed1", "speed2", "speed3", "speed4", "speed5"};
  }
  std::vector<Action> minimal_actions() const override { return {kNoop, kUp, kDown}; }

  void reset(std::mt19937_64& rng) override {
    draw_speeds(rng);
    for (int i = 0; i < kLanes; ++i) cars_[i] = {0, i + 1, std::abs(speed_[i])};
    y_ = kGrid - 1;
    move_timer_ = kPlayerPeriod;
    frames_left_ = kTimeLimit;
    terminal_ = false;
  }

  double act(Action a, std::mt19937_64& rng) override {
    if (terminal_) return 0;
    double reward = 0;
    if ((a == kUp || a == kDown) && move_timer_ == 0) {
      move_timer_ = kPlayerPeriod;
      y_ = std::clamp(y_ + (a == kUp ? -1 : 1), 0, kGrid - 1);
    }
    if (y_ == 0) {  // across: score, new speeds, back to the start
      reward += 1;
      draw_speeds(rng);
      for (int i = 0; i < kLanes; ++i) cars_[i].timer = std::abs(speed_[i]);
      y_ = kGrid - 1;
    }
    for (int i = 0; i < kLanes; ++i) {
      auto& car = cars_[i];
      if (hits(car)) y_ = kGrid - 1;
      if (car.timer == 0) {
        car.timer = std::abs(speed_[i]);
        car.x = (car.x + (speed_[i] > 0 ? 1 : -1) + kGrid) % kGrid;
        if (hits(car)) y_ = kGrid - 1;
      } else {
        --car.timer;
      }
    }
    if (move_timer_ > 0) --move_timer_;
    if (--frames_left_ < 0) terminal_ = true;
    return reward;
  }

  bool terminal() const override { return terminal_; }

  Grid state() const override {
    Grid g(7);
    g.set(y_, kChickenX, 0);
    for (int i = 0; i < kLanes; ++i) {
      const auto& car = cars_[i];
      g.set(car.y, car.x, 1);
      const int back = (car.x + (speed_[i] > 0 ? -1 : 1) + kGrid) % kGrid;
      g.set(car.y, back, 1 + std::abs(speed_[i]));  // speed k (frames per move) -> channel 1 + k
    }
    return g;
  }

 private:
  struct Car {
    int x, y, timer;
  };
  // |speed| ∈ 1..5 frames per move, the sign is the direction.
  void draw_speeds(std::mt19937_64& rng) {
    std::uniform_int_distribution<int> period(1, 5), sign(0, 1);
    for (auto& s : speed_) s = period(rng) * (sign(rng) ? 1 : -1);
  }
  bool hits(const Car& car) const { return car.x == kChickenX && car.y == y_; }

  std::array<Car, kLanes> cars_{};
  std::array<int, kLanes> speed_{};
  int y_ = kGrid - 1, move_timer_ = kPlayerPeriod, frames_left_ = kTimeLimit;
  bool terminal_ = false;
};

}  // namespace

std::unique_ptr<Game> make_freeway() { return std::make_unique<Freeway>(); }

}  // namespace dojo::envs::minatar
