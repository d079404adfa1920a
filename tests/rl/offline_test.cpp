// The offline agents' pieces against hand-computed values (rl/offline.h), and each agent's update on
// the Pendulum fixture: finite losses, the variants differing where they should, the losses falling.
#include "rl/offline.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <filesystem>

#include "cli_util.h"
#include "rl/algos.h"
#include "rl/bc.h"
#include "rl/bcq.h"
#include "rl/bear.h"
#include "rl/brac.h"
#include "rl/cql.h"
#include "rl/grid.h"
#include "rl/iql.h"
#include "rl/td3bc.h"
#include "test_util.h"

namespace dojo::rl {
namespace {

namespace fs = std::filesystem;

const std::string kPendulum = (fs::path(DOJO_TEST_DATA_DIR) / "offline" / "minari_pendulum_tiny").string();

TEST(OfflinePieces, KlSampleEstimateIsTheMeanLogRatio) {
  const auto log_pi = torch::tensor({{-1.0f, -2.0f}, {-3.0f, -4.0f}});  // [n = 2, B = 2]
  const auto log_b = torch::full({2, 2}, -2.0f);
  // State 0: ((−1 + 2) + (−3 + 2)) / 2 = 0; state 1: ((−2 + 2) + (−4 + 2)) / 2 = −1.
  EXPECT_TRUE(torch::allclose(kl_estimate(log_pi, log_b), torch::tensor({0.0f, -1.0f})));
}

TEST(OfflinePieces, MmdWithBothKernels) {
  // One state, π's samples {0, 1}, b's {0, 2}, σ = 1 ([n, B, A] = [2, 1, 1]).
  const auto x = torch::tensor({0.0f, 1.0f}).reshape({2, 1, 1});
  const auto y = torch::tensor({0.0f, 2.0f}).reshape({2, 1, 1});
  // Laplacian e^{−|d|}: k(x,x) = (1 + e⁻¹)/2, k(y,y) = (1 + e⁻²)/2, k(x,y) = (1 + e⁻² + 2e⁻¹)/4, so
  // MMD² = (1 − e⁻¹)/2. Gaussian e^{−d²/2}: MMD² = (1 − e^{−1/2})/2 the same way.
  EXPECT_NEAR(mmd_estimate(x, y, "laplacian", 1.0).item<double>(), std::sqrt((1 - std::exp(-1.0)) / 2 + 1e-6),
              1e-6);
  EXPECT_NEAR(mmd_estimate(x, y, "gaussian", 1.0).item<double>(), std::sqrt((1 - std::exp(-0.5)) / 2 + 1e-6),
              1e-6);
  // σ scales distances: Laplacian with σ = 2 is e^{−|d|/2}: MMD² = (1 − e^{−1/2})/2.
  EXPECT_NEAR(mmd_estimate(x, y, "laplacian", 2.0).item<double>(), std::sqrt((1 - std::exp(-0.5)) / 2 + 1e-6),
              1e-6);
  // The same samples: MMD = sqrt(1e−6).
  EXPECT_NEAR(mmd_estimate(x, x, "gaussian", 1.0).item<double>(), 1e-3, 1e-7);
  EXPECT_THROW(mmd_estimate(x, y, "cosine", 1.0), Error);
}

TEST(OfflinePieces, DualEstimates) {
  const auto f_pi = torch::tensor({1.0f, 3.0f}).reshape({2, 1});
  const auto f_b = torch::tensor({1.0f, 2.0f}).reshape({2, 1});
  // KL dual: E_π f − E_b e^{f−1} = 2 − (1 + e)/2; Wasserstein: 2 − 1.5.
  EXPECT_NEAR(kl_dual_estimate(f_pi, f_b).item<double>(), 2.0 - (1.0 + std::exp(1.0)) / 2.0, 1e-6);
  EXPECT_NEAR(wasserstein_estimate(f_pi, f_b).item<double>(), 0.5, 1e-6);
}

TEST(OfflinePieces, GradientPenaltyOfALinearCritic) {
  // f(s, a) = 1·s + 3·a₁ + 4·a₂: ‖∇_a f‖ = 5 everywhere, so the penalty is (5 − 1)² = 16.
  DualCritic f(1, 2, std::vector<std::int64_t>{});
  {
    torch::NoGradGuard no_grad;
    auto& linear = *f->net->ptr<torch::nn::LinearImpl>(0);
    linear.weight.copy_(torch::tensor({{1.0f, 3.0f, 4.0f}}));
    linear.bias.zero_();
  }
  const auto obs = torch::randn({3, 4, 1});
  const auto gp =
      gradient_penalty(f, obs, torch::rand({3, 4, 2}), torch::rand({3, 4, 2}), torch::rand({3, 4, 1}));
  EXPECT_NEAR(gp.item<double>(), 16.0, 1e-4);
  // Differentiable in the critic's weights (create_graph): the critic learns from it.
  gp.backward();
  EXPECT_GT(f->net->ptr<torch::nn::LinearImpl>(0)->weight.grad().abs().sum().item<double>(), 0.0);
}

TEST(OfflinePieces, EnsembleMixAndTanhGaussianDensity) {
  const auto qs = torch::tensor({{1.0f, 5.0f}, {3.0f, 2.0f}});  // [K = 2, B = 2]
  EXPECT_TRUE(torch::allclose(ensemble_mix(qs, 1.0), torch::tensor({1.0f, 2.0f})));
  EXPECT_TRUE(torch::allclose(ensemble_mix(qs, 0.75), torch::tensor({1.5f, 2.75f})));

  TanhGaussianPolicy pi(2, 1, std::vector<std::int64_t>{4});
  {
    torch::NoGradGuard no_grad;
    for (auto& p : pi->mu->parameters()) p.zero_();
    for (auto& p : pi->log_std->parameters()) p.zero_();
  }
  // μ = 0, σ = 1: log π(0.5) = log N(atanh 0.5; 0, 1) − log(1 − 0.25).
  const double u = std::atanh(0.5);
  const double expected = -0.5 * std::log(2 * M_PI) - u * u / 2 - std::log(0.75);
  EXPECT_NEAR(pi->log_prob(torch::zeros({1, 2}), torch::full({1, 1}, 0.5f)).item<double>(), expected, 1e-5);
  // ±1 in the data is pulled inside, so the density stays finite.
  EXPECT_TRUE(std::isfinite(pi->log_prob(torch::zeros({1, 2}), torch::ones({1, 1})).item<double>()));
  std::mt19937_64 rng(1);
  const auto d = pi->sample(torch::zeros({3, 2}), rng, 5);
  EXPECT_EQ(d.action.sizes(), (std::vector<std::int64_t>{5, 3, 1}));
  EXPECT_TRUE(torch::allclose(d.log_prob, pi->log_prob(torch::zeros({3, 2}), d.action), 1e-4, 1e-4));
}

TEST(OfflinePieces, IqlExpectileAndAdvantageWeights) {
  // u = Q − V: τ = 0.7 weighs u ≥ 0 by 0.7 and u < 0 by 0.3: (0.3·4 + 0.7·1)/2 = 0.95.
  EXPECT_NEAR(IQL::expectile_loss(torch::tensor({-2.0f, 1.0f}), 0.7).item<double>(), 0.95, 1e-6);
  // τ = 0.5 is half the squared error.
  EXPECT_NEAR(IQL::expectile_loss(torch::tensor({-2.0f, 1.0f}), 0.5).item<double>(), 0.5 * 2.5, 1e-6);
  EXPECT_TRUE(torch::allclose(IQL::awr_weights(torch::tensor({0.0f, 1.0f, 10.0f}), 3.0, 100.0),
                              torch::tensor({1.0f, static_cast<float>(std::exp(3.0)), 100.0f})));
}

TEST(OfflinePieces, CqlImportanceSampledLogSumExp) {
  // One state, one draw per proposal, A = 1: uniform Q 0 with density 0.5, π(s) Q 1 with log π 0, π(s')
  // Q 2 with log π log 2, data Q 1: log(e^{log 2} + e^{2 − log 2} + e^{1}) − 1.
  const auto one = [](double v) { return torch::full({1, 1}, static_cast<float>(v)); };
  const auto gap =
      CQL::conservative_gap(one(0), one(1), one(0), one(2), one(std::log(2.0)), torch::ones({1}), 1, 1.0);
  EXPECT_NEAR(gap.item<double>(), std::log(2.0 + std::exp(2.0) / 2.0 + std::exp(1.0)) - 1.0, 1e-5);
  // Temperature T: T log Σ exp(x / T).
  const auto warm =
      CQL::conservative_gap(one(0), one(1), one(0), one(2), one(std::log(2.0)), torch::ones({1}), 1, 2.0);
  const double l2 = std::log(2.0);
  EXPECT_NEAR(warm.item<double>(),
              2.0 * std::log(std::exp(l2 / 2) + std::exp((2 - l2) / 2) + std::exp(0.5)) - 1.0, 1e-5);
}

TEST(OfflinePieces, BcqPerturbationStaysWithinPhi) {
  Perturbation xi(3, 2, std::vector<std::int64_t>{8}, 0.05);
  {
    torch::NoGradGuard no_grad;
    for (auto& p : xi->parameters()) p.uniform_(-50.0, 50.0);  // saturate the tanh
  }
  const auto obs = torch::randn({64, 3});
  const auto a = torch::rand({64, 2}) * 2 - 1;
  const auto out = xi->forward(obs, a);
  EXPECT_LE((out - a).abs().max().item<double>(), 0.05 + 1e-6);
  EXPECT_GT((out - a).abs().max().item<double>(), 0.04);  // saturated: the bound is reached
  // Near the edge the result is clipped to [−1, 1].
  const auto edge = xi->forward(obs, torch::full({64, 2}, 0.99f));
  EXPECT_LE(edge.max().item<double>(), 1.0);
  EXPECT_GE(edge.min().item<double>(), 0.94 - 1e-6);
}

TEST(OfflinePieces, Td3BcActorLossWeighsQByItsScale) {
  // q = (2, −4): λ = 2.5 / mean|q| = 2.5/3; −λ mean q = 2.5/3; BC term mean((0.5 − 0)², 0) = 0.125.
  const auto [loss, lambda] = TD3BC::actor_loss(torch::tensor({2.0f, -4.0f}), torch::tensor({{0.5f}, {0.0f}}),
                                                torch::zeros({2, 1}), 2.5);
  EXPECT_NEAR(lambda, 2.5 / 3.0, 1e-6);
  EXPECT_NEAR(loss.item<double>(), 2.5 / 3.0 + 0.125, 1e-6);
}

envs::EnvFactory pendulum() { return envs::EnvFactory("Pendulum-v1"); }

// BC with `loss` trained 1000 steps on the pendulum fixture: the mean loss of the first and last 20
// steps, and the greedy action for the dataset's first observation (env units).
struct BCFit {
  double first = 0, last = 0, action = 0, lowest = 0;
};
BCFit fit_bc(const std::string& loss) {
  BCOptions o;
  o.dataset(kPendulum).batch_size(7).net_arch({16}).learning_rate(3e-3).loss(loss);
  BC bc(pendulum(), o, 0);
  std::mt19937_64 rng(0);
  const auto data = read_dataset(kPendulum);
  const TransitionSampler sampler(data, envs::Box(-2.0, 2.0, {1}));
  BCFit fit;
  for (int i = 0; i < 1000; ++i) {
    const double l = bc.update(sampler.sample(7, rng)).at("bc_loss");
    fit.lowest = i == 0 ? l : std::min(fit.lowest, l);
    if (i < 20) fit.first += l / 20;
    if (i >= 980) fit.last += l / 20;
  }
  fit.action = bc.act(data.observations[0]).item<double>();
  return fit;
}

TEST(OfflineAgents, BCFitsTheDatasetActions) {
  const auto fit = fit_bc("nll");
  EXPECT_LT(fit.last, fit.first - 1.0);
  // The greedy action is in the env's units: the dataset's first action is −1.0 of [−2, 2].
  EXPECT_NEAR(fit.action, -1.0, 0.3);
}

TEST(OfflineAgents, BCWithSquaredErrorFitsTheDatasetActions) {
  // d3rlpy's deterministic BC: the tanh-Gaussian's mode fitted by squared error.
  const auto fit = fit_bc("mse");
  EXPECT_GE(fit.lowest, 0.0);
  EXPECT_LT(fit.last, fit.first * 0.5);
  EXPECT_NEAR(fit.action, -1.0, 0.3);
  BCOptions o;
  o.dataset(kPendulum).loss("l1");
  EXPECT_THROW(BC(pendulum(), o, 0), Error);
}

TEST(OfflineAgents, BracVariantsUpdate) {
  const auto data = read_dataset(kPendulum);
  const TransitionSampler sampler(data, envs::Box(-2.0, 2.0, {1}));
  for (const std::string div : {"kl", "mmd", "kl_dual", "wasserstein"}) {
    for (const bool value_penalty : {true, false}) {
      BRACOptions o;
      o.dataset(kPendulum).divergence(div).value_penalty(value_penalty).behavior_steps(0).warm_start(0);
      o.q_arch({16}).policy_arch({16}).behavior_arch({16}).critic_arch({16}).batch_size(7).n_q(3);
      o.train_alpha(true).target_divergence(-100.0).alpha_max(0.5);
      BRAC agent(pendulum(), o, 0);
      std::mt19937_64 rng(0);
      std::map<std::string, double> out;
      for (int i = 0; i < 5; ++i) out = agent.update(sampler.sample(7, rng));
      for (const auto& [k, v] : out) EXPECT_TRUE(std::isfinite(v)) << div << " " << k;
      EXPECT_EQ(out.count("critic_loss"), div == "kl_dual" || div == "wasserstein" ? 1u : 0u) << div;
      // D̂ above the target raises α, and alpha_max caps it.
      EXPECT_GT(agent.alpha(), 0.1) << div;
      EXPECT_LE(agent.alpha(), 0.5 + 1e-6) << div;
    }
  }
}

TEST(OfflineAgents, ValuePenaltyLowersTheTarget) {
  // The same networks (seed) and minibatch: BRAC-v's target subtracts α D̂(s') (D̂ ≥ 0 for MMD), BRAC-p's
  // does not. A narrow kernel makes MMD order one and α = 1000 makes the penalty dominate the noise of
  // the sampled next actions.
  const auto data = read_dataset(kPendulum);
  const TransitionSampler sampler(data, envs::Box(-2.0, 2.0, {1}));
  std::mt19937_64 rng(0);
  const auto batch = sampler.sample(7, rng);
  double y[2];
  for (const bool vp : {true, false}) {
    BRACOptions o;
    o.dataset(kPendulum).divergence("mmd").mmd_kernel("gaussian").mmd_sigma(0.1).value_penalty(vp);
    o.behavior_steps(0).alpha(1000.0).q_arch({16}).policy_arch({16}).behavior_arch({16});
    BRAC agent(pendulum(), o, 0);
    y[vp ? 0 : 1] = agent.td_target(batch).mean().item<double>();
  }
  EXPECT_LT(y[0], y[1] - 100.0);
}

TEST(OfflineAgents, Td3BcIqlCqlBearAndBcqUpdate) {
  const auto data = read_dataset(kPendulum);
  const TransitionSampler sampler(data, envs::Box(-2.0, 2.0, {1}));
  std::mt19937_64 rng(0);
  TD3BCOptions t;
  t.dataset(kPendulum).net_arch({16}).batch_size(7);
  TD3BC td3bc(pendulum(), t, 0);
  IQLOptions i;
  i.dataset(kPendulum).net_arch({16}).batch_size(7);
  IQL iql(pendulum(), i, 0);
  CQLOptions q;
  q.dataset(kPendulum).net_arch({16}).batch_size(7).n_actions(3);
  CQL cql(pendulum(), q, 0);
  std::map<std::string, double> a, b, c;
  for (int k = 0; k < 4; ++k) {
    a = td3bc.update(sampler.sample(7, rng));
    b = iql.update(sampler.sample(7, rng));
    c = cql.update(sampler.sample(7, rng));
  }
  BEAROptions e;
  e.dataset(kPendulum).net_arch({16}).behavior_arch({16}).batch_size(7).warm_start(2);
  BEAR bear(pendulum(), e, 0);
  BCQOptions f;
  f.dataset(kPendulum).net_arch({16}).vae_arch({16}).batch_size(7).n_action_samples(5);
  BCQ bcq(pendulum(), f, 0);
  std::map<std::string, double> d, g;
  for (int k = 0; k < 4; ++k) d = bear.update(sampler.sample(7, rng)), g = bcq.update(sampler.sample(7, rng));
  for (const auto* m : {&a, &b, &c, &d, &g})
    for (const auto& [k, v] : *m) EXPECT_TRUE(std::isfinite(v)) << k;
  EXPECT_GT(d.at("mmd"), 0.0);
  const auto act = bcq.act_batch(data.observations.slice(0, 0, 3));
  EXPECT_EQ(act.sizes(), (std::vector<std::int64_t>{3, 1}));
  EXPECT_LE(act.abs().max().item<double>(), 2.0);
  EXPECT_EQ(c.count("cql_gap"), 1u);
  EXPECT_EQ(a.count("lambda"), 1u);           // the actor stepped on the policy_delay-th update
  EXPECT_DOUBLE_EQ(iql.reward_scale(), 1.0);  // both episodes return −6: no spread to scale by
  IQLOptions ci = i;
  ci.dataset((fs::path(DOJO_TEST_DATA_DIR) / "offline" / "d4rl_halfcheetah_tiny.hdf5").string());
  IQL cheetah(envs::EnvFactory("HalfCheetah-v4"), ci, 0);
  EXPECT_NEAR(cheetah.reward_scale(), 1000.0 / (26.25 - 1.25), 1e-6);
  EXPECT_EQ(td3bc.act(data.observations[0]).sizes(), (std::vector<std::int64_t>{1}));
}

TEST(OfflineAgents, TrainBracThroughTheRegistryAndCli) {
  const auto dir = test::fresh_path("brac_run");
  const auto r = test::dojo("train brac --env Pendulum-v1 --dataset " + kPendulum +
                            " --steps 40 --set behavior_steps=20 --set warm_start=10 --set eval_freq=20"
                            " --set n_eval_episodes=1 --set final_eval_episodes=1 --set q_arch=[16]"
                            " --set policy_arch=[16] --set behavior_arch=[16] --out " +
                            dir.string());
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_TRUE(fs::exists(dir / "checkpoints" / "best.ckpt"));
  EXPECT_NE(core::read_text(dir / "metrics.csv").find("divergence"), std::string::npos);
  // Resumes from its checkpoint without fitting b again.
  const auto again = test::dojo("train --resume " + dir.string() + " --steps 20");
  ASSERT_EQ(again.rc, 0) << again.err;
  EXPECT_EQ(again.err.find("fitting the behaviour policy"), std::string::npos) << again.err;
  test::expect_bad_input("train brac --env Pendulum-v1 --steps 10", "--dataset");
  test::expect_bad_input("train brac --env HalfCheetah-v4 --steps 10 --dataset " + kPendulum,
                         "HalfCheetah-v4");
  test::expect_bad_input(
      "train kl_control --env Pendulum-v1 --steps 10 --set value_penalty=false --dataset " + kPendulum,
      "kl_control");
  test::expect_bad_input("train brac --env Pendulum-v1 --set divergence=jensen --dataset " + kPendulum,
                         "jensen");
}

TEST(OfflineGrid, VariantNames) {
  EXPECT_EQ(grid_variant("bc"), (std::pair<std::string, std::vector<std::string>>{"bc", {}}));
  EXPECT_EQ(grid_variant("bc-mse"), (std::pair<std::string, std::vector<std::string>>{"bc", {"loss=mse"}}));
  EXPECT_EQ(grid_variant("brac-p-mmd"), (std::pair<std::string, std::vector<std::string>>{
                                            "brac", {"value_penalty=false", "divergence=mmd"}}));
  EXPECT_THROW(grid_variant("bc-l1"), Error);
}

TEST(OfflineGrid, FinishesTheMissingCellsAfterAKill) {
  const auto out = test::fresh_path("offline_grid");
  const std::string common = " --datasets " + kPendulum +
                             " --steps 40 --set eval_freq=20 --set n_eval_episodes=1"
                             " --set final_eval_episodes=1 --set net_arch=[8] --out " +
                             out.string();
  auto r = test::dojo("offline grid --algos bc,td3bc" + common);
  ASSERT_EQ(r.rc, 0) << r.err;
  const auto cell = [&](const std::string& v) { return out / "minari_pendulum_tiny" / v / "s0"; };
  const auto bc_summary = core::read_text(cell("bc") / "summary.json");
  // Killed states: td3bc before its first checkpoint (only its config written), a BRAC cell after its
  // step-20 checkpoint (trained alone to 20 steps, no summary at 40).
  fs::remove_all(cell("td3bc") / "checkpoints");
  fs::remove(cell("td3bc") / "summary.json");
  fs::create_directories(cell("td3bc") / "checkpoints");
  r = test::dojo("train brac --env Pendulum-v1 --dataset " + kPendulum +
                 " --steps 20 --set behavior_steps=5"
                 " --set eval_freq=20 --set n_eval_episodes=1 --set final_eval_episodes=1 --set q_arch=[8]"
                 " --set policy_arch=[8] --set behavior_arch=[8] --out " +
                 cell("brac-v-kl").string());
  ASSERT_EQ(r.rc, 0) << r.err;
  fs::remove(cell("brac-v-kl") / "summary.json");
  r = test::dojo("offline grid --algos bc,td3bc,brac-v-kl" + common);
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_EQ(core::read_text(cell("bc") / "summary.json"), bc_summary);  // finished: not redone
  EXPECT_NE(r.err.find("td3bc on minari_pendulum_tiny seed 0 (starting)"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("brac-v-kl on minari_pendulum_tiny seed 0 (resuming)"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find(": bc on minari_pendulum_tiny seed 0 ("), std::string::npos) << r.err;
  const auto table = core::read_text(out / "grid.csv");
  for (const char* v : {"bc", "td3bc", "brac-v-kl"})
    EXPECT_NE(table.find(std::string("minari_pendulum_tiny,") + v + ",1,"), std::string::npos) << table;
  EXPECT_TRUE(fs::exists(out / "grid.md"));
  EXPECT_TRUE(fs::exists(out / "curves-minari_pendulum_tiny.png"));
  // --report rewrites the table from the finished cells and trains nothing: a variant with no cells
  // gets an empty row.
  fs::remove(out / "grid.csv");
  r = test::dojo("offline grid --report --algos bc,td3bc,brac-v-kl" + common);
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_EQ(core::read_text(out / "grid.csv"), table);
  r = test::dojo("offline grid --report --algos iql" + common);
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_FALSE(fs::exists(cell("iql")));
  EXPECT_NE(core::read_text(out / "grid.csv").find("minari_pendulum_tiny,iql,0,nan"), std::string::npos);
  test::expect_bad_input("offline grid --algos brac-x-kl" + common, "brac-x-kl");
  test::expect_bad_input("offline grid --algos bc --datasets /no/such.hdf5 --out " + out.string(),
                         "/no/such.hdf5");
}

}  // namespace
}  // namespace dojo::rl
