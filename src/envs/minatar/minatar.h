// MinAtar (Young & Tian 2019): miniature Atari games on a 10×10 grid, written here from their published
// rules. A Game holds one game's rules; MinAtarEnv puts it behind the Env contract with MinAtar's
// sticky actions (the previous action repeats with probability 0.1) and its 10×10×C uint8
// observation, one channel per kind of object.
#pragma once
#include <array>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "core/export.h"
#include "envs/env.h"

DOJO_PUBLIC_BEGIN
namespace dojo::envs::minatar {

// MinAtar's full action set, in its order: no-op, left, up, right, down, fire.
enum Action : int { kNoop = 0, kLeft = 1, kUp = 2, kRight = 3, kDown = 4, kFire = 5 };
inline constexpr int kGrid = 10;

// A 10×10×C grid of 0/1 cells, row-major (y, x, channel): MinAtar's state().
class Grid {
 public:
  explicit Grid(int channels) : channels_(channels), cells_(kGrid * kGrid * channels, 0) {}
  void set(int y, int x, int channel) { cells_[(y * kGrid + x) * channels_ + channel] = 1; }
  std::uint8_t at(int y, int x, int channel) const { return cells_[(y * kGrid + x) * channels_ + channel]; }
  int channels() const { return channels_; }
  const std::vector<std::uint8_t>& cells() const { return cells_; }

 private:
  int channels_;
  std::vector<std::uint8_t> cells_;
};

class Game {
 public:
  virtual ~Game() = default;
  virtual std::string name() const = 0;                     // "Breakout"
  virtual std::vector<std::string> channels() const = 0;    // in channel order
  virtual std::vector<Action> minimal_actions() const = 0;  // the -v1 action set
  virtual void reset(std::mt19937_64& rng) = 0;
  // Applies one action of the full set; returns the reward.
  virtual double act(Action a, std::mt19937_64& rng) = 0;
  virtual bool terminal() const = 0;
  virtual Grid state() const = 0;
};

// Asterix, Breakout, Freeway, Seaquest, SpaceInvaders; dojo::Error otherwise.
std::unique_ptr<Game> make_game(const std::string& name);
std::vector<std::string> game_names();

class MinAtarEnv final : public Env {
 public:
  // minimal_actions: the game's own action set (-v1) or all six (-v0).
  MinAtarEnv(std::unique_ptr<Game> game, bool minimal_actions, double sticky_action_prob = 0.1);
  ResetResult reset(std::optional<std::uint64_t> seed = std::nullopt) override;
  using Env::step;
  StepResult step(const torch::Tensor& action) override;
  const Space& action_space() const override { return action_space_; }
  const Space& observation_space() const override { return observation_space_; }
  // The Atari-like 210×160 frame of pixels.h, with the episode's score.
  torch::Tensor render() const override;
  std::vector<std::string> action_meanings() const override;
  std::string name() const override { return "MinAtar" + game_->name(); }
  const Game& game() const { return *game_; }
  // The action of the full set each index of the action space stands for.
  const std::vector<Action>& action_set() const { return actions_; }

 private:
  torch::Tensor observation() const;
  std::unique_ptr<Game> game_;
  std::vector<Action> actions_;
  double sticky_;
  Action last_action_ = kNoop;
  double score_ = 0.0;
  Space action_space_, observation_space_;
};

}  // namespace dojo::envs::minatar

DOJO_PUBLIC_END
