// Tic-tac-toe: a 3 × 3 board, X (player 0) moves first; actions 0 … 8 row by row from the top left,
// written a1 … c3 (column letter, row number from the bottom, as on a chess board).
#pragma once
#include <array>
#include <memory>
#include <string>
#include <vector>

#include "core/export.h"
#include "games/game.h"

DOJO_PUBLIC_BEGIN
namespace dojo::games {

class TicTacToe final : public Game {
 public:
  std::string name() const override { return "tic_tac_toe"; }
  int num_actions() const override { return 9; }
  // Planes: the mover's marks, the opponent's.
  std::array<int, 3> observation_shape() const override { return {2, 3, 3}; }
  int max_game_length() const override { return 9; }
  int num_symmetries() const override { return 8; }
  std::vector<int> symmetry_cells(int s) const override;
  std::vector<int> symmetry_actions(int s) const override { return symmetry_cells(s); }
  std::unique_ptr<State> new_initial_state() const override;
};

class TicTacToeState final : public State {
 public:
  explicit TicTacToeState(std::shared_ptr<const Game> game);
  int current_player() const override;
  std::vector<Action> legal_actions() const override;
  bool is_terminal() const override;
  std::array<double, 2> returns() const override;
  void observation(float* out) const override;
  std::unique_ptr<State> clone() const override;
  std::string action_to_string(Action action) const override;
  Action string_to_action(const std::string& text) const override;
  std::string to_string() const override;
  // 0 or 1 for a finished game's winner, −1 otherwise.
  int winner() const { return winner_; }

 protected:
  void do_apply_action(Action action) override;

 private:
  std::array<int, 9> cells_{};  // 0 empty, 1 X, 2 O
  int moves_ = 0, winner_ = -1;
};

}  // namespace dojo::games

DOJO_PUBLIC_END
