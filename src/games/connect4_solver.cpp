#include "games/connect4_solver.h"

#include <algorithm>
#include <array>
#include <bit>

namespace dojo::games {

namespace {

constexpr int kCells = Connect4Board::kWidth * Connect4Board::kHeight;
constexpr std::size_t kTableSize = 8388593;  // a prime: keys spread over every slot
// Columns from the centre outwards: the better moves first when scores tie.
constexpr std::array<int, Connect4Board::kWidth> kColumnOrder{3, 2, 4, 1, 5, 0, 6};

}  // namespace

Connect4Solver::Connect4Solver() : keys_(kTableSize, 0), values_(kTableSize, 0) {}

void Connect4Solver::reset() {
  std::fill(keys_.begin(), keys_.end(), 0);
  std::fill(values_.begin(), values_.end(), 0);
  nodes_ = 0;
}

void Connect4Solver::put(std::uint64_t key, int upper) {
  const auto i = key % kTableSize;
  keys_[i] = key;
  values_[i] = static_cast<std::int8_t>(upper - kMinScore + 1);
}

int Connect4Solver::get(std::uint64_t key) const {
  const auto i = key % kTableSize;
  return keys_[i] == key ? values_[i] : 0;
}

int Connect4Solver::negamax(const Connect4Board& b, int alpha, int beta) {
  ++nodes_;
  const auto next = b.non_losing_moves();
  if (next == 0) return -(kCells - b.moves()) / 2;  // every move lets the opponent win at once
  if (b.moves() >= kCells - 2) return 0;            // the last two stones cannot win for either side

  // The opponent cannot win on its next move: the score is at least that of losing later.
  const int lower = -(kCells - 2 - b.moves()) / 2;
  if (alpha < lower) {
    alpha = lower;
    if (alpha >= beta) return alpha;
  }
  // Nor can we win at once (the caller checked): at most a win one move later, or the table's bound.
  int upper = (kCells - 1 - b.moves()) / 2;
  if (const int stored = get(b.key())) upper = stored + kMinScore - 1;
  if (beta > upper) {
    beta = upper;
    if (alpha >= beta) return beta;
  }

  // Moves ordered by how many winning cells they leave us (insertion sort, stable on column order).
  std::array<std::pair<std::uint64_t, int>, Connect4Board::kWidth> moves{};
  int n = 0;
  for (const int col : kColumnOrder) {
    const auto move = next & Connect4Board::column_mask(col);
    if (!move) continue;
    const int score = std::popcount(Connect4Board::completing_cells(b.mover_stones() | move, b.occupied()));
    int i = n++;
    while (i > 0 && moves[static_cast<std::size_t>(i - 1)].second < score) {
      moves[static_cast<std::size_t>(i)] = moves[static_cast<std::size_t>(i - 1)];
      --i;
    }
    moves[static_cast<std::size_t>(i)] = {move, score};
  }
  for (int i = 0; i < n; ++i) {
    auto child = b;
    child.play_bit(moves[static_cast<std::size_t>(i)].first);
    const int score = -negamax(child, -beta, -alpha);
    if (score >= beta) return score;
    if (score > alpha) alpha = score;
  }
  put(b.key(), alpha);
  return alpha;
}

int Connect4Solver::solve(const Connect4Board& b) {
  if (b.can_win_next()) return (kCells + 1 - b.moves()) / 2;
  int lo = -(kCells - b.moves()) / 2, hi = (kCells + 1 - b.moves()) / 2;
  while (lo < hi) {
    // Null-window probes, biased toward 0 first: small scores are the common ones and cheap to refute.
    int mid = lo + (hi - lo) / 2;
    if (mid <= 0 && lo / 2 < mid)
      mid = lo / 2;
    else if (mid >= 0 && hi / 2 > mid)
      mid = hi / 2;
    const int r = negamax(b, mid, mid + 1);
    if (r <= mid)
      hi = r;
    else
      lo = r;
  }
  return lo;
}

std::vector<int> Connect4Solver::analyze(const Connect4Board& b) {
  std::vector<int> out(Connect4Board::kWidth, kInvalid);
  for (int col = 0; col < Connect4Board::kWidth; ++col) {
    if (!b.can_play(col)) continue;
    if (b.is_winning_move(col)) {
      out[static_cast<std::size_t>(col)] = (kCells + 1 - b.moves()) / 2;
      continue;
    }
    auto child = b;
    child.play(col);
    out[static_cast<std::size_t>(col)] = -solve(child);
  }
  return out;
}

}  // namespace dojo::games
