// A Connect Four solver: the exact game-theoretic score of a position under perfect play, in Pascal
// Pons' convention — 0 a draw; a win for the side to move is 22 minus the number of stones the winner
// has played when it completes four (so a quicker win scores more); a loss the negative of the
// opponent's win. The empty board scores +1: the first player wins, by playing the centre column.
//
// Negamax with alpha-beta pruning over the bitboards of Connect4Board, from the published techniques:
// moves that hand the opponent an immediate win are never searched; a move that wins at once ends the
// search; the rest are tried by how many winning cells they open (centre columns first on ties); a
// transposition table keeps the upper or lower bound each search proved (32-bit partial keys: with a
// prime number of slots above 2^17, the slot and the key's low 32 bits together identify the 49-bit
// position by the Chinese remainder theorem); and the root narrows the score's interval with
// null-window searches (iterative deepening on the score) until it closes. A weak solve asks only
// win, draw or loss: one search in the window (−1, 1), far cheaper early in the game.
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

  // A table of the first prime number of entries at or above `min_entries` (5 bytes each; the
  // default, 16,777,259 entries, is ~84 MB); more entries help on positions early in the game.
  explicit Connect4Solver(std::size_t min_entries = std::size_t{1} << 24);
  std::size_t table_size() const { return keys_.size(); }
  // The position's exact score (the position must not be finished); with `weak`, only its sign:
  // 1 a win for the side to move, 0 a draw, −1 a loss.
  int solve(const Connect4Board& board, bool weak = false);
  // Every column's score (or sign) for the side to move (columns 0-6; kInvalid for a full column).
  static constexpr int kInvalid = -1000;
  std::vector<int> analyze(const Connect4Board& board, bool weak = false);
  // Positions searched since construction or reset().
  std::int64_t nodes() const { return nodes_; }
  void reset();

 private:
  int negamax(const Connect4Board& board, int alpha, int beta);
  // Table entries: 0 unknown, 1 … kRange an upper bound, kRange + 1 … 2·kRange a lower bound.
  static constexpr int kRange = kMaxScore - kMinScore + 1;
  void put(std::uint64_t key, std::int8_t entry);
  std::int8_t get(std::uint64_t key) const;

  std::vector<std::uint32_t> keys_;
  std::vector<std::int8_t> values_;
  std::int64_t nodes_ = 0;
};

}  // namespace dojo::games

DOJO_PUBLIC_END
