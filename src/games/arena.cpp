#include "games/arena.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>

#include "core/error.h"
#include "games/connect4.h"

namespace dojo::games {

namespace {

// The Elo difference whose expected score is s.
double elo_of(double s) {
  if (s <= 0.0) return -std::numeric_limits<double>::infinity();
  if (s >= 1.0) return std::numeric_limits<double>::infinity();
  return -400.0 * std::log10(1.0 / s - 1.0);
}

}  // namespace

EloEstimate elo_difference(int wins, int draws, int losses) {
  const double n = wins + draws + losses;
  if (n <= 0) return {};
  const double s = (wins + 0.5 * draws) / n;
  // Wilson's score interval (draws as half wins): unlike the plain normal interval it stays finite
  // on one side when a player scores everything.
  constexpr double z = 1.959964;
  const double centre = (s + z * z / (2 * n)) / (1 + z * z / n);
  const double half = z / (1 + z * z / n) * std::sqrt(s * (1 - s) / n + z * z / (4 * n * n));
  // (At s = 1 the upper end is exactly 1 on paper; rounding must not make it finite.)
  return {elo_of(s), s <= 0.0 ? elo_of(0.0) : elo_of(centre - half),
          s >= 1.0 ? elo_of(1.0) : elo_of(centre + half)};
}

double MatchResult::score() const {
  const int n = wins + draws + losses;
  return n > 0 ? (wins + 0.5 * draws) / n : 0.0;
}

MatchResult play_match(const Game& game, Player& a, Player& b, const MatchOptions& options,
                       const std::function<void(int, const MatchResult&)>& after_game) {
  std::mt19937_64 rng(options.seed);
  MatchResult result;
  const int pairs = (options.games + 1) / 2;
  for (int pair = 0; pair < pairs; ++pair) {
    // One opening per pair, replayed with the colours swapped; redrawn if it already ends the game.
    std::unique_ptr<State> opening;
    do {
      opening = game.new_initial_state();
      for (const Action a : options.opening) opening->apply_action(a);
      if (opening->is_terminal()) throw Error("the match's opening already ends the game");
      for (int ply = 0; ply < options.random_plies && !opening->is_terminal(); ++ply) {
        const auto legal = opening->legal_actions();
        opening->apply_action(legal[std::uniform_int_distribution<std::size_t>(0, legal.size() - 1)(rng)]);
      }
    } while (opening->is_terminal());
    for (int a_player = 0; a_player < 2; ++a_player) {
      auto state = opening->clone();
      a.new_game();
      b.new_game();
      while (!state->is_terminal()) {
        Player& mover = state->current_player() == a_player ? a : b;
        state->apply_action(mover.act(*state));
      }
      const double r = state->returns()[static_cast<std::size_t>(a_player)];
      (r > 0 ? result.wins : r < 0 ? result.losses : result.draws) += 1;
      if (a_player == 0) (r > 0 ? result.wins_first : r < 0 ? result.losses_first : result.draws_first) += 1;
      if (after_game) after_game(2 * pair + a_player + 1, result);
    }
  }
  return result;
}

std::vector<LabelledPosition> connect4_positions(int count, int min_ply, int max_ply, std::uint64_t seed,
                                                 Connect4Solver& solver) {
  if (count < 1 || min_ply < 0 || max_ply < min_ply || max_ply > 40)
    throw Error("positions: " + std::to_string(count) + " between plies " + std::to_string(min_ply) +
                " and " + std::to_string(max_ply) + ": expected 1 or more, 0 <= min <= max <= 40");
  const auto c4 = game("connect4");
  std::mt19937_64 rng(seed);
  std::vector<LabelledPosition> out;
  while (static_cast<int>(out.size()) < count) {
    const int ply = std::uniform_int_distribution<int>(min_ply, max_ply)(rng);
    auto state = c4->new_initial_state();
    for (int i = 0; i < ply && !state->is_terminal(); ++i) {
      const auto legal = state->legal_actions();
      state->apply_action(legal[std::uniform_int_distribution<std::size_t>(0, legal.size() - 1)(rng)]);
    }
    if (state->is_terminal() || state->legal_actions().size() < 2) continue;  // a game over, or no choice
    const auto& board = dynamic_cast<const Connect4State&>(*state).board();
    out.push_back({state->history(), solver.analyze(board)});
  }
  return out;
}

OptimalShare optimal_share(Player& player, const Game& connect4,
                           const std::vector<LabelledPosition>& positions) {
  OptimalShare share;
  for (const auto& p : positions) {
    auto state = connect4.new_initial_state();
    for (const Action a : p.moves) state->apply_action(a);
    player.new_game();
    const Action a = player.act(*state);
    int best = Connect4Solver::kInvalid;
    for (const int s : p.scores) best = std::max(best, s);
    const int got = p.scores.at(static_cast<std::size_t>(a));
    const auto sign = [](int s) { return (s > 0) - (s < 0); };
    ++share.positions;
    share.optimal += got == best;
    share.keeps += sign(got) == sign(best);
  }
  return share;
}

}  // namespace dojo::games
