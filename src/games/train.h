// AlphaZero's training run (Silver et al. 2018, as OpenSpiel and AlphaZero.jl lay it out): iterations
// of self-play by the current network (actors on threads sharing a batched evaluator), the positions
// into a replay window, then learner steps on batches drawn from it. Every `eval_every` iterations the
// network, searching with `eval_simulations`, plays a ladder of fixed players (random, UCT-MCTS of
// growing strength, perfect play) and gets an Elo rating from those games; the ladder's own ratings
// are measured once at the start by matching each rung against the one below (random is 0).
//
// A run directory like every `dojo train`: config.yaml, metrics.csv (per iteration: losses, self-play
// speed), eval.csv (Elo and the score against each rung), ladder.csv, learning_curve.png (loss above
// Elo), checkpoints/last.ckpt (every `checkpoint_minutes`, with the replay window, so a resumed run
// continues where it stopped) and best.ckpt (the best Elo so far), summary.json.
//
// Run length: `iterations`, or `max_minutes` of training time (self-play and learning; evaluation
// games are not counted), whichever comes first; no iteration starts that would, at the pace of the
// last one, end past the time limit. With one actor a seed gives the same run; with
// several, games still depend only on the seed (SharedEvaluator), up to the float summation order of
// batched convolutions.
#pragma once
#include <torch/arg.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "core/config.h"
#include "core/export.h"
#include "core/options.h"
#include "games/game.h"
#include "games/mcts.h"
#include "games/players.h"
#include "nn/model.h"

DOJO_PUBLIC_BEGIN
namespace dojo::games {

struct AlphaZeroOptions {
  TORCH_ARG(std::string, game) = "connect4";
  // The residual policy-value network.
  TORCH_ARG(std::int64_t, blocks) = 5;
  TORCH_ARG(std::int64_t, filters) = 64;
  TORCH_ARG(std::int64_t, value_hidden) = 64;
  // Self-play.
  TORCH_ARG(std::int64_t, actors) = 4;  // threads, their leaves evaluated in one batch
  TORCH_ARG(std::int64_t, simulations) = 100;
  TORCH_ARG(std::int64_t, search_batch) = 8;  // leaves per search gathered under virtual loss
  TORCH_ARG(double, c_puct) = 2.0;
  TORCH_ARG(double, dirichlet_alpha) = 1.0;
  TORCH_ARG(double, dirichlet_epsilon) = 0.25;
  TORCH_ARG(std::int64_t, temperature_moves) = 10;  // moves sampled by visits, then the best
  TORCH_ARG(bool, gumbel) = false;                  // Gumbel root (no Dirichlet noise, no temperature)
  TORCH_ARG(std::int64_t, gumbel_actions) = 16;
  TORCH_ARG(std::int64_t, games_per_iteration) = 32;
  // Learner.
  TORCH_ARG(std::int64_t, steps_per_iteration) = 50;
  TORCH_ARG(std::int64_t, batch_size) = 256;
  TORCH_ARG(std::int64_t, window) = 100'000;  // positions kept
  TORCH_ARG(double, learning_rate) = 2e-3;    // Adam
  // A step schedule, as AlphaZero's: from `lr_drop_at` of the run (the larger of its share of
  // iterations and of max_minutes) the rate is learning_rate × lr_drop; 1: constant.
  TORCH_ARG(double, lr_drop) = 1.0;
  TORCH_ARG(double, lr_drop_at) = 0.67;
  TORCH_ARG(double, weight_decay) = 1e-4;  // L2
  // Length, evaluation, checkpoints.
  TORCH_ARG(std::int64_t, iterations) = 100;
  TORCH_ARG(double, max_minutes) = 0;  // 0: no limit
  TORCH_ARG(std::int64_t, eval_every) = 5;
  TORCH_ARG(std::int64_t, eval_games) = 20;  // against each rung, colours alternating
  TORCH_ARG(std::int64_t, eval_simulations) = 100;
  TORCH_ARG(std::int64_t, eval_random_plies) = 2;  // random opening moves, so evaluation games differ
  TORCH_ARG(std::vector<std::string>, ladder) = std::vector<std::string>{"random", "mcts:100", "mcts:1000"};
  TORCH_ARG(double, checkpoint_minutes) = 5;
  TORCH_ARG(std::int64_t, seed) = 0;
  TORCH_ARG(std::int64_t, n_threads) = 1;  // LibTorch's threads (0: all cores)

 public:
  // dojo::Error naming a bad value, an unknown game or ladder player.
  void validate() const;
  template <class F>
  void visit(F&& f) {
    f("game", game_);
    f("blocks", blocks_, core::non_negative());
    f("filters", filters_, core::positive());
    f("value_hidden", value_hidden_, core::positive());
    f("actors", actors_, core::positive());
    f("simulations", simulations_, core::at_least(2));
    f("search_batch", search_batch_, core::positive());
    f("c_puct", c_puct_, core::positive());
    f("dirichlet_alpha", dirichlet_alpha_, core::non_negative("0: no root noise"));
    f("dirichlet_epsilon", dirichlet_epsilon_, core::in(0, 1));
    f("temperature_moves", temperature_moves_, core::non_negative());
    f("gumbel", gumbel_);
    f("gumbel_actions", gumbel_actions_, core::at_least(2));
    f("games_per_iteration", games_per_iteration_, core::positive());
    f("steps_per_iteration", steps_per_iteration_, core::non_negative());
    f("batch_size", batch_size_, core::positive());
    f("window", window_, core::positive());
    f("learning_rate", learning_rate_, core::positive());
    f("lr_drop", lr_drop_, core::in_open_closed(0, 1));
    f("lr_drop_at", lr_drop_at_, core::in(0, 1));
    f("weight_decay", weight_decay_, core::non_negative());
    f("iterations", iterations_, core::positive());
    f("max_minutes", max_minutes_, core::non_negative("0: no limit"));
    f("eval_every", eval_every_, core::positive());
    f("eval_games", eval_games_, core::non_negative("0: no evaluation"));
    f("eval_simulations", eval_simulations_, core::at_least(0));
    f("eval_random_plies", eval_random_plies_, core::non_negative());
    f("ladder", ladder_);
    f("checkpoint_minutes", checkpoint_minutes_, core::positive());
    f("seed", seed_, core::non_negative());
    f("n_threads", n_threads_, core::non_negative("0: all cores"));
  }
};

// The learner's rate after `iterations` done in `minutes` of training (lr_drop, lr_drop_at).
double alphazero_learning_rate(const AlphaZeroOptions& options, std::int64_t iterations, double minutes);

// The search options self-play uses (PUCT or Gumbel, root noise) and evaluation uses (no noise).
MctsOptions self_play_search(const AlphaZeroOptions& options);
MctsOptions evaluation_search(const AlphaZeroOptions& options, std::int64_t simulations);
// The trained network as a player: PUCT with `simulations`, or the raw policy when 0.
std::unique_ptr<Player> alphazero_player(const AlphaZeroOptions& options, std::shared_ptr<Evaluator> network,
                                         std::int64_t simulations, std::uint64_t seed,
                                         const std::string& name = "alphazero");

struct AlphaZeroSummary {
  std::filesystem::path run_dir;
  std::int64_t iterations = 0, games = 0, positions = 0, steps = 0;
  double hours = 0, elo = 0, best_elo = 0;
  double positions_per_second = 0;  // self-play
};

// Every key with its value, validated; dojo::Error naming an unknown key or a bad value.
core::Config resolve_alphazero_config(const core::Config& config);
// A new run in `out` (created; refused when it holds files; empty: runs/alphazero-<game>-<time>).
AlphaZeroSummary train_alphazero(const core::Config& resolved, const std::filesystem::path& out);
// Continues a run from checkpoints/last.ckpt; `iterations` > 0 adds that many to its length.
AlphaZeroSummary resume_alphazero(const std::filesystem::path& dir, std::int64_t iterations = 0);

// A trained network: from a run directory (its best checkpoint, else its last) or a checkpoint file.
struct TrainedNetwork {
  std::string game;
  nn::Model model{std::shared_ptr<nn::ModelImpl>()};  // set by load_alphazero
  AlphaZeroOptions options;
  std::filesystem::path checkpoint;
};
TrainedNetwork load_alphazero(const std::filesystem::path& path);

// The Elo rating that best explains the scores against players of known ratings (maximum
// likelihood under the logistic model), each score shrunk by half a virtual draw so that winning
// every game gives a finite rating.
struct RatedScore {
  double rating = 0.0;  // the opponent's
  double score = 0.0;   // in [0, 1]
  int games = 0;
};
double elo_rating(const std::vector<RatedScore>& results);

}  // namespace dojo::games

DOJO_PUBLIC_END
