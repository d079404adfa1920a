#include "games/network.h"

#include <gtest/gtest.h>

#include <numeric>

#include "core/error.h"
#include "games/game.h"
#include "games/mcts.h"

namespace dojo::games {
namespace {

TEST(PolicyValueNetwork, ShapesAndHeads) {
  torch::manual_seed(0);
  const auto c4 = game("connect4");
  auto model = policy_value_network(*c4, {2, 16, 16});
  const auto a = c4->new_initial_state();
  const auto b = position(*c4, "444444");  // column 4 full
  const auto x = observation_batch({a.get(), b.get()});
  EXPECT_EQ(x.sizes(), (std::vector<std::int64_t>{2, 6, 7, 2}));
  const auto out = model->predict_batch({x});
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].sizes(), (std::vector<std::int64_t>{2, 7}));
  EXPECT_EQ(out[1].sizes(), (std::vector<std::int64_t>{2, 1}));
  EXPECT_TRUE(model->get_layer("policy"));
  EXPECT_TRUE(model->get_layer("value"));
  EXPECT_THROW(policy_value_network(*c4, {-1, 16, 16}), Error);
}

TEST(PolicyValueNetwork, EvaluatorGivesLegalPriorsAndBoundedValues) {
  torch::manual_seed(0);
  const auto c4 = game("connect4");
  auto evaluator = std::make_shared<NetworkEvaluator>(policy_value_network(*c4, {1, 8, 8}));
  const auto full = position(*c4, "444444");
  const auto start = c4->new_initial_state();
  const auto e = evaluator->evaluate({full.get(), start.get()});
  ASSERT_EQ(e.size(), 2u);
  EXPECT_EQ(e[0].prior[3], 0.0f);  // the full column gets nothing
  for (const auto& ev : e) {
    EXPECT_NEAR(std::accumulate(ev.prior.begin(), ev.prior.end(), 0.0f), 1.0f, 1e-5f);
    EXPECT_GE(ev.value, -1.0f);
    EXPECT_LE(ev.value, 1.0f);
  }
  // One state alone gives what it gets in a batch (inference mode: no batch statistics).
  const auto alone = evaluator->evaluate({start.get()});
  EXPECT_NEAR(alone[0].value, e[1].value, 1e-5f);
  EXPECT_NEAR(alone[0].prior[0], e[1].prior[0], 1e-5f);
  // PUCT searches with it, in batches.
  MctsOptions o;
  o.rule = "puct";
  o.simulations = 64;
  o.batch = 8;
  Mcts mcts(o, evaluator);
  const auto r = mcts.search(*start);
  EXPECT_EQ(r.simulations, 64);
  const auto go = game("go");
  const auto g = go->new_initial_state();
  EXPECT_EQ(policy_value_network(*go, {1, 8, 8})->predict_batch({observation_batch({g.get()})})[0].size(1),
            82);
}

}  // namespace
}  // namespace dojo::games
