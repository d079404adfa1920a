// Matches between two players: games in pairs with colours swapped over the same opening (a few
// random plies, so games differ), the result from the first player's view, and the Elo difference
// with a 95% interval.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/export.h"
#include "games/connect4_solver.h"
#include "games/game.h"
#include "games/players.h"

DOJO_PUBLIC_BEGIN
namespace dojo::games {

struct EloEstimate {
  double elo = 0.0, low = 0.0, high = 0.0;  // ±infinity when a side scored everything
};

// The Elo difference of a score of `wins` + `draws`/2 out of n games, with the 95% interval of the
// mean score (normal approximation) mapped through the same logistic curve.
EloEstimate elo_difference(int wins, int draws, int losses);

struct MatchResult {
  int wins = 0, draws = 0, losses = 0;                    // for player A
  int wins_first = 0, draws_first = 0, losses_first = 0;  // of those, with A moving first
  double score() const;
  EloEstimate elo() const { return elo_difference(wins, draws, losses); }
};

struct MatchOptions {
  int games = 100;              // rounded up to an even number: colours alternate over each opening
  std::vector<Action> opening;  // moves every game starts with (then the random plies)
  int random_plies = 0;         // uniformly random opening moves before the players take over
  std::uint64_t seed = 0;
};

// `after_game(i, result so far)` after each game, for progress.
MatchResult play_match(const Game& game, Player& a, Player& b, const MatchOptions& options,
                       const std::function<void(int, const MatchResult&)>& after_game = {});

// Connect Four positions labelled by the solver, to count how often a player's move is perfect.
struct LabelledPosition {
  std::vector<Action> moves;  // from the empty board
  std::vector<int> scores;    // each column's exact score for the side to move (Connect4Solver's)
};

// `count` positions reached by uniformly random moves, each at a ply drawn uniformly from
// [min_ply, max_ply], unfinished and with at least two legal moves; every column scored by `solver`.
// dojo::Error for a bad range.
std::vector<LabelledPosition> connect4_positions(int count, int min_ply, int max_ply, std::uint64_t seed,
                                                 Connect4Solver& solver);

struct OptimalShare {
  int positions = 0;
  int optimal = 0;  // the move has the best score: the fastest win, a draw, or the slowest loss
  int keeps = 0;    // the move keeps the position's value: a win stays won, a draw drawn
};
// The player's move in each position (as a new game each time) judged against the labels.
OptimalShare optimal_share(Player& player, const Game& connect4,
                           const std::vector<LabelledPosition>& positions);

}  // namespace dojo::games

DOJO_PUBLIC_END
