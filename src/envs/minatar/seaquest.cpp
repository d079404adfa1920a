// MinAtar Seaquest: a two-cell submarine (front and back show its heading) shoots along its row at
// enemy fish and submarines (+1 each); enemy submarines shoot back. Divers drift across and are picked
// up by touching them (at most 6). Oxygen (200) drains below the surface. Surfacing with divers refills
// it and drops one diver; surfacing with 6 drops all six and pays one point per tenth of oxygen left.
// Each surfacing makes enemies spawn sooner and (every other time) move faster. The episode ends on
// contact with an enemy or a bullet, when oxygen runs out, or when surfacing with no diver.
#include <algorithm>

#include "envs/minatar/games.h"

namespace dojo::envs::minatar {

namespace {

constexpr int kMaxOxygen = 200, kEnemySpawnPeriod = 20, kDiverSpawnPeriod = 30, kEnemyMovePeriod = 5;
constexpr int kTorpedoCooldown = 5, kEnemyShotInterval = 10, kDiverMovePeriod = 5, kMaxDivers = 6;

struct Mover {
  int x, y;
  bool rightward;
  int move_timer = 0;
  int shot_timer = 0;  // enemy submarines only
  bool at(int px, int py) const { return x == px && y == py; }
  void step() { x += rightward ? 1 : -1; }
  bool off_screen() const { return x < 0 || x >= kGrid; }
};

class Seaquest final : public Game {
 public:
  std::string name() const override { return "Seaquest"; }
  std::vector<std::string> channels() const override {
    return {"sub_front",  "sub_back",  "friendly_bullet", "trail",       "enemy_bullet",
            "enemy_fish", "enemy_sub", "oxygen_guage",    "diver_guage", "diver"};
  }
  std::vector<Action> minimal_actions() const override { return {kNoop, kLeft, kUp, kRight, kDown, kFire}; }

  void reset(std::mt19937_64&) override {
    oxygen_ = kMaxOxygen;
    divers_carried_ = 0;
    x_ = 5;
    y_ = 0;
    facing_right_ = false;
    shots_.clear();
    bombs_.clear();
    fish_.clear();
    subs_.clear();
    divers_.clear();
    spawn_period_ = spawn_timer_ = kEnemySpawnPeriod;
    diver_timer_ = kDiverSpawnPeriod;
    move_period_ = kEnemyMovePeriod;
    ramp_index_ = 0;
    cooldown_ = 0;
    surfaced_ = true;
    terminal_ = false;
  }

  double act(Action a, std::mt19937_64& rng) override {
    if (terminal_) return 0;
    double reward = 0;
    if (spawn_timer_ == 0) {
      spawn_enemy(rng);
      spawn_timer_ = spawn_period_;
    }
    if (diver_timer_ == 0) {
      spawn_diver(rng);
      diver_timer_ = kDiverSpawnPeriod;
    }
    if (a == kFire && cooldown_ == 0) {
      shots_.push_back({x_, y_, facing_right_});
      cooldown_ = kTorpedoCooldown;
    } else if (a == kLeft) {
      x_ = std::max(0, x_ - 1);
      facing_right_ = false;
    } else if (a == kRight) {
      x_ = std::min(kGrid - 1, x_ + 1);
      facing_right_ = true;
    } else if (a == kUp) {
      y_ = std::max(0, y_ - 1);
    } else if (a == kDown) {
      y_ = std::min(8, y_ + 1);
    }
    reward += move_shots();
    move_divers();
    reward += move_enemies(subs_, true);
    move_bombs();
    reward += move_enemies(fish_, false);
    if (spawn_timer_ > 0) --spawn_timer_;
    if (diver_timer_ > 0) --diver_timer_;
    if (cooldown_ > 0) --cooldown_;
    if (oxygen_ < 0) terminal_ = true;
    if (y_ > 0) {
      --oxygen_;
      surfaced_ = false;
    } else if (!surfaced_) {
      if (divers_carried_ == 0) {
        terminal_ = true;
      } else {
        reward += surface();
      }
    }
    return reward;
  }

  bool terminal() const override { return terminal_; }

  Grid state() const override {
    Grid g(10);
    g.set(y_, x_, 0);
    const int back = x_ + (facing_right_ ? -1 : 1);
    if (back >= 0 && back < kGrid) g.set(y_, back, 1);
    for (int i = 0; i < std::max(0, oxygen_) * 10 / kMaxOxygen; ++i) g.set(9, i, 7);
    for (int i = 9 - divers_carried_; i < 9; ++i) g.set(9, i, 8);
    for (const auto& s : shots_) g.set(s.y, s.x, 2);
    for (const auto& b : bombs_) g.set(b.y, b.x, 4);
    auto with_trail = [&](const std::vector<Mover>& movers, int channel) {
      for (const auto& m : movers) {
        g.set(m.y, m.x, channel);
        const int t = m.x + (m.rightward ? -1 : 1);
        if (t >= 0 && t < kGrid) g.set(m.y, t, 3);
      }
    };
    with_trail(fish_, 5);
    with_trail(subs_, 6);
    with_trail(divers_, 9);
    return g;
  }

 private:
  // Shots fly one cell per frame and destroy the first enemy they meet.
  double move_shots() {
    double reward = 0;
    for (auto it = shots_.end(); it != shots_.begin();) {
      --it;
      it->step();
      if (it->off_screen()) {
        it = shots_.erase(it);
        continue;
      }
      if (hit_any(fish_, *it) || hit_any(subs_, *it)) {
        reward += 1;
        it = shots_.erase(it);
      }
    }
    return reward;
  }
  static bool hit_any(std::vector<Mover>& enemies, const Mover& shot) {
    auto e =
        std::find_if(enemies.begin(), enemies.end(), [&](const Mover& m) { return m.at(shot.x, shot.y); });
    if (e == enemies.end()) return false;
    enemies.erase(e);
    return true;
  }
  // A shot on the enemy's cell destroys both.
  bool shot_down(const Mover& enemy) {
    auto s =
        std::find_if(shots_.begin(), shots_.end(), [&](const Mover& m) { return m.at(enemy.x, enemy.y); });
    if (s == shots_.end()) return false;
    shots_.erase(s);
    return true;
  }
  bool can_pick_up(const Mover& d) const { return d.at(x_, y_) && divers_carried_ < kMaxDivers; }
  void move_divers() {
    for (auto it = divers_.end(); it != divers_.begin();) {
      --it;
      if (can_pick_up(*it)) {
        ++divers_carried_;
        it = divers_.erase(it);
        continue;
      }
      if (it->move_timer > 0) {
        --it->move_timer;
        continue;
      }
      it->move_timer = kDiverMovePeriod;
      it->step();
      if (it->off_screen()) {
        it = divers_.erase(it);
      } else if (can_pick_up(*it)) {
        ++divers_carried_;
        it = divers_.erase(it);
      }
    }
  }
  // Fish and enemy submarines: contact ends the episode; they move every move_period frames and may
  // run into a shot; submarines fire along their row every 10 frames.
  double move_enemies(std::vector<Mover>& enemies, bool shooting) {
    double reward = 0;
    for (auto it = enemies.end(); it != enemies.begin();) {
      --it;
      if (it->at(x_, y_)) terminal_ = true;
      bool gone = false;
      if (it->move_timer == 0) {
        it->move_timer = move_period_;
        it->step();
        if (it->off_screen()) {
          gone = true;
        } else if (it->at(x_, y_)) {
          terminal_ = true;
        } else if (shot_down(*it)) {
          reward += 1;
          gone = true;
        }
      } else {
        --it->move_timer;
      }
      if (shooting && !gone) {
        if (it->shot_timer == 0) {
          it->shot_timer = kEnemyShotInterval;
          bombs_.push_back({it->x, it->y, it->rightward});
        } else {
          --it->shot_timer;
        }
      }
      if (gone) it = enemies.erase(it);
    }
    return reward;
  }
  void move_bombs() {
    for (auto it = bombs_.end(); it != bombs_.begin();) {
      --it;
      if (it->at(x_, y_)) terminal_ = true;
      it->step();
      if (it->off_screen()) {
        it = bombs_.erase(it);
      } else if (it->at(x_, y_)) {
        terminal_ = true;
      }
    }
  }
  double surface() {
    surfaced_ = true;
    double reward = 0;
    if (divers_carried_ == kMaxDivers) {
      reward = oxygen_ * 10 / kMaxOxygen;
      divers_carried_ = 0;
    } else {
      --divers_carried_;
    }
    oxygen_ = kMaxOxygen;
    if (spawn_period_ > 1 || move_period_ > 2) {
      if (move_period_ > 2 && ramp_index_ % 2 == 1) --move_period_;
      if (spawn_period_ > 1) --spawn_period_;
      ++ramp_index_;
    }
    return reward;
  }
  // A fish (or, one time in three, a submarine) on a random row 1-8 from a random side, unless the row
  // already holds an enemy heading the other way.
  void spawn_enemy(std::mt19937_64& rng) {
    const bool rightward = std::uniform_int_distribution<int>(0, 1)(rng) == 1;
    const bool sub = std::uniform_int_distribution<int>(0, 2)(rng) == 0;
    const int row = std::uniform_int_distribution<int>(1, 8)(rng);
    auto opposing = [&](const Mover& m) { return m.y == row && m.rightward != rightward; };
    if (std::any_of(subs_.begin(), subs_.end(), opposing) ||
        std::any_of(fish_.begin(), fish_.end(), opposing)) {
      return;
    }
    Mover m{rightward ? 0 : kGrid - 1, row, rightward, move_period_, kEnemyShotInterval};
    (sub ? subs_ : fish_).push_back(m);
  }
  void spawn_diver(std::mt19937_64& rng) {
    const bool rightward = std::uniform_int_distribution<int>(0, 1)(rng) == 1;
    const int row = std::uniform_int_distribution<int>(1, 8)(rng);
    divers_.push_back({rightward ? 0 : kGrid - 1, row, rightward, kDiverMovePeriod});
  }

  std::vector<Mover> shots_, bombs_, fish_, subs_, divers_;
  int oxygen_ = kMaxOxygen, divers_carried_ = 0, x_ = 5, y_ = 0;
  bool facing_right_ = false, surfaced_ = true, terminal_ = false;
  int spawn_period_ = kEnemySpawnPeriod, spawn_timer_ = kEnemySpawnPeriod, diver_timer_ = kDiverSpawnPeriod;
  int move_period_ = kEnemyMovePeriod, ramp_index_ = 0, cooldown_ = 0;
};

}  // namespace

std::unique_ptr<Game> make_seaquest() { return std::make_unique<Seaquest>(); }

}  // namespace dojo::envs::minatar
