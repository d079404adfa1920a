#include "games/alphazero.h"

#include <gtest/gtest.h>

#include <numeric>

#include "core/error.h"
#include "games/network.h"

namespace dojo::games {
namespace {

SelfPlayOptions small_search() {
  SelfPlayOptions o;
  o.mcts.rule = "puct";
  o.mcts.simulations = 16;
  o.mcts.dirichlet_alpha = 1.0;
  o.temperature_moves = 4;
  return o;
}

TEST(AlphaZero, SelfPlayRecordsPoliciesAndOutcomes) {
  torch::manual_seed(0);
  const auto ttt = game("tic_tac_toe");
  auto evaluator = std::make_shared<NetworkEvaluator>(policy_value_network(*ttt, {1, 8, 8}));
  const auto g = self_play_game(*ttt, evaluator, small_search(), 3);
  ASSERT_EQ(g.samples.size(), g.moves.size());
  ASSERT_GE(g.moves.size(), 5u);
  // Replaying the moves reaches the same end.
  auto state = ttt->new_initial_state();
  for (std::size_t i = 0; i < g.moves.size(); ++i) {
    const auto& s = g.samples[i];
    EXPECT_NEAR(std::accumulate(s.policy.begin(), s.policy.end(), 0.0f), 1.0f, 1e-5f);
    for (Action a = 0; a < 9; ++a) {
      if (state->is_legal(a)) continue;
      EXPECT_EQ(s.policy[static_cast<std::size_t>(a)], 0.0f);
    }
    // The outcome from the mover's view: the same for both players' positions only in a draw.
    EXPECT_EQ(s.value, static_cast<float>(g.returns[static_cast<std::size_t>(state->current_player())]));
    state->apply_action(g.moves[i]);
  }
  EXPECT_TRUE(state->is_terminal());
  EXPECT_EQ(state->returns(), g.returns);
}

TEST(AlphaZero, ReplayWindowKeepsTheLatestAndAugments) {
  const auto c4 = game("connect4");
  ReplayWindow window(3);
  std::vector<Sample> samples(5);
  for (int i = 0; i < 5; ++i) {
    samples[static_cast<std::size_t>(i)].observation.assign(84, 0.0f);
    samples[static_cast<std::size_t>(i)].observation[0] = 1.0f;  // a stone in the top-left cell
    samples[static_cast<std::size_t>(i)].policy.assign(7, 0.0f);
    samples[static_cast<std::size_t>(i)].policy[0] = 1.0f;
    samples[static_cast<std::size_t>(i)].value = static_cast<float>(i);
  }
  window.add(samples);
  EXPECT_EQ(window.size(), 3u);
  std::mt19937_64 rng(0);
  const auto b = window.sample(*c4, 64, rng);
  EXPECT_EQ(b.observations.sizes(), (std::vector<std::int64_t>{64, 6, 7, 2}));
  EXPECT_EQ(b.policies.sizes(), (std::vector<std::int64_t>{64, 7}));
  EXPECT_GE(b.values.min().item<float>(), 2.0f);  // values 0 and 1 were pushed out
  // Mirrored samples put the stone and the policy's mass in the last column, together.
  const auto mirrored = b.policies.select(1, 6).eq(1.0f);
  EXPECT_GT(mirrored.sum().item<int>(), 10);
  EXPECT_LT(mirrored.sum().item<int>(), 54);
  EXPECT_TRUE(b.observations.select(2, 6)
                  .select(2, 0)
                  .select(1, 0)
                  .eq(mirrored.to(torch::kFloat))
                  .all()
                  .item<bool>());
  EXPECT_THROW(ReplayWindow(0), Error);
  EXPECT_THROW(ReplayWindow(2).sample(*c4, 1, rng), Error);
}

TEST(AlphaZero, LearnerFitsABatch) {
  torch::manual_seed(0);
  const auto ttt = game("tic_tac_toe");
  auto model = policy_value_network(*ttt, {1, 16, 16});
  torch::optim::Adam optimizer(model->parameters(), torch::optim::AdamOptions(1e-2).weight_decay(1e-4));
  auto evaluator = std::make_shared<NetworkEvaluator>(model);
  ReplayWindow window(1000);
  for (int g = 0; g < 4; ++g) window.add(self_play_game(*ttt, evaluator, small_search(), g).samples);
  std::mt19937_64 rng(1);
  const auto batch = window.sample(*ttt, 32, rng);
  const auto first = train_step(model, optimizer, batch);
  Losses last;
  for (int step = 0; step < 60; ++step) last = train_step(model, optimizer, batch);
  EXPECT_LT(last.value, first.value * 0.5);
  EXPECT_LT(last.policy, first.policy * 0.8);
}

}  // namespace
}  // namespace dojo::games
