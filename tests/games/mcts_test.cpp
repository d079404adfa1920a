#include "games/mcts.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

#include "core/error.h"
#include "games/arena.h"
#include "games/connect4.h"
#include "games/players.h"

namespace dojo::games {
namespace {

std::shared_ptr<Evaluator> rollouts(std::uint64_t seed = 1) {
  return std::make_shared<RolloutEvaluator>(1, seed);
}

// Records the batch sizes it is asked for, then answers with uniform priors and value 0.
class CountingEvaluator final : public Evaluator {
 public:
  std::vector<Evaluation> evaluate(const std::vector<const State*>& states) override {
    sizes.push_back(static_cast<int>(states.size()));
    std::vector<Evaluation> out(states.size());
    for (std::size_t i = 0; i < states.size(); ++i)
      out[i].prior.assign(static_cast<std::size_t>(states[i]->game().num_actions()), 1.0f);
    return out;
  }
  std::vector<int> sizes;
};

// All prior mass on one action (value 0): PUCT's visits should follow the prior.
class PointPrior final : public Evaluator {
 public:
  explicit PointPrior(Action favourite) : favourite_(favourite) {}
  std::vector<Evaluation> evaluate(const std::vector<const State*>& states) override {
    std::vector<Evaluation> out(states.size());
    for (std::size_t i = 0; i < states.size(); ++i) {
      out[i].prior.assign(static_cast<std::size_t>(states[i]->game().num_actions()), 0.001f);
      out[i].prior[static_cast<std::size_t>(favourite_)] = 1.0f;
    }
    return out;
  }

 private:
  Action favourite_;
};

TEST(Mcts, UctTakesAnImmediateWinAndProvesIt) {
  const auto c4 = game("connect4");
  const auto state = position(*c4, "121212");  // X to move: column 1 completes four
  MctsOptions o;
  o.simulations = 200;
  Mcts mcts(o, rollouts());
  const auto r = mcts.search(*state);
  EXPECT_EQ(r.best, 0);
  EXPECT_EQ(r.proven, 1);
  EXPECT_LT(r.simulations, 200);  // a proven root ends the search early
}

TEST(Mcts, UctBlocksTheOpponentsThreat) {
  const auto c4 = game("connect4");
  const auto state = position(*c4, "41424");  // O to move: X threatens column 4's top
  MctsOptions o;
  o.simulations = 1000;
  Mcts mcts(o, rollouts());
  const auto r = mcts.search(*state);
  EXPECT_EQ(r.best, 3);
  // Every other move loses at once: the solver marks them, and the rest of the budget goes to the block.
  for (int c = 0; c < 7; ++c) {
    if (c == 3) continue;
    EXPECT_TRUE(r.losing[static_cast<std::size_t>(c)]) << c;
  }
}

TEST(Mcts, SolverProofsAgreeWithFullSearch) {
  const auto ttt = game("tic_tac_toe");
  FullSearch full;
  std::mt19937 rng(4);
  int proven = 0;
  for (int i = 0; i < 20; ++i) {
    auto state = ttt->new_initial_state();
    const int plies = 3 + i % 3;
    for (int k = 0; k < plies && !state->is_terminal(); ++k) {
      const auto legal = state->legal_actions();
      state->apply_action(legal[rng() % legal.size()]);
    }
    if (state->is_terminal()) continue;
    MctsOptions o;
    o.simulations = 5000;
    Mcts mcts(o, rollouts(static_cast<std::uint64_t>(i)));
    const auto r = mcts.search(*state);
    ASSERT_NE(r.proven, kUnproven) << state->to_string();
    EXPECT_EQ(r.proven, full.value(*state)) << state->to_string();
    const auto best = full.optimal_moves(*state);
    EXPECT_NE(std::find(best.begin(), best.end(), r.best), best.end()) << state->to_string();
    ++proven;
  }
  EXPECT_GE(proven, 15);
}

TEST(Mcts, PuctFollowsThePrior) {
  const auto c4 = game("connect4");
  const auto state = c4->new_initial_state();
  MctsOptions o;
  o.rule = "puct";
  o.simulations = 101;
  Mcts mcts(o, std::make_shared<PointPrior>(5));
  const auto r = mcts.search(*state);
  EXPECT_EQ(r.best, 5);
  EXPECT_EQ(std::accumulate(r.visits.begin(), r.visits.end(), 0),
            100);  // the root's own evaluation is the first
  EXPECT_GT(r.visits[5], 80);
  EXPECT_NEAR(std::accumulate(r.policy.begin(), r.policy.end(), 0.0f), 1.0f, 1e-5f);
}

TEST(Mcts, RootNoiseSpreadsVisits) {
  const auto c4 = game("connect4");
  const auto state = c4->new_initial_state();
  MctsOptions o;
  o.rule = "puct";
  o.simulations = 200;
  o.dirichlet_alpha = 1.0;
  o.dirichlet_epsilon = 1.0;  // priors replaced by noise at the root
  Mcts mcts(o, std::make_shared<PointPrior>(5));
  const auto r = mcts.search(*state);
  EXPECT_LT(r.visits[5], 150);
  // The priors come back without noise for the next search of the same position.
  o.dirichlet_alpha = 0.0;
  Mcts plain(o, std::make_shared<PointPrior>(5));
  EXPECT_GT(plain.search(*state).visits[5], 150);
}

TEST(Mcts, BatchesLeavesWithVirtualLoss) {
  const auto c4 = game("connect4");
  const auto state = c4->new_initial_state();
  auto evaluator = std::make_shared<CountingEvaluator>();
  MctsOptions o;
  o.rule = "puct";
  o.simulations = 400;
  o.batch = 8;
  Mcts mcts(o, evaluator);
  const auto r = mcts.search(*state);
  EXPECT_EQ(r.simulations, 400);
  EXPECT_LE(*std::max_element(evaluator->sizes.begin(), evaluator->sizes.end()), 8);
  // Virtual loss sends a batch's simulations to different leaves: most calls are full.
  const auto full = std::count(evaluator->sizes.begin(), evaluator->sizes.end(), 8);
  EXPECT_GT(full, static_cast<long>(evaluator->sizes.size()) / 2);
  EXPECT_EQ(std::accumulate(evaluator->sizes.begin(), evaluator->sizes.end(), 0), 400);
}

TEST(Mcts, ReusesTheSubtreeOfTheMovePlayed) {
  const auto c4 = game("connect4");
  auto state = c4->new_initial_state();
  MctsOptions o;
  o.simulations = 500;
  Mcts mcts(o, rollouts());
  const auto first = mcts.search(*state);
  state->apply_action(first.best);
  const auto kept = first.visits[static_cast<std::size_t>(first.best)];
  const auto second = mcts.search(*state);
  // The new root starts with the visits it had as a child.
  EXPECT_EQ(std::accumulate(second.visits.begin(), second.visits.end(), 0), kept - 1 + 500);
  o.reuse_tree = false;
  Mcts fresh(o, rollouts());
  const auto again = fresh.search(*state);
  EXPECT_EQ(std::accumulate(again.visits.begin(), again.visits.end(), 0), 499);
}

TEST(Mcts, SameSeedSameSearch) {
  const auto c4 = game("connect4");
  const auto state = position(*c4, "4455");
  MctsOptions o;
  o.simulations = 300;
  Mcts a(o, rollouts(3), 9), b(o, rollouts(3), 9);
  EXPECT_EQ(a.search(*state).visits, b.search(*state).visits);
}

TEST(Mcts, GumbelSequentialHalving) {
  const auto c4 = game("connect4");
  MctsOptions o;
  o.rule = "puct";
  o.gumbel = true;
  o.gumbel_actions = 4;
  o.simulations = 16;
  auto state = position(*c4, "121212");
  Mcts mcts(o, rollouts());
  auto r = mcts.search(*state);
  EXPECT_EQ(r.best, 0);  // the win, found with 16 simulations
  state = c4->new_initial_state();
  mcts.reset();
  r = mcts.search(*state);
  EXPECT_EQ(std::count_if(r.visits.begin(), r.visits.end(), [](int v) { return v > 0; }), 4);
  EXPECT_NEAR(std::accumulate(r.policy.begin(), r.policy.end(), 0.0f), 1.0f, 1e-5f);
  EXPECT_EQ(r.simulations, 16);
}

TEST(Mcts, RejectsBadOptions) {
  MctsOptions o;
  o.rule = "ucb";
  EXPECT_THROW(Mcts(o, rollouts()), Error);
  o = MctsOptions{};
  o.simulations = 0;
  EXPECT_THROW(Mcts(o, rollouts()), Error);
  EXPECT_THROW(RolloutEvaluator(0), Error);
}

TEST(Players, FullSearchKnowsTicTacToe) {
  const auto ttt = game("tic_tac_toe");
  FullSearch full;
  const auto start = ttt->new_initial_state();
  EXPECT_EQ(full.value(*start), 0);
  EXPECT_EQ(full.optimal_moves(*start).size(), 9u);  // every opening move holds the draw
  const auto corner = position(*ttt, "a1");          // O must take the centre
  EXPECT_EQ(full.optimal_moves(*corner), std::vector<Action>{4});
}

TEST(Players, MakePlayerNamesBadSpecs) {
  const auto ttt = game("tic_tac_toe");
  EXPECT_EQ(make_player("mcts:50", *ttt, 0)->name(), "mcts:50");
  for (const char* bad : {"mcts:", "mcts:0", "mcts:1x", "alphabeta", ""}) {
    try {
      make_player(bad, *ttt, 0);
      FAIL() << bad;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("expected random, mcts:N"), std::string::npos) << e.what();
    }
  }
}

TEST(Arena, EloDifference) {
  EXPECT_NEAR(elo_difference(50, 0, 50).elo, 0.0, 1e-9);
  EXPECT_NEAR(elo_difference(75, 0, 25).elo, 190.85, 0.01);
  EXPECT_NEAR(elo_difference(25, 50, 25).elo, 0.0, 1e-9);
  const auto all = elo_difference(100, 0, 0);
  EXPECT_TRUE(std::isinf(all.elo));
  EXPECT_GT(all.low, 500.0);
  EXPECT_LT(all.low, 800.0);
  EXPECT_TRUE(std::isinf(all.high));
  EXPECT_TRUE(std::isinf(elo_difference(0, 0, 4).low));
  const auto e = elo_difference(60, 10, 30);
  EXPECT_LT(e.low, e.elo);
  EXPECT_GT(e.high, e.elo);
}

TEST(Arena, PerfectPlayNeverLosesAtTicTacToe) {
  const auto ttt = game("tic_tac_toe");
  PerfectPlayer perfect(1), other(2);
  RandomPlayer random(3);
  MatchOptions m;
  m.games = 40;
  const auto vs_random = play_match(*ttt, perfect, random, m);
  EXPECT_EQ(vs_random.losses, 0);
  EXPECT_GT(vs_random.wins, 25);
  EXPECT_EQ(vs_random.wins_first + vs_random.draws_first + vs_random.losses_first, 20);
  const auto mirror = play_match(*ttt, perfect, other, m);
  EXPECT_EQ(mirror.draws, 40);
}

TEST(Arena, UctBeatsRandomAtConnectFour) {
  const auto c4 = game("connect4");
  auto uct = make_player("mcts:200", *c4, 5);
  RandomPlayer random(6);
  MatchOptions m;
  m.games = 10;
  m.random_plies = 2;
  const auto r = play_match(*c4, *uct, random, m);
  EXPECT_GE(r.wins, 9);
}

}  // namespace
}  // namespace dojo::games
