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
#include <variant>
#include <vector>

#include "core/export.h"
#include "envs/space.h"

DOJO_PUBLIC_BEGIN
namespace dojo::envs {

// One auxiliary value: a number (RecordEpisodeStatistics' "episode_return", the ALE's "lives"), a
// string, or a tensor (an "action_mask", a rendered frame).
class InfoValue {
 public:
  InfoValue() = default;                                // 0.0, so that info[key] = v works
  InfoValue(double v) : value_(v) {}                    // NOLINT: numbers convert, as in Python
  InfoValue(std::string v) : value_(std::move(v)) {}    // NOLINT
  InfoValue(const char* v) : value_(std::string(v)) {}  // NOLINT
  InfoValue(torch::Tensor v) : value_(std::move(v)) {}  // NOLINT
  bool is_number() const { return std::holds_alternative<double>(value_); }
  bool is_string() const { return std::holds_alternative<std::string>(value_); }
  bool is_tensor() const { return std::holds_alternative<torch::Tensor>(value_); }
  // Each throws dojo::Error naming what the value holds when it holds something else.
  double number() const;
  const std::string& str() const;
  const torch::Tensor& tensor() const;
  bool operator==(double v) const { return is_number() && std::get<double>(value_) == v; }

 private:
  std::variant<double, std::string, torch::Tensor> value_;
};

// Auxiliary values by name (Gymnasium's info dict).
using Info = std::map<std::string, InfoValue>;

// Gymnasium's convention for envs whose legal actions change: info["action_mask"], a bool tensor of
// one flag per Discrete action. The mask when the info has one, else an undefined tensor.
torch::Tensor action_mask(const Info& info);

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
  // A Box action's values rounded to float32 (Gymnasium's action dtype). A wrong size or a NaN or
  // infinite value is an error; bounds are left to the env, since Gymnasium's continuous envs clip.
  std::vector<double> box_action(const torch::Tensor& action) const;

 private:
  std::mt19937_64 rng_;
  bool seeded_ = false;
  std::string id_;
};

// A float32 observation tensor from double-precision state (envs compute in float64, like Gymnasium).
torch::Tensor float_obs(std::initializer_list<double> values);

}  // namespace dojo::envs

DOJO_PUBLIC_END
