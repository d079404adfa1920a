#include "games/go.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <set>

#include "core/error.h"

namespace dojo::games {
namespace {

const GoState& go_state(const State& s) { return dynamic_cast<const GoState&>(s); }

int point(const GoState& s, const std::string& move) { return s.string_to_action(move); }

TEST(Go, CapturesAStoneWithoutLiberties) {
  const auto go = game("go");
  const auto s = position(*go, "A2 A1 B1");  // White's corner stone loses its last liberty
  const auto& g = go_state(*s);
  EXPECT_EQ(g.at(point(g, "A1")), 0);
  EXPECT_EQ(g.at(point(g, "A2")), 1);
  // White's stone back on A1 would have no liberty and capture nothing: suicide.
  EXPECT_FALSE(g.is_legal(point(g, "A1")));
  EXPECT_TRUE(g.is_legal(point(g, "B2")));
}

TEST(Go, SuicideIsIllegalUnlessItCaptures) {
  const auto go = game("go");
  auto s = position(*go, "A2 pass B1");
  EXPECT_FALSE(s->is_legal(point(go_state(*s), "A1")));
  try {
    position(*go, "A2 pass B1 A1");
    FAIL() << "suicide accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("move 4 'A1'"), std::string::npos) << e.what();
  }
  // White's A1 has no empty neighbour but takes the last liberty of both black stones: legal, and
  // both are captured.
  s = position(*go, "A2 A3 B1 B2 pass C1 pass A1");
  const auto& g = go_state(*s);
  EXPECT_EQ(g.at(point(g, "A1")), 2);
  EXPECT_EQ(g.at(point(g, "A2")), 0);
  EXPECT_EQ(g.at(point(g, "B1")), 0);
}

TEST(Go, KoCannotBeRetakenAtOnce) {
  const auto go = game("go");
  // Black takes the ko at D5 (capturing C5); White may not retake at once, but may after a move
  // elsewhere by each side.
  auto s = position(*go, "C6 D6 B5 C5 C4 D4 A1 E5 D5");
  const auto& g = go_state(*s);
  EXPECT_EQ(g.at(point(g, "C5")), 0);
  EXPECT_FALSE(s->is_legal(point(g, "C5")));
  s->apply_action(point(g, "J9"));
  s->apply_action(point(g, "J1"));
  EXPECT_TRUE(s->is_legal(point(g, "C5")));
  s->apply_action(point(g, "C5"));
  EXPECT_EQ(go_state(*s).at(point(g, "D5")), 0);
}

TEST(Go, TrompTaylorScoringWithKomi) {
  const auto go = game("go");
  auto s = position(*go, "pass pass");  // nobody owns an empty board: White wins by komi
  ASSERT_TRUE(s->is_terminal());
  EXPECT_DOUBLE_EQ(go_state(*s).score(), -7.5);
  EXPECT_EQ(s->returns()[1], 1.0);
  s = position(*go, "E5 pass pass");  // one stone owns the whole board
  EXPECT_DOUBLE_EQ(go_state(*s).score(), 81 - 7.5);
  EXPECT_EQ(s->returns()[0], 1.0);
  // Walls on columns E (Black) and F (White): 45 points against 36, minus komi.
  std::string moves;
  for (int row = 1; row <= 9; ++row) moves += "E" + std::to_string(row) + " F" + std::to_string(row) + " ";
  s = position(*go, moves + "pass pass");
  EXPECT_DOUBLE_EQ(go_state(*s).score(), 45 - 36 - 7.5);
  // A region touching both colours counts for neither.
  s = position(*go, "A1 J9 pass pass");
  EXPECT_DOUBLE_EQ(go_state(*s).score(), 1 - 1 - 7.5);
}

TEST(Go, MovesAsWrittenAndBack) {
  const auto go = game("go");
  const auto s = go->new_initial_state();
  EXPECT_EQ(s->string_to_action("A9"), 0);
  EXPECT_EQ(s->string_to_action("J1"), 80);
  EXPECT_EQ(s->string_to_action("h1"), 79);
  EXPECT_EQ(s->string_to_action("pass"), 81);
  EXPECT_EQ(s->action_to_string(40), "E5");
  for (const char* bad : {"I5", "A0", "A10", "Z1", "", "E", "E5x"})
    EXPECT_THROW(s->string_to_action(bad), Error) << bad;
  EXPECT_EQ(go->observation_shape(), (std::array<int, 3>{3, 9, 9}));
  EXPECT_EQ(go->num_actions(), 82);
}

// A plain reference for the rules: boards as vectors, groups by flood fill, superko by comparing with
// every earlier board. Returns the board after `p` is played by `colour`, or nothing if illegal.
using Board = std::vector<int>;
std::optional<Board> reference_play(const Board& b, int n, int p, int colour,
                                    const std::vector<Board>& seen) {
  if (b[static_cast<std::size_t>(p)] != 0) return std::nullopt;
  Board next = b;
  next[static_cast<std::size_t>(p)] = colour;
  auto libs = [&](int start, std::vector<int>& stones) {
    std::set<int> group{start}, liberties;
    std::vector<int> todo{start};
    while (!todo.empty()) {
      const int q = todo.back();
      todo.pop_back();
      const int r = q / n, c = q % n;
      for (const auto& [dr, dc] : {std::pair{-1, 0}, {1, 0}, {0, -1}, {0, 1}}) {
        if (r + dr < 0 || r + dr >= n || c + dc < 0 || c + dc >= n) continue;
        const int m = (r + dr) * n + c + dc;
        if (next[static_cast<std::size_t>(m)] == 0)
          liberties.insert(m);
        else if (next[static_cast<std::size_t>(m)] == next[static_cast<std::size_t>(start)] &&
                 group.insert(m).second)
          todo.push_back(m);
      }
    }
    stones.assign(group.begin(), group.end());
    return liberties.size();
  };
  std::vector<int> stones;
  for (int q = 0; q < n * n; ++q)
    if (next[static_cast<std::size_t>(q)] == 3 - colour && libs(q, stones) == 0)
      for (const int s : stones) next[static_cast<std::size_t>(s)] = 0;
  if (libs(p, stones) == 0) return std::nullopt;
  if (std::find(seen.begin(), seen.end(), next) != seen.end()) return std::nullopt;
  return next;
}

TEST(Go, RulesMatchAPlainReferenceOnRandomGames) {
  // On 4 × 4 boards random games repeat positions often, so superko beyond the simple ko comes up;
  // on 9 × 9 the captures and suicides of longer games.
  int superko = 0, checked = 0;
  for (const int n : {4, 9}) {
    const auto go = std::make_shared<Go>(n, 0.5);
    std::mt19937 rng(static_cast<unsigned>(n));
    for (int g = 0; g < (n == 4 ? 300 : 10); ++g) {
      auto s = go->new_initial_state();
      Board board(static_cast<std::size_t>(n * n), 0);
      std::vector<Board> seen{board};
      while (!s->is_terminal()) {
        const int colour = s->current_player() + 1;
        std::vector<Action> expected;
        for (int p = 0; p < n * n; ++p) {
          if (reference_play(board, n, p, colour, seen)) {
            expected.push_back(p);
          } else if (board[static_cast<std::size_t>(p)] == 0) {
            // Illegal only because of an earlier board other than the one before the last move?
            const auto no_history = reference_play(board, n, p, colour, {});
            if (no_history && seen.size() >= 2 &&
                std::find(seen.begin(), seen.end() - 2, *no_history) != seen.end() - 2 &&
                *no_history != seen[seen.size() - 2])
              ++superko;
          }
        }
        expected.push_back(go->pass_action());
        ASSERT_EQ(s->legal_actions(), expected) << s->to_string();
        ++checked;
        // Mostly stones, sometimes a pass, so games run long but do end.
        const auto legal = s->legal_actions();
        const Action a = rng() % 10 == 0 ? go->pass_action() : legal[rng() % legal.size()];
        if (a != go->pass_action()) {
          board = *reference_play(board, n, a, colour, seen);
          seen.push_back(board);
        }
        s->apply_action(a);
        for (int p = 0; p < n * n; ++p) ASSERT_EQ(go_state(*s).at(p), board[static_cast<std::size_t>(p)]);
      }
      EXPECT_LE(static_cast<int>(s->history().size()), go->max_game_length());
      // The move list replays to the same position.
      std::string moves;
      for (const Action a : s->history()) moves += s->action_to_string(a) + " ";
      EXPECT_EQ(position(*go, moves)->to_string(), s->to_string());
    }
  }
  EXPECT_GT(checked, 5000);
  EXPECT_GT(superko, 0);  // the reference saw repetitions that only positional superko forbids
}

}  // namespace
}  // namespace dojo::games
