#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <random>
#include <string>
#include <unordered_set>
#include <vector>

#include "core/error.h"
#include "games/connect4.h"
#include "games/game.h"
#include "games/tic_tac_toe.h"

namespace dojo::games {
namespace {

// Every complete game of tic-tac-toe, counted by playing them all out: 255,168 (a known count).
std::int64_t count_games(State& s) {
  if (s.is_terminal()) return 1;
  std::int64_t n = 0;
  for (const auto a : s.legal_actions()) {
    auto child = s.clone();
    child->apply_action(a);
    n += count_games(*child);
  }
  return n;
}

TEST(TicTacToe, HasAllItsGamesAndScoresThem) {
  const auto g = game("tic_tac_toe");
  auto s = g->new_initial_state();
  EXPECT_EQ(count_games(*s), 255168);

  s = position(*g, "a3 a1 b3 b1 c3");  // X's top row
  ASSERT_TRUE(s->is_terminal());
  EXPECT_EQ(s->returns(), (std::array<double, 2>{1.0, -1.0}));
  EXPECT_EQ(s->current_player(), kTerminalPlayer);
  EXPECT_TRUE(s->legal_actions().empty());
  s = position(*g, "a3 b3 c3 b2 b1 c2 a2 a1 c1");  // a full board, nobody aligned
  ASSERT_TRUE(s->is_terminal());
  EXPECT_EQ(s->returns(), (std::array<double, 2>{0.0, 0.0}));
}

TEST(TicTacToe, ObservationIsFromTheMoversView) {
  const auto g = game("tic_tac_toe");
  const auto s = position(*g, "a3");  // X at the top left; O to move
  std::vector<float> obs(18);
  s->observation(obs.data());
  EXPECT_EQ(obs[0], 0.0f);  // not O's
  EXPECT_EQ(obs[9], 1.0f);  // the opponent's (X)
  EXPECT_EQ(s->to_string(), "3 X..\n2 ...\n1 ...\n  abc\n");
}

// Distinct Connect Four positions after exactly n plies, games stopping at a win (OEIS A212693).
std::vector<std::int64_t> connect4_positions(int max_ply) {
  std::vector<std::int64_t> counts;
  std::unordered_set<std::uint64_t> seen;
  std::vector<Connect4Board> level{Connect4Board{}};
  for (int ply = 1; ply <= max_ply; ++ply) {
    std::vector<Connect4Board> next;
    seen.clear();
    for (const auto& b : level) {
      if (b.moves() > 0 && b.last_mover_won()) continue;
      for (int c = 0; c < Connect4Board::kWidth; ++c) {
        if (!b.can_play(c)) continue;
        auto child = b;
        child.play(c);
        if (seen.insert(child.key()).second) next.push_back(child);
      }
    }
    counts.push_back(static_cast<std::int64_t>(next.size()));
    level = std::move(next);
  }
  return counts;
}

TEST(Connect4, CountsDistinctPositionsPlyByPly) {
  const auto counts = connect4_positions(8);
  const std::vector<std::int64_t> expected{7, 49, 238, 1120, 4263, 16422, 54859, 184275};
  EXPECT_EQ(counts, expected);
}

TEST(Connect4, WinsInEveryDirectionAndDraws) {
  const auto g = game("connect4");
  // X wins up a column, along the bottom row, and on each diagonal (c1r0-c4r3 and its mirror).
  for (const char* moves : {"1212121", "1122334", "12234334544", "76654554344"}) {
    const auto s = position(*g, moves);
    EXPECT_TRUE(s->is_terminal()) << moves << "\n" << s->to_string();
    EXPECT_EQ(s->returns(), (std::array<double, 2>{1.0, -1.0})) << moves;
  }
  // Not one stone early: the diagonal is open one move before.
  EXPECT_FALSE(position(*g, "1223433454")->is_terminal());
  const auto s = position(*g, "7665545443");  // O completes the bottom row c3-c6
  EXPECT_EQ(s->returns(), (std::array<double, 2>{-1.0, 1.0})) << s->to_string();
  // A full board with no four: columns filled in pairs so that no line completes.
  const auto full = position(*g, "121212 343434 565656 212121 434343 656565 777777");
  EXPECT_TRUE(full->is_terminal());
  EXPECT_EQ(full->returns(), (std::array<double, 2>{0.0, 0.0})) << full->to_string();
}

TEST(Connect4, MoveListsRoundTripAndBadMovesAreNamed) {
  const auto g = game("connect4");
  const auto s = position(*g, "4453");
  std::string written;
  for (const auto a : s->history()) written += s->action_to_string(a);
  EXPECT_EQ(written, "4453");
  EXPECT_EQ(s->to_string(), ".......\n.......\n.......\n.......\n...O...\n..OXX..\n1234567\n");
  try {
    position(*g, "4444444");
    FAIL() << "a seventh stone in a column must be refused";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("move 7 '4'"), std::string::npos) << e.what();
  }
  EXPECT_THROW(position(*g, "48"), Error);
  try {
    position(*g, "1212121 3");
    FAIL() << "a move after the end must be refused";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("already over"), std::string::npos) << e.what();
  }
  auto t = g->new_initial_state();
  EXPECT_THROW(t->apply_action(7), Error);
  EXPECT_THROW(game("chess"), Error);
}

}  // namespace
}  // namespace dojo::games

namespace dojo::games {
namespace {

TEST(Symmetries, MapPositionsToPositionsOfTheSameGame) {
  // Playing the mapped moves from the start reaches the mapped board: the observation of the mapped
  // game is the original's carried by the symmetry, and a move's policy mass lands on the mapped move.
  for (const std::string name : {"tic_tac_toe", "connect4", "go"}) {
    const auto g = game(name);
    const auto shape = g->observation_shape();
    const auto size = static_cast<std::size_t>(shape[0] * shape[1] * shape[2]);
    EXPECT_EQ(g->num_symmetries(), name == "connect4" ? 2 : 8) << name;
    std::mt19937_64 rng(1);
    for (int trial = 0; trial < 5; ++trial) {
      auto state = g->new_initial_state();
      const int plies = name == "go" ? 40 : name == "connect4" ? 12 : 5;
      for (int k = 0; k < plies && !state->is_terminal(); ++k)
        state->apply_action(state->rollout_action(rng));
      if (state->is_terminal()) continue;
      std::vector<float> obs(size), expected(size), mapped(size);
      state->observation(obs.data());
      for (int s = 0; s < g->num_symmetries(); ++s) {
        const auto actions = g->symmetry_actions(s);
        auto twin = g->new_initial_state();
        for (const Action a : state->history()) twin->apply_action(actions[static_cast<std::size_t>(a)]);
        twin->observation(mapped.data());
        std::vector<float> policy(static_cast<std::size_t>(g->num_actions()), 0.0f),
            policy_out(policy.size());
        const Action a = state->legal_actions().front();
        policy[static_cast<std::size_t>(a)] = 1.0f;
        g->apply_symmetry(s, obs.data(), policy.data(), expected.data(), policy_out.data());
        EXPECT_EQ(mapped, expected) << name << " symmetry " << s;
        EXPECT_EQ(policy_out[static_cast<std::size_t>(actions[static_cast<std::size_t>(a)])], 1.0f);
        EXPECT_TRUE(twin->is_legal(actions[static_cast<std::size_t>(a)])) << name << " symmetry " << s;
      }
    }
  }
  EXPECT_THROW(game("connect4")->symmetry_cells(2), Error);
}

}  // namespace
}  // namespace dojo::games
