// Gymnasium v0.29's toy-text environments (gymnasium/envs/toy_text): FrozenLake, Taxi, CliffWalking
// and Blackjack, with their exact rules, ids and spaces. The three grid worlds are finite MDPs given by
// a transition table P[s][a] (a list of (probability, next state, reward, terminated)), exposed as
// Gymnasium exposes env.unwrapped.P for planning (rl/tabular.h's value and policy iteration).
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/config.h"
#include "core/export.h"
#include "envs/env.h"

DOJO_PUBLIC_BEGIN
namespace dojo::envs {

struct Transition {
  double prob = 1.0;
  std::int64_t next = 0;
  double reward = 0.0;
  bool terminated = false;
};
// P[s][a]: the outcomes of action a in state s.
using TransitionTable = std::vector<std::vector<std::vector<Transition>>>;

// A finite MDP stepped by sampling its table, as Gymnasium's toy-text envs do: reset draws the start
// from the initial distribution, step draws one outcome of P[s][a] (the first whose cumulative
// probability exceeds a uniform draw). Observations are int64 scalars of Discrete(n_states); info
// holds the outcome's "prob".
class TabularEnv : public Env {
 public:
  ResetResult reset(std::optional<std::uint64_t> seed = std::nullopt) override;
  using Env::step;
  StepResult step(const torch::Tensor& action) override;
  const Space& action_space() const override { return action_space_; }
  const Space& observation_space() const override { return observation_space_; }

  const TransitionTable& P() const { return P_; }
  const std::vector<double>& initial_distribution() const { return isd_; }
  std::int64_t n_states() const { return static_cast<std::int64_t>(P_.size()); }
  std::int64_t n_actions() const { return std::get<Discrete>(action_space_).n; }
  std::int64_t state() const { return s_; }
  // The state as text (Gymnasium's render_mode="ansi"), e.g. for a terminal.
  virtual std::string render_text() const = 0;

 protected:
  TabularEnv(TransitionTable P, std::vector<double> initial_distribution, std::int64_t n_actions);
  // What step and reset put in info beyond "prob" (Taxi's action mask).
  virtual void add_info(Info& /*info*/) const {}
  std::optional<std::int64_t> last_action() const { return last_action_; }

 private:
  std::int64_t draw(const std::vector<double>& probs);
  TransitionTable P_;
  std::vector<double> isd_;
  Space action_space_, observation_space_;
  std::int64_t s_ = 0;
  std::optional<std::int64_t> last_action_;
};

// The env under its wrappers when it is a TabularEnv (Gymnasium's env.unwrapped.P), else nullptr.
const TabularEnv* tabular(const Env& env);

// FrozenLake-v1: cross a frozen lake from S to G without falling into a hole H. Actions LEFT 0, DOWN
// 1, RIGHT 2, UP 3; on slippery ice the move goes the intended way or either perpendicular way, 1/3
// each. Reward 1 on reaching G; G and H end the episode. Keyword arguments (make()'s): desc (rows of
// S, F, H, G), map_name ("4x4" or "8x8"; desc wins), is_slippery (true).
class FrozenLake final : public TabularEnv {
 public:
  explicit FrozenLake(std::vector<std::string> desc = map("4x4"), bool is_slippery = true);
  static std::unique_ptr<FrozenLake> from_kwargs(const core::Config& kwargs);
  // Gymnasium's named maps; dojo::Error for another name.
  static std::vector<std::string> map(const std::string& name);
  std::string name() const override { return "FrozenLake"; }
  std::vector<std::string> action_meanings() const override { return {"LEFT", "DOWN", "RIGHT", "UP"}; }
  std::string render_text() const override;
  torch::Tensor render() const override;
  const std::vector<std::string>& desc() const { return desc_; }

 private:
  std::vector<std::string> desc_;
};

// A random size×size lake with a path from S (top left) to G (bottom right): each other tile frozen
// with probability p, else a hole, redrawn until the goal is reachable (Gymnasium's
// generate_random_map; the same seed gives the same map, though not numpy's map for that seed).
std::vector<std::string> generate_random_map(std::int64_t size = 8, double p = 0.8,
                                             std::optional<std::uint64_t> seed = std::nullopt);

// Taxi-v3 (Dietterich 2000): a 5×5 grid with walls and four stands R, G, Y, B. Pick the passenger up
// at one stand and drop them at another. Actions: south 0, north 1, east 2, west 3, pickup 4, dropoff
// 5. Reward −1 a step, +20 for the drop at the destination (which ends the episode), −10 for a pickup
// or drop-off where none is possible. 500 states: ((row·5 + col)·5 + passenger)·4 + destination,
// passenger 4 meaning in the taxi; episodes start with the passenger at a stand that is not the
// destination. info["action_mask"] flags the actions that change the state.
class Taxi final : public TabularEnv {
 public:
  Taxi();
  std::string name() const override { return "Taxi"; }
  // South and north are down and up on the map.
  std::vector<std::string> action_meanings() const override {
    return {"DOWN", "UP", "RIGHT", "LEFT", "PICKUP", "DROPOFF"};
  }
  std::string render_text() const override;
  torch::Tensor render() const override;
  static std::int64_t encode(std::int64_t row, std::int64_t col, std::int64_t passenger,
                             std::int64_t destination);
  struct Decoded {
    std::int64_t row, col, passenger, destination;
  };
  static Decoded decode(std::int64_t state);
  // Gymnasium's action mask of a state: 1 where the action would change it.
  static std::vector<std::uint8_t> action_mask(std::int64_t state);

 protected:
  void add_info(Info& info) const override;
};

// CliffWalking-v0 (Sutton & Barto, Example 6.6): a 4×12 grid, start at the bottom left, goal at the
// bottom right, the cliff between them. Actions UP 0, RIGHT 1, DOWN 2, LEFT 3. Reward −1 a step;
// stepping onto the cliff costs −100 and puts the agent back at the start (the episode goes on).
class CliffWalking final : public TabularEnv {
 public:
  CliffWalking();
  std::string name() const override { return "CliffWalking"; }
  std::vector<std::string> action_meanings() const override { return {"UP", "RIGHT", "DOWN", "LEFT"}; }
  std::string render_text() const override;
  torch::Tensor render() const override;
};

// Blackjack-v1 (Sutton & Barto, Example 5.1): hit (1) or stick (0) against a dealer who draws to 17,
// cards drawn with replacement from an infinite deck (face cards 10, ace 1 or 11). Reward +1 win, −1
// loss, 0 draw; a natural (ace and ten) pays 1.5 with natural=true, and with sab=true (Sutton &
// Barto's rules) wins outright unless the dealer has one too. Gymnasium's Tuple observation (player
// sum, dealer's card, usable ace) is MultiDiscrete([32, 11, 2]) here: dojo's spaces have no Tuple.
class Blackjack final : public Env {
 public:
  explicit Blackjack(bool natural = false, bool sab = false);
  static std::unique_ptr<Blackjack> from_kwargs(const core::Config& kwargs);
  ResetResult reset(std::optional<std::uint64_t> seed = std::nullopt) override;
  using Env::step;
  StepResult step(const torch::Tensor& action) override;
  const Space& action_space() const override { return action_space_; }
  const Space& observation_space() const override { return observation_space_; }
  std::string name() const override { return "Blackjack"; }
  std::vector<std::string> action_meanings() const override { return {"STICK", "HIT"}; }
  std::string render_text() const;
  torch::Tensor render() const override;
  const std::vector<int>& player() const { return player_; }
  const std::vector<int>& dealer() const { return dealer_; }
  // Sets both hands (tests, and teaching examples of the rules).
  void set_hands(std::vector<int> player, std::vector<int> dealer);
  static int sum_hand(const std::vector<int>& hand);
  static bool usable_ace(const std::vector<int>& hand);

 private:
  int draw_card();
  torch::Tensor obs() const;
  bool natural_, sab_;
  Space action_space_, observation_space_;
  std::vector<int> player_, dealer_;
};

// The grid worlds LPG is meta-trained on (Oh et al. 2020, "Discovering Reinforcement Learning
// Algorithms", appendix: objects with a reward, a probability of ending the episode when taken and a
// probability of coming back each step), small enough for tables. Cells are '#' wall, '.' floor or
// 'S' a start (the episode starts on one of them, uniformly). Actions UP 0, RIGHT 1, DOWN 2, LEFT 3; a
// move into a wall or off the grid stays put, and with probability `slip` the move goes a uniformly
// random way instead. Entering a cell whose object is present pays its reward and takes it; the
// episode then ends with the object's terminate_prob; each absent object reappears each step with its
// respawn_prob. State: cell·2^n + the mask of present objects (n objects, at most 4). GridWorld-v0
// ends an episode after 50 steps.
struct GridObject {
  std::int64_t row = 0, col = 0;
  double reward = 1.0, terminate_prob = 1.0, respawn_prob = 0.0;
};
struct GridSpec {
  std::vector<std::string> map;
  std::vector<GridObject> objects;
  double slip = 0.0;
};

// One grid of a family, the same for the same seed: "tabular" (a fixed start, moves as intended,
// rewards from a few values: the paper's tabular grids) or "random" (random starts, slippery moves,
// rewards uniform in [-1, 1]: varied rewards and dynamics). 4x4 to 6x6, one to three objects, a few
// walls, every floor cell reachable. dojo::Error for another family.
GridSpec grid_family(const std::string& family, std::uint64_t seed);

class GridWorld final : public TabularEnv {
 public:
  explicit GridWorld(GridSpec spec);
  // Keyword arguments: family ("tabular") and seed (0), or a whole grid: map, objects (a list of
  // {row, col, reward, terminate_prob, respawn_prob}), slip.
  static std::unique_ptr<GridWorld> from_kwargs(const core::Config& kwargs);
  std::string name() const override { return "GridWorld"; }
  std::vector<std::string> action_meanings() const override { return {"UP", "RIGHT", "DOWN", "LEFT"}; }
  std::string render_text() const override;
  torch::Tensor render() const override;
  const GridSpec& spec() const { return spec_; }

 private:
  GridSpec spec_;
};

// The env's state as text when it has a text form (the toy-text envs), else "".
std::string render_text(const Env& env);

}  // namespace dojo::envs

DOJO_PUBLIC_END
