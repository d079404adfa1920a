#include "games/train.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <numeric>
#include <thread>

#include "core/csv.h"
#include "core/error.h"
#include "core/files.h"
#include "games/alphazero.h"
#include "games/arena.h"
#include "games/network.h"

namespace dojo::games {
namespace {

namespace fs = std::filesystem;

fs::path scratch(const std::string& name) {
  const auto dir = fs::temp_directory_path() / ("dojo_az_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  return dir;
}

TEST(EloRating, RecoversTheRatingThatExplainsTheScores) {
  // An even score against a 300-rated player is 300; 76% against a 0-rated one is about +200 (shrunk
  // a little by the half virtual draw).
  EXPECT_NEAR(elo_rating({{300.0, 0.5, 100}}), 300.0, 1e-6);
  EXPECT_NEAR(elo_rating({{0.0, 0.76, 1000}}), 200.0, 3.0);
  // Two opponents: the expected scores add up to the total score.
  const double r = elo_rating({{0.0, 0.9, 50}, {400.0, 0.4, 50}});
  const auto e = [&](double opp) { return 1.0 / (1.0 + std::pow(10.0, (opp - r) / 400.0)); };
  EXPECT_NEAR(51 * e(0.0) + 51 * e(400.0), (45.0 + 0.5) + (20.0 + 0.5), 1e-6);
  // Winning everything is finite and higher than winning 90%.
  const double all = elo_rating({{0.0, 1.0, 20}});
  EXPECT_TRUE(std::isfinite(all));
  EXPECT_GT(all, elo_rating({{0.0, 0.9, 20}}));
}

// Priors and values from the position alone (no randomness), counting its calls.
class PositionEvaluator final : public Evaluator {
 public:
  std::vector<Evaluation> evaluate(const std::vector<const State*>& states) override {
    ++calls;
    std::vector<Evaluation> out;
    for (const auto* s : states) {
      Evaluation e;
      e.prior.assign(static_cast<std::size_t>(s->game().num_actions()), 0.0f);
      const auto h = std::hash<std::string>()(s->to_string());
      for (const Action a : s->legal_actions())
        e.prior[static_cast<std::size_t>(a)] = 1.0f + float((h >> a) & 3);
      e.value = static_cast<float>(h % 200) / 100.0f - 1.0f;
      out.push_back(std::move(e));
    }
    return out;
  }
  std::atomic<int> calls = 0;
};

TEST(SharedEvaluator, ServesEveryClientInOneBatchAndTheSameAnswers) {
  const auto ttt = game("tic_tac_toe");
  auto inner = std::make_shared<PositionEvaluator>();
  SharedEvaluator shared(inner, 3);
  std::vector<std::unique_ptr<State>> states;
  for (int k = 0; k < 3; ++k) {
    states.push_back(ttt->new_initial_state());
    states.back()->apply_action(k);
    states.back()->apply_action(4);
  }
  std::vector<std::vector<Evaluation>> got(3);
  std::vector<std::thread> threads;
  for (int k = 0; k < 3; ++k) {
    threads.emplace_back([&, k] {
      auto client = shared.client(k);
      for (int round = 0; round < 5; ++round)
        got[static_cast<std::size_t>(k)] = client->evaluate({states[static_cast<std::size_t>(k)].get()});
      shared.leave(k);
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(shared.batches(), 5);  // each round one call for all three
  EXPECT_EQ(shared.evaluations(), 15);
  PositionEvaluator direct;
  for (int k = 0; k < 3; ++k) {
    const auto want = direct.evaluate({states[static_cast<std::size_t>(k)].get()});
    EXPECT_EQ(got[static_cast<std::size_t>(k)].at(0).prior, want.at(0).prior);
    EXPECT_EQ(got[static_cast<std::size_t>(k)].at(0).value, want.at(0).value);
  }
}

TEST(SharedEvaluator, GamesDoNotDependOnTheNumberOfActors) {
  const auto c4 = game("connect4");
  SelfPlayOptions o;
  o.mcts.rule = "puct";
  o.mcts.simulations = 24;
  o.mcts.batch = 4;
  o.mcts.dirichlet_alpha = 1.0;
  o.temperature_moves = 6;
  const auto one = self_play_games(*c4, std::make_shared<PositionEvaluator>(), o, 5, 1, 7);
  auto inner = std::make_shared<PositionEvaluator>();
  const auto three = self_play_games(*c4, inner, o, 5, 3, 7);
  ASSERT_EQ(one.size(), 5u);
  for (std::size_t i = 0; i < 5; ++i) EXPECT_EQ(one[i].moves, three[i].moves) << "game " << i;
  EXPECT_NE(one[0].moves, one[1].moves);  // each game has its own seed
  // Three actors share calls: fewer than one call per batch of leaves of each game.
  const auto one_calls = [&] {
    auto e = std::make_shared<PositionEvaluator>();
    self_play_games(*c4, e, o, 5, 1, 7);
    return e->calls.load();
  }();
  EXPECT_LT(inner->calls.load(), one_calls);
  // A rank's share (first, stride) is the same games, and without a process group gather_games hands
  // back its own.
  const auto odd = self_play_games(*c4, std::make_shared<PositionEvaluator>(), o, 5, 2, 7, 1, 2);
  ASSERT_EQ(odd.size(), 2u);
  EXPECT_EQ(odd[0].moves, one[1].moves);
  EXPECT_EQ(odd[1].moves, one[3].moves);
  EXPECT_TRUE(self_play_games(*c4, std::make_shared<PositionEvaluator>(), o, 5, 2, 7, 5, 2).empty());
  EXPECT_EQ(gather_games(*c4, odd, 5).size(), 2u);
  EXPECT_THROW(self_play_games(*c4, std::make_shared<PositionEvaluator>(), o, 5, 1, 7, 0, 0), Error);
}

core::Config tiny(const std::string& game_name) {
  core::Config c;
  c.set("game", YAML::Node(game_name));
  for (const auto* kv :
       {"blocks=1", "filters=8", "value_hidden=8", "actors=2", "simulations=8", "search_batch=2",
        "games_per_iteration=4", "steps_per_iteration=3", "batch_size=16", "iterations=2", "eval_every=1",
        "eval_games=2", "eval_simulations=4", "ladder=[random, 'mcts:4']", "temperature_moves=2"})
    c.set(kv);
  return resolve_alphazero_config(c);
}

TEST(AlphaZeroRun, WritesTheRunDirectoryAndResumes) {
  const auto dir = scratch("run");
  const auto s = train_alphazero(tiny("tic_tac_toe"), dir);
  EXPECT_EQ(s.iterations, 2);
  EXPECT_EQ(s.games, 8);
  EXPECT_EQ(s.steps, 6);
  EXPECT_GE(s.positions, 8 * 5);
  for (const auto* f : {"config.yaml", "metrics.csv", "eval.csv", "ladder.csv", "learning_curve.png",
                        "summary.json", "checkpoints/last.ckpt", "checkpoints/best.ckpt"})
    EXPECT_TRUE(fs::exists(dir / f)) << f;
  EXPECT_EQ(core::read_csv(dir / "metrics.csv").rows.size(), 2u);
  const auto eval = core::read_csv(dir / "eval.csv");
  ASSERT_EQ(eval.rows.size(), 2u);
  EXPECT_EQ(eval.header, (std::vector<std::string>{"iteration", "hours", "positions", "elo", "score_random",
                                                   "score_mcts:4"}));
  EXPECT_EQ(core::read_csv(dir / "ladder.csv").rows.size(), 2u);

  const auto r = resume_alphazero(dir, 1);
  EXPECT_EQ(r.iterations, 3);
  EXPECT_EQ(r.games, 12);
  EXPECT_EQ(core::read_csv(dir / "metrics.csv").rows.size(), 3u);
  EXPECT_EQ(core::read_csv(dir / "metrics.csv").column("iteration").back(), 3.0);

  // The run is a player: searching, or the raw network.
  const auto ttt = game("tic_tac_toe");
  auto searching = make_player(dir.string(), *ttt, 1);
  EXPECT_EQ(searching->name(), "alphazero:4");
  auto raw = make_player(dir.string() + ":0", *ttt, 1);
  EXPECT_EQ(raw->name(), "network");
  MatchOptions m;
  m.games = 2;
  const auto result = play_match(*ttt, *searching, *raw, m);
  EXPECT_EQ(result.wins + result.draws + result.losses, 2);
  EXPECT_THROW(make_player(dir.string(), *game("connect4"), 1), Error);
  EXPECT_THROW(make_player(dir.string() + ":x", *ttt, 1), Error);
  fs::remove_all(dir);
}

TEST(AlphaZeroRun, StopsWithinItsTimeLimit) {
  const auto dir = scratch("minutes");
  auto cfg = tiny("tic_tac_toe");
  cfg.set("iterations=1000");
  cfg.set("eval_games=0");
  cfg.set("max_minutes=0.005");  // 0.3 s
  const auto s = train_alphazero(cfg, dir);
  EXPECT_LT(s.iterations, 1000);
  EXPECT_GE(s.iterations, 1);
  // No iteration starts that would end past the limit at the last one's pace (a loaded machine may
  // still slow the last one down, hence the margin).
  EXPECT_LT(s.hours * 60, 0.01);
  fs::remove_all(dir);
}

TEST(AlphaZeroRun, TheLearningRateDropsAtItsShareOfTheRun) {
  auto o = AlphaZeroOptions().learning_rate(2e-3).iterations(300).lr_drop(0.1).lr_drop_at(0.5);
  EXPECT_DOUBLE_EQ(alphazero_learning_rate(o, 149, 0), 2e-3);
  EXPECT_DOUBLE_EQ(alphazero_learning_rate(o, 150, 0), 2e-4);
  o.max_minutes(60);  // whichever share of the run is larger
  EXPECT_DOUBLE_EQ(alphazero_learning_rate(o, 10, 29.9), 2e-3);
  EXPECT_DOUBLE_EQ(alphazero_learning_rate(o, 10, 30.0), 2e-4);
  EXPECT_DOUBLE_EQ(alphazero_learning_rate(AlphaZeroOptions(), 100, 1e6), 2e-3);  // lr_drop 1: constant
  core::Config c;
  c.set("lr_drop=0");
  EXPECT_THROW(resolve_alphazero_config(c), Error);
}

TEST(AlphaZeroRun, RefusesBadConfigs) {
  core::Config c;
  c.set("game=chess");
  EXPECT_THROW(resolve_alphazero_config(c), Error);
  c.set("game=connect4");
  c.set("simulatons=10");
  EXPECT_THROW(resolve_alphazero_config(c), Error);
  core::Config d;
  d.set("ladder=[random, 'mcts:0']");
  EXPECT_THROW(resolve_alphazero_config(d), Error);
  core::Config e;
  e.set("search_batch=0");
  EXPECT_THROW(resolve_alphazero_config(e), Error);
  const auto dir = scratch("corrupt");
  fs::create_directories(dir / "checkpoints");
  core::atomic_write_text(dir / "config.yaml", tiny("tic_tac_toe").dump());
  core::atomic_write_text(dir / "checkpoints" / "last.ckpt", "not a checkpoint");
  EXPECT_THROW(resume_alphazero(dir), Error);
  EXPECT_THROW(load_alphazero(dir), Error);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace dojo::games
