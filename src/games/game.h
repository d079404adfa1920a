// Two-player, zero-sum, perfect-information board games in OpenSpiel's shape: an immutable Game (its
// name, action count, observation shape, longest game) shared by cloneable States (whose turn, legal
// actions, apply, terminal, returns, the observation from the mover's view). States record their move
// history; a position can be rebuilt from a move list. Games register by name (`game("connect4")`).
#pragma once
#include <array>
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "core/export.h"

DOJO_PUBLIC_BEGIN
namespace dojo::games {

using Action = int;
inline constexpr int kTerminalPlayer = -1;  // current_player() of a finished game

class State;

class Game : public std::enable_shared_from_this<Game> {
 public:
  virtual ~Game() = default;
  virtual std::string name() const = 0;
  // Actions are 0 … num_actions() − 1 (the policy head's size); legal_actions() picks among them.
  virtual int num_actions() const = 0;
  // The observation tensor's [C, H, W].
  virtual std::array<int, 3> observation_shape() const = 0;
  virtual int max_game_length() const = 0;
  virtual std::unique_ptr<State> new_initial_state() const = 0;

  // The board's symmetries that keep the rules (0 is the identity), for data augmentation: symmetry s
  // sends board cell i (row-major over H × W) to symmetry_cells(s)[i] and action a to
  // symmetry_actions(s)[a]. Tic-tac-toe and Go have the square's 8, Connect Four the mirror.
  virtual int num_symmetries() const { return 1; }
  virtual std::vector<int> symmetry_cells(int s) const;
  virtual std::vector<int> symmetry_actions(int s) const;
  // An observation [C, H, W] and a policy over the actions, carried by symmetry s into the outputs.
  void apply_symmetry(int s, const float* observation, const float* policy, float* observation_out,
                      float* policy_out) const;

 protected:
  // The square's symmetry s (0 … 7: transpose if s & 4, then flip rows if s & 1, columns if s & 2)
  // on an n × n board's cells.
  static std::vector<int> square_symmetry(int s, int n);
};

class State {
 public:
  virtual ~State() = default;
  // 0 (the first mover) or 1; kTerminalPlayer once the game is over.
  virtual int current_player() const = 0;
  // Sorted, empty when terminal.
  virtual std::vector<Action> legal_actions() const = 0;
  virtual bool is_legal(Action action) const;
  // Plays `action` for the current player: dojo::Error (naming the move) if it is not legal.
  void apply_action(Action action);
  virtual bool is_terminal() const = 0;
  // A random move for MCTS playouts: uniform over the legal moves unless the game knows better (Go
  // does not fill its own eyes, nor pass while a stone can be played).
  virtual Action rollout_action(std::mt19937_64& rng) const;
  // Final returns of players 0 and 1: +1 / −1 for a win, 0 for a draw (0, 0 before the end).
  virtual std::array<double, 2> returns() const = 0;
  // The board from the current player's view, as [C, H, W] floats (observation_shape) into `out`.
  virtual void observation(float* out) const = 0;
  virtual std::unique_ptr<State> clone() const = 0;
  // A move as people write it ("4" for Connect Four's fourth column, "b2" for tic-tac-toe, "D5" or
  // "pass" in Go) and back: dojo::Error naming the text when it is not a move of this game.
  virtual std::string action_to_string(Action action) const = 0;
  virtual Action string_to_action(const std::string& text) const = 0;
  // The board drawn in text, one row per line.
  virtual std::string to_string() const = 0;
  const std::vector<Action>& history() const { return history_; }
  const Game& game() const { return *game_; }

 protected:
  explicit State(std::shared_ptr<const Game> game) : game_(std::move(game)) {}
  State(const State&) = default;
  State& operator=(const State&) = default;
  // The game's own move, called by apply_action after the legality check.
  virtual void do_apply_action(Action action) = 0;

 private:
  std::shared_ptr<const Game> game_;
  std::vector<Action> history_;
};

// Returns for players 0 and 1 of a game whose winner is `winner` (0 or 1), or of a draw or unfinished
// game (−1): +1 / −1 or 0 / 0.
inline std::array<double, 2> winner_returns(int winner) {
  if (winner < 0) return {0.0, 0.0};
  return winner == 0 ? std::array<double, 2>{1.0, -1.0} : std::array<double, 2>{-1.0, 1.0};
}

// A registered game by name ("tic_tac_toe", "connect4"); dojo::Error naming an unknown one.
std::shared_ptr<const Game> game(const std::string& name);
std::vector<std::string> game_names();

// The position after `moves` (action strings separated by spaces or commas; Connect Four also takes
// a run of digits "4453"): dojo::Error naming the first move that is not legal where it is played.
std::unique_ptr<State> position(const Game& game, const std::string& moves);

}  // namespace dojo::games

DOJO_PUBLIC_END
