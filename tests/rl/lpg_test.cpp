// LPG: the agent's update in closed form equals autograd's gradient of the paper's agent loss; the
// meta-gradient reaches every parameter of the rule; meta-training resumes; tabular A2C (the
// baseline) solves a small grid; bad input is refused.
#include "rl/lpg.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>
#include <fstream>

#include "core/error.h"
#include "test_util.h"

namespace dojo::rl {
namespace {

namespace fs = std::filesystem;

TabularRollout random_rollout(std::int64_t T, std::int64_t E, std::int64_t rows, std::int64_t actions) {
  torch::manual_seed(3);
  return {torch::randint(rows, {T, E}, torch::kLong),    torch::randint(rows, {T, E}, torch::kLong),
          torch::randint(actions, {T, E}, torch::kLong), torch::randn({T, E}),
          (torch::rand({T, E}) < 0.1).to(torch::kFloat), torch::zeros({T, E})};
}

TEST(Lpg, AgentUpdateIsTheGradientOfThePapersLoss) {
  const auto o =
      LpgOptions().prediction_size(5).hidden(8).envs_per_lifetime(2).policy_lr(0.3).prediction_lr(0.7);
  LpgNet rule(o.prediction_size(), o.hidden());
  const auto ro = random_rollout(6, 2, 7, 3);
  const auto logits = torch::randn({7, 3}), y_logits = torch::randn({7, 5});
  const auto u = lpg_update(rule, ro, logits, y_logits, o);
  // The same step by autograd: L = Σ −π̂·log π(a|s) + KL(y(s) ‖ ŷ), targets held fixed.
  auto th = logits.clone().requires_grad_(true), ty = y_logits.clone().requires_grad_(true);
  const auto rows = ro.rows.reshape(-1);
  const auto log_pi_a =
      torch::log_softmax(th.index_select(0, rows), 1).gather(1, ro.actions.reshape({-1, 1})).squeeze(1);
  const auto log_y = torch::log_softmax(ty.index_select(0, rows), 1);
  const auto log_y_hat = u.log_y_hat.detach().reshape({-1, 5});
  const auto kl = (log_y.exp() * (log_y - log_y_hat)).sum(1);
  const auto loss_pi = -(u.pi_hat.detach().reshape(-1) * log_pi_a).sum();
  const auto loss_y = kl.sum();
  const auto g_pi = torch::autograd::grad({loss_pi}, {th})[0];
  const auto g_y = torch::autograd::grad({loss_y}, {ty})[0];
  EXPECT_TRUE(torch::allclose(u.logits, logits - 0.3 / 2 * g_pi, 1e-5, 1e-6));
  EXPECT_TRUE(torch::allclose(u.y_logits, y_logits - 0.7 / 2 * g_y, 1e-5, 1e-6));
  EXPECT_EQ(u.pi_hat.sizes(), (std::vector<std::int64_t>{6, 2}));
  EXPECT_EQ(u.log_y_hat.sizes(), (std::vector<std::int64_t>{6, 2, 5}));
}

TEST(Lpg, RuleReadsTheTrajectoryBackwards) {
  // π̂ at the first step depends on the last step's reward; the last step's does not see the first's.
  LpgNet rule(4, 8);
  const auto r = torch::zeros({5, 1}), d = torch::zeros({5, 1}), pa = torch::full({5, 1}, 0.5);
  const auto y = torch::full({5, 1, 4}, 0.25);
  auto r2 = r.clone();
  r2[4][0] = 1.0;
  const auto a = rule->forward(r, d, 0.99, pa, y, y).first, b = rule->forward(r2, d, 0.99, pa, y, y).first;
  EXPECT_NE(a[0][0].item<double>(), b[0][0].item<double>());
  auto r3 = r.clone();
  r3[0][0] = 1.0;
  const auto c = rule->forward(r3, d, 0.99, pa, y, y).first;
  EXPECT_DOUBLE_EQ(a[4][0].item<double>(), c[4][0].item<double>());
}

core::Config tiny_lpg_config() {
  return core::Config::parse(
      "{lifetimes: 4, envs_per_lifetime: 2, rollout: 5, unroll: 2, lifetime_updates: 6, prediction_size: 4, "
      "hidden: 8, iterations: 3, eval_every: 2}",
      "test");
}

TEST(Lpg, MetaTrainingMovesEveryParameterAndResumes) {
  const auto dir = test::fresh_path("lpg_meta");
  LpgNet before(4, 8);
  {
    torch::manual_seed(0);  // meta_train_lpg seeds the same way before building its rule
    LpgNet init(4, 8);
    before = init;
  }
  auto rule = meta_train_lpg(tiny_lpg_config(), dir);
  const auto p0 = before->parameters(), p1 = rule->parameters();
  ASSERT_EQ(p0.size(), p1.size());
  for (std::size_t i = 0; i < p0.size(); ++i) {
    EXPECT_TRUE(torch::isfinite(p1[i]).all().item<bool>());
    EXPECT_FALSE(torch::equal(p0[i], p1[i])) << "parameter " << i << " did not move";
  }
  // Curve rows at meta-updates 2 and 3 (the last); resuming to 5 appends 4 and 5.
  auto more = tiny_lpg_config();
  more.set("iterations", YAML::Node(5));
  meta_train_lpg(more, dir);
  std::ifstream in(dir / "curve.csv");
  std::string line;
  std::vector<std::string> lines;
  while (std::getline(in, line)) lines.push_back(line);
  ASSERT_EQ(lines.size(), 5u);
  EXPECT_EQ(lines[4].substr(0, 2), "5,");
  const auto [loaded, options] = load_lpg_rule(dir);
  EXPECT_EQ(options.iterations(), 5);
  // Another rule size in the same directory is refused, and the rule is left as it was.
  auto other = more;
  other.set("hidden", YAML::Node(16));
  EXPECT_THROW(meta_train_lpg(other, dir), Error);
  EXPECT_EQ(load_lpg_rule(dir).second.hidden(), 8);
  // Exported as a model: the same weights, no optimizer state, the curve beside them.
  const auto model = test::fresh_path("lpg_model");
  export_lpg_rule(dir, model);
  EXPECT_LT(fs::file_size(model / "rule.ckpt"), fs::file_size(dir / "rule.ckpt"));
  EXPECT_TRUE(fs::exists(model / "curve.csv"));
  const auto exported = load_lpg_rule(model).first->parameters(), trained = loaded->parameters();
  for (std::size_t i = 0; i < trained.size(); ++i) EXPECT_TRUE(torch::equal(exported[i], trained[i]));
}

TEST(Lpg, TheSameSeedGivesTheSameRule) {
  const auto a = meta_train_lpg(tiny_lpg_config(), test::fresh_path("lpg_seed_a"));
  const auto b = meta_train_lpg(tiny_lpg_config(), test::fresh_path("lpg_seed_b"));
  auto other = tiny_lpg_config();
  other.set("seed", YAML::Node(1));
  const auto c = meta_train_lpg(other, test::fresh_path("lpg_seed_c"));
  const auto pa = a->parameters(), pb = b->parameters(), pc = c->parameters();
  bool differs = false;
  for (std::size_t i = 0; i < pa.size(); ++i) {
    EXPECT_TRUE(torch::equal(pa[i], pb[i])) << "parameter " << i;
    differs = differs || !torch::equal(pa[i], pc[i]);
  }
  EXPECT_TRUE(differs);
}

TEST(Lpg, BadInputIsRefused) {
  EXPECT_THROW(lpg_options(core::Config::parse("{lifetimes: 0}", "test")), Error);
  EXPECT_THROW(lpg_options(core::Config::parse("{families: [maze]}", "test")), Error);
  EXPECT_THROW(lpg_options(core::Config::parse("{lifetime: 3}", "test")), Error);
  EXPECT_THROW(load_lpg_rule(test::fresh_path("lpg_missing")), Error);
  EXPECT_THROW(tabular_task("CartPole-v1"), Error);
}

TEST(Lpg, TabularA2CSolvesASmallGrid) {
  // A 3x3 grid with the goal in the far corner: optimal return 1 within 50 steps; random much less.
  const auto task =
      tabular_task("GridWorld-v0", core::Config::parse("{map: [S.., ..., ...], objects: [{row: 2, col: "
                                                       "2}]}",
                                                       "test"));
  const auto o = LpgOptions().envs_per_lifetime(4).rollout(10);
  LpgAgentRule a2c;
  a2c.a2c = {1.0, 0.5, 0.01};
  const double trained = train_tabular_agents(task, a2c, o, 100, 2, 20, 0);
  EXPECT_GT(trained, 0.95);
  EXPECT_NEAR(optimal_policy_return(task, 0.99, 20, 0), 1.0, 1e-12);
  const double random = random_policy_return(task, 200, 0);
  EXPECT_GT(random, 0.2);
  EXPECT_LT(random, 0.9);
}

}  // namespace
}  // namespace dojo::rl
