// Connect Four: 7 columns × 6 rows, stones drop to the lowest free cell, four in a row (across, up
// or diagonal) wins, a full board is a draw. Actions 0 … 6 are the columns from the left, written
// 1 … 7 as in Pascal Pons' solver protocol.
//
// The board is two bitboards (Pons' layout): bit 7·c + r is column c, row r from the bottom, with a
// seventh, always empty bit on top of each column, so that a column's next free cell is one addition
// away and alignments are four shifted ANDs that never wrap across columns.
#pragma once
#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/export.h"
#include "games/game.h"

DOJO_PUBLIC_BEGIN
namespace dojo::games {

class Connect4Board {
 public:
  static constexpr int kWidth = 7, kHeight = 6;
  bool can_play(int col) const { return (mask_ & top_mask(col)) == 0; }
  // Drops the mover's stone in `col` (which must be playable); the other player moves next.
  void play(int col) {
    current_ ^= mask_;
    mask_ |= mask_ + bottom_mask(col);
    ++moves_;
  }
  // Whether the mover wins by playing `col` (playable).
  bool is_winning_move(int col) const {
    return aligned(current_ | ((mask_ + bottom_mask(col)) & column_mask(col)));
  }
  // Whether the player who just moved has four in a row.
  bool last_mover_won() const { return aligned(current_ ^ mask_); }
  int moves() const { return moves_; }
  // A unique key of the position (the mover's stones plus the occupied mask).
  std::uint64_t key() const { return current_ + mask_; }
  // The key of the position seen in a mirror (columns reversed): the same value as this one's.
  std::uint64_t mirrored_key() const {
    const auto k = key();
    std::uint64_t m = 0;
    for (int c = 0; c < kWidth; ++c) {
      const int from = c * (kHeight + 1), to = (kWidth - 1 - c) * (kHeight + 1);
      m |= ((k >> from) & 0x7F) << to;
    }
    return m;
  }
  std::uint64_t mover_stones() const { return current_; }
  std::uint64_t occupied() const { return mask_; }
  // Plays a move given as its cell's bit (one of possible()'s).
  void play_bit(std::uint64_t move) {
    current_ ^= mask_;
    mask_ |= move;
    ++moves_;
  }
  // The cells a stone may go to now, one per playable column.
  std::uint64_t possible() const { return (mask_ + kBottomRow) & kBoardMask; }
  // Free cells that would complete four for the mover, and for the opponent.
  std::uint64_t winning_cells() const { return completing_cells(current_, mask_); }
  std::uint64_t opponent_winning_cells() const { return completing_cells(current_ ^ mask_, mask_); }
  bool can_win_next() const { return (winning_cells() & possible()) != 0; }
  // The playable cells that do not hand the opponent an immediate win: only the block when the
  // opponent threatens once, nothing when it threatens twice, and never the cell just below one of
  // its winning cells.
  std::uint64_t non_losing_moves() const;
  // Whether any four of `stones` are aligned.
  static bool aligned(std::uint64_t stones);
  // The empty cells (of `occupied`'s complement) that would give `stones` four in a row.
  static std::uint64_t completing_cells(std::uint64_t stones, std::uint64_t occupied);
  static constexpr std::uint64_t kBottomRow = 0x0040810204081ULL;  // bit 0 of every column
  static constexpr std::uint64_t kBoardMask = kBottomRow * ((std::uint64_t{1} << kHeight) - 1);
  static constexpr std::uint64_t bottom_mask(int col) { return std::uint64_t{1} << (col * (kHeight + 1)); }
  static constexpr std::uint64_t top_mask(int col) {
    return std::uint64_t{1} << (kHeight - 1 + col * (kHeight + 1));
  }
  static constexpr std::uint64_t column_mask(int col) {
    return ((std::uint64_t{1} << kHeight) - 1) << (col * (kHeight + 1));
  }

 private:
  std::uint64_t current_ = 0, mask_ = 0;  // the mover's stones; all stones
  int moves_ = 0;
};

class Connect4 final : public Game {
 public:
  std::string name() const override { return "connect4"; }
  int num_actions() const override { return Connect4Board::kWidth; }
  // Planes: the mover's stones, the opponent's (row 0 of the tensor is the top row).
  std::array<int, 3> observation_shape() const override {
    return {2, Connect4Board::kHeight, Connect4Board::kWidth};
  }
  int max_game_length() const override { return Connect4Board::kWidth * Connect4Board::kHeight; }
  int num_symmetries() const override { return 2; }  // the identity and the mirror
  std::vector<int> symmetry_cells(int s) const override;
  std::vector<int> symmetry_actions(int s) const override;
  std::unique_ptr<State> new_initial_state() const override;
};

class Connect4State final : public State {
 public:
  explicit Connect4State(std::shared_ptr<const Game> game);
  int current_player() const override;
  std::vector<Action> legal_actions() const override;
  bool is_legal(Action action) const override;
  bool is_terminal() const override;
  std::array<double, 2> returns() const override;
  void observation(float* out) const override;
  std::unique_ptr<State> clone() const override;
  std::string action_to_string(Action action) const override;
  Action string_to_action(const std::string& text) const override;
  std::string to_string() const override;
  const Connect4Board& board() const { return board_; }
  // 0 or 1 for a finished game's winner, −1 otherwise.
  int winner() const { return winner_; }

 protected:
  void do_apply_action(Action action) override;

 private:
  Connect4Board board_;
  int winner_ = -1;
};

}  // namespace dojo::games

DOJO_PUBLIC_END
