#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>

#include "core/error.h"
#include "games/arena.h"
#include "games/connect4.h"
#include "games/connect4_solver.h"
#include "games/players.h"

namespace dojo::games {
namespace {

constexpr int kCells = Connect4Board::kWidth * Connect4Board::kHeight;

// Plain minimax over every continuation, in the solver's convention: independent of its pruning,
// its move filter and its table.
int brute_force(const Connect4Board& b) {
  if (b.moves() == kCells) return 0;
  for (int c = 0; c < Connect4Board::kWidth; ++c)
    if (b.can_play(c) && b.is_winning_move(c)) return (kCells + 1 - b.moves()) / 2;
  int best = -kCells;
  for (int c = 0; c < Connect4Board::kWidth; ++c) {
    if (!b.can_play(c)) continue;
    auto child = b;
    child.play(c);
    best = std::max(best, -brute_force(child));
  }
  return best;
}

// Random play from the empty board to `stones` stones, with nobody having four; false if a game
// ended first.
bool random_position(std::mt19937& rng, int stones, Connect4Board& out) {
  Connect4Board b;
  while (b.moves() < stones) {
    std::vector<int> cols;
    for (int c = 0; c < Connect4Board::kWidth; ++c)
      if (b.can_play(c)) cols.push_back(c);
    const int c = cols[std::uniform_int_distribution<std::size_t>(0, cols.size() - 1)(rng)];
    if (b.is_winning_move(c)) return false;
    b.play(c);
  }
  out = b;
  return true;
}

TEST(Connect4Solver, MatchesBruteForceNearTheEnd) {
  Connect4Solver solver;
  std::mt19937 rng(7);
  int checked = 0, wins = 0, losses = 0;
  while (checked < 60) {
    Connect4Board b;
    if (!random_position(rng, 31, b)) continue;
    const int expected = brute_force(b);
    EXPECT_EQ(solver.solve(b), expected) << "position " << checked;
    wins += expected > 0;
    losses += expected < 0;
    ++checked;
  }
  // The sample holds both signs, so the comparison is not one-sided.
  EXPECT_GT(wins, 0);
  EXPECT_GT(losses, 0);
}

TEST(Connect4Solver, ScoresAreConsistentWithTheirChildren) {
  // Earlier in the game, where brute force is out of reach: a position's score is the best of its
  // columns' (analyze), each solved on its own.
  Connect4Solver solver;
  std::mt19937 rng(11);
  int checked = 0;
  while (checked < 6) {
    Connect4Board b;
    if (!random_position(rng, 16, b)) continue;
    const auto columns = solver.analyze(b);
    EXPECT_EQ(solver.solve(b), *std::max_element(columns.begin(), columns.end()));
    ++checked;
  }
}

TEST(Connect4Solver, KnownScores) {
  Connect4Solver solver;
  Connect4Board b;
  for (const int c : {0, 1, 0, 1, 0, 1}) b.play(c);  // X threatens to complete column 1
  EXPECT_EQ(solver.solve(b), 18);                    // wins with its 4th stone: 22 − 4
  b = Connect4Board{};
  for (const int c : {0, 1, 0, 1, 0}) b.play(c);  // O to move; X has three up column 0
  for (int c = 1; c < Connect4Board::kWidth; ++c) {
    auto child = b;
    child.play(c);
    EXPECT_EQ(-solver.solve(child), -18) << c;  // not blocking: X wins with its 4th stone
  }
  // The drawn full board of the rules test, four stones before its end: a draw either way.
  b = Connect4Board{};
  for (const char ch : std::string("121212343434565656212121434343656565")) b.play(ch - '1');
  b.play(6), b.play(6);
  EXPECT_EQ(solver.solve(b), 0);
  EXPECT_EQ(brute_force(b), 0);
}

TEST(Connect4Solver, WeakSolveIsTheScoresSign) {
  Connect4Solver strong, weak;
  std::mt19937 rng(3);
  int checked = 0, signs[3] = {0, 0, 0};
  while (checked < 40) {
    Connect4Board b;
    if (!random_position(rng, 18, b)) continue;
    const int score = strong.solve(b);
    const int sign = (score > 0) - (score < 0);
    EXPECT_EQ(weak.solve(b, /*weak=*/true), sign) << "position " << checked;
    ++signs[sign + 1];
    ++checked;
  }
  EXPECT_GT(signs[0], 0);
  EXPECT_GT(signs[2], 0);
}

TEST(Connect4Solver, MirrorImagesScoreTheSame) {
  // The table shares an entry between a position and its mirror image: the mirror must be exact.
  std::mt19937 rng(5);
  Connect4Solver solver;
  for (int i = 0; i < 10; ++i) {
    Connect4Board b, m;
    std::vector<int> cols;
    while (b.moves() < 14) {
      const int c = static_cast<int>(rng() % Connect4Board::kWidth);
      if (!b.can_play(c) || b.is_winning_move(c)) continue;
      b.play(c);
      m.play(Connect4Board::kWidth - 1 - c);
    }
    EXPECT_EQ(b.mirrored_key(), m.key());
    EXPECT_EQ(m.mirrored_key(), b.key());
    const int score = solver.solve(b);
    solver.reset();
    EXPECT_EQ(solver.solve(m), score);
  }
}

TEST(Connect4Solver, ASmallTableOnlySlowsItDown) {
  // The fewest entries allowed (the first prime above 2^17), on positions whose searches visit
  // millions: constant replacement, and partial keys that must still tell positions apart, give the
  // scores of brute force near the end and of the full-size table earlier.
  Connect4Solver small(1), full;
  EXPECT_GT(small.table_size(), std::size_t{1} << 17);
  std::mt19937 rng(9);
  int checked = 0;
  while (checked < 20) {
    Connect4Board b;
    if (!random_position(rng, 31, b)) continue;
    EXPECT_EQ(small.solve(b), brute_force(b)) << "position " << checked;
    ++checked;
  }
  std::int64_t searched = 0;
  for (checked = 0; checked < 4;) {
    Connect4Board b;
    if (!random_position(rng, 12, b)) continue;
    small.reset();
    EXPECT_EQ(small.solve(b), full.solve(b)) << "position " << checked;
    searched += small.nodes();
    ++checked;
  }
  EXPECT_GT(searched, 1000000);  // many times the table's size
}

TEST(OptimalShare, PerfectPlayIsAlwaysOptimalAndRandomPlayIsNot) {
  Connect4Solver solver(1 << 20);
  const auto positions = connect4_positions(40, 16, 30, 5, solver);
  ASSERT_EQ(positions.size(), 40u);
  const auto c4 = game("connect4");
  for (const auto& p : positions) {
    EXPECT_GE(p.moves.size(), 16u);
    EXPECT_LE(p.moves.size(), 30u);
    // The labels are the solver's: the best column's score is the position's.
    auto state = position(*c4, "");
    for (const Action a : p.moves) state->apply_action(a);
    EXPECT_EQ(*std::max_element(p.scores.begin(), p.scores.end()),
              solver.solve(dynamic_cast<const Connect4State&>(*state).board()));
  }
  EXPECT_NE(positions[0].moves, positions[1].moves);
  PerfectPlayer perfect(1);
  const auto best = optimal_share(perfect, *c4, positions);
  EXPECT_EQ(best.positions, 40);
  EXPECT_EQ(best.optimal, 40);
  EXPECT_EQ(best.keeps, 40);
  RandomPlayer random(1);
  const auto r = optimal_share(random, *c4, positions);
  EXPECT_LT(r.optimal, 36);
  EXPECT_LE(r.optimal, r.keeps);
  EXPECT_THROW(connect4_positions(5, 20, 10, 0, solver), Error);
}

}  // namespace
}  // namespace dojo::games
