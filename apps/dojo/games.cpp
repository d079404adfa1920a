// `dojo games list|solve`, `dojo arena`, and `dojo play GAME`'s loop: the board games, perfect play,
// matches between players and a person against one.
#include <fmt/format.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <sstream>

#include "commands.h"
#include "core/error.h"
#include "games/arena.h"
#include "games/connect4.h"
#include "games/connect4_solver.h"
#include "games/game.h"
#include "games/players.h"
#include "play.h"

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

struct ArenaArgs {
  std::string a, b, game = "connect4", opening;
  int games = 100, random_plies = 2;
  std::uint64_t seed = 0;
};

std::string signed_elo(double elo) {
  if (std::isinf(elo)) return elo > 0 ? "+inf" : "-inf";
  return fmt::format("{:+.0f}", std::round(elo) + 0.0);  // + 0.0: no "-0"
}

int cmd_arena(const ArenaArgs& o) {
  const auto g = games::game(o.game);
  if (o.games < 1) throw Error(fmt::format("--games {}: expected at least 1", o.games));
  if (o.random_plies < 0) throw Error(fmt::format("--random-plies {}: expected 0 or more", o.random_plies));
  // Different seeds, so that two players of the same kind do not mirror each other.
  auto a = games::make_player(o.a, *g, o.seed * 2 + 1);
  auto b = games::make_player(o.b, *g, o.seed * 2 + 2);
  games::MatchOptions m;
  m.games = o.games + o.games % 2;
  m.random_plies = o.random_plies;
  if (!o.opening.empty()) {
    const auto start = games::position(*g, o.opening);  // names the first illegal move
    if (start->is_terminal()) throw Error("--opening '" + o.opening + "' already ends the game");
    m.opening = start->history();
  }
  m.seed = o.seed;
  std::cout << fmt::format(
      "{}: {} vs {}, {} games, colours alternating over {} openings of {}{} random plies\n", g->name(),
      a->name(), b->name(), m.games, m.games / 2, o.opening.empty() ? "" : "'" + o.opening + "' and ",
      m.random_plies);
  const bool progress = isatty(STDERR_FILENO);
  const auto r = games::play_match(*g, *a, *b, m, [&](int i, const games::MatchResult& so_far) {
    if (progress)
      std::cerr << fmt::format("\rgame {}/{}: {}-{}-{}", i, m.games, so_far.wins, so_far.draws, so_far.losses)
                << std::flush;
  });
  if (progress) std::cerr << "\n";
  const auto elo = r.elo();
  std::cout << fmt::format("{}: {} wins, {} draws, {} losses (moving first {}-{}-{}); score {:.3f}\n",
                           a->name(), r.wins, r.draws, r.losses, r.wins_first, r.draws_first, r.losses_first,
                           r.score());
  std::cout << fmt::format("Elo difference {} (95% interval {} to {})\n", signed_elo(elo.elo),
                           signed_elo(elo.low), signed_elo(elo.high));
  return 0;
}

struct OptimalArgs {
  std::vector<std::string> players;
  int positions = 1000, min_ply = 8, max_ply = 24;
  std::uint64_t seed = 0;
  std::size_t table_mb = 200;
};

int cmd_optimal(const OptimalArgs& o) {
  const auto c4 = games::game("connect4");
  std::vector<std::unique_ptr<games::Player>> players;  // every name checked before the long part
  for (std::size_t i = 0; i < o.players.size(); ++i)
    players.push_back(games::make_player(o.players[i], *c4, o.seed + i));
  games::Connect4Solver solver(o.table_mb * 1000000 / 5);
  const auto t0 = std::chrono::steady_clock::now();
  const auto positions = games::connect4_positions(o.positions, o.min_ply, o.max_ply, o.seed, solver);
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::cout << fmt::format("{} positions after {}-{} random plies, every column solved in {:.1f} s\n",
                           positions.size(), o.min_ply, o.max_ply, s);
  for (auto& p : players) {
    const auto share = games::optimal_share(*p, *c4, positions);
    const double n = share.positions;
    std::cout << fmt::format(
        "{}: a solver-optimal move in {:.1f}% ({}), a move that keeps the value in {:.1f}% ({})\n", p->name(),
        100.0 * share.optimal / n, share.optimal, 100.0 * share.keeps / n, share.keeps);
  }
  return 0;
}

}  // namespace

int play_board_game(const PlayOptions& o) {
  const auto g = games::game(o.env_id);
  auto opponent = games::make_player(o.vs, *g, o.seed);
  auto state = g->new_initial_state();
  const int human = o.second ? 1 : 0;
  const char* marks[] = {"X", "O"};
  std::cout << fmt::format(
      "{} against {}: you are {} ({}). Type a move as the board's labels show; q quits.\n", g->name(),
      opponent->name(), marks[human], human == 0 ? "moving first" : "moving second");
  while (!state->is_terminal()) {
    if (state->current_player() != human) {
      const auto action = opponent->act(*state);
      std::cout << fmt::format("{} plays {}\n", opponent->name(), state->action_to_string(action));
      state->apply_action(action);
      continue;
    }
    std::cout << state->to_string() << "your move: " << std::flush;
    std::string line;
    if (!std::getline(std::cin, line)) {
      std::cout << "\nend of input: game left unfinished\n";
      return 0;
    }
    std::istringstream words(line);
    line.clear();
    words >> line;  // the first word, without the spaces around it
    if (line == "q") return 0;
    std::string legal;
    for (const auto a : state->legal_actions()) legal.append(" ").append(state->action_to_string(a));
    try {
      const auto action = state->string_to_action(line);
      if (!state->is_legal(action)) throw Error("move '" + line + "' is not legal here");
      state->apply_action(action);
    } catch (const Error& e) {
      std::cout << e.what() << "; legal moves:" << legal << "\n";
    }
  }
  std::cout << state->to_string();
  const double r = state->returns()[static_cast<std::size_t>(human)];
  std::cout << (r > 0 ? "you win\n" : r < 0 ? "you lose\n" : "a draw\n");
  return 0;
}

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
  auto ar = std::make_shared<ArenaArgs>();
  auto* arena =
      app.add_subcommand("arena", "Play two players against each other and estimate their Elo difference");
  arena->add_option("a", ar->a, "Player A: random, mcts:N (UCT, N simulations) or solver")->required();
  arena->add_option("b", ar->b, "Player B, as A")->required();
  arena->add_option("--game", ar->game, "The game (dojo games list; default connect4)");
  arena->add_option("--games", ar->games, "Games, colours alternating (default 100)");
  arena->add_option("--random-plies", ar->random_plies,
                    "Random opening moves, shared by each pair of games (default 2)");
  arena->add_option("--opening", ar->opening,
                    "Moves every game starts with, before the random plies (\"4453\")");
  arena->add_option("--seed", ar->seed, "Seed of the openings and the players (default 0)");
  auto op = std::make_shared<OptimalArgs>();
  auto* optimal = games->add_subcommand(
      "optimal",
      "How often players choose a solver-optimal move in Connect Four positions the solver labels");
  optimal
      ->add_option("players", op->players, "Players: random, mcts:N, solver, RUN or RUN:N (0: raw network)")
      ->required();
  optimal->add_option("--positions", op->positions, "Positions (default 1000)")
      ->check(CLI::Range(1, 1000000));
  optimal->add_option("--min-ply", op->min_ply, "Fewest random moves before a position (default 8)")
      ->check(CLI::Range(0, 40));
  optimal->add_option("--max-ply", op->max_ply, "Most random moves before a position (default 24)")
      ->check(CLI::Range(0, 40));
  optimal->add_option("--seed", op->seed, "Seed of the positions (default 0)");
  optimal->add_option("--table-mb", op->table_mb, "The solver's table in MB (default 200)")
      ->check(CLI::Range(1, 1 << 20));
  return {{arena, [ar] { return cmd_arena(*ar); }},
          {optimal, [op] { return cmd_optimal(*op); }},
          {list,
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
