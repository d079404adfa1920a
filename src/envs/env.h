// The environment contract, Gymnasium's (gymnasium/core.py): reset(seed) -> (obs, info);
// step(action) -> (obs, reward, terminated, truncated, info). `terminated` means the MDP reached a
// terminal state (no bootstrapping past it); `truncated` means it was cut short (a time limit), so the
// value of the next state still counts. Environments never truncate themselves: TimeLimit does.
#pragma once
#include <torch/types.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "envs/space.h"

namespace dojo::envs {

// Auxiliary numbers, e.g. RecordEpisodeStatistics' "episode_return" at the end of an episode.
using Info = std::map<std::string, double>;

struct ResetResult {
  torch::Tensor obs;
  Info info;
};

struct StepResult {
  torch::Tensor obs;
  double reward = 0.0;
  bool terminated = false;
  bool truncated = false;
  Info info;
  bool done() const { return terminated || truncated; }
};

class Env {
 public:
  virtual ~Env() = default;
  // A seed re-seeds the environment's generator; without one the generator continues (or, on the very
  // first reset, is seeded from std::random_device), as in Gymnasium.
  virtual ResetResult reset(std::optional<std::uint64_t> seed = std::nullopt) = 0;
  // action: an int64 scalar for Discrete spaces, a tensor of the space's shape for Box.
  virtual StepResult step(const torch::Tensor& action) = 0;
  StepResult step(std::int64_t action);

  virtual const Space& action_space() const = 0;
  virtual const Space& observation_space() const = 0;
  // The current state as an [H, W, 3] uint8 RGB image (Gymnasium's render_mode="rgb_array"), or an
  // undefined tensor when the environment has no renderer.
  virtual torch::Tensor render() const { return {}; }
  // What each Discrete action does, in the Arcade Learning Environment's words ("NOOP", "FIRE",
  // "LEFT", ...), or empty when the environment does not name them.
  virtual std::vector<std::string> action_meanings() const { return {}; }
  // "CartPole", or for a wrapper stack "TimeLimit<OrderEnforcing<CartPole>>".
  virtual std::string name() const = 0;
  // The registry id this env was made from ("" when built directly).
  virtual std::string id() const { return id_; }
  void set_id(std::string id) { id_ = std::move(id); }

 protected:
  // Seeds the generator on reset(seed), and from entropy on a first unseeded reset.
  void seed_rng(std::optional<std::uint64_t> seed);
  std::mt19937_64& rng() { return rng_; }
  // Throws dojo::Error naming the action and the space when the action is not in it.
  void check_action(const torch::Tensor& action) const;

 private:
  std::mt19937_64 rng_;
  bool seeded_ = false;
  std::string id_;
};

// A float32 observation tensor from double-precision state (envs compute in float64, like Gymnasium).
torch::Tensor float_obs(std::initializer_list<double> values);

}  // namespace dojo::envs
