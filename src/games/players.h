// Who picks a move: the players an arena matches and a person plays against. Built in: uniform
// random, UCT-MCTS with random rollouts, and perfect play (full search for small games, the Connect
// Four solver), each seeded, so a match replays.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "core/export.h"
#include "games/connect4_solver.h"
#include "games/game.h"
#include "games/mcts.h"

DOJO_PUBLIC_BEGIN
namespace dojo::games {

class Player {
 public:
  virtual ~Player() = default;
  virtual std::string name() const = 0;
  // A legal move for the side to move (the state is not finished).
  virtual Action act(const State& state) = 0;
  // A new game begins (a searcher forgets its tree).
  virtual void new_game() {}
};

class RandomPlayer final : public Player {
 public:
  explicit RandomPlayer(std::uint64_t seed = 0) : rng_(seed) {}
  std::string name() const override { return "random"; }
  Action act(const State& state) override;

 private:
  std::mt19937_64 rng_;
};

// MCTS with the given options; `temperature` above 0 samples moves by visits^(1/t).
class MctsPlayer final : public Player {
 public:
  MctsPlayer(std::string name, MctsOptions options, std::shared_ptr<Evaluator> evaluator,
             std::uint64_t seed = 0, double temperature = 0.0);
  std::string name() const override { return name_; }
  Action act(const State& state) override;
  void new_game() override { mcts_.reset(); }
  const SearchResult& last_search() const { return last_; }

 private:
  std::string name_;
  Mcts mcts_;
  double temperature_;
  SearchResult last_;
};

// A policy alone, no search: the legal move the Evaluator's prior ranks highest (a network's raw
// strength).
class NetworkPlayer final : public Player {
 public:
  NetworkPlayer(std::string name, std::shared_ptr<Evaluator> evaluator)
      : name_(std::move(name)), evaluator_(std::move(evaluator)) {}
  std::string name() const override { return name_; }
  Action act(const State& state) override;

 private:
  std::string name_;
  std::shared_ptr<Evaluator> evaluator_;
};

// Game-theoretic values by exhaustive negamax, remembered per position: every position of a small game
// (tic-tac-toe has 5,478) in well under a second. Values are for the side to move: 1 win, 0 draw, −1 loss.
class FullSearch {
 public:
  int value(const State& state);
  // The moves that keep the position's value.
  std::vector<Action> optimal_moves(const State& state);

 private:
  std::map<std::string, int> values_;  // by board drawing and side to move
};

// Perfect play, choosing uniformly among the optimal moves: full search, or for Connect Four the
// solver (exact scores, so it also wins fastest and loses slowest; early positions take long).
class PerfectPlayer final : public Player {
 public:
  explicit PerfectPlayer(std::uint64_t seed = 0) : rng_(seed) {}
  std::string name() const override { return "solver"; }
  Action act(const State& state) override;
  std::vector<Action> optimal_moves(const State& state);

 private:
  std::mt19937_64 rng_;
  FullSearch search_;
  std::unique_ptr<Connect4Solver> connect4_;
};

// A player from its name: "random", "mcts:N" (UCT, N simulations of one random rollout each),
// "solver", or an AlphaZero run directory (or checkpoint) as "RUN" (searching with the run's
// eval_simulations) or "RUN:N" (N simulations; 0: the raw network); dojo::Error naming anything else.
std::unique_ptr<Player> make_player(const std::string& spec, const Game& game, std::uint64_t seed);

}  // namespace dojo::games

DOJO_PUBLIC_END
