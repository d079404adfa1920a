// Board games: Connect Four's bitboard moves, the solver's positions per second, and MCTS simulations
// per second with random rollouts (UCT) and with a free evaluator (PUCT: the tree's own cost, what a
// network's evaluation adds to), the network's batch latency, and AlphaZero's self-play positions per
// second.
#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include <random>
#include <string>

#include "core/runtime.h"
#include "games/alphazero.h"
#include "games/connect4.h"
#include "games/connect4_solver.h"
#include "games/game.h"
#include "games/mcts.h"
#include "games/network.h"

namespace {

using dojo::games::Connect4Board;

// Uniformly random games to the end: moves per second on the bitboards (what MCTS rollouts cost).
void BM_Connect4RandomPlayout(benchmark::State& state) {
  std::mt19937 rng(0);
  std::int64_t moves = 0;
  for (auto _ : state) {
    Connect4Board b;
    while (b.moves() < Connect4Board::kWidth * Connect4Board::kHeight) {
      int cols[Connect4Board::kWidth], n = 0;
      for (int c = 0; c < Connect4Board::kWidth; ++c)
        if (b.can_play(c)) cols[n++] = c;
      const int c = cols[rng() % static_cast<unsigned>(n)];
      const bool won = b.is_winning_move(c);
      b.play(c);
      ++moves;
      if (won) break;
    }
    benchmark::DoNotOptimize(b.key());
  }
  state.SetItemsProcessed(moves);
}
BENCHMARK(BM_Connect4RandomPlayout);

// Solving 12-stone positions from random play (a win, a loss and a draw for the side to move) from an
// empty table each time: items are searched positions.
void BM_Connect4Solve(benchmark::State& state, const std::string& moves) {
  Connect4Board b;
  for (const char ch : moves) b.play(ch - '1');
  dojo::games::Connect4Solver solver;
  std::int64_t nodes = 0;
  for (auto _ : state) {
    state.PauseTiming();
    solver.reset();
    state.ResumeTiming();
    benchmark::DoNotOptimize(solver.solve(b));
    nodes += solver.nodes();
  }
  state.SetItemsProcessed(nodes);
}
BENCHMARK_CAPTURE(BM_Connect4Solve, win, std::string("255235465151"))->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Connect4Solve, loss, std::string("743522645754"))->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Connect4Solve, draw, std::string("467226275461"))->Unit(benchmark::kMillisecond);

// Uniform priors and value 0 at no cost: the search's own overhead per simulation.
class FreeEvaluator final : public dojo::games::Evaluator {
 public:
  std::vector<dojo::games::Evaluation> evaluate(
      const std::vector<const dojo::games::State*>& states) override {
    std::vector<dojo::games::Evaluation> out(states.size());
    for (auto& e : out) e.prior.assign(Connect4Board::kWidth, 1.0f);
    return out;
  }
};

// One search of 1,000 simulations from the empty Connect Four board, a fresh tree each time; items
// are simulations.
void BM_Mcts(benchmark::State& state, const std::string& rule, bool rollouts, int batch) {
  const auto game = dojo::games::game("connect4");
  const auto root = game->new_initial_state();
  dojo::games::MctsOptions o;
  o.rule = rule;
  o.simulations = 1000;
  o.batch = batch;
  std::shared_ptr<dojo::games::Evaluator> evaluator;
  if (rollouts)
    evaluator = std::make_shared<dojo::games::RolloutEvaluator>(1, 0);
  else
    evaluator = std::make_shared<FreeEvaluator>();
  dojo::games::Mcts mcts(o, evaluator, 0);
  std::int64_t simulations = 0;
  for (auto _ : state) {
    mcts.reset();
    simulations += mcts.search(*root).simulations;
  }
  state.SetItemsProcessed(simulations);
}
BENCHMARK_CAPTURE(BM_Mcts, uct_rollouts, std::string("uct"), true, 1)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Mcts, puct_no_network, std::string("puct"), false, 1)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Mcts, puct_no_network_batch16, std::string("puct"), false, 16)
    ->Unit(benchmark::kMillisecond);

// The policy-value network (5 residual blocks of 64 filters) evaluating a batch of Connect Four
// positions, as MCTS asks for it; items are positions.
void BM_NetworkEvaluator(benchmark::State& state) {
  torch::manual_seed(0);
  dojo::core::configure_compute(1);  // one core (LibTorch and OpenBLAS): the figure per self-play thread
  const auto game = dojo::games::game("connect4");
  dojo::games::NetworkEvaluator evaluator(dojo::games::policy_value_network(*game, {5, 64, 64}));
  const auto root = dojo::games::position(*game, "4453");
  std::vector<const dojo::games::State*> batch(static_cast<std::size_t>(state.range(0)), root.get());
  for (auto _ : state) benchmark::DoNotOptimize(evaluator.evaluate(batch));
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_NetworkEvaluator)->Arg(1)->Arg(16)->Arg(64)->Unit(benchmark::kMillisecond);

// PUCT with that network: 200 simulations from the empty board in batches of 16 leaves.
void BM_MctsWithNetwork(benchmark::State& state) {
  torch::manual_seed(0);
  dojo::core::configure_compute(1);  // one core (LibTorch and OpenBLAS): the figure per self-play thread
  const auto game = dojo::games::game("connect4");
  const auto root = game->new_initial_state();
  dojo::games::MctsOptions o;
  o.rule = "puct";
  o.simulations = 200;
  o.batch = 16;
  dojo::games::Mcts mcts(
      o,
      std::make_shared<dojo::games::NetworkEvaluator>(dojo::games::policy_value_network(*game, {5, 64, 64})),
      0);
  std::int64_t simulations = 0;
  for (auto _ : state) {
    mcts.reset();
    simulations += mcts.search(*root).simulations;
  }
  state.SetItemsProcessed(simulations);
}
BENCHMARK(BM_MctsWithNetwork)->Unit(benchmark::kMillisecond);

// Self-play as the Connect Four preset plays it (5 x 64 network, Gumbel root, 32 simulations, leaves
// in fours) with 1, 4 or 8 actors on threads sharing one batched evaluator: items are positions, the
// figure AlphaZero's data rate depends on. Real time: the actors wait on each other.
void BM_SelfPlay(benchmark::State& state) {
  torch::manual_seed(0);
  dojo::core::configure_compute(1);
  const auto game = dojo::games::game("connect4");
  auto evaluator =
      std::make_shared<dojo::games::NetworkEvaluator>(dojo::games::policy_value_network(*game, {5, 64, 64}));
  dojo::games::SelfPlayOptions o;
  o.mcts.rule = "puct";
  o.mcts.simulations = 32;
  o.mcts.batch = 4;
  o.mcts.gumbel = true;
  o.mcts.gumbel_actions = 8;
  const int actors = static_cast<int>(state.range(0));
  // Warm-up: LibTorch prepares its convolution kernels once per batch size, the first time it meets one.
  dojo::games::self_play_games(*game, evaluator, o, 8, actors, 1000);
  std::int64_t positions = 0;
  std::uint64_t seed = 0;
  for (auto _ : state) {
    for (const auto& g : dojo::games::self_play_games(*game, evaluator, o, 8, actors, seed++))
      positions += static_cast<std::int64_t>(g.samples.size());
  }
  state.SetItemsProcessed(positions);
}
BENCHMARK(BM_SelfPlay)->Arg(1)->Arg(4)->Arg(8)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
