// `dojo games list|solve`: the board games and their perfect play.
#include <fmt/format.h>

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <memory>

#include "commands.h"
#include "core/error.h"
#include "games/connect4.h"
#include "games/connect4_solver.h"
#include "games/game.h"

namespace dojo::app {

namespace {

struct SolveArgs {
  std::string game, moves;
  bool analyze = false, weak = false;
  std::size_t table_mb = 84;
};

// What a Pons score means for the side to move.
std::string describe(int score, bool weak) {
  if (score == 0) return "a draw with perfect play";
  if (weak) return score > 0 ? "the side to move wins" : "the side to move loses";
  const int stones = 22 - std::abs(score);
  return score > 0
             ? fmt::format("the side to move wins, its four made by its stone number {}", stones)
             : fmt::format("the side to move loses, the opponent's four made by its stone number {}", stones);
}

int cmd_solve(const SolveArgs& a) {
  const auto g = games::game(a.game);
  if (g->name() != "connect4")
    throw Error("games solve " + a.game + ": expected connect4 (the solver's game)");
  const auto state = games::position(*g, a.moves);
  if (state->is_terminal()) throw Error("position '" + a.moves + "' is already finished: nothing to solve");
  const auto& board = dynamic_cast<const games::Connect4State&>(*state).board();
  games::Connect4Solver solver(a.table_mb * 1000000 / 5);  // 5 bytes an entry
  const auto t0 = std::chrono::steady_clock::now();
  const int score = solver.solve(board, a.weak);
  std::vector<int> columns;
  if (a.analyze) columns = solver.analyze(board, a.weak);
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::cout << state->to_string();
  std::cout << fmt::format("{} {} ({}; {} to move)\n", a.weak ? "outcome" : "score", score,
                           describe(score, a.weak), board.moves() % 2 == 0 ? "X" : "O");
  if (a.analyze) {
    std::string line = "columns";
    for (int c = 0; c < games::Connect4Board::kWidth; ++c)
      line += columns[static_cast<std::size_t>(c)] == games::Connect4Solver::kInvalid
                  ? fmt::format("  {}: full", c + 1)
                  : fmt::format("  {}: {}", c + 1, columns[static_cast<std::size_t>(c)]);
    std::cout << line << "\n";
  }
  std::cout << fmt::format("{} positions in {:.3f} s ({:.0f} positions/s)\n", solver.nodes(), s,
                           s > 0 ? static_cast<double>(solver.nodes()) / s : 0.0);
  return 0;
}

}  // namespace

std::vector<Command> add_games_commands(CLI::App& app) {
  auto* games = app.add_subcommand("games", "Two-player board games: the list, perfect play");
  games->require_subcommand(1);
  auto* list = games->add_subcommand("list", "The registered games with their action counts and shapes");
  auto a = std::make_shared<SolveArgs>();
  auto* solve = games->add_subcommand(
      "solve", "The exact score of a Connect Four position (Pons' convention: > 0 the side to move wins)");
  solve->add_option("game", a->game, "connect4")->required();
  solve->add_option("moves", a->moves, "Moves played so far, columns 1-7 (\"4453\"); empty: the start");
  solve->add_flag("--analyze", a->analyze, "Also score every column for the side to move");
  solve->add_option("--table-mb", a->table_mb, "Transposition table size in MB (more helps early positions)")
      ->check(CLI::Range(1, 1 << 20));
  solve->add_flag("--weak", a->weak, "Only win (1), draw (0) or loss (-1): much faster early in the game");
  return {{list,
           [] {
             for (const auto& name : games::game_names()) {
               const auto g = games::game(name);
               const auto shape = g->observation_shape();
               std::cout << fmt::format("{:<12} {} actions, observation {}x{}x{}, at most {} moves\n", name,
                                        g->num_actions(), shape[0], shape[1], shape[2], g->max_game_length());
             }
             return 0;
           }},
          {solve, [a] { return cmd_solve(*a); }}};
}

}  // namespace dojo::app
