// Go on a small board (9 × 9 by default) under Tromp-Taylor rules: a stone without liberties is
// captured, suicide is illegal, no move may recreate an earlier board (positional superko), a pass is
// always legal, two passes in a row end the game, and so does a move cap (twice the points, as
// OpenSpiel); the score is area — stones plus the empty regions that reach only one colour — with
// komi (7.5) to White. Black (player 0) moves first.
//
// Actions 0 … size² − 1 are the points row by row from the top left, size² is the pass; moves are
// written as on a Go board, a column letter (A … skipping I) and a row from the bottom ("D5"), or
// "pass". Observation planes: the mover's stones, the opponent's, and all ones when the mover is Black
// (komi makes the colours unequal).
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

class Go final : public Game {
 public:
  static constexpr int kMaxSize = 19;
  // dojo::Error for a size outside 2 … 19.
  explicit Go(int size = 9, double komi = 7.5);
  std::string name() const override { return size_ == 9 ? "go" : "go" + std::to_string(size_); }
  int num_actions() const override { return size_ * size_ + 1; }
  std::array<int, 3> observation_shape() const override { return {3, size_, size_}; }
  int max_game_length() const override { return 2 * size_ * size_; }
  std::unique_ptr<State> new_initial_state() const override;
  int num_symmetries() const override { return 8; }
  std::vector<int> symmetry_cells(int s) const override;
  std::vector<int> symmetry_actions(int s) const override;  // the pass stays the pass
  int size() const { return size_; }
  double komi() const { return komi_; }
  Action pass_action() const { return size_ * size_; }
  // Zobrist keys: one per point and colour.
  std::uint64_t zobrist(int point, int colour) const;

 private:
  int size_;
  double komi_;
  std::vector<std::uint64_t> zobrist_;
};

class GoState final : public State {
 public:
  explicit GoState(std::shared_ptr<const Game> game);
  int current_player() const override;
  std::vector<Action> legal_actions() const override;
  bool is_legal(Action action) const override;
  bool is_terminal() const override;
  // Playouts: a uniformly random point that is legal and not the mover's own eye (an empty point
  // whose neighbours are all the mover's stones), found by trying the empty points in random order;
  // a pass only when there is none.
  Action rollout_action(std::mt19937_64& rng) const override;
  std::array<double, 2> returns() const override;
  void observation(float* out) const override;
  std::unique_ptr<State> clone() const override;
  std::string action_to_string(Action action) const override;
  Action string_to_action(const std::string& text) const override;
  std::string to_string() const override;
  // Black's area minus White's, minus komi (Tromp-Taylor): > 0 Black wins.
  double score() const;
  // 0 empty, 1 Black, 2 White.
  int at(int point) const { return board_[static_cast<std::size_t>(point)]; }
  // The board's Zobrist hash (stones only).
  std::uint64_t hash() const { return hash_; }

 protected:
  void do_apply_action(Action action) override;

 private:
  // The stones of the group at `point` into `stones`; returns its liberties (distinct empty points).
  int group(int point, std::vector<int>& stones) const;
  // Whether playing `point` is legal for the mover and, if so, the stones it captures.
  bool try_play(int point, std::vector<int>* captured) const;
  template <typename F>
  void for_neighbours(int point, F&& f) const;

  const Go* go_;
  int n_;  // board size
  std::array<std::int8_t, Go::kMaxSize * Go::kMaxSize> board_{};
  int to_move_ = 0, passes_ = 0, moves_ = 0;
  std::uint64_t hash_ = 0;
  std::vector<std::uint64_t> seen_;  // every board of the game so far (superko)
};

}  // namespace dojo::games

DOJO_PUBLIC_END
