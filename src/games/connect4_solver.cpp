#include "games/connect4_solver.h"

#include <algorithm>
#include <array>
#include <bit>

namespace dojo::games {

namespace {

constexpr int kCells = Connect4Board::kWidth * Connect4Board::kHeight;
// The first prime at or above n, and above 2^17 (see the header): keys spread over every slot, and
// 32 bits of key suffice.
std::size_t table_prime(std::size_t n) {
  auto prime = [](std::size_t p) {
    if (p % 2 == 0) return false;
    for (std::size_t d = 3; d * d <= p; d += 2)
      if (p % d == 0) return false;
    return true;
  };
  n = std::max(n, (std::size_t{1} << 17) + 1);
  while (!prime(n)) ++n;
  return n;
}
// Columns from the centre outwards: the better moves first when scores tie.
constexpr std::array<int, Connect4Board::kWidth> kColumnOrder{3, 2, 4, 1, 5, 0, 6};
// Up to this many stones a position and its mirror image share one table entry: early in the game
// mirrored transpositions are common and the subtrees large; later they are rare and not worth the
// extra key.
constexpr int kMirrorDepth = 20;

std::uint64_t table_key(const Connect4Board& b) {
  return b.moves() <= kMirrorDepth ? std::min(b.key(), b.mirrored_key()) : b.key();
}

}  // namespace

Connect4Solver::Connect4Solver(std::size_t min_entries)
    : keys_(table_prime(min_entries), 0), values_(keys_.size(), 0) {}

void Connect4Solver::reset() {
  std::fill(keys_.begin(), keys_.end(), 0);
  std::fill(values_.begin(), values_.end(), 0);
  nodes_ = 0;
}

void Connect4Solver::put(std::uint64_t key, std::int8_t entry) {
  const auto i = key % keys_.size();
  keys_[i] = static_cast<std::uint32_t>(key);
  values_[i] = entry;
}

std::int8_t Connect4Solver::get(std::uint64_t key) const {
  const auto i = key % keys_.size();
  return keys_[i] == static_cast<std::uint32_t>(key) ? values_[i] : std::int8_t{0};
}

namespace {
// Every true score lies in [kMinScore, kMaxScore], so clamping a proved bound into it keeps it true.
std::int8_t upper_entry(int score) {
  return static_cast<std::int8_t>(std::clamp(score, Connect4Solver::kMinScore, Connect4Solver::kMaxScore) -
                                  Connect4Solver::kMinScore + 1);
}
}  // namespace

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
  // Nor can we win at once (the caller checked): at most a win one move later.
  int upper = (kCells - 1 - b.moves()) / 2;
  // A bound an earlier search proved narrows the window further.
  const auto key = table_key(b);
  if (const int stored = get(key); stored > kRange) {
    const int proved = stored - kRange + kMinScore - 1;
    if (alpha < proved) {
      alpha = proved;
      if (alpha >= beta) return alpha;
    }
  } else if (stored > 0) {
    upper = std::min(upper, stored + kMinScore - 1);
  }
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
    if (score >= beta) {
      put(key, static_cast<std::int8_t>(upper_entry(score) + kRange));  // at least `score`
      return score;
    }
    if (score > alpha) alpha = score;
  }
  put(key, upper_entry(alpha));  // at most `alpha`
  return alpha;
}

int Connect4Solver::solve(const Connect4Board& b, bool weak) {
  if (b.can_win_next()) return weak ? 1 : (kCells + 1 - b.moves()) / 2;
  if (weak) {  // two null-window probes: better than 0? if not, worse than 0?
    if (negamax(b, 0, 1) > 0) return 1;
    return negamax(b, -1, 0) < 0 ? -1 : 0;
  }
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

std::vector<int> Connect4Solver::analyze(const Connect4Board& b, bool weak) {
  std::vector<int> out(Connect4Board::kWidth, kInvalid);
  for (int col = 0; col < Connect4Board::kWidth; ++col) {
    if (!b.can_play(col)) continue;
    if (b.is_winning_move(col)) {
      out[static_cast<std::size_t>(col)] = weak ? 1 : (kCells + 1 - b.moves()) / 2;
      continue;
    }
    auto child = b;
    child.play(col);
    out[static_cast<std::size_t>(col)] = -solve(child, weak);
  }
  return out;
}

}  // namespace dojo::games
