// A Connect Four solver: the exact game-theoretic score of a position under perfect play, in Pascal
// Pons' convention — 0 a draw; a win for the side to move is 22 minus the number of stones the winner
// has played when it completes four (so a quicker win scores more); a loss the negative of the
// opponent's win. The empty board scores +1: the first player wins, by playing the centre column.
//
// Negamax with alpha-beta pruning over the bitboards of Connect4Board, from the published techniques:
// moves that hand the opponent an immediate win are never searched; a move that wins at once ends the
// search; the rest are tried by how many winning cells they open (centre columns first on ties); a
// transposition table keeps upper bounds of searched positions; and the root narrows the score's
// interval with null-window searches (iterative deepening on the score) until it closes.
#pragma once
#include <cstdint>
#include <vector>

#include "core/export.h"
#include "games/connect4.h"

DOJO_PUBLIC_BEGIN
namespace dojo::games {

class Connect4Solver {
 public:
  static constexpr int kMinScore = -(Connect4Board::kWidth * Connect4Board::kHeight) / 2 + 3;
  static constexpr int kMaxScore = (Connect4Board::kWidth * Connect4Board::kHeight + 1) / 2 - 3;

  // A table of 8,388,593 entries (a prime, ~75 MB).
  Connect4Solver();
  // The position's exact score (the position must not be finished).
  int solve(const Connect4Board& board);
  // Every column's score for the side to move (columns 0-6; kInvalid for a full column).
  static constexpr int kInvalid = -1000;
  std::vector<int> analyze(const Connect4Board& board);
  // Positions searched since construction or reset().
  std::int64_t nodes() const { return nodes_; }
  void reset();

 private:
  int negamax(const Connect4Board& board, int alpha, int beta);
  void put(std::uint64_t key, int upper);
  int get(std::uint64_t key) const;  // 0: unknown

  std::vector<std::uint64_t> keys_;
  std::vector<std::int8_t> values_;
  std::int64_t nodes_ = 0;
};

}  // namespace dojo::games

DOJO_PUBLIC_END
